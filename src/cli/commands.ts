// The list of CLI commands: name, one-line description and examples here; each command's options and
// handler live in its own file, loaded only when that command runs (a CLI start compiles and runs no
// other command's code: gRPC for simulate, the packager for package).
import type { Argv } from 'yargs';

/** A command's options and what it does; loaded only when that command runs. */
export interface CliCommand {
  builder: (y: Argv) => Argv;
  /** Returns the exit code; prints its own one-line errors. */
  handler: (argv: Record<string, unknown>, env: Record<string, string | undefined>) => Promise<number>;
}

export const commands: CommandSpec[] = [
  { command: 'package', describe: 'write a byte-reproducible chaincode package (service mode: --connection or --address; launch mode: --launch; Kubernetes mode: --image)', load: async () => (await import('./package.js')).packageCommand },
  { command: 'id <package>', describe: 'print the package ID the peer computes for a package (like peer lifecycle chaincode calculatepackageid)', load: async () => (await import('./id.js')).idCommand },
  { command: 'inspect <package>', describe: 'check a package as the peer (install) and extbuilder (build) will, and list what it holds', load: async () => (await import('./inspect.js')).inspectCommand },
  { command: 'simulate <package>', describe: 'do what a peer does with a package: parse, extract, detect/build/release, read the release, connect, invoke', load: async () => (await import('./simulate.js')).simulateCommand },
  { command: 'doctor', describe: 'check a builder installation as the peer will use it: bin/, core.yaml, builder config, durable builds; --kubernetes: RBAC and orphaned pods', load: async () => (await import('./doctor.js')).doctorCommand },
  { command: 'install <dir>', describe: 'lay out a standalone builder directory for a peer and print its core.yaml entry', load: async () => (await import('./install.js')).installCommand },
];

/** What the top-level --help lists; `load` brings the command's own module. */
export interface CommandSpec {
  command: string;
  describe: string;
  load: () => Promise<CliCommand>;
}

/** What each command's --help shows under Examples: real invocations, one or two a command. */
export const EXAMPLES: Record<string, [string, string][]> = {
  package: [
    ['$0 package --label mycc_1.0 --address mycc.org1.example.com:9999', 'service mode: the peer dials the chaincode server at that address'],
    ['$0 package --label kv_1.0 --launch ./build --env-out chaincode.env', 'launch mode: the peer starts ./build per launch.json; CHAINCODE_ID goes to chaincode.env'],
  ],
  id: [['$0 id mycc_1.0.tar.gz', 'the package ID, as peer lifecycle chaincode calculatepackageid prints it']],
  inspect: [['$0 inspect mycc_1.0.tar.gz', 'what the package holds, and whether the peer installs it and this builder claims it']],
  simulate: [
    ['$0 simulate mycc_1.0.tar.gz --builder /opt/hyperledger/extbuilder', 'run detect, build, release (and run) as a peer would'],
    ['$0 simulate mycc_1.0.tar.gz --core-yaml core.yaml --invoke put k v', 'the builder entry from core.yaml, then one transaction'],
  ],
  doctor: [
    ['$0 doctor --builder /opt/hyperledger/extbuilder', 'check a builder dir: bin/, its links, the builder config'],
    ['$0 doctor --builder ./peer-builder --core-yaml core.yaml', 'also check the peer\'s externalBuilders entry and durable builds'],
  ],
  install: [
    ['$0 install ./peer-builder', 'a builder dir for this machine\'s kind of peer image'],
    ['$0 install ./peer-builder --target linux-x64-musl', 'one for an Alpine (musl) peer image, such as Fabric 2.4\'s'],
  ],
};


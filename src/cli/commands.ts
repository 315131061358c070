// The list of CLI commands; each lives in its own file and exports a CliCommand.
import type { Argv } from 'yargs';

export interface CliCommand {
  command: string;
  describe: string;
  builder: (y: Argv) => Argv;
  /** Returns the exit code; prints its own one-line errors. */
  handler: (argv: Record<string, unknown>, env: Record<string, string | undefined>) => Promise<number>;
}

export const commands: CliCommand[] = [];

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

// Packages (issue 4): package, id, inspect.
import { packageCommand } from './package.js';
import { idCommand } from './id.js';
import { inspectCommand } from './inspect.js';
commands.push(packageCommand, idCommand, inspectCommand);

// Simulation and checks (issue 5): simulate, doctor.
import { simulateCommand } from './simulate.js';
import { doctorCommand } from './doctor.js';
commands.push(simulateCommand, doctorCommand);

// Standalone binaries (issue 6): install.
import { installCommand } from './install.js';
commands.push(installCommand);

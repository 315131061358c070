// extbuilder install DIR: lays out a standalone builder directory (bin/ and its links, lib/ for musl, a
// config example) from a built target, verifying its SHA256SUMS, and prints how to wire it into a peer.
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { VERSION } from '../builder/output.js';
import { ExtError } from '../core/errors.js';
import { fillAtomically } from '../core/fsx.js';
import type { CliCommand } from './commands.js';
import { failed } from './fail.js';

export const BINARY_TARGETS = ['linux-x64-glibc', 'linux-x64-musl', 'linux-arm64-glibc', 'linux-arm64-musl'] as const;
export type BinaryTarget = (typeof BINARY_TARGETS)[number];

/** Where the peer sees the builder when none is given: the path the examples mount it at. */
export const DEFAULT_PEER_PATH = '/opt/hyperledger/extbuilder';

/** What install writes besides the target's own files; config.json itself is the user's and is never touched. */
export const CONFIG_EXAMPLE = 'config.example.json';

/** The links in bin/ by which the peer calls each phase. */
const PHASE_LINKS = ['detect', 'build', 'release', 'run'];

/** The target's files, replaced as a whole on reinstall. */
const TARGET_ENTRIES = ['bin', 'lib', 'README', 'SHA256SUMS', 'TARGET'];

/**
 * A config.json that matches schemas/builder-config.schema.json (which has no comment key, so the
 * explanations are in the printed text and the README): the chaincode-as-a-service tutorial's peer0 of Org1.
 */
export const CONFIG_EXAMPLE_JSON = {
  types: ['external', 'ccaas'],
  template: { peername: 'peer0org1' },
  tls: {
    root_cert_file: '/etc/hyperledger/chaincode-tls/ca.crt',
    client_cert_file: '/etc/hyperledger/fabric/tls/client.crt',
    client_key_file: '/etc/hyperledger/fabric/tls/client.key',
  },
};

/**
 * This machine's target. A glibc loader means glibc (a glibc peer image); otherwise musl, which is what
 * the Alpine images of Fabric 2.2-2.4 have. `exists` is injectable so the rule can be tested anywhere.
 */
export function detectTarget(arch: string = process.arch, exists: (p: string) => boolean = existsSync): BinaryTarget {
  if (arch !== 'x64' && arch !== 'arm64') {
    throw new ExtError('INSTALL_TARGET', `no standalone build for ${arch}`, `the builds are for ${BINARY_TARGETS.join(', ')}; run the npm package with node instead`);
  }
  const glibcLoader = arch === 'x64' ? '/lib64/ld-linux-x86-64.so.2' : '/lib/ld-linux-aarch64.so.1';
  return `linux-${arch}-${exists(glibcLoader) ? 'glibc' : 'musl'}`;
}

/**
 * The directory this program runs from: a standalone builder (it has TARGET) or the npm package
 * (dist-binaries/ below it). argv[1] is the path it was started as, in a single executable too.
 */
export function ownRoot(argv1: string | undefined = process.argv[1], execPath: string = process.execPath): string | undefined {
  for (const p of [argv1, execPath]) {
    if (!p) continue;
    try {
      // bin/extbuilder for a glibc build or the npm launcher; lib/ld-linux-* for a musl build (the loader runs it).
      const dir = resolve(dirname(realpathSync(p)), '..');
      if (existsSync(join(dir, 'bin'))) return dir;
    } catch { /* try the next */ }
  }
  return undefined;
}

/** The npm package that carries a target: an optional dependency of this one, as esbuild's and swc's are. */
export const targetPackage = (target: BinaryTarget): string => `@fabric-extbuilder/${target}`;

/**
 * The one npm command that brings a target's package next to this one. npm refuses a package built for
 * another cpu or libc unless forced; the host's own target it installs as it is.
 */
export function npmInstallCommand(root: string, target: BinaryTarget, host: BinaryTarget | undefined): string {
  const force = target === host ? '' : ' --force';
  const spec = `${targetPackage(target)}@${VERSION}`;
  const nm = dirname(root);
  if (basename(nm) === 'node_modules' && basename(dirname(nm)) === 'lib') return `npm install -g${force} --prefix ${dirname(dirname(nm))} ${spec}`;
  if (basename(nm) === 'node_modules') return `npm install${force} --prefix ${dirname(nm)} ${spec}`;
  return `npm install -g${force} ${spec}`;
}

/** Where an installed target package is, seen from this package (nested, or beside it in a global prefix). */
function findTargetPackage(root: string, target: BinaryTarget): string | undefined {
  try {
    return dirname(createRequire(join(root, 'package.json')).resolve(`${targetPackage(target)}/package.json`));
  } catch {
    return undefined;
  }
}

const targetOf = (dir: string): string | undefined => {
  try { return readFileSync(join(dir, 'TARGET'), 'utf8').trim(); } catch { return undefined; }
};

/**
 * The built target directory to install from: --from; else this standalone build itself; else, for the
 * npm package, the target's own package (in a checkout, dist-binaries/<target> first).
 */
export function resolveSource(o: { from?: string; target: string; root?: string; host?: () => BinaryTarget }): { dir: string; target: BinaryTarget } {
  const want = o.target === 'auto' ? undefined : o.target;
  if (want !== undefined && !(BINARY_TARGETS as readonly string[]).includes(want)) {
    throw new ExtError('INSTALL_TARGET', `unknown target ${want}`, `use auto or one of ${BINARY_TARGETS.join(', ')}`);
  }
  if (o.from) {
    const dir = resolve(o.from);
    const t = targetOf(dir);
    if (!t) throw new ExtError('INSTALL_SOURCE', `${dir} is not a built target (it has no TARGET file)`, 'give --from an unpacked <target>.tar.gz or an installed @fabric-extbuilder/<target> package');
    if (want && t !== want) throw new ExtError('INSTALL_TARGET', `${dir} holds ${t}, not ${want}`, `give --from the ${want} directory, or --target ${t}`);
    return { dir, target: t as BinaryTarget };
  }
  const root = o.root ?? ownRoot();
  if (!root) throw new ExtError('INSTALL_SOURCE', 'cannot tell where this program is installed', 'give --from DIR, an unpacked <target>.tar.gz');
  const own = targetOf(root);
  if (own) {
    // A standalone build installs itself; it carries no other target.
    if (want && own !== want) throw new ExtError('INSTALL_TARGET', `this program is the ${own} build and cannot install ${want}`, `run install from the ${want} build (its .tar.gz), or from the npm package fabric-extbuilder`);
    return { dir: root, target: own as BinaryTarget };
  }
  const detect = o.host ?? detectTarget;
  const target = (want as BinaryTarget | undefined) ?? detect(); // INSTALL_TARGET on an arch with no build
  let host: BinaryTarget | undefined;
  try { host = detect(); } catch { host = undefined; }
  const checkout = existsSync(join(root, 'scripts', 'binaries.ts'));
  const built = join(root, 'dist-binaries', target);
  if (checkout && existsSync(join(built, 'TARGET'))) return { dir: built, target };
  const pkg = findTargetPackage(root, target);
  if (pkg && targetOf(pkg) === target) return { dir: pkg, target };
  if (checkout) throw new ExtError('INSTALL_SOURCE', `${built} has not been built`, `run npm run binaries -- ${target}`);
  throw new ExtError('INSTALL_SOURCE', `the package ${targetPackage(target)} is not installed (npm installs only this machine's target, ${host ?? 'none'}, with fabric-extbuilder)`,
    `run ${npmInstallCommand(root, target, host)}`);
}

/** Checks every file SHA256SUMS lists, and that it lists every file: a damaged copy is not installed. */
export function verifySums(dir: string): void {
  let sums: string;
  try {
    sums = readFileSync(join(dir, 'SHA256SUMS'), 'utf8');
  } catch {
    throw new ExtError('INSTALL_SOURCE', `${dir} has no SHA256SUMS`, 'rebuild it with npm run binaries or unpack the release archive again');
  }
  const listed = new Set<string>();
  for (const line of sums.split('\n').filter(Boolean)) {
    const m = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
    if (!m) throw new ExtError('INSTALL_CHECKSUM', `${dir}/SHA256SUMS has a malformed line: ${line.slice(0, 100)}`, 'rebuild or unpack the target again');
    const [, hash, file] = m;
    listed.add(file!);
    let actual: string;
    try {
      actual = createHash('sha256').update(readFileSync(join(dir, file!))).digest('hex');
    } catch {
      throw new ExtError('INSTALL_CHECKSUM', `${dir}/${file} is listed in SHA256SUMS but missing`, 'rebuild or unpack the target again');
    }
    if (actual !== hash) throw new ExtError('INSTALL_CHECKSUM', `${dir}/${file} does not match SHA256SUMS (damaged or modified)`, 'rebuild or unpack the target again');
  }
  for (const file of ['bin/extbuilder', 'TARGET', 'README']) {
    if (!listed.has(file)) throw new ExtError('INSTALL_CHECKSUM', `${dir}/SHA256SUMS does not cover ${file}`, 'rebuild or unpack the target again');
  }
}

/** Copies a target tree: regular files with their exec bit, links as the same (relative) links. */
function copyTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true, mode: 0o755 });
  for (const name of readdirSync(from).sort()) {
    const s = join(from, name);
    const d = join(to, name);
    const st = lstatSync(s);
    if (st.isSymbolicLink()) symlinkSync(readlinkSync(s), d);
    else if (st.isDirectory()) copyTree(s, d);
    else if (st.isFile()) { copyFileSync(s, d); chmodSync(d, st.mode & 0o111 ? 0o755 : 0o644); }
  }
}

export interface InstallResult { dir: string; target: BinaryTarget; upgraded: boolean }

/**
 * Lays out `dest` from the built target `source`. An empty or missing `dest` is filled; an earlier
 * installation (it has TARGET) is upgraded in place, keeping config.json and anything else of the
 * user's; any other non-empty directory is refused.
 */
export async function install(source: { dir: string; target: BinaryTarget }, dest: string): Promise<InstallResult> {
  verifySums(source.dir);
  const dir = resolve(dest);
  if (resolve(source.dir) === dir) throw new ExtError('INSTALL_DEST', `${dir} is the source itself`, 'install into another directory');
  let upgraded = false;
  if (existsSync(dir)) {
    if (!lstatSync(dir).isDirectory()) throw new ExtError('INSTALL_DEST', `${dir} exists and is not a directory`, 'choose a directory');
    const names = readdirSync(dir);
    upgraded = names.includes('TARGET');
    if (names.length > 0 && !upgraded) {
      throw new ExtError('INSTALL_DEST', `${dir} is not empty and holds no earlier extbuilder installation`, 'choose an empty or new directory');
    }
  } else {
    try { mkdirSync(dir, { recursive: true, mode: 0o755 }); } catch (err) {
      throw new ExtError('INSTALL_DEST', `cannot create ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, 'choose a directory you can write');
    }
  }
  await fillAtomically(dir, (scratch) => {
    for (const name of TARGET_ENTRIES) {
      const s = join(source.dir, name);
      if (!existsSync(s)) continue;
      if (lstatSync(s).isDirectory()) copyTree(s, join(scratch, name));
      else { copyFileSync(s, join(scratch, name)); chmodSync(join(scratch, name), 0o644); }
    }
    // npm keeps no links, so a target from its npm package comes without the phase links: make them.
    for (const phase of PHASE_LINKS) {
      if (!existsSync(join(scratch, 'bin', phase))) symlinkSync('extbuilder', join(scratch, 'bin', phase));
    }
    writeFileSync(join(scratch, CONFIG_EXAMPLE), `${JSON.stringify(CONFIG_EXAMPLE_JSON, null, 2)}\n`, { mode: 0o644 });
  });
  // A reinstall of another target must not leave the previous one's lib/ behind.
  if (!existsSync(join(source.dir, 'lib'))) rmSync(join(dir, 'lib'), { recursive: true, force: true });
  return { dir, target: source.target, upgraded };
}

const PROPAGATE = ['EXTBUILDER_CONFIG', 'CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG'];

/** The text install prints: where things went and the three ways to point a peer at them. */
export function wiring(r: InstallResult, peerPath: string, name = 'extbuilder'): string {
  const flow = `[{name: ${name}, path: ${peerPath}, propagateEnvironment: [${PROPAGATE.join(', ')}]}]`;
  return [
    `${r.upgraded ? 'upgraded' : 'installed'} ${r.target} in ${r.dir}`,
    `  bin/extbuilder, with bin/detect, bin/build, bin/release, bin/run linking to it${r.target.endsWith('-musl') ? '; lib/ holds its glibc runtime' : ''}`,
    `  ${CONFIG_EXAMPLE}: every builder setting; copy it to config.json and edit (without config.json the defaults apply:`,
    '    types external and ccaas, no template values, no TLS files). template values fill {{.key}} in the',
    "    package's connection.json; tls.* name peer-local PEM files spliced into fields the package leaves empty.",
    '',
    `core.yaml (the peer sees this directory at ${peerPath}):`,
    '  chaincode:',
    '    externalBuilders:',
    `      - name: ${name}`,
    `        path: ${peerPath}`,
    '        propagateEnvironment:',
    ...PROPAGATE.map((v) => `          - ${v}`),
    '',
    'or in the peer\'s environment (Fabric 2.3.3 / 2.4.0 and later):',
    `  CORE_CHAINCODE_EXTERNALBUILDERS='${flow}'`,
    '',
    'Docker: mount it read-only into the peer container:',
    `  docker run ... -v ${r.dir}:${peerPath}:ro ...`,
    `  compose, under the peer service's volumes:  - ${r.dir}:${peerPath}:ro`,
    '',
    `Check it: ${join(r.dir, 'bin', 'extbuilder')} doctor --builder ${r.dir}`,
    '',
  ].join('\n');
}

export const installCommand: CliCommand = {
  builder: (y: Argv) => y
    .positional('dir', { type: 'string', describe: 'the directory to create (or upgrade)', demandOption: true })
    .option('target', { type: 'string', default: 'auto', describe: `auto (this machine's) or one of ${BINARY_TARGETS.join(', ')}` })
    .option('from', { type: 'string', describe: 'a built target directory, such as an unpacked <target>.tar.gz (default: the @fabric-extbuilder/<target> package, or this standalone build itself)' })
    .option('peer-path', { type: 'string', default: DEFAULT_PEER_PATH, describe: 'the directory\'s path as the peer sees it (inside its container)' }),
  async handler(argv) {
    try {
      const source = resolveSource({ from: argv.from as string | undefined, target: String(argv.target) });
      const result = await install(source, String(argv.dir));
      process.stdout.write(wiring(result, String(argv['peer-path'])));
      return 0;
    } catch (err) {
      return failed('install', err, argv, err instanceof ExtError && err.code === 'INSTALL_TARGET' ? 2 : 1);
    }
  },
};

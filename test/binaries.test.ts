// The standalone builders in dist-binaries/ (npm run binaries): their layout and archives, every service
// fixture case through the x64 glibc executable's links (same outcome as the bundle run by node), the musl
// targets in a musl-only chroot, and an arm64 smoke run under qemu. Targets not built are skipped, saying so.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadServiceCases, makeCasePki, type CasePki, type ServiceCase } from './helpers/service-cases.js';
import { createBuildContext, invokePhase, peerEnvironment, stageSourceDir, writePeerMetadata, type BuildContext, type PhaseRun } from '../src/peer/invoke.js';
import { listenPeer } from '../src/peer/listen.js';
import { fetchDebs } from '../scripts/binaries/fetch.js';
import { findTarget, TARGETS } from '../scripts/binaries/targets.js';
import { buildBinaries } from '../scripts/binaries.js';
import { FIXTURES, REPO, listFiles, tempDir } from './helpers/repo.js';

const DIST = join(REPO, 'dist-binaries');
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const PACKAGE_ID = 'basic_1.0:4844d431f1730dbe5f633ec3dbcc02debe09925731a37942eb65bd19150b9ff1';

function notBuilt(target: string): string | false {
  return existsSync(join(DIST, target, 'bin', 'extbuilder')) ? false : `dist-binaries/${target} is not built (run: npm run binaries -- ${target})`;
}

/** The absolute path of a command, or undefined (the chroot runs with PATH=/bin, so chroot itself is found first). */
function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function hasCommand(cmd: string, args: string[] = ['--version']): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

const GLIBC = 'linux-x64-glibc';
const MUSL = 'linux-x64-musl';

/** The x64 targets run natively only on an x64 Linux host (arm64 ones run under qemu, below). */
function notRunnable(target: string): string | false {
  return notBuilt(target) || (process.platform !== 'linux' || process.arch !== 'x64' ? `${target} runs only on x64 Linux` : false);
}

// ---- layout and archives, for every target that is built ----

for (const { name } of TARGETS) {
  test(`${name}: bin/ holds the executable and relative phase links; SHA256SUMS covers every file`, { skip: notBuilt(name) }, () => {
    const dir = join(DIST, name);
    for (const phase of ['detect', 'build', 'release', 'run']) {
      assert.ok(lstatSync(join(dir, 'bin', phase)).isSymbolicLink(), `bin/${phase} is a link`);
      assert.equal(readlinkSync(join(dir, 'bin', phase)), 'extbuilder', `bin/${phase} links relatively, so it survives cp -a, tar and bind mounts`);
    }
    assert.equal(readFileSync(join(dir, 'TARGET'), 'utf8'), `${name}\n`);
    const readme = readFileSync(join(dir, 'README'), 'utf8');
    assert.ok(readme.includes(name) && readme.includes('Fabric'), 'README names the target and the Fabric versions');
    const sums = readFileSync(join(dir, 'SHA256SUMS'), 'utf8').trim().split('\n').map((l) => l.split('  ') as [string, string]);
    const files = listFiles(dir).filter((f) => f !== 'SHA256SUMS' && !lstatSync(join(dir, f)).isSymbolicLink());
    assert.deepEqual(sums.map(([, f]) => f), files);
    for (const [hash, file] of sums) assert.equal(createHash('sha256').update(readFileSync(join(dir, file))).digest('hex'), hash, file);
    if (name.endsWith('-musl')) assert.ok(existsSync(join(dir, 'lib', 'libstdc++.so.6')), 'musl targets carry their glibc runtime');
  });

  test(`${name}.tar.gz: sorted entries, owner 0/0, mtime 0, and it unpacks to the directory`, { skip: notBuilt(name) }, () => {
    const tgz = join(DIST, `${name}.tar.gz`);
    const listing = execFileSync('tar', ['--numeric-owner', '--full-time', '-tvzf', tgz], { encoding: 'utf8' }).trim().split('\n');
    const paths = listing.map((l) => l.split(/\s+/)[5]!);
    assert.equal(paths[0], `${name}/`);
    for (const line of listing) assert.match(line, /^\S+ 0\/0 +\d+ 1970-01-01 00:00:00 /, line);
    assert.ok(listing.some((l) => l.startsWith('lrwxrwxrwx') && l.includes(`${name}/bin/detect -> extbuilder`)), 'links stay links');
    const out = tempDir('extbuilder-untar-');
    execFileSync('tar', ['-xzf', tgz, '-C', out]);
    assert.deepEqual(listFiles(join(out, name)), listFiles(join(DIST, name)));
    for (const f of listFiles(join(DIST, name))) assert.ok(readFileSync(join(out, name, f)).equals(readFileSync(join(DIST, name, f))), f);
    rmSync(out, { recursive: true, force: true });
  });
}

test(`${GLIBC}.tar.gz is byte-reproducible: rebuilt from a copy of the bundle elsewhere, it is identical`, { skip: notBuilt(GLIBC) }, (t) => {
  const files = ['extbuilder.cjs', 'cli.cjs', 'quick.cjs', 'kube.cjs'];
  const readme = readFileSync(join(DIST, GLIBC, 'README'), 'utf8');
  const sum = (file: string) => (existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : undefined);
  const recorded = files.map((f) => new RegExp(`${f.replace('.', '\\.')} sha256 ([0-9a-f]{64})`).exec(readme)?.[1]);
  if (files.some((f, i) => !recorded[i] || recorded[i] !== sum(join(REPO, 'dist', f)))) {
    t.skip('dist/ changed since dist-binaries was built (run npm run binaries)');
    return;
  }
  const work = tempDir('extbuilder-repro-');
  try {
    // Another path for the bundle and the output: neither may reach the archive.
    mkdirSync(join(work, 'elsewhere'));
    for (const f of files) copyFileSync(join(REPO, 'dist', f), join(work, 'elsewhere', f));
    buildBinaries([findTarget(GLIBC)!], join(work, 'out'), join(work, 'elsewhere', 'extbuilder.cjs'));
    assert.ok(readFileSync(join(work, 'out', `${GLIBC}.tar.gz`)).equals(readFileSync(join(DIST, `${GLIBC}.tar.gz`))));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

// ---- linux-x64-glibc through its links, as the peer runs it ----

test(`${GLIBC}: extbuilder --version and --help run the CLI inside the single executable`, { skip: notRunnable(GLIBC) }, () => {
  const bin = join(DIST, GLIBC, 'bin', 'extbuilder');
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8', env: {} });
  assert.equal(version.status, 0, version.stderr);
  assert.equal(version.stdout.trim(), VERSION);
  assert.equal(version.stderr, '', 'no SEA or code-cache warning on stderr');
  const help = spawnSync(bin, ['--help'], { encoding: 'utf8', env: {} });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /--version/);
});

for (const target of [GLIBC, MUSL]) {
  test(`${target}: package compresses on worker threads inside the executable, to the bytes of the bundle under node`, { skip: notRunnable(target) }, () => {
    const work = tempDir('extbuilder-sea-pkg-');
    const tree = join(work, 't');
    cpSync(join(FIXTURES, 'packages', 'launch-tree'), tree, { recursive: true });
    // Three deflate chunks, so worker threads start (from source text: the executable has no script files).
    for (let i = 0; i < 3; i++) writeFileSync(join(tree, `blob${i}.js`), Buffer.alloc(1_100_000, `exports.v${i} = ${i};\n`));
    const args = (out: string) => ['package', '--launch', tree, '--label', 'sea_1', '-o', join(work, out)];
    const sea = spawnSync(join(DIST, target, 'bin', 'extbuilder'), args('sea.tar.gz'), { encoding: 'utf8', env: {} });
    assert.equal(sea.status, 0, sea.stderr);
    assert.equal(sea.stderr, '');
    const node = spawnSync(process.execPath, [join(REPO, 'bin', 'extbuilder'), ...args('node.tar.gz')], { encoding: 'utf8' });
    assert.equal(node.status, 0, node.stderr);
    assert.equal(sea.stdout, node.stdout);
    assert.ok(readFileSync(join(work, 'sea.tar.gz')).equals(readFileSync(join(work, 'node.tar.gz'))));
  });
}

test(`${GLIBC}: a wrong argument count through bin/build is a usage line and exit 2`, { skip: notRunnable(GLIBC) }, async () => {
  const run = await invokePhase(join(DIST, GLIBC), 'build', ['/tmp'], { env: peerEnvironment(process.env) });
  assert.equal(run.code, 2);
  assert.match(run.lines.join('\n'), /^extbuilder build: USAGE: .*build CHAINCODE_SOURCE_DIR CHAINCODE_METADATA_DIR BUILD_OUTPUT_DIR\)?$/);
});

let pki: CasePki;
let pem: Record<string, string>;

before(async () => {
  pki = await makeCasePki();
  pem = pki.pem;
});

const fill = (value: unknown): unknown => pki.fill(value);

interface Outcome { phases: { phase: string; code: number | null; lines: string[] }[]; bld: Record<string, string>; release: Record<string, string> }

/** The files of a directory, by relative path, with their mode. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of listFiles(dir)) out[f] = `${(lstatSync(join(dir, f)).mode & 0o777).toString(8)} ${readFileSync(join(dir, f), 'utf8')}`;
  return out;
}

/** Runs detect, build and release of one fixture case with `builderDir` the way the peer does. */
async function runCase(c: ServiceCase, builderDir: string): Promise<Outcome> {
  if (c.configFile) {
    mkdirSync(join(builderDir, 'tls'), { recursive: true });
    writeFileSync(join(builderDir, 'tls', 'ca.crt'), pem['ca.crt']!);
    writeFileSync(join(builderDir, 'config.json'), JSON.stringify(c.configFile));
  }
  const tmp = tempDir('extbuilder-peer-tmp-');
  const ctx: BuildContext = createBuildContext(tmp, PACKAGE_ID);
  writePeerMetadata(ctx, c.metadataRaw ?? JSON.stringify(c.metadata));
  if (c.tree) stageSourceDir(join(FIXTURES, 'service', 'trees', c.tree), ctx.src);
  if (c.connection || c.connectionRaw) writeFileSync(join(ctx.src, 'connection.json'), c.connectionRaw ?? JSON.stringify(fill(c.connection), null, 2));
  const from: Record<string, string | undefined> = { PATH: process.env.PATH, TMPDIR: tmp };
  if (c.config || c.configRaw) from.EXTBUILDER_CONFIG = c.configRaw ?? JSON.stringify(fill(c.config));
  if (c.ccaasConfig !== undefined) from.CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG = JSON.stringify(c.ccaasConfig);
  const env = peerEnvironment(from, ['EXTBUILDER_CONFIG', 'CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG']);
  const phases: Outcome['phases'] = [];
  // Paths differ between the two runs only by the scratch root; normalise them out of the messages.
  const record = (r: PhaseRun) => phases.push({ phase: r.phase, code: r.code, lines: r.lines.map((l) => l.split(ctx.root).join('<ctx>').split(builderDir).join('<builder>')) });
  const detect = await invokePhase(builderDir, 'detect', [ctx.src, ctx.metadata], { env });
  record(detect);
  if (detect.code === 0) {
    const build = await invokePhase(builderDir, 'build', [ctx.src, ctx.metadata, ctx.bld], { env });
    record(build);
    if (build.code === 0) record(await invokePhase(builderDir, 'release', [ctx.bld, ctx.release], { env }));
  }
  const outcome = { phases, bld: snapshot(ctx.bld), release: snapshot(ctx.release) };
  rmSync(tmp, { recursive: true, force: true });
  return outcome;
}

/** A private copy of a builder directory, so config.json cases do not touch the shared one. */
function builderCopy(from: string): string {
  const dir = tempDir('extbuilder-builder-');
  mkdirSync(join(dir, 'bin'));
  if (from === REPO) {
    for (const p of ['extbuilder', 'detect', 'build', 'release', 'run']) symlinkSync(join(REPO, 'bin', 'extbuilder'), join(dir, 'bin', p));
  } else {
    symlinkSync(join(from, 'bin', 'extbuilder'), join(dir, 'bin', 'extbuilder'));
    for (const p of ['detect', 'build', 'release', 'run']) symlinkSync('extbuilder', join(dir, 'bin', p));
  }
  return dir;
}

const cases = loadServiceCases();

test(`${GLIBC}: every service fixture case gives the same exit codes, stderr lines and files as the bundle under node`, { skip: notRunnable(GLIBC) }, async (t) => {
  assert.ok(cases.length >= 10, 'the service fixture cases are there');
  let ok = 0;
  for (const c of cases) {
    const viaNode = await runCase(c, builderCopy(REPO));
    const viaBinary = await runCase(c, builderCopy(join(DIST, GLIBC)));
    assert.deepEqual(viaBinary, viaNode, `${c.name}: ${c.description}`);
    if (viaBinary.phases.at(-1)?.phase === 'release' && viaBinary.phases.at(-1)?.code === 0) ok++;
  }
  t.diagnostic(`${cases.length} cases, ${ok} released successfully`);
  assert.ok(ok >= 5, 'several cases reach a successful release');
});

test(`${GLIBC}: launch mode end to end; run leaves no resident supervisor (the chaincode has run's PID)`, { skip: notRunnable(GLIBC) }, async () => {
  const builder = join(DIST, GLIBC);
  const ccId = 'kv_1.0:4844d431f1730dbe5f633ec3dbcc02debe09925731a37942eb65bd19150b9ff1';
  const tmp = tempDir('extbuilder-launch-');
  const peer = await listenPeer({ tls: true, session: { expectedChaincodeId: ccId } });
  let child: ChildProcess | undefined;
  try {
    const ctx = createBuildContext(tmp, ccId);
    stageSourceDir(join(FIXTURES, 'launch', 'node-kv'), ctx.src);
    writePeerMetadata(ctx, JSON.stringify({ type: 'external', label: 'kv_1.0' }));
    // The fixture chaincode is a fabric-shim program run by the node on PATH, with this repo's modules.
    const from = { PATH: process.env.PATH, TMPDIR: tmp, EXTBUILDER_CONFIG: JSON.stringify({ template: { node_path: join(REPO, 'node_modules') } }) };
    const env = peerEnvironment(from, ['EXTBUILDER_CONFIG']);
    for (const [phase, args] of [['build', [ctx.src, ctx.metadata, ctx.bld]], ['release', [ctx.bld, ctx.release]]] as const) {
      const r = await invokePhase(builder, phase, [...args], { env, timeoutMs: 60_000 });
      assert.equal(r.code, 0, `${phase}: ${r.lines.join('\n')}`);
    }
    const runDir = join(tmp, 'run');
    mkdirSync(runDir, { mode: 0o700 });
    await peer.writeChaincodeJson(runDir, { chaincodeId: ccId });
    const proc = spawn(join(builder, 'bin', 'run'), [ctx.bld, runDir], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    let stderr = '';
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (c: string) => { stderr += c; });
    const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
    const session = await peer.nextSession(30_000);
    assert.deepEqual(await session.registered, { chaincodeId: ccId });
    const started = /^extbuilder run: .* -> .* \(tls on\), pid (\d+)$/m.exec(stderr);
    assert.ok(started, `run's start line: ${stderr}`);
    assert.equal(Number(started[1]), proc.pid, 'the start line names run\'s own PID: run became the chaincode (execve)');
    const who = JSON.parse((await session.invoke('whoami', [])).payload.toString()) as { pid: number };
    assert.equal(who.pid, proc.pid, 'the chaincode answering has the PID the peer started: no supervisor stays resident');
    assert.equal((await session.invoke('put', ['k', 'v'])).status, 200);
    proc.kill('SIGTERM');
    await exited;
    assert.doesNotMatch(stderr, /BEGIN|PRIVATE KEY/);
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await peer.close();
    rmSync(tmp, { recursive: true, force: true });
  }
});

// ---- linux-x64-musl in a musl-only chroot ----

const MUSL_SKIP = notRunnable(MUSL)
  || (process.getuid?.() !== 0 && 'chroot needs root')
  || (!which('chroot') && 'chroot is not installed')
  || (!hasCommand('dpkg-deb', ['--version']) && 'dpkg-deb is not installed (Debian only)');

test(`${MUSL}: detect, build, release and --version in a musl-only chroot, installed at another path`, { skip: MUSL_SKIP }, (t) => {
  let debs;
  try {
    debs = fetchDebs(join(REPO, '.cache'), 'musl-chroot-x64', ['musl', 'busybox-static']);
  } catch (err) {
    t.skip(`cannot fetch Debian's musl and busybox-static: ${(err as Error).message}`);
    return;
  }
  const root = tempDir('extbuilder-muslroot-');
  try {
    // The root holds musl's loader, a static busybox as /bin/sh, and nothing from glibc.
    for (const d of ['bin', 'lib', 'tmp', 'opt']) mkdirSync(join(root, d));
    copyFileSync(join(debs.root, 'bin', 'busybox'), join(root, 'bin', 'busybox'));
    execFileSync('chmod', ['755', join(root, 'bin', 'busybox')]);
    symlinkSync('busybox', join(root, 'bin', 'sh'));
    copyFileSync(join(debs.root, 'lib', 'x86_64-linux-musl', 'libc.so'), join(root, 'lib', 'ld-musl-x86_64.so.1'));
    const builder = join(root, 'opt', 'fabric', 'builders', 'extbuilder');
    cpSync(join(DIST, MUSL), builder, { recursive: true, verbatimSymlinks: true });
    const inRoot = (p: string) => `/${relative(root, p)}`;
    const chroot = (args: string[]) => spawnSync(which('chroot')!, [root, ...args], { encoding: 'utf8', env: { PATH: '/bin' } });

    // Proof that the root is musl-only: the glibc executable on its own cannot start there.
    const bare = chroot([inRoot(join(builder, 'lib', 'extbuilder')), '--version']);
    assert.notEqual(bare.status, 0, 'the bare glibc executable must not run without its loader');

    const version = chroot([inRoot(join(builder, 'bin', 'extbuilder')), '--version']);
    assert.equal(version.status, 0, version.stderr);
    assert.equal(version.stdout.trim(), VERSION);

    const ctx = createBuildContext(join(root, 'tmp'), PACKAGE_ID);
    writePeerMetadata(ctx, '{"type":"ccaas","label":"basic_1.0"}');
    writeFileSync(join(ctx.src, 'connection.json'), JSON.stringify({ address: '{{.peername}}-basic:9999', dial_timeout: '10s', tls_required: false }));
    writeFileSync(join(builder, 'config.json'), JSON.stringify({ template: { peername: 'peer0org1' } }));
    const phase = (name: string, ...dirs: string[]) => chroot([inRoot(join(builder, 'bin', name)), ...dirs.map(inRoot)]);

    const detect = phase('detect', ctx.src, ctx.metadata);
    assert.equal(detect.status, 0, detect.stderr);
    const build = phase('build', ctx.src, ctx.metadata, ctx.bld);
    assert.equal(build.status, 0, build.stderr);
    assert.match(build.stderr, /^extbuilder build: service /m, 'build found config.json next to the bin/ it was called through');
    const release = phase('release', ctx.bld, ctx.release);
    assert.equal(release.status, 0, release.stderr);
    const released = JSON.parse(readFileSync(join(ctx.release, 'chaincode', 'server', 'connection.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(released.address, 'peer0org1-basic:9999');

    writeFileSync(join(ctx.src, 'connection.json'), '{"address":"x:1","tls_required":"true"}');
    rmSync(ctx.bld, { recursive: true });
    mkdirSync(ctx.bld, { mode: 0o700 });
    const bad = phase('build', ctx.src, ctx.metadata, ctx.bld);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^extbuilder build: CONN_BOOLEAN: [^\n]*\n$/);

    // The musl build installs itself from inside the musl system (an init container's job), and the copy runs.
    const copy = join(root, 'opt', 'copy');
    const inst = chroot([inRoot(join(builder, 'bin', 'extbuilder')), 'install', inRoot(copy)]);
    assert.equal(inst.status, 0, inst.stderr);
    assert.match(inst.stdout, /^installed linux-x64-musl in \/opt\/copy$/m);
    const again = chroot([inRoot(join(copy, 'bin', 'detect')), inRoot(ctx.src), inRoot(ctx.metadata)]);
    assert.equal(again.status, 0, again.stderr);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

// ---- arm64 under qemu-aarch64-static ----

const QEMU_SKIP = !hasCommand('qemu-aarch64-static') && 'qemu-aarch64-static is not installed (apt-get install qemu-user-static)';

for (const target of ['linux-arm64-glibc', 'linux-arm64-musl']) {
  test(`${target}: --version, detect, build and release under qemu-aarch64-static`, { skip: notBuilt(target) || QEMU_SKIP }, (t) => {
    const dir = join(DIST, target);
    const tmp = tempDir('extbuilder-arm64-');
    try {
      let command: (link: string) => string[];
      if (target.endsWith('-musl')) {
        // Without binfmt_misc the kernel cannot start an arm64 ELF from the wrapper, so the test runs the
        // wrapper's exact command line (taken from the wrapper itself) under qemu.
        const wrapper = readFileSync(join(dir, 'bin', 'extbuilder'), 'utf8');
        assert.match(wrapper, /exec "\$d\/lib\/ld-linux-aarch64\.so\.1" --library-path "\$d\/lib" --argv0 "\$0" "\$d\/lib\/extbuilder" "\$@"/);
        command = (link) => ['qemu-aarch64-static', join(dir, 'lib', 'ld-linux-aarch64.so.1'), '--library-path', join(dir, 'lib'), '--argv0', link, join(dir, 'lib', 'extbuilder')];
      } else {
        // The glibc target uses the system's glibc: an arm64 one from Debian's cross packages stands in.
        let debs;
        try {
          debs = fetchDebs(join(REPO, '.cache'), 'arm64', ['libc6-arm64-cross', 'libstdc++6-arm64-cross', 'libgcc-s1-arm64-cross']);
        } catch (err) {
          t.skip(`cannot fetch Debian's arm64 glibc: ${(err as Error).message}`);
          return;
        }
        const sysroot = join(tmp, 'sysroot');
        cpSync(join(debs.root, 'usr', 'aarch64-linux-gnu', 'lib'), join(sysroot, 'lib'), { recursive: true });
        command = (link) => ['qemu-aarch64-static', '-L', sysroot, link];
      }
      const run = (link: string, args: string[]) => {
        const [cmd, ...pre] = command(join(dir, 'bin', link));
        return spawnSync(cmd!, [...pre, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH } });
      };
      const version = run('extbuilder', ['--version']);
      assert.equal(version.status, 0, version.stderr);
      assert.equal(version.stdout.trim(), VERSION);
      assert.doesNotMatch(version.stderr, /rejected/, 'the arm64 code cache is accepted');
      const ctx = createBuildContext(tmp, PACKAGE_ID);
      writePeerMetadata(ctx, '{"type":"external","label":"basic_1.0"}');
      writeFileSync(join(ctx.src, 'connection.json'), '{"address":"basic.org1.example.com:9999","dial_timeout":"5s"}');
      const detect = run('detect', [ctx.src, ctx.metadata]);
      assert.equal(detect.status, 0, detect.stderr);
      const build = run('build', [ctx.src, ctx.metadata, ctx.bld]);
      assert.equal(build.status, 0, build.stderr);
      const release = run('release', [ctx.bld, ctx.release]);
      assert.equal(release.status, 0, release.stderr);
      assert.equal((JSON.parse(readFileSync(join(ctx.release, 'chaincode', 'server', 'connection.json'), 'utf8')) as { address: string }).address, 'basic.org1.example.com:9999');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}

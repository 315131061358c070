// extbuilder package as a user runs it (child processes of bin/extbuilder): round trips through the
// peer's extraction and the real detect/build/release, the env file, and every kind of bad input:
// one stderr line with a stable code, exit 1, nothing written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { extractCode, readPackage } from '../src/core/pkg/read.js';
import { createBuildContext, invokePhase, peerEnvironment, writePeerMetadata } from '../src/peer/invoke.js';
import { FIXTURES, REPO, listFiles, tempDir } from './helpers/repo.js';

const CLI = join(REPO, 'bin', 'extbuilder');
const TREE = join(FIXTURES, 'packages', 'launch-tree');
const INDEXES = join(FIXTURES, 'packages', 'indexes');

function pkg(args: string[], o: { cwd?: string; uid?: number } = {}) {
  const r = spawnSync(process.execPath, [CLI, 'package', ...args], { encoding: 'utf8', cwd: o.cwd, uid: o.uid, gid: o.uid, env: { PATH: process.env.PATH } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Installs the package the way the peer does and runs this repo's detect, build and release on it. */
async function installLikePeer(file: string): Promise<{ release: string[]; bld: string[] }> {
  const report = await readPackage(file);
  assert.equal(report.installError, undefined, report.installError?.message);
  const ctx = createBuildContext(tempDir('extbuilder-peer-'), report.id!);
  await extractCode(file, ctx.src, report);
  writePeerMetadata(ctx, report.metadataBytes!);
  const env = peerEnvironment(process.env);
  const detect = await invokePhase(REPO, 'detect', [ctx.src, ctx.metadata], { env });
  assert.equal(detect.code, 0, detect.lines.join('\n'));
  const build = await invokePhase(REPO, 'build', [ctx.src, ctx.metadata, ctx.bld], { env });
  assert.equal(build.code, 0, build.lines.join('\n'));
  const release = await invokePhase(REPO, 'release', [ctx.bld, ctx.release], { env });
  assert.equal(release.code, 0, release.lines.join('\n'));
  return { release: listFiles(ctx.release), bld: listFiles(ctx.bld) };
}

test('service mode round trip: package, extract as the peer, detect/build/release succeed', async () => {
  const work = tempDir('extbuilder-pkg-');
  const out = join(work, 'svc.tar.gz');
  const r = pkg(['--address', 'mycc.example.com:9999', '--dial-timeout', '10s', '--indexes', INDEXES, '--label', 'svc_1.0', '-o', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^svc_1\.0:[0-9a-f]{64}\n$/);
  const files = await installLikePeer(out);
  assert.deepEqual(files.release, ['chaincode/server/connection.json', 'statedb/couchdb/indexes/indexOwner.json']);
});

test('launch mode round trip: the tree, its indexes and launch.json survive packaging and build', async () => {
  const work = tempDir('extbuilder-pkg-');
  const out = join(work, 'launch.tar.gz');
  const r = pkg(['--launch', TREE, '--label', 'launch_1.0', '-o', out, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.equal(json.mode, 'launch');
  assert.deepEqual(json.indexes, ['couchdb/collections/private/indexes/indexColor.json', 'couchdb/indexes/indexOwner.json']);
  assert.equal(json.package_id, (await readPackage(out)).id);
  const files = await installLikePeer(out);
  assert.deepEqual(files.release, ['statedb/couchdb/collections/private/indexes/indexColor.json', 'statedb/couchdb/indexes/indexOwner.json']);
  assert.ok(files.bld.includes('code/bin/chaincode'));
});

test('a tree of several deflate chunks: the same bytes on one core as on all, and the peer builds it', { skip: spawnSync('taskset', ['-c', '0', 'true']).status !== 0 && 'no taskset(1) to run on one core' }, async () => {
  const work = tempDir('extbuilder-pkg-big-');
  const t = join(work, 't');
  cpSync(TREE, t, { recursive: true });
  // About 5 MB of tar stream: five chunks compressed on worker threads, or all on the main thread.
  for (let i = 0; i < 40; i++) writeFileSync(join(t, `lib${i}.js`), Buffer.concat([randomBytes(60_000), Buffer.alloc(60_000, `exports.f${i} = () => ${i};\n`)]));
  const all = pkg(['--launch', t, '--label', 'big_1', '-o', join(work, 'all.tar.gz')]);
  assert.equal(all.status, 0, all.stderr);
  const r = spawnSync('taskset', ['-c', '0', process.execPath, CLI, 'package', '--launch', t, '--label', 'big_1', '-o', join(work, 'one.tar.gz')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, all.stdout);
  assert.ok(readFileSync(join(work, 'one.tar.gz')).equals(readFileSync(join(work, 'all.tar.gz'))));
  const files = await installLikePeer(join(work, 'all.tar.gz'));
  assert.ok(files.bld.includes('code/lib39.js'));
  const inspect = spawnSync(process.execPath, [CLI, 'inspect', join(work, 'all.tar.gz')], { encoding: 'utf8' });
  assert.equal(inspect.status, 0, inspect.stdout + inspect.stderr);
});

test('--env-out writes CHAINCODE_ID and the listen address; --env-file, which Node takes for itself, is a usage error naming --env-out', () => {
  const work = tempDir('extbuilder-pkg-');
  const r = pkg(['--address', 'cc.org1.example.com:7777', '--label', 'env_1', '-o', join(work, 'p.tar.gz'), '--env-out', join(work, 'cc.env')]);
  assert.equal(r.status, 0, r.stderr);
  const id = r.stdout.trim();
  assert.equal(readFileSync(join(work, 'cc.env'), 'utf8'), `CHAINCODE_ID=${id}\nCHAINCODE_SERVER_ADDRESS=0.0.0.0:7777\n`);
  // The file must exist, or Node itself exits (rc 9) before the program starts.
  writeFileSync(join(work, 'old.env'), '');
  const bad = pkg(['--launch', TREE, '--label', 'env_2', '-o', join(work, 'l.tar.gz'), '--env-file', join(work, 'old.env')]);
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr, 'extbuilder: USAGE: extbuilder package has no option --env-file (did you mean --env-out? see extbuilder package --help)\n');
  assert.equal(existsSync(join(work, 'l.tar.gz')), false);
  const help = pkg(['--help']);
  assert.doesNotMatch(help.stdout, /env-file/);
});

test('a templated connection.json with spliced TLS is packaged, with a warning naming what the peer fills in', () => {
  const work = tempDir('extbuilder-pkg-');
  const r = pkg(['--connection', join(FIXTURES, 'packages', 'connection-templated.json'), '--label', 't_1', '-o', join(work, 'p.tar.gz')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /warning: PKG_DEFERRED: connection\.json leaves address to its template values and root_cert, client_cert, client_key to its tls\.\*_file settings/);
  // Packaged byte for byte, templates unrendered: each peer renders them at build.
  const packaged = spawnSync('sh', ['-c', 'tar -xzOf "$0" code.tar.gz | tar -xzO connection.json', join(work, 'p.tar.gz')], { encoding: 'utf8' }).stdout;
  assert.equal(packaged, readFileSync(join(FIXTURES, 'packages', 'connection-templated.json'), 'utf8'));
});

interface BadCase {
  name: string;
  code: string;
  args: (w: string) => string[];
  setup?: (w: string) => void;
  uid?: number;
}

const BAD: BadCase[] = [
  { name: 'no mode given', code: 'PKG_OPTIONS', args: () => ['--label', 'x_1'] },
  { name: 'both modes given', code: 'PKG_OPTIONS', args: () => ['--launch', TREE, '--address', 'a.example.com:1', '--label', 'x_1'] },
  { name: 'invalid label', code: 'PKG_LABEL', args: () => ['--address', 'a.example.com:1', '--label', 'basic:1'] },
  { name: 'label starting with a dot', code: 'PKG_LABEL', args: () => ['--address', 'a.example.com:1', '--label', '.basic'] },
  { name: 'missing connection.json', code: 'PKG_INPUT', args: (w) => ['--connection', join(w, 'nope.json'), '--label', 'x_1'] },
  { name: 'missing launch dir', code: 'PKG_INPUT', args: (w) => ['--launch', join(w, 'nope'), '--label', 'x_1'] },
  { name: 'launch dir without launch.json', code: 'PKG_INPUT', args: (w) => ['--launch', w, '--label', 'x_1'], setup: (w) => writeFileSync(join(w, 'a.txt'), 'a') },
  { name: 'missing index dir', code: 'PKG_INPUT', args: (w) => ['--address', 'a.example.com:1', '--indexes', join(w, 'nope'), '--label', 'x_1'] },
  { name: 'bad address', code: 'CONN_ADDRESS', args: () => ['--address', 'no-port', '--label', 'x_1'] },
  { name: 'numeric dial_timeout', code: 'CONN_DIAL_TIMEOUT', args: (w) => ['--connection', join(w, 'c.json'), '--label', 'x_1'], setup: (w) => writeFileSync(join(w, 'c.json'), '{"address": "a.example.com:1", "dial_timeout": 10}') },
  { name: 'connection.json syntax error', code: 'CONN_PARSE', args: (w) => ['--connection', join(w, 'c.json'), '--label', 'x_1'], setup: (w) => writeFileSync(join(w, 'c.json'), '{"address": "a.example.com:1",}') },
  { name: 'template syntax error', code: 'TEMPLATE_SYNTAX', args: (w) => ['--connection', join(w, 'c.json'), '--label', 'x_1'], setup: (w) => writeFileSync(join(w, 'c.json'), '{"address": "{{ if .x }}:1"}') },
  { name: 'string boolean', code: 'CONN_BOOLEAN', args: (w) => ['--connection', join(w, 'c.json'), '--label', 'x_1'], setup: (w) => writeFileSync(join(w, 'c.json'), '{"address": "a.example.com:1", "tls_required": "true"}') },
  { name: 'misspelt key', code: 'CONN_UNKNOWN_KEY', args: (w) => ['--connection', join(w, 'c.json'), '--label', 'x_1'], setup: (w) => writeFileSync(join(w, 'c.json'), '{"address": "a.example.com:1", "dial_timout": "1s"}') },
  { name: 'invalid index', code: 'INDEX_INVALID', args: (w) => ['--address', 'a.example.com:1', '--indexes', join(w, 'ix'), '--label', 'x_1'], setup: (w) => { mkdirSync(join(w, 'ix')); writeFileSync(join(w, 'ix', 'a.json'), '{"index": {}}'); } },
  { name: 'index at a path the ledger ignores', code: 'PKG_INDEX_PATH', args: (w) => ['--address', 'a.example.com:1', '--indexes', join(w, 'ix'), '--label', 'x_1'], setup: (w) => { mkdirSync(join(w, 'ix', 'other'), { recursive: true }); writeFileSync(join(w, 'ix', 'other', 'a.json'), '{"index": {"fields": ["a"]}}'); } },
  { name: 'symlinks in the launch tree', code: 'PKG_SYMLINK', args: (w) => ['--launch', join(w, 't'), '--label', 'x_1'], setup: (w) => { cpSync(TREE, join(w, 't'), { recursive: true }); symlinkSync('lib/index.js', join(w, 't', 'link1.js')); symlinkSync('/etc', join(w, 't', 'lib', 'link2')); } },
  { name: 'a FIFO in the launch tree', code: 'PKG_SPECIAL_FILE', args: (w) => ['--launch', join(w, 't'), '--label', 'x_1'], setup: (w) => { cpSync(TREE, join(w, 't'), { recursive: true }); spawnSync('mkfifo', [join(w, 't', 'pipe')]); } },
  { name: 'launch command not executable', code: 'LAUNCH_COMMAND_NOT_EXECUTABLE', args: (w) => ['--launch', join(w, 't'), '--label', 'x_1'], setup: (w) => { cpSync(TREE, join(w, 't'), { recursive: true }); chmodSync(join(w, 't', 'bin', 'chaincode'), 0o644); } },
  { name: 'a symlink loop with --dereference', code: 'PKG_SYMLINK', args: (w) => ['--launch', join(w, 't'), '--dereference', '--label', 'x_1'], setup: (w) => { cpSync(TREE, join(w, 't'), { recursive: true }); symlinkSync('..', join(w, 't', 'lib', 'up')); } },
  { name: 'a dangling symlink with --dereference', code: 'PKG_SYMLINK', args: (w) => ['--launch', join(w, 't'), '--dereference', '--label', 'x_1'], setup: (w) => { cpSync(TREE, join(w, 't'), { recursive: true }); symlinkSync('nowhere', join(w, 't', 'gone')); } },
  { name: 'output in a missing directory', code: 'OUTPUT_WRITE', args: (w) => ['--address', 'a.example.com:1', '--label', 'x_1', '-o', join(w, 'missing', 'p.tar.gz')] },
];

if (process.getuid?.() === 0) {
  // Root reads anything, so the unreadable file is tested as nobody.
  BAD.push({
    name: 'an unreadable file in the launch tree (as nobody)', code: 'PKG_INPUT', uid: 65534, args: (w) => ['--launch', join(w, 't'), '--label', 'x_1'],
    setup: (w) => { cpSync(TREE, join(w, 't'), { recursive: true }); writeFileSync(join(w, 't', 'secret'), 's'); spawnSync('chmod', ['-R', 'a+rX', join(w, 't')]); chmodSync(join(w, 't', 'secret'), 0o000); },
  });
} else {
  BAD.push({
    name: 'an unreadable file in the launch tree', code: 'PKG_INPUT', args: (w) => ['--launch', join(w, 't'), '--label', 'x_1'],
    setup: (w) => { cpSync(TREE, join(w, 't'), { recursive: true }); writeFileSync(join(w, 't', 'secret'), 's', { mode: 0o000 }); },
  });
}

for (const c of BAD) {
  test(`bad input: ${c.name} -> ${c.code}, one line, exit 1, nothing written`, () => {
    const w = tempDir('extbuilder-bad-');
    c.setup?.(w);
    const out = join(w, 'out');
    mkdirSync(out, { mode: 0o777 });
    chmodSync(out, 0o777);
    chmodSync(w, 0o755);
    const args = c.args(w);
    const r = pkg(args.includes('-o') ? args : [...args, '-o', join(out, 'p.tar.gz')], { cwd: out, uid: c.uid });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n').filter((l) => !l.includes(': warning: '));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, new RegExp(`^extbuilder package: ${c.code}: `));
    assert.deepEqual(readdirSync(out), [], 'no output or partial file left');
    assert.ok(!existsSync(join(w, 'missing')));
  });
}

test('the symlink refusal lists the links', () => {
  const w = tempDir('extbuilder-bad-');
  cpSync(TREE, join(w, 't'), { recursive: true });
  symlinkSync('lib/index.js', join(w, 't', 'link1.js'));
  symlinkSync('../bin', join(w, 't', 'lib', 'link2'));
  const r = pkg(['--launch', join(w, 't'), '--label', 'x_1', '-o', join(w, 'p.tar.gz')]);
  assert.match(r.stderr, /2 symlinks.*lib\/link2, link1\.js.*--dereference/);
  const d = pkg(['--launch', join(w, 't'), '--label', 'x_1', '-o', join(w, 'p.tar.gz'), '--dereference']);
  assert.equal(d.status, 0, d.stderr);
});

test('a package written into the tree it packages is refused', () => {
  const w = tempDir('extbuilder-bad-');
  cpSync(TREE, join(w, 't'), { recursive: true });
  const r = pkg(['--launch', join(w, 't'), '--label', 'x_1', '-o', join(w, 't', 'p.tar.gz')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^extbuilder package: PKG_OPTIONS: .*inside the tree/);
  assert.ok(!existsSync(join(w, 't', 'p.tar.gz')));
});

test('progress: a line on a terminal for long work, nothing on a pipe', { skip: spawnSync('script', ['--version']).status !== 0 && 'no script(1) for a pseudo-terminal' }, () => {
  const w = tempDir('extbuilder-progress-');
  const t = join(w, 't');
  mkdirSync(t);
  writeFileSync(join(t, 'launch.json'), '{"command": "node"}');
  for (let i = 0; i < 20; i++) writeFileSync(join(t, `blob${i}.bin`), randomBytes(2_000_000));
  const piped = pkg(['--launch', t, '--label', 'p_1', '-o', join(w, 'a.tar.gz')]);
  assert.equal(piped.status, 0, piped.stderr);
  assert.equal(piped.stderr, '');
  const cmd = `"${process.execPath}" "${CLI}" package --launch "${t}" --label p_1 -o "${join(w, 'b.tar.gz')}"`;
  const tty = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8' });
  assert.equal(tty.status, 0, tty.stdout);
  assert.match(tty.stdout, /\rextbuilder package: \d+\/21 files, [\d.]+\/40\.0 MB \(\d+%\)/);
  assert.ok(tty.stdout.includes(piped.stdout.trim()), 'the same package ID on a terminal');
});

// A plain `package` line skips yargs and the CLI file (src/main.ts quickPackage, dist/quick.cjs) and calls the
// same handler with the argv yargs would give it. `--label=L` is a form the quick path refuses, so the same
// line with it goes through yargs: the two must print, exit and write the same.
const QUICK_FORMS: [string, (w: string) => string[]][] = [
  ['launch mode', () => ['--launch', TREE, '--label', 'q_1', '-o', 'p.tar.gz']],
  ['launch mode, --json, --dereference, --type', () => ['--launch', TREE, '--dereference', '--type', 'ccaas', '--label', 'q_1', '--output', 'p.tar.gz', '--json']],
  ['service mode by flags, default output', () => ['--address', 'cc.example.com:9999', '--dial-timeout', '10s', '--indexes', INDEXES, '--label', 'q_1']],
  ['service mode, --tls --client-auth --domain, --env-out, --json', () => ['--label', 'q_1', '--address', 'cc.example.com:9999', '--tls', '--client-auth', '--domain', 'cc.local', '--env-out', 'cc.env', '--json']],
  ['a templated connection.json (a warning)', () => ['--connection', join(FIXTURES, 'packages', 'connection-templated.json'), '--label', 'q_1', '-o', 'p.tar.gz']],
  ['Kubernetes mode', () => ['--image', `example.com/cc@sha256:${'a'.repeat(64)}`, '--label', 'q_1', '-o', 'p.tar.gz']],
  ['a bad label', () => ['--address', 'a.example.com:1', '--label', 'basic:1']],
  ['a bad label, --json', () => ['--address', 'a.example.com:1', '--label', 'basic:1', '--json']],
  ['a missing launch dir', (w) => ['--launch', join(w, 'nope'), '--label', 'q_1', '-o', 'p.tar.gz']],
  ['a missing launch dir, --json', (w) => ['--launch', join(w, 'nope'), '--label', 'q_1', '--json']],
  ['conflicting modes', () => ['--launch', TREE, '--address', 'a.example.com:1', '--label', 'q_1']],
  ['--connection with connection flags, --json', () => ['--connection', join(FIXTURES, 'packages', 'connection-templated.json'), '--address', 'a.example.com:1', '--label', 'q_1', '--json']],
  ['--client-auth without --tls', () => ['--address', 'a.example.com:1', '--client-auth', '--label', 'q_1']],
  ['--tls without --address', () => ['--tls', '--label', 'q_1']],
  ['no mode given, --json', () => ['--label', 'q_1', '--json']],
];

/** The same line with `--label=L`, which the quick path refuses. */
function viaYargs(args: string[]): string[] {
  const at = args.indexOf('--label');
  return [...args.slice(0, at), `--label=${args[at + 1]}`, ...args.slice(at + 2)];
}

/** What a run printed and left in its working directory, with that directory's path made neutral. */
function outcome(args: string[], cwd: string) {
  const r = pkg(args, { cwd });
  const files = Object.fromEntries(readdirSync(cwd).sort().map((f) => [f, readFileSync(join(cwd, f)).toString('base64')]));
  const neutral = (s: string) => s.split(cwd).join('<cwd>');
  return { status: r.status, stdout: neutral(r.stdout), stderr: neutral(r.stderr), files };
}

test('the quick package path takes the plain forms and refuses every other, which yargs parses as before', async () => {
  const { quickPackage } = await import('../src/main.js');
  const { packageCommand } = await import('../src/cli/package.js');
  const { default: yargs } = await import('yargs');
  const w = tempDir('extbuilder-quick-');
  for (const [name, form] of QUICK_FORMS) {
    const args = form(w);
    const quick = quickPackage(['package', ...args]);
    assert.ok(quick, `${name}: taken by the quick path`);
    // The keys the handler reads (src/cli/package.ts) have yargs' values, defaults included.
    const parsed = packageCommand.builder(yargs(args).strict()).parseSync() as Record<string, unknown>;
    for (const k of ['label', 'connection', 'address', 'dial-timeout', 'tls', 'client-auth', 'root-cert', 'domain', 'launch', 'image', 'dereference', 'indexes', 'type', 'output', 'env-out', 'json']) {
      assert.deepEqual(quick[k], parsed[k], `${name}: --${k}`);
    }
    assert.equal(quickPackage(['package', ...viaYargs(args)]), undefined, `${name}: --label= refused`);
  }
  for (const refused of [
    ['package'], ['package', '--help'], ['package', '--label', 'x', '-h'], ['package', '--label=x', '--address', 'a:1'], ['package', '--label', 'x', '--no-tls'],
    ['package', '--label', 'x', '--label', 'y'], ['package', '--label', 'x', '-o', 'a', '--output', 'b'], ['package', '--label', 'x', '--launch'],
    ['package', '--label', 'x', '--launch', '--json'], ['package', '--label', '-x'], ['package', '--label', ''], ['package', '--label', 'x', 'extra'],
    ['package', '--label', 'x', '--env-file', 'e'], ['package', '--label', 'x', '--adress', 'a:1'], ['package', '--label', 'x', '--tls', 'true'],
    ['package', '--label', 'x', '--dialTimeout', '1s'], ['package', '--label', 'x', '--', '--json'], ['package', '--address', 'a:1'], ['package', '-l', 'x'],
  ]) {
    assert.equal(quickPackage(refused), undefined, refused.join(' '));
  }
});

for (const [name, form] of QUICK_FORMS) {
  test(`package by the quick path and by yargs: the same output, exit code and package bytes (${name})`, () => {
    const w = tempDir('extbuilder-quick-');
    const args = form(w);
    mkdirSync(join(w, 'quick'));
    mkdirSync(join(w, 'yargs'));
    const quick = outcome(args, join(w, 'quick'));
    assert.deepEqual(quick, outcome(viaYargs(args), join(w, 'yargs')));
    assert.equal(quick.status === 0, !/bad label|missing|conflicting|with connection flags|without|no mode/.test(name), `${name}: ${quick.stderr}`);
  });
}

// run, as the peer calls it: a real fabric-shim chaincode built in launch mode dials a stand-in peer
// listener (with and without TLS); lifetime under SIGTERM, SIGKILL and crashes; bad input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBuildContext, invokePhase, peerEnvironment, stageSourceDir, writePeerMetadata, type BuildContext } from '../src/peer/invoke.js';
import { listenPeer, type PeerListener } from '../src/peer/listen.js';
import type { PeerSession } from '../src/peer/handler.js';
import { LineCapper } from '../src/core/line-capper.js';
import { FIXTURES, REPO, tempDir } from './helpers/repo.js';
import { spawnRun, type RunProc as BaseRun } from './helpers/run-proc.js';

const CC_ID = 'kv_1.0:4844d431f1730dbe5f633ec3dbcc02debe09925731a37942eb65bd19150b9ff1';
const CONFIG = JSON.stringify({ template: { node_path: join(REPO, 'node_modules') } });
const roots: string[] = [];

/**
 * A node binary with process.execve (Node >= 22.15): EXTBUILDER_TEST_NODE, an unpacked .cache/node-v2*,
 * or what the binaries script downloads into .cache/node (node-linux-<arch>-<version>/node unpacked, or
 * its npm tarball, which is then unpacked into a temporary directory).
 */
function findExecveNode(): { dir?: string; why: string } {
  const cache = join(REPO, '.cache');
  const candidates: string[] = [];
  if (process.env.EXTBUILDER_TEST_NODE) candidates.push(process.env.EXTBUILDER_TEST_NODE);
  if (existsSync(cache)) {
    for (const d of readdirSync(cache)) if (/^node-v2[2-9]/.test(d)) candidates.push(join(cache, d, 'bin', 'node'));
  }
  const tgzDir = join(cache, 'node');
  if (existsSync(tgzDir)) {
    for (const d of readdirSync(tgzDir)) if (d.startsWith(`node-linux-${process.arch}-2`) && !d.endsWith('.tgz')) candidates.push(join(tgzDir, d, 'node'), join(tgzDir, d, 'bin', 'node'));
  }
  const tgz = existsSync(tgzDir) ? readdirSync(tgzDir).filter((f) => f.startsWith(`node-linux-${process.arch}-2`) && f.endsWith('.tgz')).sort().pop() : undefined;
  if (tgz && candidates.length === 0) {
    const into = tempDir('extbuilder-node-');
    roots.push(into);
    if (spawnSync('tar', ['-xzf', join(tgzDir, tgz), '-C', into, '--strip-components=1']).status === 0) candidates.push(join(into, 'bin', 'node'));
  }
  for (const node of candidates) {
    const r = spawnSync(node, ['-p', 'typeof process.execve'], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim() === 'function') return { dir: join(node, '..'), why: '' };
  }
  return { why: `no Node >= 22.15 with process.execve found (looked at EXTBUILDER_TEST_NODE, .cache/node-v2*/bin/node and .cache/node/node-linux-${process.arch}-*, which npm run binaries downloads)` };
}
const execveNode = findExecveNode();

/** Stages `tree`, writes metadata.json and runs the real build and release, as the peer does at install. */
async function install(tree: string, edit?: (src: string) => void): Promise<BuildContext> {
  const ctx = createBuildContext(tmpdir(), CC_ID);
  roots.push(ctx.root);
  stageSourceDir(tree, ctx.src);
  edit?.(ctx.src);
  writePeerMetadata(ctx, JSON.stringify({ type: 'external', label: 'kv_1.0' }));
  const env = peerEnvironment({ ...process.env, EXTBUILDER_CONFIG: CONFIG }, ['EXTBUILDER_CONFIG']);
  for (const [phase, args] of [['build', [ctx.src, ctx.metadata, ctx.bld]], ['release', [ctx.bld, ctx.release]]] as const) {
    const r = await invokePhase(REPO, phase, [...args], { env, timeoutMs: 60_000 });
    assert.equal(r.code, 0, `${phase}: ${r.lines.join('\n')}`);
  }
  return ctx;
}

/** Every path below dir with its mode, size and mtime: what "nothing written" is checked against. */
function snapshot(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const st = lstatSync(join(dir, r));
    out.push(`${r} ${st.mode.toString(8)} ${st.size} ${st.mtimeMs}`);
    if (st.isDirectory()) out.push(...snapshot(dir, r));
  }
  return out;
}

/** A fresh RUN_METADATA_DIR as the peer makes it: $TMPDIR/fabric-run<random>, 0700. */
/** A 64-byte ELF header (no program headers) for an architecture other than this one. */
function otherArchElf(): Buffer {
  const h = Buffer.alloc(64);
  h.write('\x7fELF', 0, 'latin1');
  h[4] = 2; // 64-bit
  h[5] = 1; // little-endian
  h[6] = 1;
  h.writeUInt16LE(2, 16); // ET_EXEC
  h.writeUInt16LE(process.arch === 'arm64' ? 62 : 183, 18);
  return h;
}

function runMetadataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fabric-run'));
  chmodSync(dir, 0o700);
  roots.push(dir);
  return dir;
}

interface RunProc extends BaseRun {
  /** The chaincode's PID from run's start line. */
  startedPid(): Promise<number>;
}

/** Spawns <repo>/bin/run the way the peer does: pruned env, stdout discarded, stderr read by line. */
function startRun(bld: string, runDir: string, o: { nodeDir?: string; extraEnv?: Record<string, string> } = {}): RunProc {
  const from: Record<string, string | undefined> = { ...process.env, EXTBUILDER_CONFIG: CONFIG, ...o.extraEnv };
  if (o.nodeDir) from.PATH = `${o.nodeDir}:${process.env.PATH ?? ''}`;
  const env = peerEnvironment(from, ['EXTBUILDER_CONFIG', ...Object.keys(o.extraEnv ?? {})]);
  const run = spawnRun(join(REPO, 'bin', 'run'), [bld, runDir], env);
  return { ...run, startedPid: async () => Number((await run.line(/^extbuilder run: .* -> .* \(tls (on|off)\), pid (\d+)$/, 'starting the chaincode'))[2]) };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie no one has reaped yet is dead for our purposes.
  try { return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !alive(pid);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms).unref())]);
}

let ctx: BuildContext;
const listeners: PeerListener[] = [];
const killList: number[] = [];

before(async () => {
  ctx = await install(join(FIXTURES, 'launch', 'node-kv'));
});

after(async () => {
  for (const pid of killList) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  for (const l of listeners) await l.close();
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

async function listener(tls: boolean): Promise<PeerListener> {
  const l = await listenPeer({ tls, session: { expectedChaincodeId: CC_ID } });
  listeners.push(l);
  return l;
}

/** Starts run for the built fixture and waits for the chaincode to register. */
async function launch(tls: boolean, o: { nodeDir?: string; extraEnv?: Record<string, string> } = {}): Promise<{ run: RunProc; session: PeerSession; runDir: string; ccPid: number }> {
  const peer = await listener(tls);
  const runDir = runMetadataDir();
  await peer.writeChaincodeJson(runDir, { chaincodeId: CC_ID });
  const run = startRun(ctx.bld, runDir, o);
  killList.push(run.child.pid!);
  const ccPid = await withTimeout(run.startedPid(), 30_000, 'run start');
  killList.push(ccPid);
  const session = await withTimeout(peer.nextSession(30_000), 31_000, 'chaincode connect');
  assert.deepEqual(await session.registered, { chaincodeId: CC_ID });
  return { run, session, runDir, ccPid };
}

for (const tls of [false, true]) {
  test(`run starts the chaincode, which registers and answers transactions (tls ${tls ? 'on' : 'off'}); SIGTERM stops both`, async () => {
    const before = snapshot(ctx.bld);
    const { run, session, runDir, ccPid } = await launch(tls, { extraEnv: { EXTBUILDER_RUN_NO_EXECVE: '1' } });

    const put = await session.invoke('put', ['colour', 'blue']);
    assert.equal(put.status, 200, put.message);
    assert.equal((await session.invoke('get', ['colour'])).payload.toString(), 'blue');

    const who = JSON.parse((await session.invoke('whoami', [])).payload.toString()) as { pid: number };
    assert.equal(who.pid, ccPid, 'the start line names the chaincode process');

    const { env, cwd } = JSON.parse((await session.invoke('env', [])).payload.toString()) as { env: Record<string, string>; cwd: string };
    assert.equal(env.CORE_CHAINCODE_ID_NAME, CC_ID);
    assert.match(env.CORE_PEER_ADDRESS!, /^127\.0\.0\.1:\d+$/);
    assert.equal(env.CORE_PEER_LOCALMSPID, 'Org1MSP');
    assert.equal(env.CORE_PEER_TLS_ENABLED, String(tls));
    assert.equal(env.CORE_CHAINCODE_LOGGING_LEVEL, 'info', 'launch.json env is applied');
    assert.equal(env.NODE_PATH, join(REPO, 'node_modules'), 'launch.json env is rendered with the builder config template');
    assert.equal(cwd, join(ctx.bld, 'code'));
    if (tls) {
      const cfg = JSON.parse(readFileSync(join(runDir, 'chaincode.json'), 'utf8')) as Record<string, string>;
      const tlsDir = join(env.CORE_TLS_CLIENT_KEY_FILE!, '..');
      assert.ok(tlsDir.startsWith(runDir + '/'), 'TLS files live inside RUN_METADATA_DIR');
      assert.equal(statSync(tlsDir).mode & 0o777, 0o700);
      assert.equal(readFileSync(env.CORE_PEER_TLS_ROOTCERT_FILE!, 'utf8'), cfg.root_cert);
      assert.equal(readFileSync(env.CORE_TLS_CLIENT_CERT_FILE!, 'utf8'), cfg.client_cert);
      assert.equal(readFileSync(env.CORE_TLS_CLIENT_KEY_FILE!, 'utf8'), cfg.client_key);
      assert.equal(Buffer.from(readFileSync(env.CORE_TLS_CLIENT_CERT_PATH!, 'utf8'), 'base64').toString(), cfg.client_cert);
      assert.equal(Buffer.from(readFileSync(env.CORE_TLS_CLIENT_KEY_PATH!, 'utf8'), 'base64').toString(), cfg.client_key);
      for (const k of ['CORE_TLS_CLIENT_KEY_FILE', 'CORE_TLS_CLIENT_KEY_PATH']) assert.equal(statSync(env[k]!).mode & 0o777, 0o600, k);
    } else {
      assert.equal(env.CORE_TLS_CLIENT_KEY_FILE, undefined);
      assert.deepEqual(readdirSync(runDir), ['chaincode.json']);
    }

    const t0 = Date.now();
    run.child.kill('SIGTERM');
    const { code } = await withTimeout(run.exited, 5000, 'run after SIGTERM');
    assert.ok(Date.now() - t0 < 5000);
    assert.notEqual(code, 0);
    assert.equal(alive(ccPid), false, 'the chaincode is gone with run');
    await session.closed;

    const all = run.lines.join('\n');
    assert.doesNotMatch(all, /BEGIN|PRIVATE KEY/, 'no key material on stderr');
    assert.match(all, new RegExp(`^extbuilder run: ${CC_ID.replace(/[.]/g, '\\.')} -> 127\\.0\\.0\\.1:\\d+ \\(tls ${tls ? 'on' : 'off'}\\), pid ${ccPid}$`, 'm'));
    assert.match(all, /Calling chaincode Invoke\(\) succeeded/, "the chaincode's stdout reaches stderr");
    assert.deepEqual(snapshot(ctx.bld), before, 'nothing written into BUILD_OUTPUT_DIR');
  });
}

test('SIGKILL of run leaves no chaincode behind', async () => {
  const { run, session, ccPid } = await launch(false, { extraEnv: { EXTBUILDER_RUN_NO_EXECVE: '1' } });
  assert.equal((await session.invoke('put', ['k', 'v'])).status, 200);
  run.child.kill('SIGKILL');
  await run.exited;
  assert.equal(await waitGone(ccPid, 6000), true, `chaincode ${ccPid} outlived run`);
});

test('a chaincode that ignores SIGTERM, and its children, are killed: run is gone within the peer\'s 5 s', async () => {
  const src = tempDir('extbuilder-stubborn-');
  roots.push(src);
  writeFileSync(join(src, 'launch.json'), JSON.stringify({ command: './stubborn.sh' }));
  writeFileSync(join(src, 'stubborn.sh'), '#!/bin/sh\ntrap "" TERM INT\nsleep 1000 &\necho "child $!"\nwhile :; do sleep 1; done\n', { mode: 0o755 });
  const c = await install(src);
  const runDir = runMetadataDir();
  await (await listener(false)).writeChaincodeJson(runDir, { chaincodeId: CC_ID });
  const run = startRun(c.bld, runDir, { extraEnv: { EXTBUILDER_RUN_NO_EXECVE: '1' } });
  killList.push(run.child.pid!);
  const pid = await withTimeout(run.startedPid(), 30_000, 'run start');
  killList.push(pid);
  while (!run.lines.some((l) => /^child \d+$/.test(l))) {
    assert.ok(run.child.exitCode === null && run.child.signalCode === null, `run exited before the chaincode started its child:\n${run.lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const grandchild = Number(/^child (\d+)$/.exec(run.lines.find((l) => /^child \d+$/.test(l))!)![1]);
  killList.push(grandchild);
  assert.ok(alive(pid) && alive(grandchild));
  const t0 = Date.now();
  run.child.kill('SIGTERM');
  const { code } = await withTimeout(run.exited, 5000, 'run after SIGTERM');
  assert.ok(Date.now() - t0 < 5000);
  assert.equal(code, 128 + 9, 'the chaincode was SIGKILLed');
  assert.equal(alive(pid), false);
  assert.equal(await waitGone(grandchild, 5000), true, 'the chaincode\'s own child went with its group');
});

test('a crashing chaincode makes run exit with its status', async () => {
  const { run, session, ccPid } = await launch(false, { extraEnv: { EXTBUILDER_RUN_NO_EXECVE: '1' } });
  await session.invoke('crash', ['3']).catch(() => undefined);
  const { code } = await withTimeout(run.exited, 10_000, 'run after the crash');
  assert.equal(code, 3);
  assert.equal(alive(ccPid), false);
  assert.match(run.lines.join('\n'), /exited with status 3/);
});

test('a chaincode line longer than the peer reads is cut, so the peer keeps reading', async () => {
  const { run, session } = await launch(false, { extraEnv: { EXTBUILDER_RUN_NO_EXECVE: '1' } });
  assert.equal((await session.invoke('shout', ['200000'])).status, 200);
  assert.equal((await session.invoke('put', ['after', 'shout'])).status, 200);
  run.child.kill('SIGTERM');
  await run.exited;
  const longest = Math.max(...run.lines.map((l) => Buffer.byteLength(l)));
  assert.ok(longest < 64 * 1024, `a ${longest}-byte line reached the peer`);
  assert.ok(run.lines.some((l) => /^x{1000}/.test(l)), 'the head of the long line is kept');
  assert.ok(run.lines.some((l) => /more characters of that line dropped/.test(l)));
});

test('with process.execve, run becomes the chaincode: same PID, stdout on stderr, exit status passed on', { skip: execveNode.dir ? false : execveNode.why }, async () => {
  const first = await launch(true, { nodeDir: execveNode.dir });
  assert.equal(first.ccPid, first.run.child.pid, 'the chaincode has run\'s PID: nothing stays resident');
  const who = JSON.parse((await first.session.invoke('whoami', [])).payload.toString()) as { pid: number };
  assert.equal(who.pid, first.run.child.pid);
  assert.equal((await first.session.invoke('put', ['k', 'v'])).status, 200);
  first.run.child.kill('SIGTERM');
  await withTimeout(first.run.exited, 5000, 'run after SIGTERM');
  assert.equal(alive(first.ccPid), false);
  assert.match(first.run.lines.join('\n'), /Calling chaincode Invoke\(\) succeeded/, "the chaincode's stdout reaches stderr");
  assert.doesNotMatch(first.run.lines.join('\n'), /BEGIN|PRIVATE KEY/);

  const second = await launch(false, { nodeDir: execveNode.dir });
  await second.session.invoke('crash', ['4']).catch(() => undefined);
  const { code } = await withTimeout(second.run.exited, 10_000, 'run after the crash');
  assert.equal(code, 4);
});

test('bad input to run: one line, a stable code, exit 1', async (t) => {
  const env = peerEnvironment({ ...process.env, EXTBUILDER_CONFIG: CONFIG }, ['EXTBUILDER_CONFIG']);
  const peer = await listener(true);
  const good = async (dir: string) => peer.writeChaincodeJson(dir, { chaincodeId: CC_ID });
  const writeCc = (dir: string, text: string) => { writeFileSync(join(dir, 'chaincode.json'), text, { mode: 0o600 }); };
  const editLaunch = (change: (l: Record<string, unknown>) => void) => async () => {
    const c = await install(join(FIXTURES, 'launch', 'node-kv'));
    const file = join(c.bld, 'code', 'launch.json');
    const l = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    change(l);
    writeFileSync(file, JSON.stringify(l));
    return c.bld;
  };
  const packagedCommand = (content: string | Buffer) => async () => {
    const c = await install(join(FIXTURES, 'launch', 'node-kv'), (src) => {
      writeFileSync(join(src, 'start.sh'), content, { mode: 0o755 });
      const l = JSON.parse(readFileSync(join(src, 'launch.json'), 'utf8')) as Record<string, unknown>;
      l.command = './start.sh';
      writeFileSync(join(src, 'launch.json'), JSON.stringify(l));
    });
    return c.bld;
  };
  const cases: { name: string; code: string; noExecve?: boolean; bld?: () => Promise<string>; cc: (dir: string) => Promise<unknown> | void; includes?: RegExp }[] = [
    { name: 'no chaincode.json', code: 'RUN_METADATA_READ', cc: () => undefined },
    { name: 'chaincode.json is not JSON', code: 'RUN_METADATA_PARSE', cc: (d) => writeCc(d, '{"chaincode_id": ') },
    { name: 'chaincode.json without peer_address', code: 'RUN_METADATA_INVALID', cc: (d) => writeCc(d, JSON.stringify({ chaincode_id: CC_ID, client_cert: '', client_key: '', root_cert: '', mspid: 'Org1MSP' })), includes: /peer_address/ },
    { name: 'chaincode.json with a client_cert but no key', code: 'RUN_METADATA_INVALID', cc: async (d) => { await good(d); const c = JSON.parse(readFileSync(join(d, 'chaincode.json'), 'utf8')); c.client_key = ''; writeCc(d, JSON.stringify(c)); }, includes: /client_key/ },
    { name: 'a command not on PATH', code: 'LAUNCH_COMMAND_MISSING', bld: editLaunch((l) => { l.command = 'no-such-chaincode-program'; }), cc: good },
    { name: 'a packaged command that lost its execute bit', code: 'LAUNCH_COMMAND_NOT_EXECUTABLE', bld: async () => {
      const c = await install(join(FIXTURES, 'launch', 'node-kv'), (src) => {
        writeFileSync(join(src, 'start.sh'), '#!/bin/sh\nexec node start.js "$@"\n', { mode: 0o755 });
        const l = JSON.parse(readFileSync(join(src, 'launch.json'), 'utf8')) as Record<string, unknown>;
        l.command = './start.sh';
        writeFileSync(join(src, 'launch.json'), JSON.stringify(l));
      });
      chmodSync(join(c.bld, 'code', 'start.sh'), 0o644);
      return c.bld;
    }, cc: good },
    ...([false, true] as const).map((noExecve) => ({ name: `a packaged command whose interpreter is missing${noExecve ? ' (supervised run)' : ''}`, code: 'RUN_START', noExecve, bld: packagedCommand('#!/no/such/interpreter\n'), cc: good, includes: /start\.sh needs the interpreter \/no\/such\/interpreter, which this system lacks/ })),
    { name: 'a packaged command run through env by a runtime not on PATH', code: 'RUN_START', bld: packagedCommand('#!/usr/bin/env no-such-runtime\n'), cc: good, includes: /runs "no-such-runtime" through env, but no-such-runtime is not on the PATH it gets/ },
    { name: 'a packaged binary built for another architecture', code: 'RUN_START', bld: packagedCommand(otherArchElf()), cc: good, includes: new RegExp(`start\\.sh is built for ${process.arch === 'arm64' ? 'x64' : 'arm64'}, this system is ${process.arch}`) },
    { name: 'a workdir escaping the package', code: 'LAUNCH_PATH_ESCAPES', bld: editLaunch((l) => { l.workdir = '../..'; }), cc: good },
    { name: 'a placeholder no one provides', code: 'TEMPLATE_MISSING_KEY', bld: editLaunch((l) => { l.args = ['{{.peer_address}}', '{{.no_such_key}}']; }), cc: good, includes: /no_such_key/ },
    { name: 'a service-mode build', code: 'RUN_NOT_LAUNCH', bld: async () => {
      const dir = tempDir('extbuilder-svc-bld-');
      roots.push(dir);
      writeFileSync(join(dir, 'build.json'), JSON.stringify({ builder: 'fabric-extbuilder', format: 1, version: '0.1.0', mode: 'service', indexes: [] }));
      return dir;
    }, cc: good },
    { name: 'a BUILD_OUTPUT_DIR extbuilder did not build', code: 'BUILD_OUTPUT_MISSING', bld: async () => { const d = tempDir(); roots.push(d); mkdirSync(join(d, 'code')); return d; }, cc: good },
  ];
  for (const c of cases) {
    await t.test(c.name, async () => {
      const bld = c.bld ? await c.bld() : ctx.bld;
      const before = snapshot(bld);
      const runDir = runMetadataDir();
      await c.cc(runDir);
      const r = await invokePhase(REPO, 'run', [bld, runDir], { env: c.noExecve ? { ...env, EXTBUILDER_RUN_NO_EXECVE: '1' } : env, timeoutMs: 30_000 });
      assert.equal(r.code, 1, r.lines.join('\n'));
      assert.equal(r.lines.length, 1, r.lines.join('\n'));
      assert.match(r.lines[0]!, new RegExp(`^extbuilder run: ${c.code}: `));
      if (c.includes) assert.match(r.lines[0]!, c.includes);
      assert.doesNotMatch(r.lines[0]!, /BEGIN/);
      assert.deepEqual(snapshot(bld), before);
      assert.deepEqual(readdirSync(runDir).filter((n) => n !== 'chaincode.json'), [], 'no TLS files left for a run that did not start');
    });
  }
});

test('LineCapper cuts long lines across chunk boundaries and keeps short ones whole', () => {
  const out: string[] = [];
  const c = new LineCapper(10, (l) => out.push(l));
  c.push('short\nexactly10c\nabcdefghij');
  c.push('klmnop');
  c.push('qrs\nnext\npartial');
  c.end();
  assert.deepEqual(out, ['short', 'exactly10c', 'abcdefghij', '[extbuilder run: 9 more characters of that line dropped]', 'next', 'partial']);
  const one: string[] = [];
  const d = new LineCapper(4, (l) => one.push(l));
  d.push('123456789\n');
  assert.deepEqual(one, ['1234 [extbuilder run: 5 more characters dropped]']);
  // a cut never splits a character, and what is dropped is counted in characters
  const wide: string[] = [];
  const e = new LineCapper(5, (l) => wide.push(l));
  e.push('ééééé\n');
  e.push('ééé');
  e.push('éé\n');
  assert.deepEqual(wide, ['éé [extbuilder run: 3 more characters dropped]', 'éé', '[extbuilder run: 3 more characters of that line dropped]']);
});

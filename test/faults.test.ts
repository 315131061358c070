// Faults: build killed with SIGKILL at random points (seeded), and a full disk (a 64 KiB tmpfs mounted by
// the test, skipped where mounting is not allowed). Neither may leave an output that release would take
// for a finished build, and a full disk gives one clear line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { createBuildContext, invokePhase, peerEnvironment, writePeerMetadata, type BuildContext } from '../src/peer/invoke.js';
import { assertErrorLine, SEED } from './helpers/fuzz.js';
import { REPO, listFiles, tempDir } from './helpers/repo.js';

let dir: string;
const env = peerEnvironment(process.env);

before(() => { dir = tempDir('extbuilder-faults-'); });
after(() => rmSync(dir, { recursive: true, force: true }));

/** A service package with `indexes` index files of about `pad` bytes each (more files: a longer build). */
function servicePackage(id: string, indexes: number, pad = 100): BuildContext {
  const ctx = createBuildContext(dir, id);
  writeFileSync(join(ctx.src, 'connection.json'), JSON.stringify({ address: 'cc.example.com:9999', dial_timeout: '10s' }));
  for (let i = 0; i < indexes; i++) {
    const sub = i % 2 ? join(ctx.src, 'META-INF/statedb/couchdb/indexes') : join(ctx.src, `META-INF/statedb/couchdb/collections/c${i % 7}/indexes`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `ix${i}.json`), JSON.stringify({ index: { fields: ['owner'] }, ddoc: `d${i}`.padEnd(pad, 'x'), name: `n${i}`, type: 'json' }));
  }
  writePeerMetadata(ctx, '{"type":"ccaas","label":"faults"}');
  return ctx;
}

/** Every file below `d` with its content, for comparing outputs. */
function contents(d: string): Record<string, string> {
  return Object.fromEntries(listFiles(d).map((f) => [f, readFileSync(join(d, f), 'utf8')]));
}

function runSync(phase: string, args: string[]): { code: number | null; stderr: string } {
  const r = spawnSync(join(REPO, 'bin', phase), args, { env, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  return { code: r.status, stderr: r.stderr };
}

test('build killed at random points: release either refuses the output or releases exactly the full build', { timeout: 300_000 }, async () => {
  const ref = servicePackage('ref:1', 120);
  const started = Date.now();
  assert.equal(runSync('build', [ref.src, ref.metadata, ref.bld]).code, 0);
  const took = Date.now() - started;
  assert.equal(runSync('release', [ref.bld, ref.release]).code, 0);
  const fullBuild = contents(ref.bld);
  const fullRelease = contents(ref.release);

  // Kill times spread over the whole run, from exec to past the end, from the fixed seed.
  const delays = fc.sample(fc.integer({ min: 0, max: Math.round(took * 1.2) }), { seed: SEED, numRuns: 16 });
  const outcomes = new Set<string>();
  for (const [i, delay] of delays.entries()) {
    const ctx = servicePackage(`kill:${i}`, 120);
    const child = spawn(join(REPO, 'bin', 'build'), [ctx.src, ctx.metadata, ctx.bld], { env, cwd: dir, stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), delay);
    const [code] = await new Promise<[number | null]>((res) => child.on('close', (c) => res([c])));
    clearTimeout(timer);
    if (code === 0) {
      outcomes.add('finished');
      assert.deepEqual(contents(ctx.bld), fullBuild);
      continue;
    }
    outcomes.add('killed');
    const top = readdirSync(ctx.bld);
    if (top.includes('build.json')) {
      // build.json is renamed into place last: with it, everything else is there.
      outcomes.add('killed after build.json');
      assert.deepEqual(contents(ctx.bld), fullBuild);
    }
    const r = runSync('release', [ctx.bld, ctx.release]);
    if (r.code === 0) assert.deepEqual(contents(ctx.release), fullRelease, `kill after ${delay} ms: release took a partial build`);
    else {
      assert.equal(r.code, 1);
      assert.match(assertErrorLine(r.stderr, 'release'), /^BUILD_OUTPUT_/);
      assert.deepEqual(readdirSync(ctx.release), []);
    }
    // The peer retries in a fresh directory, but a rerun into the same one must work too.
    assert.equal(runSync('build', [ctx.src, ctx.metadata, ctx.bld]).code, 0);
    rmSync(ctx.root, { recursive: true, force: true });
  }
  assert.ok(outcomes.has('killed'), `outcomes: ${[...outcomes]}`);
});

/** Processes whose command line holds `token`. */
function processesWith(token: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(token)) found.push(`${pid}: ${cmd}`);
    } catch { /* gone */ }
  }
  return found;
}

/**
 * Starts `<runBin> BLD RUNDIR` for a chaincode that sleeps for $CC_TOKEN seconds (`upCount` processes
 * once it is up), signals it, and asserts no process with the token outlives it. Even kills land at a
 * seeded delay after the spawn, wherever the start-up then is (on a busy host, mostly before the
 * chaincode); odd kills wait until the chaincode's processes are there (from /proc, however long the
 * start takes) and land a seeded delay after that. Returns how often the chaincode was running when the
 * signal came.
 */
async function killRuns(runBin: string, bld: string, label: string, upCount: number): Promise<number> {
  const plan = fc.sample(fc.tuple(fc.constantFrom<NodeJS.Signals>('SIGTERM', 'SIGKILL'), fc.integer({ min: 0, max: 400 })), { seed: SEED, numRuns: 8 });
  let running = 0;
  for (const [i, [signal, delay]] of plan.entries()) {
    const afterStart = i % 2 === 1;
    const token = `3600.${process.pid}${label.length}${i}7`;
    const runDir = runMetadata(`rundir-${label}-${i}`);
    const child = spawn(runBin, [bld, runDir], { env: { ...env, CC_TOKEN: token }, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    let exited = false;
    const closed = new Promise<void>((res) => child.on('close', () => { exited = true; res(); }));
    if (afterStart) {
      while (processesWith(token).length < upCount) {
        assert.ok(!exited, `${label}: run exited before the chaincode was up:\n${stderr}`);
        await new Promise((res) => setTimeout(res, 20));
      }
    }
    await new Promise((res) => setTimeout(res, delay));
    if (processesWith(token).length) running++;
    child.kill(signal);
    await closed;
    await assertNoneLeft(token, `${label}: ${signal} ${delay} ms after ${afterStart ? 'the chaincode was up' : 'the spawn'} left processes behind`);
  }
  return running;
}

/** The peer waits 5 s after SIGTERM before SIGKILL; allows that and a little more for the watchdog. */
async function assertNoneLeft(token: string, message: string): Promise<void> {
  let left = processesWith(token);
  for (let waited = 0; left.length && waited < 7000; waited += 100) {
    await new Promise((res) => setTimeout(res, 100));
    left = processesWith(token);
  }
  for (const p of left) process.kill(Number(p.split(':')[0]), 'SIGKILL');
  assert.deepEqual(left, [], message);
}

/** A chaincode.json for a run that never reaches a peer (these chaincodes only sleep). */
function runMetadata(name: string): string {
  const runDir = join(dir, name);
  mkdirSync(runDir, { mode: 0o700 });
  writeFileSync(join(runDir, 'chaincode.json'), JSON.stringify({ chaincode_id: 'run:1', peer_address: '127.0.0.1:7052', client_cert: '', client_key: '', root_cert: '', mspid: 'Org1MSP' }));
  return runDir;
}

/** A launch-mode build of a chaincode script; undefined when this build has no launch mode. */
function launchBuild(id: string, script: string): BuildContext | undefined {
  const ctx = createBuildContext(dir, id);
  writeFileSync(join(ctx.src, 'launch.json'), JSON.stringify({ command: './cc.sh' }));
  writeFileSync(join(ctx.src, 'cc.sh'), script, { mode: 0o755 });
  writePeerMetadata(ctx, '{"type":"ccaas","label":"run"}');
  return runSync('build', [ctx.src, ctx.metadata, ctx.bld]).code === 0 ? ctx : undefined;
}

test('run under SIGTERM or SIGKILL at random points leaves no process behind', { timeout: 300_000 }, async (t) => {
  // The chaincode and a child of its own, found by their command lines (sleep with a unique duration).
  const ctx = launchBuild('run:1', '#!/bin/sh\nsleep "$CC_TOKEN" &\nexec sleep "$CC_TOKEN"\n');
  if (!ctx) { t.skip('launch mode is not in this build'); return; }
  const running = await killRuns(join(REPO, 'bin', 'run'), ctx.bld, 'node', 2);
  assert.ok(running >= 4, `the chaincode was running at only ${running} of the kills`);
});

test('run SIGKILLed the moment it forks the chaincode leaves no process behind', { timeout: 300_000 }, async (t) => {
  // The supervisor's narrowest window: the chaincode's process exists but spawn has not yet returned its
  // PID to run, so the watchdog cannot know its group. Run's children are watched from /proc, and the
  // kill lands as soon as the second one (after the watchdog) appears, however long run takes to get there.
  const ctx = launchBuild('run:3', '#!/bin/sh\nsleep "$CC_TOKEN" &\nexec sleep "$CC_TOKEN"\n');
  if (!ctx) { t.skip('launch mode is not in this build'); return; }
  if (!existsSync(`/proc/${process.pid}/task/${process.pid}/children`)) { t.skip('this kernel has no /proc/PID/task/TID/children'); return; }
  for (let i = 0; i < 5; i++) {
    const token = `3600.${process.pid}${i}3`;
    const child = spawn(join(REPO, 'bin', 'run'), [ctx.bld, runMetadata(`rundir-fork-${i}`)], {
      env: { ...env, CC_TOKEN: token, EXTBUILDER_RUN_NO_EXECVE: '1' }, cwd: dir, stdio: ['ignore', 'ignore', 'ignore'],
    });
    const closed = new Promise<void>((res) => child.on('close', () => res()));
    const children = `/proc/${child.pid}/task/${child.pid}/children`;
    let seen = 0;
    for (const end = Date.now() + 50_000; seen < 2 && Date.now() < end;) {
      try { seen = readFileSync(children, 'utf8').split(' ').filter(Boolean).length; } catch { /* not yet, or no such file */ }
    }
    child.kill('SIGKILL');
    await closed;
    assert.equal(seen, 2, 'run started the watchdog and the chaincode');
    await assertNoneLeft(token, `kill ${i}: the chaincode outlived run`);
  }
});

test('run by the standalone binary under SIGTERM or SIGKILL leaves no process behind', { timeout: 300_000 }, async (t) => {
  const sea = join(REPO, 'dist-binaries', 'linux-x64-glibc', 'bin', 'run');
  if (!existsSync(sea)) { t.skip('no standalone binary (npm run binaries makes it)'); return; }
  // Here run becomes the chaincode (execve), so the peer's signal reaches it directly; a chaincode's own
  // background children are its business, as under any exec-style launcher, so this one has none.
  const ctx = launchBuild('run:2', '#!/bin/sh\nexec sleep "$CC_TOKEN"\n');
  if (!ctx) { t.skip('launch mode is not in this build'); return; }
  const running = await killRuns(sea, ctx.bld, 'standalone', 1);
  assert.ok(running >= 4, `the chaincode was running at only ${running} of the kills`);
});

/** Mounts a tmpfs of `size` on a new directory; undefined when this sandbox does not allow it. */
function smallDisk(size: string): string | undefined {
  const mnt = join(dir, `disk-${Date.now()}`);
  mkdirSync(mnt);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', mnt], { stdio: 'ignore' });
  return r.status === 0 ? mnt : undefined;
}

function unmount(mnt: string): void {
  spawnSync('umount', [mnt], { stdio: 'ignore' });
}

test('full disk: build fails with one OUTPUT_WRITE line, leaves the output dir empty and frees the space', { timeout: 120_000 }, async (t) => {
  const mnt = smallDisk('64k');
  if (!mnt) { t.skip('cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)'); return; }
  try {
    const free = statfsSync(mnt).bfree;
    // About 120 KiB of index files: twice what the disk holds.
    const ctx = servicePackage('full:1', 30, 4000);
    const bld = join(mnt, 'bld');
    mkdirSync(bld, { mode: 0o700 });
    const r = await invokePhase(REPO, 'build', [ctx.src, ctx.metadata, bld], { env, cwd: dir, timeoutMs: 60_000 });
    assert.equal(r.code, 1);
    assert.equal(assertErrorLine(r.lines.join('\n'), 'build'), 'OUTPUT_WRITE');
    assert.match(r.lines.join('\n'), /ENOSPC.*free disk space/);
    assert.deepEqual(readdirSync(bld), []);
    assert.equal(statfsSync(mnt).bfree, free, 'the partial output is removed');

    // Launch mode copies the whole tree: the same, where launch mode is in this build.
    const launch = createBuildContext(dir, 'full:2');
    writeFileSync(join(launch.src, 'launch.json'), '{"command":"node","args":["main.js"]}');
    for (let i = 0; i < 40; i++) writeFileSync(join(launch.src, `f${i}.js`), 'x'.repeat(4000));
    writePeerMetadata(launch, '{"type":"ccaas","label":"full"}');
    const probe = runSync('build', [launch.src, launch.metadata, launch.bld]);
    if (probe.code === 0) {
      const bld2 = join(mnt, 'bld2');
      mkdirSync(bld2, { mode: 0o700 });
      const l = await invokePhase(REPO, 'build', [launch.src, launch.metadata, bld2], { env, cwd: dir, timeoutMs: 60_000 });
      assert.equal(l.code, 1);
      assert.equal(assertErrorLine(l.lines.join('\n'), 'build'), 'OUTPUT_WRITE');
      assert.deepEqual(readdirSync(bld2), []);
      assert.equal(statfsSync(mnt).bfree, free);
    }
  } finally {
    unmount(mnt);
  }
  assert.ok(!existsSync(join(mnt, 'bld')), 'unmounted');
});

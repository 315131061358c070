// extbuilder simulate in launch mode: the peer's listener with a fresh CA, chaincode.json, run started as
// the peer starts it, a real fabric-shim chaincode (client mode) registering with and without TLS, the
// stop with SIGTERM; and a run whose chaincode dies before it registers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_CONTRACT } from '../scripts/demo.js';
import { EXTBUILDER, REPO, runCli, tempDir } from './helpers/repo.js';

const CONFIG = JSON.stringify({ template: { node_path: join(REPO, 'node_modules') } });

const cli = runCli;

let dir: string;
let good: string;
let dying: string;
let wrongId: string;

before(async () => {
  dir = tempDir('extbuilder-simulate-launch-');
  good = join(dir, 'launch.tar.gz');
  const tree = join(dir, 'dying');
  cpSync(DEMO_CONTRACT, tree, { recursive: true });
  writeFileSync(join(tree, 'launch.json'), JSON.stringify({ command: 'node', args: ['-e', 'console.error("chaincode: cannot start"); process.exit(3)'] }));
  dying = join(dir, 'dying.tar.gz');
  // A launch.json with a hard-coded chaincode ID instead of {{.chaincode_id}}.
  const stale = join(dir, 'stale');
  cpSync(DEMO_CONTRACT, stale, { recursive: true });
  const launch = JSON.parse(readFileSync(join(stale, 'launch.json'), 'utf8')) as { args: string[] };
  launch.args = launch.args.map((a) => (a === '{{.chaincode_id}}' ? 'putget_0.9:0000' : a));
  writeFileSync(join(stale, 'launch.json'), JSON.stringify(launch));
  wrongId = join(dir, 'stale.tar.gz');
  for (const [out, from] of [[good, DEMO_CONTRACT], [dying, tree], [wrongId, stale]] as const) {
    const r = await cli(['package', '--label', 'putget_1.0', '--launch', from, '-o', out]);
    assert.equal(r.code, 0, r.stderr);
  }
});

after(() => rmSync(dir, { recursive: true, force: true }));

for (const tls of [true, false]) {
  test(`launch mode ${tls ? 'with' : 'without'} TLS: run starts the chaincode, it registers, put/get round-trips, run is stopped with SIGTERM`, async () => {
    const r = await cli(['simulate', good, '--propagate', 'EXTBUILDER_CONFIG', ...(tls ? [] : ['--no-peer-tls']), '--json', '--invoke', 'put', 'k', 'launched', '--invoke', 'get', 'k'], { EXTBUILDER_CONFIG: CONFIG });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as { mode: string; packageId: string; steps: { name: string; verdict: string; summary: string; details: string[] }[] };
    assert.equal(report.mode, 'launch');
    assert.deepEqual(report.steps.map((s) => s.name), ['package', 'extract', 'detect', 'build', 'release', 'persist', 'read', 'launch', 'invoke', 'invoke', 'stop']);
    const launch = report.steps.find((s) => s.name === 'launch')!;
    assert.ok(launch.summary.includes(`REGISTER as ${report.packageId}`), launch.summary);
    assert.ok(launch.details.some((d) => d.includes(tls ? '(TLS, a fresh CA)' : '(no TLS)')), launch.details.join('\n'));
    assert.ok(launch.details.some((d) => /^\[chaincode\.externalbuilder\.extbuilder\] waitForExit -> .* command=run$/.test(d)), 'run\'s stderr appears as the peer logs it');
    assert.match(report.steps[9]!.summary, /get -> 200 "launched"/);
    assert.match(report.steps[10]!.summary, /run exited \d+ ms after SIGTERM/);
    assert.equal(report.steps[10]!.verdict, 'ok');
  });
}

test('a chaincode that exits before registering: the launch fails with the peer\'s "container exited" and run\'s stderr', async () => {
  const r = await cli(['simulate', dying, '--propagate', 'EXTBUILDER_CONFIG'], { EXTBUILDER_CONFIG: CONFIG });
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /SIM_LAUNCH: run exited \(3\) before the chaincode registered; the peer: "container exited with 3"/);
  assert.match(r.stdout, /waitForExit -> chaincode: cannot start command=run/);
});

test('a launch-mode package on a builder without bin/run: the peer cannot start it, and simulate says so', async () => {
  const b = tempDir('extbuilder-norun-');
  try {
    mkdirSync(join(b, 'bin'));
    for (const p of ['detect', 'build', 'release']) symlinkSync(EXTBUILDER, join(b, 'bin', p));
    const r = await cli(['simulate', good, '--builder', b, '--propagate', 'EXTBUILDER_CONFIG'], { EXTBUILDER_CONFIG: CONFIG });
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /SIM_PHASE_EXEC: the peer cannot execute .*bin\/run \(ENOENT\): bin\/run is missing/);
  } finally {
    rmSync(b, { recursive: true, force: true });
  }
});

test('a chaincode that registers with another ID than the package ID is refused, and run is stopped', async () => {
  const r = await cli(['simulate', wrongId, '--propagate', 'EXTBUILDER_CONFIG'], { EXTBUILDER_CONFIG: CONFIG });
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /REGISTER_WRONG_ID: the chaincode registered as "putget_0\.9:0000", not as the package ID "putget_1\.0:[0-9a-f]{64}"/);
  assert.match(r.stdout, /\[\d+\]\s+stop\s+ok .*run exited \d+ ms after SIGTERM/);
});

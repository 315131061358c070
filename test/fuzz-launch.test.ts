// Property-based fuzzing, in process, of launch mode's inputs: launch.json (with the tree it points
// into) and chaincode.json as run reads them. Invariants: a plan or a coded error; run writes nothing
// into BUILD_OUTPUT_DIR, and only 0700/0600 TLS files into RUN_METADATA_DIR, none when it fails.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { build } from '../src/builder/build.js';
import { readLaunch } from '../src/builder/launch.js';
import { prepareLaunch } from '../src/builder/run.js';
import { memoryLogger } from '../src/core/log.js';
import { assertCoded, assertUnchanged, fuzzOptions, PEM, snapshot, makeTestPem } from './helpers/fuzz.js';
import { tempDir } from './helpers/repo.js';

let dir: string;
let caseNo = 0;
const pem: Record<string, string> = {};

before(async () => {
  dir = tempDir('extbuilder-fuzz-launch-');
  Object.assign(pem, await makeTestPem('fuzz CA', 'peer0'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const scalar = fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.boolean(), fc.constant(null),
  fc.constantFrom('{{.chaincode_id}}', '{{.peer_address}}', '{{.mspid}}', '{{.nope}}', '{{', '../..', '/bin/sh', 'bin/cc', './bin/cc', '.', 'bin', 'true', 'sh'));
const strings = fc.array(fc.oneof(fc.constantFrom('--peer.address', '{{.peer_address}}', '{{.chaincode_id}}', '{{ .mspid }}', '{{.x}}'), fc.string({ maxLength: 8 })), { maxLength: 4 });

const launchJson = fc.oneof(
  { weight: 4, arbitrary: fc.record({
    command: fc.oneof(fc.constantFrom('./bin/cc', 'bin/cc', 'true', '/bin/true', 'sh', '../cc', 'bin', 'missing/cc'), scalar),
    args: fc.oneof(strings, scalar),
    env: fc.oneof(fc.dictionary(fc.constantFrom('A', 'PATH', 'CORE_PEER_ADDRESS'), fc.oneof(fc.constantFrom('{{.mspid}}', '/usr/bin:/bin'), fc.string({ maxLength: 8 }))), scalar),
    workdir: fc.oneof(fc.constantFrom('.', 'bin', '..', '/', 'nope', 'bin/..'), scalar),
    extra: scalar,
  }, { requiredKeys: ['command'] }).map((l) => JSON.stringify(l)) },
  { weight: 1, arbitrary: fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.string({ maxLength: 40 })) },
);

/** A source tree for launch mode: launch.json and bin/cc, executable or not. */
function tree(launch: string | Uint8Array, exec: boolean): string {
  const src = join(dir, `src-${caseNo++}`);
  mkdirSync(join(src, 'bin'), { recursive: true });
  writeFileSync(join(src, 'launch.json'), launch);
  writeFileSync(join(src, 'bin', 'cc'), '#!/bin/sh\n', { mode: exec ? 0o755 : 0o644 });
  return src;
}

test('launch.json: any text and tree give a launch plan or a coded error', () => {
  const seen = new Set<string>();
  fc.assert(fc.property(launchJson, fc.boolean(), (launch, exec) => {
    try {
      const plan = readLaunch(tree(launch, exec), memoryLogger('build'));
      assert.ok(!plan.workdir.startsWith('..') && !plan.workdir.startsWith('/'), plan.workdir);
      seen.add('ok');
    } catch (err) {
      assertCoded(err);
      seen.add(err.code);
    }
  }), fuzzOptions(400));
  assert.ok(seen.has('ok') && seen.size >= 6, `outcomes: ${[...seen]}`);
});

test('run: fuzzed chaincode.json and launch.json give a command or a coded error; TLS files only on success, 0600', { timeout: 120_000 }, async () => {
  const pemField = fc.constantFrom(pem.ca!, pem.cert!, pem.key!, pem.other!, '', 'junk', pem.key!.slice(0, 80));
  const chaincodeJson = fc.oneof(
    { weight: 4, arbitrary: fc.record({
      chaincode_id: fc.oneof(fc.constant('cc:1'), scalar), peer_address: fc.oneof(fc.constant('peer0:7052'), scalar), mspid: fc.oneof(fc.constant('Org1MSP'), scalar),
      client_cert: fc.oneof(fc.constant(''), fc.constant(pem.cert!), pemField), client_key: fc.oneof(fc.constant(''), fc.constant(pem.key!), pemField),
      root_cert: fc.oneof(fc.constant(''), fc.constant(pem.ca!), pemField),
    }).map((c) => JSON.stringify(c)) },
    { weight: 4, arbitrary: fc.constantFrom(true, false).map((tls) => JSON.stringify({ chaincode_id: 'cc:1', peer_address: 'peer0:7052', mspid: 'Org1MSP', client_cert: tls ? pem.cert : '', client_key: tls ? pem.key : '', root_cert: tls ? pem.ca : '' })) },
    { weight: 1, arbitrary: fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.string({ maxLength: 40 })) },
  );
  const seen = new Set<string>();
  // Mostly launch.json files that build, with placeholders run must render.
  const runnable = fc.record({
    command: fc.constantFrom('./bin/cc', 'true', '/bin/true', 'no-such-program'),
    args: strings,
    env: fc.dictionary(fc.constantFrom('A', 'B'), fc.constantFrom('{{.mspid}}', '{{.x}}', '{{.nope}}', 'v')),
  }).map((l) => JSON.stringify(l));
  await fc.assert(fc.asyncProperty(fc.oneof({ weight: 3, arbitrary: runnable }, { weight: 1, arbitrary: launchJson }), chaincodeJson, async (launch, cc) => {
    const src = tree(launch, true);
    const md = join(dir, `md-${caseNo}`);
    const bld = join(dir, `bld-${caseNo}`);
    const runDir = join(dir, `run-${caseNo++}`);
    for (const d of [md, bld, runDir]) mkdirSync(d, { mode: 0o700 });
    writeFileSync(join(md, 'metadata.json'), '{"type":"ccaas","label":"l"}');
    const config = { types: ['ccaas'], template: { x: 'from-config' }, tls: {}, sources: [] };
    try {
      await build({ sourceDir: src, metadataDir: md, outputDir: bld, config, log: memoryLogger('build') });
    } catch (err) {
      assertCoded(err);
      return; // launch.json itself is covered above; run needs a build.
    }
    writeFileSync(join(runDir, 'chaincode.json'), cc);
    const bldBefore = snapshot(bld);
    const log = memoryLogger('run');
    let cmd;
    try {
      cmd = prepareLaunch({ buildDir: bld, runDir, env: { PATH: process.env.PATH }, config, log });
    } catch (err) {
      assertCoded(err, 'run');
      seen.add(err.code);
      assert.deepEqual(readdirSync(runDir), ['chaincode.json'], 'no TLS files after a failure');
    }
    if (cmd) {
      seen.add(cmd.tls ? 'tls' : 'plain');
      for (const v of [...cmd.args, ...Object.values(cmd.env)]) assert.doesNotMatch(v, PEM);
      if (cmd.tlsDir) {
        assert.equal(statSync(cmd.tlsDir).mode & 0o077, 0, 'TLS dir 0700');
        // Key files (PEM and the base64 form the Node and Java shims read) are the owner's only.
        for (const f of readdirSync(cmd.tlsDir).filter((n) => /key/i.test(n))) assert.equal(statSync(join(cmd.tlsDir, f)).mode & 0o077, 0, `${f} is 0600`);
      }
    }
    assertUnchanged(bldBefore, snapshot(bld), []);
    for (const line of log.lines) assert.doesNotMatch(line, PEM);
  }), fuzzOptions(250));
  assert.ok(seen.has('tls') && seen.has('plain') && seen.size >= 5, `outcomes: ${[...seen]}`);
});

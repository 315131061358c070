// Property-based fuzzing through the real program, run as the peer runs it (bin/<phase>, pruned
// environment, 0700 scratch dirs, stdout dropped): fewer cases than the in-process fuzzers, asserting
// what the peer log shows: exit 0 or 1, one `extbuilder <phase>: CODE: ...` line, no stack trace, no PEM,
// and an empty output directory after a failure.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { createBuildContext, invokePhase, peerEnvironment, writePeerMetadata } from '../src/peer/invoke.js';
import { assertErrorLine, fuzzOptions, PEM, STACK_FRAME, makeTestPem } from './helpers/fuzz.js';
import { REPO, tempDir } from './helpers/repo.js';

let dir: string;
let env: Record<string, string>;
const pem: Record<string, string> = {};

before(async () => {
  dir = tempDir('extbuilder-fuzz-phases-');
  Object.assign(pem, await makeTestPem('fuzz CA', 'client'));
  writeFileSync(join(dir, 'client.key'), pem.key!, { mode: 0o600 });
  env = peerEnvironment({ ...process.env, EXTBUILDER_CONFIG: JSON.stringify({ template: { addr: 'cc:9999' }, tls: { client_key_file: join(dir, 'client.key') } }) }, ['EXTBUILDER_CONFIG']);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const scalar = fc.oneof(fc.string({ maxLength: 12 }), fc.boolean(), fc.integer(), fc.constant(null), fc.constantFrom('{{.addr}}', '{{.nope}}', '{{', '10s', 'cc:0', 'cc:9999'));
const anyPem = () => fc.constantFrom(pem.ca!, pem.cert!, pem.key!, pem.other!, '', 'junk');

/** connection.json text: a valid mutual-TLS connection with fields changed, or broken JSON. */
function connectionText(): fc.Arbitrary<string | Uint8Array> {
  const conn = fc.record({
    address: fc.oneof(fc.constant('cc.example.com:9999'), scalar),
    dial_timeout: fc.oneof(fc.constant('10s'), scalar),
    tls_required: fc.oneof(fc.constant(true), scalar),
    client_auth_required: fc.oneof(fc.constant(true), scalar),
    root_cert: fc.oneof(fc.constant(pem.ca!), anyPem()),
    client_cert: fc.oneof(fc.constant(pem.cert!), anyPem()),
    client_key: fc.oneof(fc.constant(''), anyPem()),
    tls_requried: scalar,
  }, { requiredKeys: ['address'] });
  return fc.oneof(
    { weight: 4, arbitrary: conn.map((c) => JSON.stringify(c)) },
    { weight: 1, arbitrary: fc.tuple(conn, fc.nat()).map(([c, n]) => JSON.stringify(c).slice(0, n % 300)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 100 }) },
  );
}

let n = 0;

test('build through the real program: exit 0 with output, or exit 1 with one coded line and an empty output dir', { timeout: 300_000 }, async () => {
  const seen = new Set<string>();
  await fc.assert(fc.asyncProperty(connectionText(), async (text) => {
    const ctx = createBuildContext(dir, `fuzz:${n++}`);
    writeFileSync(join(ctx.src, 'connection.json'), text);
    writePeerMetadata(ctx, '{"type":"ccaas","label":"fuzz"}');
    const r = await invokePhase(REPO, 'build', [ctx.src, ctx.metadata, ctx.bld], { env, cwd: dir, timeoutMs: 60_000 });
    const stderr = r.lines.join('\n');
    assert.equal(r.signal, null);
    assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}`);
    assert.doesNotMatch(stderr, PEM);
    assert.doesNotMatch(stderr, STACK_FRAME);
    if (r.code === 1) {
      seen.add(assertErrorLine(stderr, 'build'));
      assert.deepEqual(readdirSync(ctx.bld), []);
    } else {
      seen.add('ok');
      assert.ok(readdirSync(ctx.bld).includes('build.json'));
      assert.ok(r.lines.every((l) => l.startsWith('extbuilder build: ')), stderr);
    }
    rmSync(ctx.root, { recursive: true, force: true });
  }), fuzzOptions(40));
  assert.ok(seen.has('ok') && seen.size >= 5, `outcomes: ${[...seen]}`);
});

test('detect through the real program: silent exit 0/1 for well-formed metadata, one coded line otherwise', { timeout: 300_000 }, async () => {
  const metadata = fc.oneof(
    fc.record({ type: fc.oneof(fc.constantFrom('ccaas', 'EXTERNAL', 'golang', 'node', ''), scalar), label: fc.oneof(fc.constant('fuzz_1.0'), scalar) }, { requiredKeys: [] }).map((m) => JSON.stringify(m)),
    fc.uint8Array({ maxLength: 60 }),
    fc.string({ maxLength: 30 }),
  );
  const seen = new Set<string>();
  await fc.assert(fc.asyncProperty(metadata, async (text) => {
    const ctx = createBuildContext(dir, `fuzz:${n++}`);
    writePeerMetadata(ctx, text);
    const r = await invokePhase(REPO, 'detect', [ctx.src, ctx.metadata], { env, cwd: dir, timeoutMs: 60_000 });
    assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}`);
    if (r.lines.length) seen.add(assertErrorLine(r.lines.join('\n'), 'detect'));
    else seen.add(`exit ${r.code}`);
    if (r.lines.length) assert.equal(r.code, 1);
    rmSync(ctx.root, { recursive: true, force: true });
  }), fuzzOptions(25));
  assert.ok(seen.has('exit 0') && seen.has('exit 1') && seen.size >= 3, `outcomes: ${[...seen]}`);
});

test('release through the real program: a tampered BUILD_OUTPUT_DIR gives one coded line and no release output', { timeout: 300_000 }, async () => {
  const built = fc.oneof(
    fc.record({ builder: fc.constant('fabric-extbuilder'), format: fc.oneof(fc.constant(1), scalar), version: fc.constant('0.1.0'),
      mode: fc.oneof(fc.constantFrom('service', 'launch'), scalar), indexes: fc.oneof(fc.constant([]), fc.array(scalar, { maxLength: 2 })) }, { requiredKeys: ['builder'] }).map((b) => JSON.stringify(b)),
    fc.uint8Array({ maxLength: 60 }),
  );
  const seen = new Set<string>();
  await fc.assert(fc.asyncProperty(built, fc.boolean(), async (text, withConnection) => {
    const ctx = createBuildContext(dir, `fuzz:${n++}`);
    writeFileSync(join(ctx.bld, 'build.json'), text);
    if (withConnection) writeFileSync(join(ctx.bld, 'connection.json'), '{"address":"cc:9999"}');
    mkdirSync(join(ctx.bld, 'statedb'));
    const r = await invokePhase(REPO, 'release', [ctx.bld, ctx.release], { env, cwd: dir, timeoutMs: 60_000 });
    assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}`);
    if (r.code === 1) {
      seen.add(assertErrorLine(r.lines.join('\n'), 'release'));
      assert.deepEqual(readdirSync(ctx.release), []);
    } else {
      seen.add('ok');
    }
    rmSync(ctx.root, { recursive: true, force: true });
  }), fuzzOptions(20));
  assert.ok(seen.size >= 2, `outcomes: ${[...seen]}`);
});

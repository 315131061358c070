// detect, build and release in service mode, run as child processes the way the peer runs them,
// over the cases in fixtures/service/cases (one per claimed type, TLS mode, template form and error code).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createBuildContext, invokePhase, peerEnvironment, stageSourceDir, writePeerMetadata } from '../src/peer/invoke.js';
import { ERROR_CODES, WARNING_CODES } from '../src/core/codes.js';
import { FIXTURES, REPO, listFiles, makeBuilderDir, tempDir } from './helpers/repo.js';
import { loadServiceCases, makeCasePki, type CasePki } from './helpers/service-cases.js';

const PACKAGE_ID = 'basic_1.0:4844d431f1730dbe5f633ec3dbcc02debe09925731a37942eb65bd19150b9ff1';
let pki: CasePki;
let pem: Record<string, string>;
let peerCwd: string;

before(async () => {
  pki = await makeCasePki();
  pem = pki.pem;
  peerCwd = tempDir('extbuilder-peer-cwd-');
});

const fill = (value: unknown): unknown => pki.fill(value);

function codeOf(line: string | undefined, phase: string): string | undefined {
  return new RegExp(`^extbuilder ${phase}: ([A-Z_]+): `).exec(line ?? '')?.[1];
}

function assertNoSecrets(lines: string[]): void {
  for (const line of lines) {
    assert.doesNotMatch(line, /-----BEGIN|PRIVATE KEY-----|MII[A-Za-z0-9+/]{20}/, `key or certificate material on stderr: ${line.slice(0, 120)}`);
    assert.ok(line.length < 1000, 'stderr line over 1000 characters');
    assert.doesNotMatch(line, /^\s+at /, 'stack trace on stderr');
  }
}

for (const c of loadServiceCases()) {
  test(`${c.name}: ${c.description}`, async (t) => {
    let builderDir = REPO;
    if (c.configFile) {
      builderDir = makeBuilderDir();
      mkdirSync(join(builderDir, 'tls'));
      writeFileSync(join(builderDir, 'tls', 'ca.crt'), pem['ca.crt']!);
      writeFileSync(join(builderDir, 'config.json'), JSON.stringify(c.configFile));
    }
    const tmp = tempDir('extbuilder-peer-tmp-');
    const ctx = createBuildContext(tmp, PACKAGE_ID);
    writePeerMetadata(ctx, c.metadataRaw ?? JSON.stringify(c.metadata));
    if (c.tree) stageSourceDir(join(FIXTURES, 'service', 'trees', c.tree), ctx.src);
    if (c.connection || c.connectionRaw) {
      writeFileSync(join(ctx.src, 'connection.json'), c.connectionRaw ?? JSON.stringify(fill(c.connection), null, 2));
    }
    const from: Record<string, string | undefined> = { PATH: process.env.PATH, TMPDIR: tmp, HOME: '/root', CORE_PEER_ID: 'peer0' };
    if (c.config || c.configRaw) from.EXTBUILDER_CONFIG = c.configRaw ?? JSON.stringify(fill(c.config));
    if (c.ccaasConfig !== undefined) from.CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG = JSON.stringify(c.ccaasConfig);
    const env = peerEnvironment(from, ['EXTBUILDER_CONFIG', 'CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG']);
    assert.equal(env.HOME, undefined, 'the stand-in must prune the environment');

    const detect = await invokePhase(builderDir, 'detect', [ctx.src, ctx.metadata], { env, cwd: peerCwd });
    assert.equal(detect.code, c.expect.detect, `detect exit code; stderr: ${detect.lines.join(' | ')}`);
    assertNoSecrets(detect.lines);
    if (c.expect.detectStderr !== undefined) assert.equal(detect.lines.join('\n'), c.expect.detectStderr);
    if (c.expect.detectCode) {
      assert.equal(detect.lines.length, 1, `one line: ${detect.lines.join(' | ')}`);
      assert.equal(codeOf(detect.lines[0], 'detect'), c.expect.detectCode, detect.lines[0]);
    }
    if (c.expect.detect !== 0) return;

    const build = await invokePhase(builderDir, 'build', [ctx.src, ctx.metadata, ctx.bld], { env, cwd: peerCwd });
    assertNoSecrets(build.lines);
    if (c.expect.build !== 'ok') {
      assert.equal(build.code, 1, `build must fail; stderr: ${build.lines.join(' | ')}`);
      assert.equal(build.lines.length, 1, `one stderr line: ${build.lines.join(' | ')}`);
      assert.equal(codeOf(build.lines[0], 'build'), c.expect.build, build.lines[0]);
      assert.ok(c.expect.build! in ERROR_CODES, `${c.expect.build} is a registered code`);
      if (c.expect.stderrIncludes) assert.ok(build.lines[0]!.includes(c.expect.stderrIncludes), build.lines[0]);
      t.diagnostic(build.lines[0]!);
      assert.deepEqual(readdirSync(ctx.bld), [], 'BUILD_OUTPUT_DIR must hold nothing after a failed build');
      return;
    }
    assert.equal(build.code, 0, `build must succeed; stderr: ${build.lines.join(' | ')}`);
    const summary = build.lines.at(-1)!;
    assert.match(summary, /^extbuilder build: service /);
    if (c.expect.summary) assert.equal(summary, `extbuilder build: ${c.expect.summary}`);
    const warned = build.lines.map((l) => /^extbuilder build: warning: ([A-Z_]+):/.exec(l)?.[1]).filter(Boolean);
    if (c.expect.warnings) assert.deepEqual(warned, c.expect.warnings);
    for (const w of warned) assert.ok(w! in WARNING_CODES);

    const built = JSON.parse(readFileSync(join(ctx.bld, 'connection.json'), 'utf8')) as Record<string, unknown>;
    for (const [k, v] of Object.entries(fill(c.expect.connection ?? {}) as object)) assert.deepEqual(built[k], v, `connection.json ${k}`);
    const mode = (statSync(join(ctx.bld, 'connection.json')).mode & 0o777).toString(8).padStart(4, '0');
    assert.equal(mode, c.expect.mode ?? (built.client_key ? '0600' : '0644'));
    assert.deepEqual(readFileSync(join(ctx.bld, 'metadata.json')), readFileSync(join(ctx.metadata, 'metadata.json')), 'metadata.json copied verbatim');

    // release twice: the second run must give the same result (the peer may retry).
    for (let i = 0; i < 2; i++) {
      const release = await invokePhase(builderDir, 'release', [ctx.bld, ctx.release], { env, cwd: peerCwd });
      assert.equal(release.code, 0, `release: ${release.lines.join(' | ')}`);
      assertNoSecrets(release.lines);
    }
    const released = readFileSync(join(ctx.release, 'chaincode', 'server', 'connection.json'), 'utf8');
    assert.deepEqual(JSON.parse(released), built, 'release/chaincode/server/connection.json is the built one');
    assert.equal(statSync(join(ctx.release, 'chaincode', 'server', 'connection.json')).mode & 0o777, built.client_key ? 0o600 : 0o644);
    const files = listFiles(ctx.release);
    assert.deepEqual(files, ['chaincode/server/connection.json', ...(c.expect.released ?? [])].sort());
    for (const f of c.expect.released ?? []) {
      assert.deepEqual(readFileSync(join(ctx.release, f)), readFileSync(join(FIXTURES, 'service', 'trees', c.tree!, 'META-INF', f)));
    }
  });
}

test('wrong argument count: a usage line and exit 2', async () => {
  const env = peerEnvironment(process.env);
  const run = await invokePhase(REPO, 'build', ['/tmp'], { env });
  assert.equal(run.code, 2);
  assert.equal(run.lines.length, 1);
  assert.match(run.lines[0]!, /^extbuilder build: USAGE: .*build CHAINCODE_SOURCE_DIR CHAINCODE_METADATA_DIR BUILD_OUTPUT_DIR/);
});

test('nothing is written to stdout, which the peer discards', () => {
  const tmp = tempDir();
  const ctx = createBuildContext(tmp, PACKAGE_ID);
  writePeerMetadata(ctx, '{"type":"ccaas","label":"basic_1.0"}');
  writeFileSync(join(ctx.src, 'connection.json'), '{"address":"127.0.0.1:9999"}');
  for (const [phase, args] of [['detect', [ctx.src, ctx.metadata]], ['build', [ctx.src, ctx.metadata, ctx.bld]], ['release', [ctx.bld, ctx.release]]] as const) {
    const r = spawnSync(join(REPO, 'bin', phase), args, { env: peerEnvironment(process.env), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '', `${phase} wrote to stdout`);
  }
});

test('`extbuilder build ARGS` is the same phase, for debugging by hand', async () => {
  const tmp = tempDir();
  const ctx = createBuildContext(tmp, PACKAGE_ID);
  writePeerMetadata(ctx, '{"type":"ccaas","label":"basic_1.0"}');
  writeFileSync(join(ctx.src, 'connection.json'), '{"address":"127.0.0.1:9999","dial_timeout":"1s"}');
  const r = spawnSync(join(REPO, 'bin', 'extbuilder'), ['build', ctx.src, ctx.metadata, ctx.bld], { env: peerEnvironment(process.env), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(readFileSync(join(ctx.bld, 'connection.json'), 'utf8')).dial_timeout, '1s');
});

test('EXTBUILDER_DEBUG=1 adds detail, still without key material', async () => {
  const tmp = tempDir();
  const ctx = createBuildContext(tmp, PACKAGE_ID);
  writePeerMetadata(ctx, '{"type":"ccaas","label":"basic_1.0"}');
  writeFileSync(join(ctx.src, 'connection.json'), JSON.stringify({ address: 'localhost:9999', tls_required: true, client_auth_required: true, root_cert: pem['ca.crt'], client_cert: pem['client.crt'], client_key: pem['other.key'] }));
  const env = peerEnvironment({ ...process.env, EXTBUILDER_DEBUG: '1' }, ['EXTBUILDER_DEBUG']);
  const run = await invokePhase(REPO, 'build', [ctx.src, ctx.metadata, ctx.bld], { env });
  assert.equal(run.code, 1);
  assert.ok(run.lines.some((l) => l.includes('TLS_KEY_MISMATCH')));
  assert.ok(run.lines.some((l) => l.includes('debug:')), 'debug lines appear');
  assertNoSecrets(run.lines);
  assert.deepEqual(readdirSync(ctx.bld), []);
});

test('release of a directory extbuilder did not build fails with one line', async () => {
  const tmp = tempDir();
  const ctx = createBuildContext(tmp, PACKAGE_ID);
  writeFileSync(join(ctx.bld, 'connection.json'), '{}');
  const run = await invokePhase(REPO, 'release', [ctx.bld, ctx.release], { env: peerEnvironment(process.env) });
  assert.equal(run.code, 1);
  assert.equal(run.lines.length, 1);
  assert.equal(codeOf(run.lines[0], 'release'), 'BUILD_OUTPUT_MISSING');
  assert.deepEqual(readdirSync(ctx.release), []);
});

test('an unwritable output directory fails with OUTPUT_WRITE and one line', async (t) => {
  if (process.getuid?.() === 0) {
    // root ignores directory modes; a read-only bind is not available, so use a path under a file.
  }
  const tmp = tempDir();
  const ctx = createBuildContext(tmp, PACKAGE_ID);
  writePeerMetadata(ctx, '{"type":"ccaas","label":"basic_1.0"}');
  writeFileSync(join(ctx.src, 'connection.json'), '{"address":"127.0.0.1:9999"}');
  const notADir = join(tmp, 'file');
  writeFileSync(notADir, '');
  chmodSync(notADir, 0o600);
  const run = await invokePhase(REPO, 'build', [ctx.src, ctx.metadata, notADir], { env: peerEnvironment(process.env) });
  assert.equal(run.code, 1);
  assert.equal(run.lines.length, 1, run.lines.join(' | '));
  assert.equal(codeOf(run.lines[0], 'build'), 'OUTPUT_WRITE', run.lines[0]);
  t.diagnostic(run.lines[0]!);
});

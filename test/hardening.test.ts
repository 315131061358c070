// Resource limits and secrets. Inputs far larger than any real one are refused with one clear line
// before they are read; deep nesting and a tar bomb neither crash nor exhaust memory. Private keys never
// reach stderr (not even with EXTBUILDER_DEBUG=1) and every file holding one is readable by its owner only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createBuildContext, invokePhase, peerEnvironment, writePeerMetadata, type BuildContext } from '../src/peer/invoke.js';
import { assertErrorLine, PEM, STACK_FRAME, makeTestPem } from './helpers/fuzz.js';
import { REPO, listFiles, tempDir } from './helpers/repo.js';

let dir: string;
const pem: Record<string, string> = {};
const baseEnv = peerEnvironment(process.env);

before(async () => {
  dir = tempDir('extbuilder-hardening-');
  Object.assign(pem, await makeTestPem('hardening CA', 'peer0.org1'));
  for (const [name, text] of Object.entries(pem)) writeFileSync(join(dir, `${name}.pem`), text, { mode: name === 'key' || name === 'other' ? 0o600 : 0o644 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

function pkg(id: string, files: Record<string, string | Buffer>, metadata = '{"type":"ccaas","label":"hard_1"}'): BuildContext {
  const ctx = createBuildContext(dir, id);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(ctx.src, name, '..'), { recursive: true });
    writeFileSync(join(ctx.src, name), text);
  }
  writePeerMetadata(ctx, metadata);
  return ctx;
}

async function phase(name: string, args: string[], env = baseEnv): Promise<{ code: number | null; stderr: string }> {
  const r = await invokePhase(REPO, name, args, { env, cwd: dir, timeoutMs: 120_000 });
  return { code: r.code, stderr: r.lines.join('\n') };
}

async function failedBuild(ctx: BuildContext, env = baseEnv): Promise<string> {
  const r = await phase('build', [ctx.src, ctx.metadata, ctx.bld], env);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(listFiles(ctx.bld).length, 0);
  return r.stderr;
}

const CONN = '{"address":"cc.example.com:9999","dial_timeout":"10s"}';

test('limits: connection.json, launch.json, index files and metadata.json over 1 MiB are refused unread', async () => {
  const huge = `{"address":"cc:9999","x":"${'a'.repeat(1 << 20)}"}`;
  let stderr = await failedBuild(pkg('big:1', { 'connection.json': huge }));
  assert.equal(assertErrorLine(stderr, 'build'), 'CONN_TOO_LARGE');
  assert.match(stderr, /over the 1048576-byte limit/);

  stderr = await failedBuild(pkg('big:2', { 'launch.json': `{"command":"node","args":["${'a'.repeat(1 << 20)}"]}` }));
  assert.match(assertErrorLine(stderr, 'build'), /^LAUNCH_/);
  assert.match(stderr, /over the 1048576-byte limit/);

  stderr = await failedBuild(pkg('big:3', { 'connection.json': CONN, 'META-INF/statedb/couchdb/indexes/a.json': `{"index":{"fields":["a"]},"x":"${'a'.repeat(1 << 20)}"}` }));
  assert.equal(assertErrorLine(stderr, 'build'), 'INDEX_INVALID');

  const md = pkg('big:4', {}, `{"type":"ccaas","label":"${'a'.repeat(2 << 20)}"}`);
  const r = await phase('detect', [md.src, md.metadata]);
  assert.equal(r.code, 1);
  assert.equal(assertErrorLine(r.stderr, 'detect'), 'METADATA_INVALID');
});

test('limits: JSON nested 200,000 deep is a coded error, not a stack overflow', async () => {
  const deep = '['.repeat(200_000) + ']'.repeat(200_000);
  let stderr = await failedBuild(pkg('deep:1', { 'connection.json': deep }));
  assert.equal(assertErrorLine(stderr, 'build'), 'CONN_NOT_OBJECT');
  stderr = await failedBuild(pkg('deep:2', { 'connection.json': `{"address":"cc:9999","x":${deep}}` }));
  assertErrorLine(stderr, 'build');
  const md = pkg('deep:3', {}, `{"type":"ccaas","label":${deep}}`);
  const r = await phase('detect', [md.src, md.metadata]);
  assert.equal(r.code, 1);
  assertErrorLine(r.stderr, 'detect');
});

/** Peak RSS of a command in MiB (GNU time), or undefined without it. */
function peakRssMiB(args: string[]): { mib?: number; status: number | null; stderr: string } {
  if (!existsSync('/usr/bin/time')) return { status: null, stderr: '' };
  const out = join(dir, 'rss.txt');
  const r = spawnSync('/usr/bin/time', ['-f', '%M', '-o', out, ...args], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  return { mib: Number(readFileSync(out, 'utf8').trim().split('\n').pop()) / 1024, status: r.status, stderr: r.stderr };
}

/** A ustar header for a regular file. */
function tarFile(name: string, size: number): Buffer {
  const b = Buffer.alloc(512);
  b.write(name, 0);
  b.write('0000644', 100); b.write('0000000', 108); b.write('0000000', 116);
  b.write(size.toString(8).padStart(11, '0'), 124); b.write('00000000000', 136);
  b.write('0', 156); b.write('ustar\u000000', 257, 'latin1');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148);
  return b;
}

/** A package whose code.tar.gz holds `mib` MiB of zeros: a few KiB on disk (gzip members of gzip members). */
function bomb(mib: number): string {
  const zeros = gzipSync(Buffer.alloc(16 << 20));
  const members: Buffer[] = [gzipSync(Buffer.concat([tarFile('connection.json', CONN.length), Buffer.from(CONN), Buffer.alloc(512 - CONN.length), tarFile('zeros.bin', mib << 20)]))];
  for (let i = 0; i < mib / 16; i++) members.push(zeros);
  members.push(gzipSync(Buffer.alloc(1024)));
  const code = Buffer.concat(members);
  const md = Buffer.from('{"type":"ccaas","label":"bomb_1"}');
  const outer = Buffer.concat([tarFile('metadata.json', md.length), md, Buffer.alloc(512 - md.length), tarFile('code.tar.gz', code.length), code, Buffer.alloc((512 - (code.length % 512)) % 512), Buffer.alloc(1024)]);
  const file = join(dir, `bomb-${mib}.tar.gz`);
  writeFileSync(file, gzipSync(outer));
  return file;
}

test('limits: a tar bomb is inspected in memory independent of its size (16 MiB against 256 MiB of zeros)', { timeout: 300_000 }, async (t) => {
  const small = peakRssMiB([join(REPO, 'bin', 'extbuilder'), 'inspect', bomb(16)]);
  if (small.mib === undefined) { t.skip('GNU time (/usr/bin/time) is not installed'); return; }
  const file = bomb(256);
  assert.ok(statSync(file).size < 64 << 10);
  const big = peakRssMiB([join(REPO, 'bin', 'extbuilder'), 'inspect', file]);
  for (const r of [small, big]) {
    assert.ok(r.status === 0 || r.status === 1, r.stderr);
    assert.doesNotMatch(r.stderr, STACK_FRAME);
  }
  assert.ok(big.mib! < small.mib! + 100, `peak RSS ${small.mib!.toFixed(0)} MiB for 16 MiB, ${big.mib!.toFixed(0)} MiB for 256 MiB`);
});

test('secrets: a mutual-TLS build and release keep the spliced key in 0600 files and off stderr', async () => {
  const env = peerEnvironment({ ...process.env, EXTBUILDER_DEBUG: '1', EXTBUILDER_CONFIG: JSON.stringify({ tls: { root_cert_file: join(dir, 'ca.pem'), client_cert_file: join(dir, 'cert.pem'), client_key_file: join(dir, 'key.pem') } }) }, ['EXTBUILDER_CONFIG', 'EXTBUILDER_DEBUG']);
  const ctx = pkg('mtls:1', { 'connection.json': '{"address":"cc:9999","tls_required":true,"client_auth_required":true}' });
  const b = await phase('build', [ctx.src, ctx.metadata, ctx.bld], env);
  assert.equal(b.code, 0, b.stderr);
  const r = await phase('release', [ctx.bld, ctx.release], env);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(b.stderr + r.stderr, PEM);
  let keyFiles = 0;
  for (const root of [ctx.bld, ctx.release]) {
    for (const f of listFiles(root)) {
      if (!readFileSync(join(root, f), 'utf8').includes('PRIVATE KEY')) continue;
      keyFiles++;
      assert.equal(statSync(join(root, f)).mode & 0o077, 0, `${f} holds a key and is readable by others`);
    }
  }
  assert.equal(keyFiles, 2, 'connection.json in the build and in the release');
});

test('secrets: failures around keys never print them, with or without EXTBUILDER_DEBUG', async () => {
  const cases: Record<string, string>[] = [
    // A key that does not belong to the certificate.
    { 'connection.json': JSON.stringify({ address: 'cc:9999', tls_required: true, client_auth_required: true, root_cert: pem.ca, client_cert: pem.cert, client_key: pem.other }) },
    // A key where a certificate belongs, a key in the address, a key cut short, a key in broken JSON.
    { 'connection.json': JSON.stringify({ address: 'cc:9999', tls_required: true, root_cert: pem.key }) },
    { 'connection.json': JSON.stringify({ address: pem.key }) },
    { 'connection.json': JSON.stringify({ address: 'cc:9999', tls_required: true, client_auth_required: true, root_cert: pem.ca, client_cert: pem.cert, client_key: pem.key!.slice(0, 120) }) },
    { 'connection.json': `{"address":"cc:9999","client_key":${JSON.stringify(pem.key)},` },
    { 'connection.json': JSON.stringify({ address: 'cc:9999', [pem.key!]: 1 }) },
  ];
  for (const [i, files] of cases.entries()) {
    for (const debug of ['0', '1']) {
      const env = peerEnvironment({ ...process.env, EXTBUILDER_DEBUG: debug }, ['EXTBUILDER_DEBUG']);
      const stderr = await failedBuild(pkg(`secret:${i}:${debug}`, files), env);
      assert.doesNotMatch(stderr, PEM, `case ${i}, debug ${debug}`);
      assert.doesNotMatch(stderr, /MII[A-Za-z0-9+/]{20}/, `case ${i}: base64 key material`);
      if (debug === '0') assertErrorLine(stderr, 'build');
    }
  }
});

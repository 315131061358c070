// gzip.ts and deflate-chunk.ts: GzipWriter and ChunkedGzip give the same bytes on any number of threads,
// valid for zlib and GNU gzip, pinned by golden SHA-256s (package IDs depend on them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { gunzipSync, inflateRawSync } from 'node:zlib';
import * as zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExtError } from '../src/core/errors.js';
import { CHUNK, deflateChunk } from '../src/core/pkg/deflate-chunk.js';
import { DeflatePool } from '../src/core/pkg/deflate-pool.js';
import { ChunkedGzip, GzipWriter, PUSH, crc32Js } from '../src/core/pkg/gzip.js';
import { CODE_LEVEL, cgroupCpus, deflateThreads } from '../src/core/pkg/write.js';
import { DEFLATE_WASM_BASE64, DEFLATE_WASM_SHA256 } from '../src/generated/deflate-wasm.js';
import { tempDir } from './helpers/repo.js';

/** The chunked format's bytes for seeded(3 * CHUNK + 70_000, 7): see the chunked gzip tests. */
const GOLDEN_CHUNKED = 'bc9fc03202158ae1c86e17674e59b9e1ea7739749d006cd0e826e89a380691b6';
/** GzipWriter at CODE_LEVEL for seeded(100_000, 3) (one chunk, as the outer file of a small package), and at level 0 for seeded(200_000, 4). */
const GOLDEN_SMALL = 'ed9156cd775d5ddb176adb45fd72776e3d1acaaf36890f2d020c61c914026163';
const GOLDEN_STORED = '2625aee6bb75bd94228e526f1d4482fd350350b3073a4ade79a01d033a28f504';
/**
 * GzipWriter at CODE_LEVEL for literalsOnly(200_000): Huffman blocks without a single match, where
 * libdeflate 1.14 sends an empty offset code (1.19 and later send two codewords, other bytes), so this
 * pins the format to 1.14's choices where the other goldens do not tell 1.14 from 1.25.
 */
const GOLDEN_LITERALS = 'db98d8a3fbf9ae88f55f626925d8739aec031c41686375fd51ec4acf227da27b';

/** GzipWriter fed in writes of uneven sizes (it must re-block them). */
function ours(data: Uint8Array, level: number): Buffer {
  const out: Uint8Array[] = [];
  const gz = new GzipWriter(level, (chunk) => out.push(Buffer.from(chunk)));
  for (let pos = 0, step = 1; pos < data.length; pos += step, step = (step * 7 + 3) % 200_000) gz.write(data.subarray(pos, pos + step));
  gz.end();
  return Buffer.concat(out);
}

/** Half random, half repetitive: both deflate paths (matches and literals) get work. */
function sample(length: number): Buffer {
  const half = length >> 1;
  return Buffer.concat([randomBytes(half), Buffer.alloc(length - half, 'module.exports = 1;\n')]);
}

const LENGTHS = [0, 1, 512, 65534, 65536, 65537, 2 * 65535, 2 * 65536, 3 * 65536 - 1, CHUNK, CHUNK + 1, (1 << 20) + 512, 3_000_001];

test('gzip level 0: stored blocks of at most 65535 bytes, valid gzip at every length', () => {
  for (const length of [...LENGTHS, 65535, 3 * 65536 - 1, 4 * 65535]) {
    const data = sample(length);
    const got = ours(data, 0);
    assert.ok(gunzipSync(got).equals(data), `length ${length} round trip`);
    // Header, then a 5-byte header per block of 65535 (one empty block for no data), then the trailer.
    let blocks = 0;
    for (let pos = 0; pos < length; pos += PUSH) blocks += Math.max(1, Math.ceil(Math.min(PUSH, length - pos) / 65535));
    assert.equal(got.length, 10 + length + 5 * Math.max(1, blocks) + 8, `length ${length}: size`);
  }
});

for (const level of [1, 6, 9]) {
  test(`gzip level ${level}: valid gzip at every length, the same bytes as ChunkedGzip's`, async () => {
    for (const length of LENGTHS) {
      const data = sample(length);
      const got = ours(data, level);
      assert.ok(gunzipSync(got).equals(data), `length ${length} round trip`);
      if (level === CODE_LEVEL) assert.equal(sha(await chunked(data, 1)), sha(got), `length ${length}: ChunkedGzip`);
    }
  });
}

test('gzip: GzipWriter\'s bytes are pinned by a golden SHA-256', () => {
  assert.equal(sha(ours(seeded(100_000, 3), CODE_LEVEL)), GOLDEN_SMALL);
  assert.equal(sha(ours(seeded(200_000, 4), 0)), GOLDEN_STORED);
});

/** A de Bruijn sequence over 64 symbols: no 3-byte string occurs twice, so deflate finds no match. */
function literalsOnly(length: number): Uint8Array {
  const k = 64;
  const a = new Array<number>(4).fill(0);
  const seq: number[] = [];
  const db = (t: number, p: number): void => {
    if (t > 3) {
      if (3 % p === 0) for (let j = 1; j <= p; j++) seq.push(a[j]!);
      return;
    }
    a[t] = a[t - p]!;
    db(t + 1, p);
    for (let j = a[t - p]! + 1; j < k; j++) {
      a[t] = j;
      db(t + 1, t);
    }
  };
  db(1, 1);
  return Uint8Array.from(seq.slice(0, length), (s) => 0x30 + s);
}

test('gzip: blocks of literals only (an empty offset code) are pinned and read back by zlib and GNU gzip', () => {
  const data = literalsOnly(200_000);
  const got = ours(data, CODE_LEVEL);
  assert.ok(gunzipSync(got).equals(Buffer.from(data)));
  const dir = tempDir('extbuilder-gzip-');
  writeFileSync(join(dir, 'l.gz'), got);
  assert.ok(execFileSync('gzip', ['-dc', join(dir, 'l.gz')], { maxBuffer: 1 << 24 }).equals(Buffer.from(data)), 'GNU gzip reads it back');
  assert.equal(sha(got), GOLDEN_LITERALS);
});

test('the JS CRC-32 (for Node < 20.15) agrees with zlib\'s, also when continued', () => {
  const native = (zlib as { crc32?: (d: Uint8Array, v: number) => number }).crc32;
  const data = randomBytes(100_003);
  const whole = crc32Js(data, 0);
  assert.equal(crc32Js(data.subarray(70_000), crc32Js(data.subarray(0, 70_000), 0)), whole);
  assert.equal(crc32Js(new Uint8Array(0), 0), 0);
  if (native) assert.equal(whole, native(data, 0));
});

/** Bytes from a fixed-seed generator (xorshift32), half of each 4 KiB block text: the same on every run. */
function seeded(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  const text = Buffer.from('module.exports = function handler(ctx, args) { return ctx.stub.getState(args[0]); };\n');
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    if ((i >> 11) & 1) {
      out[i] = text[i % text.length]!;
    } else {
      x ^= x << 13; x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5; x >>>= 0;
      out[i] = x & 255;
    }
  }
  return out;
}

/** ChunkedGzip fed in writes of uneven sizes, on `threads` workers besides this thread. */
async function chunked(data: Uint8Array, threads: number): Promise<Buffer> {
  const out: Uint8Array[] = [];
  const gz = new ChunkedGzip({ level: CODE_LEVEL, threads, out: (chunk) => out.push(Buffer.from(chunk)) });
  for (let pos = 0, step = 1; pos < data.length; pos += step, step = (step * 7 + 3) % 300_000) await gz.write(data.subarray(pos, pos + step));
  await gz.end();
  return Buffer.concat(out);
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('chunked gzip: the same bytes on 0 to 3 worker threads, valid for zlib and GNU gzip, pinned by a golden SHA-256', async () => {
  // Three chunk boundaries and a short last chunk; the golden value pins the chunked format, so a change
  // to chunking, priming or the flush marker (which would change package IDs) fails here.
  const data = seeded(3 * CHUNK + 70_000, 7);
  const one = await chunked(data, 0);
  for (const threads of [1, 2, 3]) assert.ok((await chunked(data, threads)).equals(one), `${threads} threads`);
  assert.ok(gunzipSync(one).equals(Buffer.from(data)));
  const dir = tempDir('extbuilder-gzip-');
  writeFileSync(join(dir, 'x.gz'), one);
  assert.ok(execFileSync('gzip', ['-dc', join(dir, 'x.gz')], { maxBuffer: 1 << 24 }).equals(Buffer.from(data)), 'GNU gzip reads it back');
  assert.equal(sha(one), GOLDEN_CHUNKED);
});

test('chunked gzip: the flush marker joins chunks whatever bit the previous chunk ended on', () => {
  // A chunk's deflate bits end at some offset 0-7 in their last byte, and the marker differs by offset;
  // these contents meet every offset (the test counts them from the marker's shape).
  const kinds = new Set<string>();
  for (let seed = 1; seed <= 48; seed++) {
    const first = seeded(CHUNK, seed);
    // Vary the end of the chunk, so its last block ends on different bits.
    first.fill(seed, CHUNK - seed * 97, CHUNK);
    const second = seeded(1000 + seed, seed * 31);
    const a = deflateChunk({ id: 0, data: first, last: false, level: CODE_LEVEL });
    const b = deflateChunk({ id: 1, data: second, last: true, level: CODE_LEVEL });
    assert.deepEqual([...a.subarray(-4)], [0, 0, 0xff, 0xff], `seed ${seed}: ends in a sync flush`);
    // A marker with a zero byte before LEN: the chunk ended on more than 5 bits (or on a byte boundary).
    kinds.add(a[a.length - 5] === 0 ? 'long' : 'short');
    const joined = inflateRawSync(Buffer.concat([a, b]));
    assert.ok(joined.equals(Buffer.concat([first, second])), `seed ${seed}`);
  }
  assert.equal(kinds.size, 2, 'both marker shapes were met');
});

test('chunked gzip: a failing worker fails the stream instead of hanging it', async () => {
  const pool = new DeflatePool(1);
  try {
    // Not the last chunk yet not CHUNK bytes: the worker throws.
    const failed = (err: unknown) => err instanceof ExtError && err.code === 'INTERNAL' && /deflate worker thread failed: .*exactly/.test(err.message);
    await assert.rejects(pool.run({ id: 0, data: new Uint8Array(3), last: false, level: CODE_LEVEL }), failed);
    await assert.rejects(pool.run({ id: 1, data: new Uint8Array(PUSH), last: false, level: CODE_LEVEL }), failed);
  } finally {
    await pool.close();
  }
});

test('deflate threads: one per further CPU, bounded by a cgroup quota, at most 3', () => {
  assert.equal(deflateThreads(1), 0);
  assert.equal(deflateThreads(2), 1);
  assert.equal(deflateThreads(64), 3);
  const files = (map: Record<string, string>) => (path: string) => map[path];
  assert.equal(cgroupCpus(files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': 'max 100000\n' })), undefined);
  assert.equal(cgroupCpus(files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': '150000 100000\n' })), 2);
  // The tightest of a cgroup and its parents.
  assert.equal(cgroupCpus(files({
    '/proc/self/cgroup': '0::/kubepods/pod1/c1\n',
    '/sys/fs/cgroup/kubepods/pod1/c1/cpu.max': 'max 100000',
    '/sys/fs/cgroup/kubepods/pod1/cpu.max': '100000 100000',
    '/sys/fs/cgroup/kubepods/cpu.max': '800000 100000',
  })), 1);
  assert.equal(cgroupCpus(files({
    '/proc/self/cgroup': '12:cpu,cpuacct:/docker/abc\n3:memory:/docker/abc\n',
    '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us': '200000\n',
    '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us': '100000\n',
    '/sys/fs/cgroup/cpu,cpuacct/docker/cpu.cfs_quota_us': '-1\n',
  })), 2);
  assert.equal(cgroupCpus(files({})), undefined);
});

test('the deflate module is the one its generated file names, and self-contained', () => {
  // Package IDs depend on this module: a change to it shows here first (then in the golden hashes).
  const bytes = Buffer.from(DEFLATE_WASM_BASE64, 'base64');
  assert.equal(sha(bytes), DEFLATE_WASM_SHA256);
  const module = new WebAssembly.Module(bytes);
  assert.deepEqual(WebAssembly.Module.imports(module), []);
  // libdeflate's MIT notice travels in the module.
  assert.match(Buffer.from(WebAssembly.Module.customSections(module, 'license')[0]!).toString(), /Copyright 2016 Eric Biggers[^]*Permission is hereby granted/);
});

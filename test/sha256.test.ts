// src/core/sha256.ts: the JavaScript SHA-256 that spares small packages node:crypto's start-up, and its switch
// to node:crypto past SMALL, give node:crypto's digest for every length and every way of splitting the input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { SMALL, Sha256, sha256Hex } from '../src/core/sha256.js';

const want = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('sha256Hex agrees with node:crypto at every padding boundary and beyond', () => {
  for (const n of [0, 1, 3, 55, 56, 57, 63, 64, 65, 111, 119, 120, 127, 128, 129, 1000, 4096, 65_537]) {
    const b = randomBytes(n);
    assert.equal(sha256Hex(b), want(b), `${n} bytes`);
  }
  assert.equal(sha256Hex(Buffer.from('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  // A view into a larger buffer hashes only its own bytes.
  const big = randomBytes(300);
  assert.equal(sha256Hex(big.subarray(7, 207)), want(big.subarray(7, 207)));
});

test('Sha256 streamed in chunks, below and past SMALL, gives the one-shot digest', () => {
  for (const n of [0, 10, SMALL - 1, SMALL, SMALL + 1, 3 * SMALL + 5]) {
    const b = randomBytes(n);
    for (const piece of [1000, 65_536, 1 << 20]) {
      const h = new Sha256();
      if (n === 0) h.update(b);
      for (let i = 0; i < n; i += piece) h.update(b.subarray(i, i + piece));
      assert.equal(h.digestHex(), want(b), `${n} bytes in pieces of ${piece}`);
    }
  }
});

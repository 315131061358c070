// The tar writer and reader against each other and against GNU tar, over generated trees: names of any
// length and script, any content, both modes; and the reader over arbitrary chunk boundaries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { extractCode, readPackage } from '../src/core/pkg/read.js';
import { TarReader, type TarHeader } from '../src/core/pkg/tar-read.js';
import { TAR_END, tarHeader, tarPadding } from '../src/core/pkg/tar-write.js';
import { comparePaths, canonical, type CodeItem } from '../src/core/pkg/tree.js';
import { writePackage } from '../src/core/pkg/write.js';
import { tempDir } from './helpers/repo.js';

const segment = fc.oneof(
  fc.stringMatching(/^[a-z0-9_.-]{1,12}$/),
  fc.constantFrom('ünïcödé', '日本語', 'emoji-😀', 'a'.repeat(99), 'b'.repeat(150), 'sp ace'),
).filter((s) => s !== '.' && s !== '..');

const tree = fc.uniqueArray(
  fc.record({ path: fc.array(segment, { minLength: 1, maxLength: 4 }).map((p) => p.join('/')), bytes: fc.uint8Array({ maxLength: 3000 }), exec: fc.boolean() }),
  { minLength: 1, maxLength: 8, selector: (f) => f.path },
).filter((files) => files.every((f) => !files.some((g) => g !== f && g.path.startsWith(`${f.path}/`))));

function items(files: { path: string; bytes: Uint8Array; exec: boolean }[]): CodeItem[] {
  return canonical(files.map((f) => ({ path: f.path, kind: 'file' as const, mode: f.exec ? 0o755 : 0o644, size: f.bytes.length, bytes: f.bytes })));
}

test('what the writer writes, our reader, extractCode and GNU tar read back the same', async () => {
  await fc.assert(fc.asyncProperty(tree, async (files) => {
    const dir = tempDir('extbuilder-prop-');
    const out = join(dir, 'p.tar.gz');
    await writePackage({ output: out, label: 'p_1', type: 'external', items: items(files) });
    const r = await readPackage(out);
    assert.equal(r.installError, undefined, r.installError?.message);
    const read = r.code!.entries.filter((e) => e.type === '0').map((e) => [e.path, e.size, e.mode]);
    const want = [...files].sort((a, b) => comparePaths(a.path, b.path)).map((f) => [f.path, f.bytes.length, f.exec ? 0o755 : 0o644]);
    assert.deepEqual(read, want);
    const dest = tempDir('extbuilder-prop-x-');
    await extractCode(out, dest, r);
    for (const f of files) assert.ok(readFileSync(join(dest, f.path)).equals(Buffer.from(f.bytes)), f.path);
    execFileSync('tar', ['-xzf', out, '-C', dir]);
    const listed = execFileSync('tar', ['-tzf', join(dir, 'code.tar.gz')], { encoding: 'utf8' }).trim().split('\n').filter((l) => !l.endsWith('/'));
    assert.deepEqual(listed, want.map((w) => w[0]));
  }), { numRuns: 25 });
});

test('the reader gives the same entries however the bytes are split', () => {
  const parts: Uint8Array[] = [];
  const names = ['a.txt', `${'d'.repeat(120)}/${'e'.repeat(90)}.txt`, `${'x'.repeat(200)}/${'y'.repeat(200)}`];
  for (const [i, name] of names.entries()) {
    const body = Buffer.alloc(700 * i + 3, i + 1);
    parts.push(tarHeader(name, body.length, 0o644, '0'), body, tarPadding(body.length));
  }
  parts.push(TAR_END);
  const archive = Buffer.concat(parts);
  const readWith = (chunks: number[]) => {
    const seen: { h: TarHeader; bytes: number }[] = [];
    const reader = new TarReader({ entry: (h) => seen.push({ h, bytes: 0 }), data: (c) => { seen.at(-1)!.bytes += c.length; }, entryEnd: () => {} });
    let pos = 0;
    for (const n of chunks) { reader.push(archive.subarray(pos, pos + n)); pos += n; }
    reader.push(archive.subarray(pos));
    reader.end();
    assert.ok(reader.done);
    return seen.map((s) => [s.h.name, s.h.size, s.bytes]);
  };
  const whole = readWith([]);
  assert.deepEqual(whole.map((e) => e[0]), names);
  fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 700 }), { maxLength: 30 }), (chunks) => {
    assert.deepEqual(readWith(chunks), whole);
  }), { numRuns: 100 });
});

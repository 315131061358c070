// Property-based fuzzing of install packages: outer and inner tars built entry by entry with any name
// (absolute, .., long, non-UTF-8), any type flag (symlinks, hard links, devices, FIFOs, pax, GNU long
// names), sizes that lie, then cut short or corrupted. Invariants: readPackage and extractCode give a
// verdict or a coded error, agree with each other, write nothing outside the destination; `id` and
// `inspect` through the real program exit 0 or 1 with coded one-line errors and no stack trace.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { extractCode, readPackage } from '../src/core/pkg/read.js';
import { assertCoded, assertUnchanged, fuzzOptions, snapshot, STACK_FRAME, PEM } from './helpers/fuzz.js';
import { REPO, tempDir } from './helpers/repo.js';

let dir: string;
let caseNo = 0;

before(() => { dir = tempDir('extbuilder-fuzz-package-'); });
after(() => rmSync(dir, { recursive: true, force: true }));

interface RawEntry {
  name: Uint8Array;
  type: string;
  data: Uint8Array;
  /** The size the header claims; may differ from the data. */
  size: number;
  mode: number;
  linkname: string;
}

/** One ustar header block written from raw fields, checksum included (a tar writer that never refuses). */
function header(e: RawEntry): Buffer {
  const b = Buffer.alloc(512);
  Buffer.from(e.name).copy(b, 0, 0, 100);
  b.write(e.mode.toString(8).padStart(7, '0'), 100, 'ascii');
  b.write('0000000', 108, 'ascii');
  b.write('0000000', 116, 'ascii');
  b.write(e.size.toString(8).padStart(11, '0').slice(-11), 124, 'ascii');
  b.write('00000000000', 136, 'ascii');
  b.write(e.type, 156, 'latin1');
  b.write(e.linkname.slice(0, 100), 157, 'utf8');
  b.write('ustar\u000000', 257, 'latin1');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'ascii');
  return b;
}

function tar(entries: RawEntry[], end = true): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(header(e), Buffer.from(e.data), Buffer.alloc((512 - (e.data.length % 512)) % 512));
  }
  if (end) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

const file = (name: string, data: string | Uint8Array, type = '0'): RawEntry => {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  return { name: Buffer.from(name), type, data: bytes, size: bytes.length, mode: 0o644, linkname: '' };
};

const names = fc.oneof(
  fc.constantFrom('connection.json', 'launch.json', 'main.js', 'src/a.js', './x.js', 'dir/', '/etc/passwd', '../escape', 'a/../../escape', 'a/./b',
    'META-INF/statedb/couchdb/indexes/i.json', '.', './', 'x'.repeat(99), 'é💥.js', '').map((s) => Buffer.from(s)),
  fc.uint8Array({ minLength: 1, maxLength: 20 }),
);
const entry: fc.Arbitrary<RawEntry> = fc.record({
  name: names,
  type: fc.constantFrom('0', '0', '0', '\u0000', '1', '2', '3', '4', '5', '6', '7', 'g', 'x', 'L', 'K', 'S', 'Z'),
  data: fc.oneof(fc.uint8Array({ maxLength: 600 }), fc.constantFrom('{"address":"cc:9999"}', '{"command":"node"}', 'path=/etc/passwd\n', '12 path=../x\n').map((s) => Buffer.from(s))),
  sizeDelta: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: -600, max: 600 }), fc.constant(8 ** 11 - 1)),
  mode: fc.constantFrom(0o644, 0o755, 0o4755, 0o000, 0o7777),
  linkname: fc.constantFrom('', '/etc/passwd', '../../x', 'main.js'),
}).map(({ sizeDelta, ...e }) => ({ ...e, size: Math.max(0, e.data.length + sizeDelta) }));

/** The same bytes as two concatenated gzip members, which Go's reader (multistream) and zlib both join. */
const twoMembers = (b: Buffer): Buffer => Buffer.concat([gzipSync(b.subarray(0, b.length >> 1)), gzipSync(b.subarray(b.length >> 1))]);

/** A report as a user sees it: errors by code and message (ExtError objects also carry causes and stacks). */
const plain = (r: Awaited<ReturnType<typeof readPackage>>) => JSON.parse(JSON.stringify(r, (k, v) =>
  v instanceof Error ? `${(v as { code?: string }).code}: ${v.message}` : v instanceof Map ? Object.fromEntries(v) : v?.type === 'Buffer' ? Buffer.from(v.data).toString('hex') : v));

/** A directory's paths, types, modes and contents (not times: the two extractions differ in those). */
const tree = (d: string) => [...snapshot(d)].map(([path, e]) =>
  [path, e.type, e.mode, e.type === 'file' ? readFileSync(Buffer.from(`${d}/${path}`, 'latin1')).toString('hex') : e.link ?? '']);

/** A package: outer tar of metadata.json and code.tar.gz (either possibly fuzzed), gzipped, then maybe damaged. */
const pkg = fc.record({
  metadata: fc.oneof(fc.constant('{"type":"ccaas","label":"fuzz_1.0"}'), fc.constantFrom('{"type":"ccaas","label":"bad label"}', '{"type":1}', 'null', '[', '{"Label":"x","label":null}')),
  code: fc.array(entry, { maxLength: 6 }),
  // code.tar.gz cut in half, its gzip trailer damaged (after the tar's end, which Go never reads), or two gzip members.
  codeForm: fc.constantFrom('intact', 'intact', 'half', 'bad-trailer', 'two-members'),
  extra: fc.array(entry, { maxLength: 2 }),
  order: fc.constantFrom('normal', 'code-first', 'code-twice', 'no-metadata'),
  damage: fc.oneof(
    fc.constant({ kind: 'none' as const }),
    fc.constant({ kind: 'none' as const }),
    fc.nat().map((at) => ({ kind: 'truncate' as const, at })),
    fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([at, x]) => ({ kind: 'flip' as const, at, x })),
    fc.constant({ kind: 'plain-tar' as const }),
    fc.uint8Array({ minLength: 1, maxLength: 40 }).map((junk) => ({ kind: 'append' as const, junk })),
    fc.constant({ kind: 'two-members' as const }),
  ),
}).map((p) => {
  const codeTar = tar(p.code);
  let code = p.codeForm === 'two-members' ? twoMembers(codeTar) : gzipSync(codeTar);
  if (p.codeForm === 'half') code = code.subarray(0, code.length >> 1);
  if (p.codeForm === 'bad-trailer') { code = Buffer.from(code); code[code.length - 5]! ^= 0xff; }
  const md = file('metadata.json', p.metadata);
  const cg = file('code.tar.gz', code);
  const outer = p.order === 'code-first' ? [cg, md] : p.order === 'code-twice' ? [md, cg, file('code.tar.gz', gzipSync(tar([])))] : p.order === 'no-metadata' ? [cg] : [md, cg];
  const inner = tar([...outer, ...p.extra]);
  let bytes = p.damage.kind === 'plain-tar' ? inner : p.damage.kind === 'two-members' ? twoMembers(inner) : gzipSync(inner);
  if (p.damage.kind === 'append') bytes = Buffer.concat([bytes, p.damage.junk]);
  if (p.damage.kind === 'truncate') bytes = bytes.subarray(0, p.damage.at % (bytes.length + 1));
  if (p.damage.kind === 'flip') { bytes = Buffer.from(bytes); const i = p.damage.at % bytes.length; bytes[i] = bytes[i]! ^ p.damage.x; }
  return bytes;
});

test('readPackage and extractCode: a verdict or a coded error, consistent, nothing written outside the destination', { timeout: 300_000 }, async () => {
  const seen = new Map<string, number>();
  const note = (k: string) => seen.set(k, (seen.get(k) ?? 0) + 1);
  await fc.assert(fc.asyncProperty(pkg, async (bytes) => {
    const sandbox = join(dir, String(caseNo++));
    const dest = join(sandbox, 'src');
    mkdirSync(dest, { recursive: true, mode: 0o700 });
    const pkgFile = join(sandbox, 'p.tar.gz');
    writeFileSync(pkgFile, bytes);
    let report;
    try {
      report = await readPackage(pkgFile);
    } catch (err) {
      assertCoded(err, 'inspect');
      note(`throws ${err.code}`);
      return;
    }
    assert.equal(report.sha256, createHash('sha256').update(bytes).digest('hex'));
    // Read whole in memory (these are all small) or as a stream, the verdict is the same, to the byte.
    assert.deepEqual(plain(report), plain(await readPackage(pkgFile, { inMemory: false })), 'in memory and streamed');
    if (report.parseError) assertCoded(report.parseError, 'inspect');
    else assert.match(report.id!, /^[A-Za-z0-9][A-Za-z0-9_.+-]*:[0-9a-f]{64}$/);
    if (report.installError) { assertCoded(report.installError, 'inspect'); note(report.installError.code); } else note('installable');

    const before = snapshot(sandbox);
    let extracted = true;
    let extractError = '';
    try {
      await extractCode(pkgFile, dest, report);
    } catch (err) {
      assertCoded(err, 'inspect');
      extracted = false;
      extractError = `${err.code}: ${err.message}`;
    }
    assertUnchanged(before, snapshot(sandbox), ['src']);
    const streamedDest = join(sandbox, 'streamed');
    mkdirSync(streamedDest, { mode: 0o700 });
    const streamedError = await extractCode(pkgFile, streamedDest, report, { inMemory: false }).then(() => '', (err) => `${err.code}: ${err.message}`);
    assert.equal(streamedError, extractError, 'extraction in memory and streamed');
    assert.deepEqual(tree(streamedDest), tree(dest), 'extracted trees in memory and streamed');
    // What the reader says install does is what extraction does.
    assert.equal(extracted, report.installError === undefined, `extract ${extracted}, verdict ${report.installError?.code}`);
    rmSync(sandbox, { recursive: true, force: true });
  }), fuzzOptions(400));
  assert.ok((seen.get('installable') ?? 0) >= 10, `outcomes: ${[...seen]}`);
  assert.ok(seen.size >= 8, `outcomes: ${[...seen]}`);
});

test('id and inspect through the real program: exit 0 or 1, coded one-line errors, no stack trace', { timeout: 300_000 }, async () => {
  const outcomes = new Set<string>();
  // Six packages the peer's parse accepts and six it refuses, so both exits of id are seen.
  const accepted: string[] = [];
  const refused: string[] = [];
  for (const [i, bytes] of fc.sample(pkg, { seed: 7, numRuns: 200 }).entries()) {
    if (accepted.length >= 6 && refused.length >= 6) break;
    const f = join(dir, `cli-${i}.tar.gz`);
    writeFileSync(f, bytes);
    const into = (await readPackage(f, { code: false }).then((r) => !r.parseError, () => false)) ? accepted : refused;
    if (into.length < 6) into.push(f);
  }
  for (const f of [...accepted, ...refused]) {
    for (const cmd of ['id', 'inspect']) {
      const r = spawnSync(join(REPO, 'bin', 'extbuilder'), [cmd, f], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
      assert.ok(r.status === 0 || r.status === 1, `${cmd}: exit ${r.status} ${r.stderr}`);
      assert.doesNotMatch(r.stderr, STACK_FRAME);
      assert.doesNotMatch(r.stderr + r.stdout, PEM);
      for (const line of r.stderr.split('\n').filter(Boolean)) {
        assert.ok(line.length <= 1000);
        assert.match(line, new RegExp(`^extbuilder ${cmd}: ([A-Z][A-Z0-9_]+|warning): `), line);
      }
      if (cmd === 'id') assert.equal(r.status, accepted.includes(f) ? 0 : 1, `id of a package the parse ${accepted.includes(f) ? 'accepts' : 'refuses'}: ${r.stderr}`);
      if (cmd === 'id' && r.status === 0) assert.equal(r.stdout.trim().split(':')[1], createHash('sha256').update(readFileSync(f)).digest('hex'));
      outcomes.add(`${cmd} ${r.status}`);
    }
  }
  assert.ok(outcomes.has('id 0') && outcomes.has('id 1') && outcomes.has('inspect 1'), `outcomes: ${[...outcomes]}`);
});

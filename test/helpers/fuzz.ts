// Shared by the fuzz, hardening and fault tests: fixed seeds, the one-line error invariants, and
// snapshots of directory trees (to prove nothing was written outside the output directory).
import assert from 'node:assert/strict';
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { ERROR_CODES } from '../../src/core/codes.js';
import { createCA, issue } from '../../src/peer/pki.js';
import { ExtError, formatError, MAX_LINE } from '../../src/core/errors.js';

/** `npm test` uses a fixed seed; `npm run fuzz` sets EXTBUILDER_FUZZ_SEED=random and a larger scale. */
export const SEED = process.env.EXTBUILDER_FUZZ_SEED === 'random'
  ? Math.floor(Math.random() * 2 ** 31)
  : Number(process.env.EXTBUILDER_FUZZ_SEED ?? 20261124);
const SCALE = Number(process.env.EXTBUILDER_FUZZ_SCALE ?? 1);

if (process.env.EXTBUILDER_FUZZ_SEED === 'random') console.log(`# fuzz seed ${SEED} (rerun with EXTBUILDER_FUZZ_SEED=${SEED})`);

/** fast-check options: the seed, and `n` runs times the scale. */
export function fuzzOptions(n: number): { seed: number; numRuns: number; endOnFailure: true; includeErrorInReport: true } {
  return { seed: SEED, numRuns: Math.max(1, Math.round(n * SCALE)), endOnFailure: true, includeErrorInReport: true };
}

export const PEM = /-----BEGIN [A-Z ]+-----/;
/** A V8 stack frame line, as an uncaught exception would print it. */
export const STACK_FRAME = /^\s+at .+[:(]/m;

/** The error is an ExtError with a stable code, and prints as one safe line. */
export function assertCoded(err: unknown, phase = 'build'): asserts err is ExtError {
  if (!(err instanceof ExtError)) assert.fail(`expected an ExtError, got ${err instanceof Error ? err.stack : String(err)}`);
  assert.ok(err.code in ERROR_CODES, `unknown code ${err.code}`);
  assert.notEqual(err.code, 'INTERNAL', `INTERNAL: ${err.message}`);
  const line = formatError(phase, err);
  assert.ok(!line.includes('\n'), 'one line');
  assert.ok(line.length <= MAX_LINE, `line of ${line.length} chars`);
  assert.doesNotMatch(line, PEM);
}

/** The stderr a failed phase must print: one line `extbuilder <phase>: <CODE>: ...`, returns the code. */
export function assertErrorLine(stderr: string, phase: string): string {
  const lines = stderr.split('\n').filter((l) => l !== '');
  const errors = lines.filter((l) => !l.startsWith(`extbuilder ${phase}: warning: `));
  assert.equal(errors.length, 1, `one error line, got:\n${stderr}`);
  const m = new RegExp(`^extbuilder ${phase}: ([A-Z][A-Z0-9_]+): `).exec(errors[0]!);
  assert.ok(m, `error line format: ${errors[0]}`);
  assert.ok(m[1]! in ERROR_CODES, `unknown code ${m[1]}`);
  assert.notEqual(m[1], 'INTERNAL', errors[0]);
  for (const l of lines) assert.ok(Buffer.byteLength(l) <= MAX_LINE, `line of ${l.length} chars`);
  assert.doesNotMatch(stderr, PEM);
  assert.doesNotMatch(stderr, STACK_FRAME);
  return m[1]!;
}

export interface Entry { type: 'file' | 'dir' | 'link' | 'other'; size: number; mode: number; mtimeMs: number; link?: string }

/** Every path below `dir` (not following links) with its type, size, mode and mtime; names need not be UTF-8. */
export function snapshot(dir: string | Buffer, rel = '', out = new Map<string, Entry>()): Map<string, Entry> {
  const base = Buffer.isBuffer(dir) ? dir : Buffer.from(dir);
  const at = (r: string) => (r ? Buffer.concat([base, Buffer.from('/'), Buffer.from(r, 'latin1')]) : base);
  let names: Buffer[];
  try { names = readdirSync(at(rel), { encoding: 'buffer' }); } catch { return out; }
  for (const name of names) {
    const r = rel ? `${rel}/${name.toString('latin1')}` : name.toString('latin1');
    const st = lstatSync(at(r));
    const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'link' : 'other';
    out.set(r, { type, size: type === 'dir' ? 0 : st.size, mode: st.mode & 0o7777, mtimeMs: type === 'dir' ? 0 : st.mtimeMs, ...(type === 'link' ? { link: readlinkSync(at(r), 'latin1') } : {}) });
    if (type === 'dir') snapshot(base, r, out);
  }
  return out;
}

/** Asserts two snapshots are equal except for paths below `except` (relative prefixes). */
export function assertUnchanged(before: Map<string, Entry>, after: Map<string, Entry>, except: string[]): void {
  const skip = (p: string) => except.some((e) => p === e || p.startsWith(`${e}/`));
  const changed: string[] = [];
  for (const [p, e] of after) if (!skip(p) && JSON.stringify(before.get(p)) !== JSON.stringify(e)) changed.push(`+${p}`);
  for (const p of before.keys()) if (!skip(p) && !after.has(p)) changed.push(`-${p}`);
  assert.deepEqual(changed, [], 'nothing changes outside the output directory');
}

/** PEM text for the fuzz and hardening tests: a CA, a client pair it issued, and a key of another pair. */
export interface TestPem { ca: string; cert: string; key: string; other: string }

export async function makeTestPem(caName: string, clientName = 'peer0'): Promise<TestPem> {
  const ca = await createCA(caName);
  const client = await issue(ca, { commonName: clientName, usage: 'client' });
  const other = await issue(ca, { commonName: 'other', usage: 'client' });
  return { ca: ca.certPem, cert: client.certPem, key: client.keyPem, other: other.keyPem };
}

// Writes an install package whose bytes depend only on its contents: code.tar.gz (sorted entries,
// normalised modes, fixed headers; compressed on worker threads, gzip.ts) streamed to a temp file, then
// the outer tar (metadata.json, then code.tar.gz) streamed to a temp file while hashed, renamed into place.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { availableParallelism } from 'node:os';
import { ExtError } from '../errors.js';
import { CODE_FILE, METADATA_FILE } from './read.js';
import { DeflatePool } from './deflate-pool.js';
import { ChunkedGzip, GzipWriter } from './gzip.js';
import { TAR_END, tarHeader, tarPadding } from './tar-write.js';
import type { CodeItem } from './tree.js';

/**
 * libdeflate level 6 (deflate-chunk.ts): on one thread about the speed of `gzip -6` or faster, for
 * output within 2% of its size (1 MiB chunks compressed apart cost part of that). Changing it changes
 * every package ID: it is part of the format.
 */
export const CODE_LEVEL = 6;
/** Compressing the already compressed code.tar.gz again only costs time, unless it is small. */
export const OUTER_LEVEL_SMALL = 6;
export const OUTER_SMALL_LIMIT = 1 << 20;
const READ = 1 << 20;

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off);
}

/** Streams a file's exact `size` bytes into `sink`; a file that changed size fails the package. */
async function copyFile(item: CodeItem, buf: Uint8Array, sink: (bytes: Uint8Array) => Promise<void>): Promise<void> {
  let fd: number;
  try {
    fd = openSync(item.source!, 'r');
  } catch (err) {
    throw new ExtError('PKG_INPUT', `cannot read ${item.path}: ${(err as NodeJS.ErrnoException).code}`, 'make every file in the tree readable by the user running extbuilder package', { cause: err });
  }
  try {
    let left = item.size;
    while (left > 0) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, left), null);
      if (n === 0) break;
      await sink(buf.subarray(0, n));
      left -= n;
    }
    if (left !== 0 || readSync(fd, buf, 0, 1, null) !== 0) {
      throw new ExtError('PKG_CHANGED', `${item.path} changed size while it was being packaged`, 'package a tree nothing is writing to');
    }
  } finally {
    closeSync(fd);
  }
}

/** Writes code.tar.gz for `items` (in canonical order) to the open file `fd`. */
async function writeCodeTarGz(items: Iterable<CodeItem>, fd: number, threads: number, onFile?: (bytes: number) => void): Promise<void> {
  const pool = early;
  early = undefined;
  const gz = new ChunkedGzip({ level: CODE_LEVEL, threads, pool, out: (chunk) => writeAll(fd, chunk) });
  try {
    const buf = new Uint8Array(READ);
    for (const item of items) {
      if (item.kind === 'dir') {
        await gz.write(tarHeader(`${item.path}/`, 0, item.mode, '5'));
        continue;
      }
      await gz.write(tarHeader(item.path, item.size, item.mode, '0'));
      if (item.bytes) await gz.write(item.bytes);
      else await copyFile(item, buf, (b) => gz.write(b));
      await gz.write(tarPadding(item.size));
      onFile?.(item.size);
    }
    await gz.write(TAR_END);
    await gz.end();
  } finally {
    await gz.close();
  }
}

/**
 * The CPUs a cgroup CPU quota (cgroup v2 cpu.max, or v1 cpu.cfs_quota_us) allows this process, rounded
 * up, the tightest over its cgroup and their parents; undefined without one. A container limited to 2
 * CPUs on a 64-CPU host sees 64 in availableParallelism() (Node 20's libuv does not read quotas), and 63
 * workers there only queue behind the quota.
 */
export function cgroupCpus(read: (path: string) => string | undefined = readText): number | undefined {
  let best: number | undefined;
  const take = (quota: number, period: number) => {
    if (quota > 0 && period > 0) best = Math.min(best ?? Infinity, Math.max(1, Math.ceil(quota / period)));
  };
  for (const line of (read('/proc/self/cgroup') ?? '').split('\n')) {
    const [, controllers, path] = /^[0-9]+:([^:]*):(.*)$/.exec(line) ?? [];
    if (path === undefined) continue;
    for (let dir = path; ; dir = dir.slice(0, dir.lastIndexOf('/')) || '/') {
      if (controllers === '') {
        const [quota, period] = (read(`/sys/fs/cgroup${dir === '/' ? '' : dir}/cpu.max`) ?? '').trim().split(/\s+/);
        if (quota && quota !== 'max') take(Number(quota), Number(period ?? 100000));
      } else if (controllers!.split(',').includes('cpu')) {
        const base = `/sys/fs/cgroup/${controllers!.includes('cpuacct') ? 'cpu,cpuacct' : 'cpu'}${dir === '/' ? '' : dir}`;
        take(Number(read(`${base}/cpu.cfs_quota_us`) ?? -1), Number(read(`${base}/cpu.cfs_period_us`) ?? 100000));
      }
      if (dir === '/') break;
    }
  }
  return best;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Deflate worker threads besides the main thread: one per further CPU this process may use (the CPUs
 * it may run on, and any cgroup quota), up to 3 (the main thread tars and hashes besides deflating, so
 * more workers than that wait for it).
 */
export function deflateThreads(cpus = Math.min(availableParallelism(), cgroupCpus() ?? Infinity)): number {
  return Math.max(0, Math.min(cpus - 1, 3));
}

let early: DeflatePool | undefined;

/**
 * Starts the deflate worker threads now, for a caller with other work before writePackage (walking and
 * checking the tree): a worker takes tens of ms to start, which then overlaps that work. The next
 * writePackage uses them. Idle, they do not keep the process alive, so a package that fails before it is
 * written exits as before.
 */
export function startDeflateThreads(): void {
  const threads = deflateThreads();
  if (threads > 0) early ??= new DeflatePool(threads);
}

export interface PackageInput {
  /** Where the package goes; written through a temp file in the same directory, then renamed. */
  output: string;
  label: string;
  type: string;
  /** code.tar.gz's entries in canonical order (tree.ts canonical, treeItems), read as they are written. */
  items: Iterable<CodeItem>;
  /** Called after each file with its size, for progress. */
  onFile?: (bytes: number) => void;
}

export interface PackageResult {
  id: string;
  sha256: string;
  size: number;
  metadata: string;
}

/** metadata.json as every package of ours carries it. */
export function metadataJson(type: string, label: string): string {
  return JSON.stringify({ type, label });
}

function outputError(path: string, err: unknown): ExtError {
  const code = (err as NodeJS.ErrnoException).code;
  const fix = code === 'ENOENT' ? 'create the output directory first' : code === 'ENOSPC' ? 'free disk space' : 'choose a writable output path';
  return new ExtError('OUTPUT_WRITE', `cannot write ${path}: ${code ?? (err as Error).message}`, fix, { cause: err });
}

export async function writePackage(input: PackageInput): Promise<PackageResult> {
  const dir = dirname(input.output);
  const stem = join(dir, `.${basename(input.output)}.extbuilder-partial-${randomBytes(4).toString('hex')}`);
  const innerPath = `${stem}.code`;
  const outerPath = `${stem}.pkg`;
  let innerFd: number | undefined;
  let outerFd: number | undefined;
  const metadata = metadataJson(input.type, input.label);
  try {
    try {
      innerFd = openSync(innerPath, 'w+', 0o600);
      outerFd = openSync(outerPath, 'w', 0o644);
    } catch (err) {
      throw outputError(input.output, err);
    }
    await writeCodeTarGz(input.items, innerFd, deflateThreads(), input.onFile);
    const codeSize = fstatSync(innerFd).size;

    const hash = createHash('sha256');
    let size = 0;
    const fd = outerFd;
    const gz = new GzipWriter(codeSize < OUTER_SMALL_LIMIT ? OUTER_LEVEL_SMALL : 0, (chunk) => {
      hash.update(chunk);
      size += chunk.length;
      writeAll(fd, chunk);
    });
    const meta = Buffer.from(metadata, 'utf8');
    gz.write(tarHeader(METADATA_FILE, meta.length, 0o644, '0'));
    gz.write(meta);
    gz.write(tarPadding(meta.length));
    gz.write(tarHeader(CODE_FILE, codeSize, 0o644, '0'));
    const buf = new Uint8Array(READ);
    for (let pos = 0; pos < codeSize;) {
      const n = readSync(innerFd, buf, 0, buf.length, pos);
      if (n === 0) throw new ExtError('OUTPUT_WRITE', `${innerPath} was truncated while packaging`, 'retry');
      gz.write(buf.subarray(0, n));
      pos += n;
    }
    gz.write(tarPadding(codeSize));
    gz.write(TAR_END);
    gz.end();
    closeSync(outerFd);
    outerFd = undefined;
    renameSync(outerPath, input.output);
    const sha256 = hash.digest('hex');
    return { id: `${input.label}:${sha256}`, sha256, size, metadata };
  } catch (err) {
    if (err instanceof ExtError) throw err;
    throw outputError(input.output, err);
  } finally {
    if (innerFd !== undefined) closeSync(innerFd);
    if (outerFd !== undefined) closeSync(outerFd);
    rmSync(innerPath, { force: true });
    rmSync(outerPath, { force: true });
  }
}

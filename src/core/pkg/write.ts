// Writes an install package whose bytes depend only on its contents: code.tar.gz (sorted entries,
// normalised modes, fixed headers) streamed to a temp file, then the outer tar (metadata.json, then
// code.tar.gz) streamed to a temp file while hashed, renamed into place. Deflate is fflate's (pure JS,
// so no dependence on the zlib the runtime links; only the CRC-32, a fixed function, comes from zlib),
// mtime 0, OS byte 3, fed in fixed-size blocks so its output does not depend on how reads are split.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as zlib from 'node:zlib';
import { Deflate } from 'fflate';
import { ExtError } from '../errors.js';
import { CODE_FILE, METADATA_FILE } from './read.js';
import { TAR_END, tarHeader, tarPadding } from './tar-write.js';
import type { CodeItem } from './tree.js';

/**
 * fflate level 3: on a 100 MB node_modules tree about the speed of `gzip -6` (fflate's level 6 is ~1.5x
 * slower) for output ~6% larger. Changing it changes every package ID: it is part of the format.
 */
export const CODE_LEVEL = 3;
/** Compressing the already compressed code.tar.gz again only costs time, unless it is small. */
export const OUTER_LEVEL_SMALL = 6;
export const OUTER_SMALL_LIMIT = 1 << 20;
const BLOCK = 1 << 16;
const READ = 1 << 20;

type Crc32 = (data: Uint8Array, value: number) => number;

/** CRC-32 in JS, for runtimes without zlib.crc32 (Node < 20.15). */
export const crc32Js: Crc32 = (() => {
  const table = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? -306674912 ^ (c >>> 1) : c >>> 1;
    table[i] = c;
  }
  return (data, value) => {
    let c = ~value;
    for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 255]! ^ (c >>> 8);
    return ~c >>> 0;
  };
})();
const crc32: Crc32 = (zlib as { crc32?: Crc32 }).crc32 ?? crc32Js;

/**
 * gzip with input pushed in fixed BLOCK-sized pieces: the output is a function of the bytes alone.
 * The bytes are exactly fflate's Gzip (header: no mtime, XFL from the level, OS 3; trailer: CRC-32 and
 * size mod 2^32), but with the CRC computed natively (fflate's CRC in JS costs about a quarter of a
 * level 3 deflate) and level 0 written here (fflate copies stored bytes one at a time).
 */
export class GzipWriter {
  private buf = new Uint8Array(BLOCK);
  private fill = 0;
  private crc = 0;
  private size = 0;
  private deflate?: Deflate;

  constructor(level: number, private out: (chunk: Uint8Array) => void) {
    if (level !== 0) this.deflate = new Deflate({ level: level as 6 }, (chunk) => out(chunk));
    out(Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, level < 2 ? 4 : level === 9 ? 2 : 0, 3));
  }

  write(bytes: Uint8Array): void {
    let pos = 0;
    while (pos < bytes.length) {
      const n = Math.min(BLOCK - this.fill, bytes.length - pos);
      this.buf.set(bytes.subarray(pos, pos + n), this.fill);
      this.fill += n;
      pos += n;
      if (this.fill === BLOCK) this.push(this.buf, false);
    }
  }

  end(): void {
    this.push(this.buf.subarray(0, this.fill), true);
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(this.crc, 0);
    trailer.writeUInt32LE(this.size % 2 ** 32, 4);
    this.out(trailer);
  }

  private push(block: Uint8Array, final: boolean): void {
    this.crc = crc32(block, this.crc);
    this.size += block.length;
    if (this.deflate) this.deflate.push(block, final);
    else this.out(storedBlocks(block, final));
    this.fill = 0;
  }
}

/**
 * What fflate's streaming level 0 emits for one push (every push but the last is exactly BLOCK bytes):
 * the bytes in stored blocks of at most 65535, those of the last push marked final, plus one more empty
 * final block when the last push's length is a multiple of 65535, zero included (pkg-gzip.test.ts).
 */
function storedBlocks(data: Uint8Array, final: boolean): Uint8Array {
  const MAX = 0xffff;
  const out = Buffer.allocUnsafe(data.length + 5 * (Math.ceil(data.length / MAX) + 1));
  let at = 0;
  for (let i = 0; i < data.length + (final ? 1 : 0); i += MAX) {
    const piece = data.subarray(i, i + MAX);
    out[at] = final && i + MAX >= data.length ? 1 : 0;
    out.writeUInt16LE(piece.length, at + 1);
    out.writeUInt16LE(piece.length ^ MAX, at + 3);
    out.set(piece, at + 5);
    at += 5 + piece.length;
  }
  return out.subarray(0, at);
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off);
}

/** Streams a file's exact `size` bytes into `sink`; a file that changed size fails the package. */
function copyFile(item: CodeItem, buf: Uint8Array, sink: (bytes: Uint8Array) => void): void {
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
      sink(buf.subarray(0, n));
      left -= n;
    }
    if (left !== 0 || readSync(fd, buf, 0, 1, null) !== 0) {
      throw new ExtError('PKG_CHANGED', `${item.path} changed size while it was being packaged`, 'package a tree nothing is writing to');
    }
  } finally {
    closeSync(fd);
  }
}

/** Writes code.tar.gz for `items` (sorted, with parents) to the open file `fd`. */
function writeCodeTarGz(items: CodeItem[], fd: number, onFile?: (bytes: number) => void): void {
  const gz = new GzipWriter(CODE_LEVEL, (chunk) => writeAll(fd, chunk));
  const buf = new Uint8Array(READ);
  for (const item of items) {
    if (item.kind === 'dir') {
      gz.write(tarHeader(`${item.path}/`, 0, item.mode, '5'));
      continue;
    }
    gz.write(tarHeader(item.path, item.size, item.mode, '0'));
    if (item.bytes) gz.write(item.bytes);
    else copyFile(item, buf, (b) => gz.write(b));
    gz.write(tarPadding(item.size));
    onFile?.(item.size);
  }
  gz.write(TAR_END);
  gz.end();
}

export interface PackageInput {
  /** Where the package goes; written through a temp file in the same directory, then renamed. */
  output: string;
  label: string;
  type: string;
  /** code.tar.gz's entries in canonical order (tree.ts canonical). */
  items: CodeItem[];
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

export function writePackage(input: PackageInput): PackageResult {
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
    writeCodeTarGz(input.items, innerFd, input.onFile);
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

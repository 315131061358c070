// The package's gzip streams, byte for byte reproducible: GzipWriter (one deflate stream, synchronous;
// the outer file) and ChunkedGzip (the stream cut into chunks compressed on worker threads; code.tar.gz).
// Deflate is fflate's (pure JS, so no dependence on the zlib the runtime links); only the CRC-32, a
// fixed function, comes from zlib. Header: no mtime, XFL from the level, OS byte 3, as fflate's Gzip.
import * as zlib from 'node:zlib';
import { Deflate } from 'fflate';
import { CHUNK, PUSH, WINDOW, deflateChunk, type DeflateJob } from './deflate-chunk.js';
import { DeflatePool } from './deflate-pool.js';

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

function gzipHeader(level: number): Uint8Array {
  return Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, level < 2 ? 4 : level === 9 ? 2 : 0, 3);
}

function gzipTrailer(crc: number, size: number): Uint8Array {
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc, 0);
  trailer.writeUInt32LE(size % 2 ** 32, 4);
  return trailer;
}

/**
 * gzip with input pushed in fixed PUSH-sized pieces: the output is a function of the bytes alone.
 * The bytes are exactly fflate's Gzip fed those pushes, but with the CRC computed natively (fflate's
 * CRC in JS costs about a quarter of a level 3 deflate) and level 0 written here (fflate copies stored
 * bytes one at a time).
 */
export class GzipWriter {
  private buf = new Uint8Array(PUSH);
  private fill = 0;
  private crc = 0;
  private size = 0;
  private deflate?: Deflate;

  constructor(level: number, private out: (chunk: Uint8Array) => void) {
    if (level !== 0) this.deflate = new Deflate({ level: level as 6 }, (chunk) => out(chunk));
    out(gzipHeader(level));
  }

  write(bytes: Uint8Array): void {
    let pos = 0;
    while (pos < bytes.length) {
      const n = Math.min(PUSH - this.fill, bytes.length - pos);
      this.buf.set(bytes.subarray(pos, pos + n), this.fill);
      this.fill += n;
      pos += n;
      if (this.fill === PUSH) this.push(this.buf, false);
    }
  }

  end(): void {
    this.push(this.buf.subarray(0, this.fill), true);
    this.out(gzipTrailer(this.crc, this.size));
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
 * What fflate's streaming level 0 emits for one push (every push but the last is exactly PUSH bytes):
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

export interface ChunkedGzipOptions {
  /** A deflate level from 1 to 9. */
  level: number;
  /** Worker threads to compress on besides this one; 0: this thread only. The bytes do not depend on it. */
  threads: number;
  out: (bytes: Uint8Array) => void;
}

/** Chunks compressed but not yet written: bounds the memory held for ordering. */
const AHEAD = 4;

/**
 * gzip whose deflate stream is cut every CHUNK bytes (deflate-chunk.ts), written in order. Chunks go to
 * `threads` worker threads while this thread reads and tars the next ones; when every worker is busy,
 * this thread compresses the chunk itself. Each isolate keeps tens of MB of garbage between its
 * collections, so this thread taking part saves one worker, and on two cores one worker plus this
 * thread packaged a 100 MB tree in 2.3 s against 2.6-2.8 s for two workers. Few chunks are in flight,
 * so nothing held grows with the input. A stream of at most CHUNK bytes is one chunk: it starts no
 * thread and is exactly GzipWriter's output, so those packages kept the IDs they had before chunking.
 */
export class ChunkedGzip {
  private chunk = new Uint8Array(CHUNK);
  private fill = 0;
  private jobs = 0;
  private crc = 0;
  private size = 0;
  private dictionary?: Uint8Array;
  private readonly ahead: Promise<Uint8Array>[] = [];
  private pool?: DeflatePool;

  constructor(private readonly o: ChunkedGzipOptions) {
    o.out(gzipHeader(o.level));
  }

  async write(bytes: Uint8Array): Promise<void> {
    for (let pos = 0; pos < bytes.length;) {
      // A full chunk is sent only once more bytes come, so a stream of exactly CHUNK bytes is one chunk.
      if (this.fill === CHUNK) await this.submit(false);
      const n = Math.min(CHUNK - this.fill, bytes.length - pos);
      this.chunk.set(bytes.subarray(pos, pos + n), this.fill);
      this.fill += n;
      pos += n;
    }
  }

  /** Writes the rest and the trailer, and stops the threads. */
  async end(): Promise<void> {
    await this.submit(true);
    while (this.ahead.length > 0) this.o.out(await this.ahead.shift()!);
    this.o.out(gzipTrailer(this.crc, this.size));
    await this.close();
  }

  /** Stops the threads; for when the stream is abandoned (end() calls it too). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
  }

  private async submit(last: boolean): Promise<void> {
    const data = this.chunk.subarray(0, this.fill);
    this.crc = crc32(data, this.crc);
    this.size += data.length;
    const job: DeflateJob = { id: this.jobs++, data, dictionary: this.dictionary, last, level: this.o.level };
    if (!last) this.dictionary = data.slice(-WINDOW);
    if (this.o.threads > 0 && !(last && job.id === 0)) {
      this.pool ??= new DeflatePool(this.o.threads);
      // Let finished jobs come back, so hasRoom() sees the workers as they are.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (this.pool?.hasRoom()) {
      const result = this.pool.run(job);
      // Awaited below in order; until then a failure must not count as unhandled.
      result.catch(() => {});
      this.ahead.push(result);
      this.chunk = new Uint8Array(CHUNK);
    } else {
      this.ahead.push(Promise.resolve(deflateChunk(job)));
    }
    this.fill = 0;
    while (this.ahead.length > AHEAD) this.o.out(await this.ahead.shift()!);
  }
}

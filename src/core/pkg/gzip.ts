// The package's gzip streams, byte for byte reproducible: GzipWriter (synchronous, on this thread; the
// outer file) and ChunkedGzip (the same bytes, with chunks compressed on worker threads too;
// code.tar.gz). Deflate is libdeflate's built to WebAssembly (deflate-chunk.ts), so no dependence on
// the zlib the runtime links; only the CRC-32, a fixed function, comes from zlib. Header: no mtime, XFL
// from the level, OS byte 3.
import * as zlib from 'node:zlib';
import { CHUNK, deflateChunk, type DeflateJob } from './deflate-chunk.js';
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

/** Level 0 is written in stored blocks of the input cut every PUSH bytes. */
export const PUSH = 1 << 16;

/**
 * gzip written synchronously: level 0 in stored blocks (storedBlocks), any other level in CHUNK-sized
 * chunks deflated on this thread, exactly as ChunkedGzip writes them on any number of threads.
 */
export class GzipWriter {
  private buf: Uint8Array;
  private fill = 0;
  private crc = 0;
  private size = 0;
  private jobs = 0;

  constructor(private readonly level: number, private readonly out: (chunk: Uint8Array) => void) {
    this.buf = new Uint8Array(level === 0 ? PUSH : CHUNK);
    out(gzipHeader(level));
  }

  write(bytes: Uint8Array): void {
    for (let pos = 0; pos < bytes.length;) {
      // A full buffer is pushed only once more bytes come, so the last push is never empty unless the
      // stream is (and a stream of exactly CHUNK bytes is one chunk, as in ChunkedGzip).
      if (this.fill === this.buf.length) this.push(this.buf, false);
      const n = Math.min(this.buf.length - this.fill, bytes.length - pos);
      this.buf.set(bytes.subarray(pos, pos + n), this.fill);
      this.fill += n;
      pos += n;
    }
  }

  end(): void {
    this.push(this.buf.subarray(0, this.fill), true);
    this.out(gzipTrailer(this.crc, this.size));
  }

  private push(block: Uint8Array, final: boolean): void {
    this.crc = crc32(block, this.crc);
    this.size += block.length;
    if (this.level === 0) this.out(storedBlocks(block, final));
    else this.out(deflateChunk({ id: this.jobs++, data: block, last: final, level: this.level }));
    this.fill = 0;
  }
}

/**
 * Level 0's bytes for one push (every push but the last is exactly PUSH bytes): the bytes in stored
 * blocks of at most 65535, the last block of the last push marked final (an empty push: one empty block).
 */
function storedBlocks(data: Uint8Array, final: boolean): Uint8Array {
  const MAX = 0xffff;
  const blocks = Math.max(1, Math.ceil(data.length / MAX));
  const out = Buffer.allocUnsafe(data.length + 5 * blocks);
  let at = 0;
  for (let b = 0; b < blocks; b++) {
    const piece = data.subarray(b * MAX, (b + 1) * MAX);
    out[at] = final && b === blocks - 1 ? 1 : 0;
    out.writeUInt16LE(piece.length, at + 1);
    out.writeUInt16LE(piece.length ^ MAX, at + 3);
    out.set(piece, at + 5);
    at += 5 + piece.length;
  }
  return out;
}

export interface ChunkedGzipOptions {
  /** A deflate level from 1 to 12. */
  level: number;
  /** Worker threads to compress on besides this one; 0: this thread only. The bytes do not depend on it. */
  threads: number;
  /** Threads started ahead (startDeflateThreads in write.ts), used instead of starting `threads`; closed with the stream. */
  pool?: DeflatePool;
  out: (bytes: Uint8Array) => void;
}

/** Chunks compressed but not yet written: bounds the memory held for ordering. */
const AHEAD = 4;

/**
 * gzip whose deflate stream is cut every CHUNK bytes (deflate-chunk.ts), written in order. Chunks go to
 * `threads` worker threads while this thread reads and tars the next ones; when every worker is busy,
 * this thread compresses the chunk itself, so on two cores one worker plus this thread keep both busy.
 * Few chunks are in flight, so nothing held grows with the input. The bytes are GzipWriter's for the
 * same level and input, whatever the number of threads.
 */
export class ChunkedGzip {
  private chunk = new Uint8Array(CHUNK);
  private fill = 0;
  private jobs = 0;
  private crc = 0;
  private size = 0;
  private readonly ahead: Promise<Uint8Array>[] = [];
  private pool?: DeflatePool;

  constructor(private readonly o: ChunkedGzipOptions) {
    this.pool = o.pool;
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
    const job: DeflateJob = { id: this.jobs++, data, last, level: this.o.level };
    if ((this.pool || this.o.threads > 0) && !(last && job.id === 0)) {
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

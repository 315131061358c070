// One chunk of code.tar.gz's deflate stream, compressed by libdeflate 1.14 (Debian's source package
// libdeflate 1.14-1, native/libdeflate) built to WebAssembly
// (native/deflate-wasm.c, scripts/build-deflate-wasm.ts; the module is committed as
// src/generated/deflate-wasm.ts). The bytes are fixed by that module's code and the input alone: not by
// the runtime's zlib, the CPU or the number of threads. The stream is cut every CHUNK bytes of input;
// each chunk is compressed on its own (so threads can share them) and every chunk but the last ends in
// a sync flush (an empty stored block, byte-aligned) without BFINAL, so the chunks join into one deflate
// stream. The cut points depend only on byte offsets.
import { DEFLATE_WASM_BASE64 } from '../../generated/deflate-wasm.js';

/** Bytes of uncompressed stream per chunk. Part of the format: changing it changes package IDs. */
export const CHUNK = 1 << 20;

export interface DeflateJob {
  id: number;
  data: Uint8Array;
  last: boolean;
  level: number;
}

interface Exports {
  memory: WebAssembly.Memory;
  extb_alloc(n: number): number;
  extb_bound(n: number): number;
  extb_deflate(level: number, input: number, n: number, output: number, avail: number, final: number): number;
}

let compiled: WebAssembly.Module | undefined;

/** The compiled module (compiled once per process; a worker is handed it rather than compiling it again). */
export function deflateModule(): WebAssembly.Module {
  return (compiled ??= new WebAssembly.Module(Buffer.from(DEFLATE_WASM_BASE64, 'base64')));
}

/** A module instance with its input and output buffers, one per thread, reused for every chunk. */
export class ChunkDeflater {
  private readonly x: Exports;
  private readonly input: number;
  private readonly output: number;
  private readonly room: number;

  constructor(module: WebAssembly.Module) {
    this.x = new WebAssembly.Instance(module, {}).exports as unknown as Exports;
    this.room = this.x.extb_bound(CHUNK);
    this.input = this.x.extb_alloc(CHUNK);
    this.output = this.x.extb_alloc(this.room);
    if (!this.input || !this.output) throw new Error('the deflate module could not allocate its buffers');
  }

  /** A chunk's raw deflate bytes (a fresh buffer). */
  deflate(job: DeflateJob): Uint8Array {
    const { data } = job;
    if (job.last ? data.length > CHUNK : data.length !== CHUNK) {
      throw new Error(job.last ? `the last chunk is over ${CHUNK} bytes` : `a chunk that is not the last must be exactly ${CHUNK} bytes`);
    }
    new Uint8Array(this.x.memory.buffer, this.input, data.length).set(data);
    const n = this.x.extb_deflate(job.level, this.input, data.length, this.output, this.room, job.last ? 1 : 0);
    if (n === 0) throw new Error(`the deflate module failed (level ${job.level}, ${data.length} bytes)`);
    return new Uint8Array(this.x.memory.buffer, this.output, n).slice();
  }
}

let local: ChunkDeflater | undefined;

/** deflateChunk on this thread's own instance. */
export function deflateChunk(job: DeflateJob): Uint8Array {
  return (local ??= new ChunkDeflater(deflateModule())).deflate(job);
}

// Worker threads that compress chunks for gzip.ts ChunkedGzip: a job goes to the least busy worker,
// results come back by job id. A worker that fails fails every job still waiting, so the package fails
// instead of hanging.
import { Worker } from 'node:worker_threads';
import { DEFLATE_WORKER_SOURCE } from '../../generated/deflate-worker.js';
import { ExtError } from '../errors.js';
import { deflateModule, type DeflateJob } from './deflate-chunk.js';

interface Waiting {
  resolve: (out: Uint8Array) => void;
  reject: (err: Error) => void;
  worker: number;
}

/** Jobs queued per worker: one compressing, one ready to start, so a worker never waits for this thread. */
const QUEUE = 2;

export class DeflatePool {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, Waiting>();
  private readonly queued: number[] = [];
  private closed = false;
  private failure?: Error;

  constructor(size: number) {
    // Compiled once here; each worker instantiates the same compiled module.
    const module = deflateModule();
    for (let i = 0; i < size; i++) {
      const worker = new Worker(DEFLATE_WORKER_SOURCE, { eval: true, workerData: { module } });
      worker.on('message', (m: { id: number; out: Uint8Array }) => {
        const w = this.waiting.get(m.id);
        if (!w) return;
        this.waiting.delete(m.id);
        if (--this.queued[w.worker]! === 0) this.workers[w.worker]!.unref();
        w.resolve(m.out);
      });
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => { if (!this.closed) this.fail(new Error(`a deflate worker thread exited (code ${code})`)); });
      // An idle worker does not keep the process alive (a pool started early and never used, as when
      // the package fails before it is written, must not hold the CLI's exit); a busy one does.
      worker.unref();
      this.workers.push(worker);
      this.queued.push(0);
    }
  }

  /** Whether a worker has room for another job (finished jobs are counted once the event loop ran). */
  hasRoom(): boolean {
    return this.failure !== undefined || this.queued.some((n) => n < QUEUE);
  }

  /** Compresses `job` on the least busy worker; `job.data`'s buffer is handed over to it. */
  run(job: DeflateJob): Promise<Uint8Array> {
    if (this.failure) return Promise.reject(this.failure);
    const worker = this.queued.indexOf(Math.min(...this.queued));
    if (this.queued[worker]!++ === 0) this.workers[worker]!.ref();
    return new Promise((resolve, reject) => {
      this.waiting.set(job.id, { resolve, reject, worker });
      this.workers[worker]!.postMessage(job, [job.data.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private fail(err: Error): void {
    this.failure ??= new ExtError('INTERNAL', `a deflate worker thread failed: ${err.message}`, 'rerun with EXTBUILDER_DEBUG=1 and report it', { cause: err });
    for (const w of this.waiting.values()) w.reject(this.failure);
    this.waiting.clear();
  }
}

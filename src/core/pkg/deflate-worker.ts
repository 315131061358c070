// A deflate worker thread: compresses one chunk per message, on its own instance of the deflate module
// it is handed in workerData (compiled once by the main thread). `npm run gen` bundles this file into
// src/generated/deflate-worker.ts as source text, so a worker starts the same way from the sources, the
// npm bundle and a standalone executable (which has no script file to start a worker from).
import { parentPort, workerData } from 'node:worker_threads';
import { ChunkDeflater, type DeflateJob } from './deflate-chunk.js';

const deflater = new ChunkDeflater((workerData as { module: WebAssembly.Module }).module);

parentPort!.on('message', (job: DeflateJob) => {
  const out = deflater.deflate(job);
  parentPort!.postMessage({ id: job.id, out }, [out.buffer as ArrayBuffer]);
});

// A deflate worker thread: compresses one chunk per message. `npm run gen` bundles this file into
// src/generated/deflate-worker.ts as source text, so a worker starts the same way from the sources, the
// npm bundle and a standalone executable (which has no script file to start a worker from).
import { parentPort } from 'node:worker_threads';
import { deflateChunk, type DeflateJob } from './deflate-chunk.js';

parentPort!.on('message', (job: DeflateJob) => {
  const out = deflateChunk(job);
  parentPort!.postMessage({ id: job.id, out }, [out.buffer as ArrayBuffer]);
});

// One chunk of code.tar.gz's deflate stream. The stream is cut into CHUNK-sized pieces compressed on
// their own (so worker threads can share them) yet joined into one valid stream; the cut points depend
// only on byte offsets, so the bytes are the same however many threads compress them.
import { Deflate } from 'fflate';

/** fflate is fed in pushes of this size: its output depends on how its input is split. */
export const PUSH = 1 << 16;
/** Bytes of uncompressed stream per chunk: a multiple of PUSH. */
export const CHUNK = 1 << 20;
/** Deflate's window: how far back a match may reach, so how much of the previous chunk primes the next. */
export const WINDOW = 1 << 15;

export interface DeflateJob {
  id: number;
  data: Uint8Array;
  /** The previous chunk's last WINDOW bytes; none for the first chunk. */
  dictionary?: Uint8Array;
  last: boolean;
  level: number;
}

/**
 * A chunk's raw deflate bytes. Primed with the previous chunk's tail, so matches reach back across the
 * cut as in one stream; every chunk but the last ends in a sync flush (an empty stored block, which
 * byte-aligns the output), after which the next chunk's stream continues the same deflate stream.
 * A stream of one chunk is exactly what one Deflate fed the same pushes gives (gzip.ts GzipWriter).
 */
export function deflateChunk(job: DeflateJob): Uint8Array {
  const parts: Uint8Array[] = [];
  const deflate = new Deflate({ level: job.level as 3, dictionary: job.dictionary }, (chunk) => parts.push(chunk));
  const { data } = job;
  let pos = 0;
  for (; pos + PUSH <= data.length; pos += PUSH) deflate.push(data.subarray(pos, pos + PUSH), false);
  if (job.last) {
    deflate.push(data.subarray(pos), true);
  } else {
    if (pos !== data.length) throw new Error(`a chunk that is not the last must be a multiple of ${PUSH} bytes`);
    parts.push(syncFlush(deflate));
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Deflates what is buffered, then returns the pending bits followed by an empty non-final stored block
 * (zlib's Z_SYNC_FLUSH). fflate 0.8.3's own flush(true) passes its carried partial byte as a bit
 * position and emits a corrupt marker, so only its flush(false) is used and the marker is written here
 * from the carried state (`s.r`: bit count in the low 3 bits, the partial byte above them).
 */
function syncFlush(deflate: Deflate): Uint8Array {
  deflate.flush(false);
  const carried = (deflate as unknown as { s: { r?: number } }).s.r ?? 0;
  const bits = carried & 7;
  const partial = carried >> 3;
  // The block header is 3 zero bits after the pending ones, then zero padding to the byte boundary,
  // then LEN 0x0000 and NLEN 0xffff.
  if (bits === 0) return Uint8Array.of(0, 0, 0, 0xff, 0xff);
  if (bits <= 5) return Uint8Array.of(partial, 0, 0, 0xff, 0xff);
  return Uint8Array.of(partial, 0, 0, 0, 0xff, 0xff);
}

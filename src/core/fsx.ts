// File-system helpers: all-or-nothing output directories and writes with explicit modes.
import { mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { ExtError } from './errors.js';

const PARTIAL_PREFIX = '.extbuilder-partial-';
/** Renamed into place after every other entry: its presence marks a complete output. */
const LAST = 'build.json';

function writeError(path: string, err: unknown): ExtError {
  const e = err as NodeJS.ErrnoException;
  const fix = e.code === 'ENOSPC' ? 'free disk space on the peer and retry the install'
    : e.code === 'EACCES' || e.code === 'EPERM' ? 'the peer user must own the directory'
      : 'check the peer\'s file system';
  return new ExtError('OUTPUT_WRITE', `cannot write ${path}: ${e.code ?? e.message}`, fix, { cause: err });
}

/**
 * Fills `dir` all or nothing: `fill` writes into a private scratch directory inside `dir`, whose
 * entries are renamed into place only once it returns. On any failure `dir` keeps nothing from this
 * run. A SIGKILL may leave the scratch directory; the peer then deletes its scratch tree anyway, since
 * the phase exits non-zero.
 */
export async function fillAtomically<T>(dir: string, fill: (scratch: string) => Promise<T> | T): Promise<T> {
  let scratch: string;
  try {
    scratch = mkdtempSync(join(dir, PARTIAL_PREFIX));
  } catch (err) {
    throw writeError(dir, err);
  }
  try {
    const result = await fill(scratch);
    // build.json goes in last: release and run trust an output dir that has it, so a build killed
    // between two renames must not leave it next to a partial output.
    const names = readdirSync(scratch).sort((a, b) => Number(a === LAST) - Number(b === LAST));
    for (const name of names) {
      const target = join(dir, name);
      rmSync(target, { recursive: true, force: true });
      renameSync(join(scratch, name), target);
    }
    rmSync(scratch, { recursive: true, force: true });
    return result;
  } catch (err) {
    rmSync(scratch, { recursive: true, force: true });
    if (err instanceof ExtError) throw err;
    if ((err as NodeJS.ErrnoException).code) throw writeError(dir, err);
    throw err;
  }
}

/** Writes a file with an exact mode (the umask does not apply), creating its parent directories 0700. */
export function writeFileWithMode(path: string, data: string | Uint8Array, mode: number): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, data, { mode });
    chmodSync(path, mode);
  } catch (err) {
    throw writeError(path, err);
  }
}

// release's logic: put what the peer reads into RELEASE_OUTPUT_DIR (contract section 5).
import { copyFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ExtError } from '../core/errors.js';
import { fillAtomically, writeFileWithMode } from '../core/fsx.js';
import { readBuildOutput } from './output.js';

export interface ReleaseInputs {
  buildDir: string;
  releaseDir: string;
}

/** Returns the summary line. Safe to run twice: existing outputs are replaced. */
export async function release({ buildDir, releaseDir }: ReleaseInputs): Promise<string> {
  const built = readBuildOutput(buildDir);
  await fillAtomically(releaseDir, (scratch) => {
    if (built.mode === 'service') {
      const src = join(buildDir, 'connection.json');
      let text: string;
      try {
        text = readFileSync(src, 'utf8');
      } catch (err) {
        throw new ExtError('BUILD_OUTPUT_INVALID', `BUILD_OUTPUT_DIR has no readable connection.json (${(err as NodeJS.ErrnoException).code})`, 'rebuild the package', { cause: err });
      }
      // The peer reads chaincode/server/connection.json; keep the build's mode (0600 with a key).
      writeFileWithMode(join(scratch, 'chaincode', 'server', 'connection.json'), text, statSync(src).mode & 0o777);
    }
    for (const rel of built.indexes) {
      const target = join(scratch, rel);
      mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
      copyFileSync(join(buildDir, rel), target);
    }
  });
  const n = built.indexes.length;
  return `${built.mode}: ${built.mode === 'service' ? 'chaincode/server/connection.json, ' : 'no connection.json (the peer calls run), '}${n} ${n === 1 ? 'index' : 'indexes'}`;
}

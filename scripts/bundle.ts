// Bundles src/entry.ts into dist/extbuilder.cjs, the one file that bin/extbuilder and the standalone
// executables run. Modules behind dynamic import() are initialised only when reached, so the phase
// path pays nothing for the CLI.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export async function bundle(): Promise<void> {
  await build({
    entryPoints: [join(root, 'src', 'entry.ts')],
    outfile: join(root, 'dist', 'extbuilder.cjs'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minify: false,
    legalComments: 'none',
    logLevel: 'warning',
    // yargs (ESM) reads import.meta.url at load; in a CJS bundle it is derived from the file name.
    define: { 'import.meta.url': '__import_meta_url' },
    banner: { js: 'const __import_meta_url = require("url").pathToFileURL(__filename).href;' },
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await bundle();

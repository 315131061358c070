// Bundles src/entry.ts into dist/extbuilder.cjs, the one file that bin/extbuilder and the standalone
// executables run. Modules behind dynamic import() are initialised only when reached, so the phase
// path pays nothing for running the CLI; the CLI (yargs and every command) is also kept out of the
// parse: it is bundled on its own and embedded as a string that is compiled only when the CLI runs.
// V8 pre-parses every function in a file it loads, and the ~270 KB of CLI code cost each phase start
// about 5 ms (detect on a foreign package went from 1.4x to ~1.15x of bare node; see bench/RESULTS.md).
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const common: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: false,
  legalComments: 'none',
  logLevel: 'warning',
};

/** yargs (ESM) reads import.meta.url at load; in a CJS bundle it is derived from the file name. Only the
 * CLI needs it: computing it costs the phases ~0.7 ms at start. */
const importMetaUrl: BuildOptions = {
  define: { 'import.meta.url': '__import_meta_url' },
  banner: { js: 'const __import_meta_url = require("url").pathToFileURL(__filename).href;' },
};

/**
 * Resolves main.ts's `import('./cli/index.js')` to the embedded CLI source. It runs with the bundle's
 * own require (builtins only are needed: everything else is bundled in), so it works the same in the
 * standalone executable. The CLI carries its own copies of the core modules it shares with the phases.
 */
function embeddedCli(source: string): Plugin {
  return {
    name: 'embedded-cli',
    setup(b) {
      b.onResolve({ filter: /^\.\/cli\/index\.js$/ }, (args) =>
        args.importer.endsWith(join('src', 'main.ts')) ? { path: 'cli', namespace: 'embedded-cli' } : undefined);
      b.onLoad({ filter: /.*/, namespace: 'embedded-cli' }, () => ({
        loader: 'js',
        contents: [
          'const { compileFunction } = require("node:vm");',
          'const { brotliDecompressSync } = require("node:zlib");',
          `const body = brotliDecompressSync(Buffer.from(${JSON.stringify(brotliCompressSync(source).toString('base64'))}, "base64")).toString("utf8");`,
          'const run = compileFunction(body, ["exports", "require", "module", "__filename", "__dirname"], { filename: __filename + "#cli" });',
          'const cliModule = { exports: {} };',
          'run(cliModule.exports, require, cliModule, __filename, __dirname);',
          'module.exports = cliModule.exports;',
        ].join('\n'),
      }));
    },
  };
}

export async function bundle(): Promise<void> {
  const cli = await build({ ...common, ...importMetaUrl, entryPoints: [join(root, 'src', 'cli', 'index.ts')], write: false, outfile: 'cli.cjs' });
  await build({
    ...common,
    entryPoints: [join(root, 'src', 'entry.ts')],
    outfile: join(root, 'dist', 'extbuilder.cjs'),
    plugins: [embeddedCli(cli.outputFiles[0]!.text)],
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await bundle();

// Bundles src/entry.ts into dist/extbuilder.cjs, the one file that bin/extbuilder and the standalone
// executables run. Modules behind dynamic import() are initialised only when reached, so the phase
// path pays nothing for running the CLI; the CLI (yargs, grpc and every command) is also kept out of the
// parse: it is bundled on its own and embedded, compressed, in a comment that is read and compiled only
// when the CLI runs. V8 pre-parses every function in a file it loads: 4 MB of CLI code as functions, or
// 0.5 MB as a string literal, cost each phase start more than the 1.3x-of-bare-node budget allows
// (see bench/RESULTS.md).
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
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

const BLOB_PLACEHOLDER = '__EXTBUILDER_CLI_BLOB__';

/**
 * Resolves main.ts's `import('./cli/index.js')` to the embedded CLI source. The source (brotli, base64)
 * sits in a comment inside a function and is read back through Function.prototype.toString: V8 skips a
 * comment without copying it, where a string literal of the same size cost every phase ~3 ms at start. It runs with the bundle's
 * own require (builtins only are needed: everything else is bundled in), so it works the same in the
 * standalone executable. The CLI carries its own copies of the core modules it shares with the phases.
 */
function embeddedCli(): Plugin {
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
          `function cliBlob() { return ${JSON.stringify(BLOB_PLACEHOLDER)}; }`,
          'const text = cliBlob.toString();',
          'const blob = text.slice(text.indexOf("/*") + 2, text.lastIndexOf("*/"));',
          'const body = brotliDecompressSync(Buffer.from(blob, "base64")).toString("utf8");',
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
  const outfile = join(root, 'dist', 'extbuilder.cjs');
  const main = await build({ ...common, entryPoints: [join(root, 'src', 'entry.ts')], outfile, write: false, plugins: [embeddedCli()] });
  const text = main.outputFiles[0]!.text;
  const quoted = JSON.stringify(BLOB_PLACEHOLDER);
  if (text.split(quoted).length !== 2) throw new Error('bundle: the CLI placeholder is not in the bundle exactly once');
  // esbuild drops comments, so the blob goes in afterwards; base64 never holds "*/".
  const blob = brotliCompressSync(cli.outputFiles[0]!.text).toString('base64');
  mkdirSync(dirname(outfile), { recursive: true });
  writeFileSync(outfile, text.replace(quoted, `/*${blob}*/ ""`));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await bundle();

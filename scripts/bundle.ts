// Bundles the program into two files: dist/extbuilder.cjs (the entry and the four peer phases), which
// bin/extbuilder and the standalone executables run, and dist/cli.cjs (the user CLI: yargs, gRPC and every
// command), loaded only when the program is not called as a phase. Every phase start reads and compiles
// the entry file, so keeping the CLI out of it saves each phase several milliseconds (bench/RESULTS.md).
// In a standalone executable cli.cjs is a SEA asset (scripts/binaries/sea.ts) instead of a file beside it.
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
 * The CommonJS wrapper the standalone executable compiles cli.cjs in. Its V8 code cache (the cli.cache asset,
 * scripts/binaries/sea.ts) is made for exactly this source text, so both sides take it from here.
 */
export const CLI_WRAPPER = ['(function (exports, require, module, __filename, __dirname) {', '\n})'] as const;

/**
 * Resolves main.ts's `import('./cli/index.js')` to a loader of dist/cli.cjs: from the file beside the entry
 * for an npm install, from the SEA asset inside a standalone executable (whose require() loads builtins
 * only, so the CLI is compiled here with the executable's require, which is all the bundled CLI needs).
 */
function separateCli(): Plugin {
  return {
    name: 'separate-cli',
    setup(b) {
      b.onResolve({ filter: /^\.\/cli\/index\.js$/ }, (args) =>
        args.importer.endsWith(join('src', 'main.ts')) ? { path: 'cli', namespace: 'separate-cli' } : undefined);
      b.onLoad({ filter: /.*/, namespace: 'separate-cli' }, () => ({
        loader: 'js',
        contents: [
          'let sea;',
          'try { sea = require("node:sea"); } catch { sea = undefined; }',
          'if (sea && sea.isSea()) {',
          '  const { Script } = require("node:vm");',
          '  let cachedData;',
          '  try { cachedData = Buffer.from(sea.getAsset("cli.cache")); } catch { cachedData = undefined; }',
          `  const script = new Script(${JSON.stringify(CLI_WRAPPER[0])} + Buffer.from(sea.getAsset("cli.cjs")).toString("latin1") + ${JSON.stringify(CLI_WRAPPER[1])}, { filename: "cli.cjs", cachedData });`,
          '  if (process.env.EXTBUILDER_DEBUG === "1") process.stderr.write(`extbuilder: debug: CLI code cache ${cachedData ? (script.cachedDataRejected ? "rejected" : "used") : "absent"}\\n`);',
          '  const cli = { exports: {} };',
          '  script.runInThisContext()(cli.exports, require, cli, __filename, __dirname);',
          '  module.exports = cli.exports;',
          '} else {',
          '  module.exports = require(require("node:path").join(__dirname, "cli.cjs"));',
          '}',
        ].join("\n"),
      }));
    },
  };
}

/**
 * yargs takes strictEqual and notStrictEqual from node:assert, and loading that builtin cost each CLI start
 * about 7 ms in the standalone executable; these two are all it uses.
 */
function lightAssert(): Plugin {
  return {
    name: 'light-assert',
    setup(b) {
      b.onResolve({ filter: /^assert$/ }, (args) => (args.importer.includes(`${join('node_modules', 'yargs')}`) ? { path: 'assert', namespace: 'light-assert' } : undefined));
      b.onLoad({ filter: /.*/, namespace: 'light-assert' }, () => ({
        loader: 'js',
        contents: [
          'const fail = (a, b, m, op) => { const e = new Error(m || `${String(a)} ${op} ${String(b)}`); e.code = "ERR_ASSERTION"; throw e; };',
          'export const strictEqual = (a, b, m) => { if (!Object.is(a, b)) fail(a, b, m, "!=="); };',
          'export const notStrictEqual = (a, b, m) => { if (Object.is(a, b)) fail(a, b, m, "==="); };',
        ].join('\n'),
      }));
    },
  };
}

/**
 * The standalone executable reads cli.cjs as Latin-1, which is free for ASCII (UTF-8 decoding 4 MB was
 * 10 ms of every CLI start), so the few non-ASCII characters esbuild leaves (in comments) are escaped.
 */
function toAscii(file: string): void {
  const text = readFileSync(file, 'utf8');
  // eslint-disable-next-line no-control-regex
  const ascii = text.replace(/[^\u0000-\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (ascii !== text) writeFileSync(file, ascii);
}

export async function bundle(): Promise<void> {
  const dist = join(root, 'dist');
  await build({ ...common, ...importMetaUrl, charset: 'ascii', entryPoints: [join(root, 'src', 'cli', 'index.ts')], outfile: join(dist, 'cli.cjs'), plugins: [lightAssert()] });
  toAscii(join(dist, 'cli.cjs'));
  await build({ ...common, entryPoints: [join(root, 'src', 'entry.ts')], outfile: join(dist, 'extbuilder.cjs'), plugins: [separateCli()] });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await bundle();

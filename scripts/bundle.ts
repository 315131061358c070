// Bundles the program into two files: dist/extbuilder.cjs (the entry and the four peer phases), which
// bin/extbuilder and the standalone executables run, and dist/cli.cjs (the user CLI: yargs, gRPC and every
// command), loaded only when the program is not called as a phase. Every phase start reads and compiles
// the entry file, so keeping the CLI out of it saves each phase several milliseconds (bench/RESULTS.md).
// In a standalone executable cli.cjs is a SEA asset (scripts/binaries/sea.ts) instead of a file beside it.
import { build, type BuildOptions, type Plugin } from 'esbuild';
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
          '  const { compileFunction } = require("node:vm");',
          '  const run = compileFunction(sea.getAsset("cli.cjs", "utf8"), ["exports", "require", "module", "__filename", "__dirname"], { filename: "cli.cjs" });',
          '  const cli = { exports: {} };',
          '  run(cli.exports, require, cli, __filename, __dirname);',
          '  module.exports = cli.exports;',
          '} else {',
          '  module.exports = require(require("node:path").join(__dirname, "cli.cjs"));',
          '}',
        ].join("\n"),
      }));
    },
  };
}

export async function bundle(): Promise<void> {
  const dist = join(root, 'dist');
  await build({ ...common, ...importMetaUrl, entryPoints: [join(root, 'src', 'cli', 'index.ts')], outfile: join(dist, 'cli.cjs') });
  await build({ ...common, entryPoints: [join(root, 'src', 'entry.ts')], outfile: join(dist, 'extbuilder.cjs'), plugins: [separateCli()] });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await bundle();

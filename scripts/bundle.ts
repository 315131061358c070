// Bundles the program into three files: dist/extbuilder.cjs (the entry and the four peer phases), which
// bin/extbuilder and the standalone executables run; dist/cli.cjs (the user CLI: yargs, gRPC and every
// command), loaded only when the program is not called as a phase; and dist/kube.cjs (the Kubernetes launcher
// and @kubernetes/client-node), loaded only by what launches or checks pods. Every phase start reads and compiles
// the entry file, so keeping the CLI out of it saves each phase several milliseconds (bench/RESULTS.md).
// In a standalone executable cli.cjs and kube.cjs are SEA assets (scripts/binaries/sea.ts) instead of files beside it.
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
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
 * The CommonJS wrapper the standalone executable compiles a chunk (cli.cjs, kube.cjs) in. Its V8 code cache
 * (the <chunk>.cache asset, scripts/binaries/sea.ts) is made for exactly this source text, so both sides take it from here.
 */
export const CLI_WRAPPER = ['(function (exports, require, module, __filename, __dirname) {', '\n})'] as const;

/**
 * The separately bundled chunks, beside dist/extbuilder.cjs (or SEA assets `<name>.cjs` and `<name>.cache` in
 * a standalone executable), each loaded only when its code runs: the user CLI (yargs, gRPC and every command)
 * and the Kubernetes launcher (@kubernetes/client-node, 15 MB of it).
 */
export const CHUNKS = [
  { name: 'cli', entry: join('src', 'cli', 'index.ts'), onlyFrom: join('src', 'main.ts') },
  { name: 'quick', entry: join('src', 'cli', 'quick.ts'), onlyFrom: join('src', 'main.ts') },
  { name: 'kube', entry: join('src', 'kube', 'index.ts'), onlyFrom: undefined },
] as const;
export type ChunkName = (typeof CHUNKS)[number]['name'];

/** The module a chunk's importers get instead of its code: it loads the chunk, from the SEA or from beside this file. */
function chunkLoader(name: ChunkName): string {
  return [
    'let sea;',
    'try { sea = require("node:sea"); } catch { sea = undefined; }',
    'if (sea && sea.isSea()) {',
    '  const { Script } = require("node:vm");',
    '  let cachedData;',
    `  try { cachedData = Buffer.from(sea.getAsset(${JSON.stringify(`${name}.cache`)})); } catch { cachedData = undefined; }`,
    `  const script = new Script(${JSON.stringify(CLI_WRAPPER[0])} + Buffer.from(sea.getAsset(${JSON.stringify(`${name}.cjs`)})).toString("latin1") + ${JSON.stringify(CLI_WRAPPER[1])}, { filename: ${JSON.stringify(`${name}.cjs`)}, cachedData });`,
    `  if (process.env.EXTBUILDER_DEBUG === "1") process.stderr.write(\`extbuilder: debug: ${name}.cjs code cache \${cachedData ? (script.cachedDataRejected ? "rejected" : "used") : "absent"}\\n\`);`,
    '  const chunk = { exports: {} };',
    '  script.runInThisContext()(chunk.exports, require, chunk, __filename, __dirname);',
    '  module.exports = chunk.exports;',
    '} else {',
    `  module.exports = require(require("node:path").join(__dirname, ${JSON.stringify(`${name}.cjs`)}));`,
    '}',
  ].join('\n');
}

/**
 * Replaces the imports of separately bundled chunks by loaders of them: main.ts's `import('./cli/index.js')`
 * (cli.cjs), and any import that resolves to src/kube/index.ts, such as `await import('../kube/index.js')` from
 * src/builder or src/cli (kube.cjs). A standalone executable's require() loads builtins only, so a chunk is
 * compiled by the loader with the executable's require, which is all a bundled chunk needs. `self` is the chunk
 * being bundled, whose own entry is of course not replaced.
 */
export function separateChunks(self?: ChunkName): Plugin {
  return {
    name: 'separate-chunks',
    setup(b) {
      b.onResolve({ filter: /(^|\/)(cli\/index|cli\/quick|kube\/index)(\.js|\.ts)?$/ }, (args) => {
        if (args.kind === 'entry-point' || !(args.path.startsWith('.') || isAbsolute(args.path))) return undefined;
        const target = resolve(args.resolveDir, args.path).replace(/\.js$/, '.ts').replace(/(\/index|\/quick)$/, '$1.ts');
        // The CLI's chunks are main.ts's imports only: inside the CLI, its modules import one another as usual.
        const chunk = CHUNKS.find((c) => c.name !== self && target === join(root, c.entry) && (!c.onlyFrom || args.importer === join(root, c.onlyFrom)));
        return chunk ? { path: chunk.name, namespace: 'separate-chunk' } : undefined;
      });
      b.onLoad({ filter: /.*/, namespace: 'separate-chunk' }, (args) => ({ loader: 'js', contents: chunkLoader(args.path as ChunkName) }));
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
 * fflate's Node build loads node:worker_threads at its start (for its async API, which nothing here uses: the
 * packager runs its own workers), costing inspect about 2 ms; its other build is the same code with a browser
 * worker shim that is never called, so id and inspect take that one.
 */
function fflateWithoutWorkers(): Plugin {
  return {
    name: 'fflate-without-workers',
    setup(b) {
      b.onResolve({ filter: /^fflate$/ }, async (args) => {
        if (args.pluginData === 'fflate-node') return undefined;
        const node = await b.resolve('fflate', { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'fflate-node' });
        if (node.errors.length > 0 || !node.path.endsWith(join('esm', 'index.mjs'))) throw new Error(`fflate resolved to ${node.path}: expected its esm/index.mjs`);
        return { path: join(dirname(node.path), 'browser.js') };
      });
    },
  };
}

/**
 * node-fetch 2 (under @kubernetes/client-node) calls url.parse() for every request and loads whatwg-url and
 * tr46, which require the `punycode` builtin: from a bundle (not under node_modules) Node 22 and later print
 * DEP0169 and DEP0040 warnings on stderr for these, breaking the one-line rule of what the peer reads. The
 * builtins are what the libraries need, called without the warnings.
 */
function quietDeprecations(): Plugin {
  const quietly = (expr: string) => `(() => { const quiet = process.noDeprecation; process.noDeprecation = true; try { return ${expr}; } finally { process.noDeprecation = quiet; } })()`;
  return {
    name: 'quiet-deprecations',
    setup(b) {
      b.onResolve({ filter: /^(node:)?(punycode|url)\/?$/ }, (args) => (args.importer.includes('node_modules') ? { path: args.path.replace(/^node:|\/$/g, ''), namespace: 'quiet-deprecations' } : undefined));
      b.onLoad({ filter: /.*/, namespace: 'quiet-deprecations' }, (args) => ({
        loader: 'js',
        contents: args.path === 'punycode'
          ? `module.exports = ${quietly('require("node:punycode")')};`
          : `const url = require("node:url");\nmodule.exports = { ...url, parse: (...a) => ${quietly('url.parse(...a)')} };`,
      }));
    },
  };
}

/**
 * The standalone executable reads extbuilder.cjs and its chunks as Latin-1, which is free for ASCII (UTF-8 decoding 4 MB was
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
  await build({ ...common, ...importMetaUrl, charset: 'ascii', entryPoints: [join(root, 'src', 'cli', 'index.ts')], outfile: join(dist, 'cli.cjs'), plugins: [lightAssert(), separateChunks('cli')] });
  toAscii(join(dist, 'cli.cjs'));
  await build({ ...common, charset: 'ascii', entryPoints: [join(root, 'src', 'cli', 'quick.ts')], outfile: join(dist, 'quick.cjs'), plugins: [fflateWithoutWorkers(), separateChunks('quick')] });
  toAscii(join(dist, 'quick.cjs'));
  await build({ ...common, charset: 'ascii', entryPoints: [join(root, 'src', 'kube', 'index.ts')], outfile: join(dist, 'kube.cjs'), plugins: [quietDeprecations(), separateChunks('kube')] });
  toAscii(join(dist, 'kube.cjs'));
  await build({ ...common, charset: 'ascii', entryPoints: [join(root, 'src', 'entry.ts')], outfile: join(dist, 'extbuilder.cjs'), plugins: [separateChunks()] });
  toAscii(join(dist, 'extbuilder.cjs'));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await bundle();

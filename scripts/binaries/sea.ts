// Makes one single executable: the SEA blob from the bundle, a stripped Node, and postject to join them.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHUNKS, CLI_WRAPPER } from '../bundle.js';

export const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

export interface BlobOptions {
  bundle: string;
  /** Runs the target's own Node: [program, ...args] before the Node options (qemu and a loader for arm64). */
  node: string[];
  /** V8's code cache is architecture-specific: only when `node` is the target's Node. */
  codeCache: boolean;
}

/**
 * Node options the executable starts with. V8 grows the young generation up to 16 MB per semi-space
 * under packaging's allocation rate (peak RSS packaging 400 MB: 267 MB, 201 MB with 2); the phases
 * allocate too little to notice. --no-flush-bytecode: the code caches are made by running the phases
 * (cache-maker.cjs), and V8 otherwise may drop the bytecode of functions idle across a few GCs, whose
 * timing is the machine's; the executables' short runs never reach that ageing anyway. Given to the
 * blob's Node as well, so the code cache matches its flags.
 */
const EXEC_ARGV = ['--max-semi-space-size=2', '--no-flush-bytecode'];

/**
 * Only where the caches are made: V8's predictable mode runs GC, compilation and every other background
 * task on the main thread, in an order fixed by the program alone, so no thread's timing reaches the
 * caches. V8 does not count it among the flags a code cache must match, so the executables accept them.
 */
const BUILD_ARGV = ['--predictable'];

/** The chunks beside the bundle that ride along as SEA assets (cli.cjs, kube.cjs), each with its code cache. */
export const CHUNK_FILES = CHUNKS.map((c) => `${c.name}.cjs`);

/** What is compiled from an asset with a code cache of ours: the bundle itself and its chunks. */
const CACHED = ['extbuilder', ...CHUNKS.map((c) => c.name)];

/**
 * The executable's main: it compiles the bundle (the extbuilder.cjs asset) as the chunk loaders compile the
 * chunks, with a code cache that cache-maker.cjs made by running the phases once, so a phase finds the
 * functions it calls compiled already. (Node's own cache for main, useCodeCache, is made from a compile
 * alone and holds only top-level code; it is kept for this loader.) The bundle gets the executable's
 * require, module and file names, as it would as main.
 */
const MAIN_LOADER = [
  'const sea = require("node:sea");',
  'const { Script } = require("node:vm");',
  'let cachedData;',
  'try { cachedData = Buffer.from(sea.getAsset("extbuilder.cache")); } catch { cachedData = undefined; }',
  `const script = new Script(${JSON.stringify(CLI_WRAPPER[0])} + Buffer.from(sea.getAsset("extbuilder.cjs")).toString("latin1") + ${JSON.stringify(CLI_WRAPPER[1])}, { filename: "extbuilder.cjs", cachedData });`,
  // Said only when something is wrong: a phase's stderr is the peer's log.
  'if (process.env.EXTBUILDER_DEBUG === "1" && (!cachedData || script.cachedDataRejected)) process.stderr.write(`extbuilder: debug: extbuilder.cjs code cache ${cachedData ? "rejected" : "absent"}\\n`);',
  'script.runInThisContext()(exports, require, module, __filename, __dirname);',
  '',
].join('\n');

/**
 * The blob must come from the same Node version as the runtime. V8 seeds its code cache from a random
 * seed, which made two blobs of the same input differ; a fixed --random-seed makes them identical and
 * the runtime still accepts the cache (a rejected cache prints "Code cache data rejected").
 */
/**
 * The cache maker's inputs live at one fixed path (not under TMPDIR, which differs between machines): the
 * caches hold what the warm-up runs compiled, and that followed the characters of a random directory name.
 * Claimed by creating it, so two builds at once take turns.
 */
const WARM_DIR = '/tmp/extbuilder-cache-warm';

function claimWarmDir(): string {
  const until = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(WARM_DIR, { mode: 0o700 });
      return WARM_DIR;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (Date.now() > until) throw new Error(`${WARM_DIR} has existed for 2 minutes: another build holds it, or one that crashed left it (remove it)`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
}

export function makeBlob(o: BlobOptions): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'extbuilder-sea-'));
  try {
    const config = join(dir, 'sea-config.json');
    const out = join(dir, 'sea.blob');
    // The blob records main's path as written: a relative name keeps the checkout's location out of it.
    // The bundle and its chunks (cli.cjs, kube.cjs, ... beside it) ride along as assets, each read only when it runs.
    copyFileSync(o.bundle, join(dir, 'extbuilder.cjs'));
    for (const f of CHUNK_FILES) copyFileSync(join(dirname(o.bundle), f), join(dir, f));
    writeFileSync(join(dir, 'main.cjs'), MAIN_LOADER);
    const [program, ...pre] = o.node;
    // The code caches, made by the target's Node with the executable's flags: compiling 4 MB of CLI at
    // every start was most of `extbuilder --version`, compiling the validators a tenth of every phase.
    if (o.codeCache) {
      copyFileSync(join(dirname(fileURLToPath(import.meta.url)), 'cache-maker.cjs'), join(dir, 'cache-maker.cjs'));
      const warm = claimWarmDir();
      try {
        execFileSync(program!, [...pre, '--random-seed=1', ...BUILD_ARGV, ...EXEC_ARGV, 'cache-maker.cjs', JSON.stringify(CLI_WRAPPER), JSON.stringify(CACHED), warm],
          { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
      } finally {
        rmSync(warm, { recursive: true, force: true });
      }
    }
    writeFileSync(config, JSON.stringify({
      main: 'main.cjs',
      assets: Object.fromEntries(CACHED.flatMap((n) => [[`${n}.cjs`, `${n}.cjs`], ...(o.codeCache ? [[`${n}.cache`, `${n}.cache`]] : [])])),
      output: 'sea.blob',
      disableExperimentalSEAWarning: true,
      useSnapshot: false,
      useCodeCache: o.codeCache,
      execArgv: EXEC_ARGV,
    }));
    // The same fixed environment: a NODE_OPTIONS (a test runner's, say) would change the blob.
    execFileSync(program!, [...pre, '--random-seed=1', ...BUILD_ARGV, ...EXEC_ARGV, '--experimental-sea-config', config], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Strips the Node binary (before injection: stripping afterwards breaks the executable) and injects the blob. */
export function makeExecutable(node: string, strip: string, blob: Buffer, postject: string, out: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'extbuilder-sea-'));
  try {
    copyFileSync(node, out);
    execFileSync(strip, [out], { stdio: ['ignore', 'ignore', 'pipe'] });
    const blobFile = join(dir, 'sea.blob');
    writeFileSync(blobFile, blob);
    // postject warns about unnamed .note sections of a stripped binary; the result is sound, so its chatter is dropped.
    execFileSync(postject, [out, 'NODE_SEA_BLOB', blobFile, '--sentinel-fuse', SEA_FUSE], { stdio: ['ignore', 'ignore', 'pipe'] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

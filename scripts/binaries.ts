// `npm run binaries [-- TARGET... --out DIR]`: standalone builders for the Fabric peer images, in
// dist-binaries/<target>/ and dist-binaries/<target>.tar.gz. Inputs come from npm (Node) and apt (glibc).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchDebs, fetchNode } from './binaries/fetch.js';
import { layoutTarget } from './binaries/layout.js';
import { CHUNK_FILES, makeBlob, makeExecutable } from './binaries/sea.js';
import { tarGzDir } from './binaries/tar.js';
import { findTarget, RUNTIME_LIBS, TARGETS, type Arch, type Target } from './binaries/targets.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(root, '.cache');
const bundle = join(root, 'dist', 'extbuilder.cjs');
const postject = join(root, 'node_modules', '.bin', 'postject');

function hasQemu(): boolean {
  return spawnSync('qemu-aarch64-static', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** The glibc runtime of one architecture as plain files in one directory (.cache/deb/libs-<arch>). */
function glibcRuntime(t: Target): { dir: string; versions: string[] } {
  const { root: debRoot, versions } = fetchDebs(cacheDir, t.arch, t.debs);
  const dir = join(cacheDir, 'deb', `libs-${t.arch}`);
  mkdirSync(dir, { recursive: true });
  for (const name of [t.loader, ...RUNTIME_LIBS]) {
    const from = t.debLibDirs.map((d) => join(debRoot, d, name)).find((p) => existsSync(p));
    if (!from) throw new Error(`${name} is not in ${t.debs.join(', ')}`);
    copyFileSync(from, join(dir, name));
  }
  return { dir, versions };
}

interface Executable { file: string; provenance: string[] }

/** One executable per architecture, shared by its glibc and musl targets. */
function buildExecutable(t: Target, work: string, bundlePath: string): Executable {
  const node = fetchNode(cacheDir, t.node);
  const provenance = [`Node.js ${t.node.version}: npm ${t.node.pkg}@${t.node.version} (${t.node.integrity})`];
  let blobNode: string[];
  let codeCache: boolean;
  if (t.arch === 'x64') {
    blobNode = [node];
    codeCache = true;
  } else if (hasQemu()) {
    // V8's code cache is architecture-specific: make it with the arm64 Node itself, emulated.
    const libs = glibcRuntime(t);
    blobNode = ['qemu-aarch64-static', join(libs.dir, t.loader), '--library-path', libs.dir, node];
    codeCache = true;
  } else {
    // Without an arm64 Node to run, the x64 Node of the same version writes a blob without code cache.
    blobNode = [fetchNode(cacheDir, findTarget('linux-x64-glibc')!.node)];
    codeCache = false;
    process.stderr.write('binaries: qemu-aarch64-static is not installed: the arm64 blob has no V8 code cache (slower start)\n');
  }
  const sum = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
  const assets = CHUNK_FILES.map((f) => `asset ${f} sha256 ${sum(join(dirname(bundlePath), f))}`).join(', ');
  provenance.push(`SEA blob: extbuilder.cjs sha256 ${sum(bundlePath)}, ${assets}, V8 code cache ${codeCache ? 'on' : 'off'}; postject ${postjectVersion()}`);
  const file = join(work, `extbuilder-${t.arch}`);
  makeExecutable(node, t.strip, makeBlob({ bundle: bundlePath, node: blobNode, codeCache }), postject, file);
  return { file, provenance };
}

function postjectVersion(): string {
  return (JSON.parse(readFileSync(join(root, 'node_modules', 'postject', 'package.json'), 'utf8')) as { version: string }).version;
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

function parseArgs(argv: string[]): { targets: Target[]; out: string } {
  let out = join(root, 'dist-binaries');
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') out = argv[++i] ?? out;
    else names.push(argv[i]!);
  }
  const targets = names.length === 0 ? TARGETS : names.map((n) => {
    const t = findTarget(n);
    if (!t) throw new Error(`unknown target ${n} (one of ${TARGETS.map((x) => x.name).join(', ')})`);
    return t;
  });
  return { targets, out };
}

/** Names every missing tool at once, with the Debian package that has it, before anything is downloaded. */
function checkTools(targets: Target[]): void {
  const need = new Map<string, string>([['tar', 'tar'], ['du', 'coreutils']]);
  for (const t of targets) {
    need.set(t.strip, t.arch === 'x64' ? 'binutils' : 'binutils-aarch64-linux-gnu');
    if (t.libc === 'musl' || t.arch === 'arm64') { need.set('apt-get', 'apt'); need.set('dpkg-deb', 'dpkg'); }
  }
  const missing = [...need].filter(([cmd]) => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { stdio: 'ignore' }).status !== 0);
  if (missing.length > 0) {
    throw new Error(`missing tools: ${missing.map(([c, p]) => `${c} (apt-get install ${p})`).join(', ')}`);
  }
  if (!existsSync(postject)) throw new Error(`${postject} is missing: run npm ci`);
}

/** Builds `targets` into `out` from the bundle (dist/extbuilder.cjs unless given). */
export function buildBinaries(targets: Target[], out: string, bundlePath: string = bundle): void {
  for (const file of [bundlePath, ...CHUNK_FILES.map((f) => join(dirname(bundlePath), f))]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run npm run build first`);
  }
  checkTools(targets);
  mkdirSync(out, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'extbuilder-binaries-'));
  const executables = new Map<Arch, Executable>();
  try {
    for (const t of targets) {
      const started = Date.now();
      let exe = executables.get(t.arch);
      if (!exe) { exe = buildExecutable(t, work, bundlePath); executables.set(t.arch, exe); }
      const provenance = [...exe.provenance];
      let libDir: string | undefined;
      if (t.libc === 'musl') {
        const libs = glibcRuntime(t);
        libDir = libs.dir;
        provenance.push(`glibc runtime (lib/): Debian ${libs.versions.join(', ')}`);
      }
      // Built beside the result and renamed over it, so a failed run leaves the previous target whole.
      const dir = join(out, t.name);
      const partial = join(out, `.${t.name}.partial`);
      rmSync(partial, { recursive: true, force: true });
      layoutTarget(partial, { target: t, executable: exe.file, libDir, provenance, version: packageVersion() });
      const tgz = tarGzDir(partial, t.name);
      rmSync(dir, { recursive: true, force: true });
      renameSync(partial, dir);
      writeFileSync(`${dir}.tar.gz.partial`, tgz);
      renameSync(`${dir}.tar.gz.partial`, `${dir}.tar.gz`);
      const mib = (n: number) => (n / 1048576).toFixed(1);
      const du = execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]!;
      process.stdout.write(`${t.name}: ${((Date.now() - started) / 1000).toFixed(1)} s, directory ${mib(Number(du))} MiB, ${t.name}.tar.gz ${mib(statSync(`${dir}.tar.gz`).size)} MiB\n`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const { targets, out } = parseArgs(process.argv.slice(2));
    buildBinaries(targets, out);
  } catch (err) {
    process.stderr.write(`binaries: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}

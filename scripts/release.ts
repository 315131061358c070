// `npm run release [-- --out DIR]`: everything a user installs, in dist-release/: the main npm tarball, one npm
// tarball per standalone target (@fabric-extbuilder/<target>), the four .tar.gz builders, and SHA256SUMS.
// Made from dist/ and dist-binaries/ as they are (npm run release builds both first); byte-reproducible.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TARGETS, type Target } from './binaries/targets.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The npm scope of the per-target packages; install looks them up by this name. */
export const TARGET_SCOPE = '@fabric-extbuilder';

interface RepoPackage {
  name: string;
  version: string;
  description: string;
  license: string;
  bin: Record<string, string>;
  engines: Record<string, string>;
  files: string[];
  [key: string]: unknown;
}

const repoPackage = (): RepoPackage => JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as RepoPackage;

/** The file names npm pack gives a package: @scope/name@1.0.0 -> scope-name-1.0.0.tgz. */
export function tarballName(name: string, version: string): string {
  return `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`;
}

/**
 * The main package as published: the bundle needs no runtime dependency (esbuild inlined them), so an
 * offline install needs nothing but this tarball; the matching target comes as an optional dependency.
 */
function mainManifest(p: RepoPackage): Record<string, unknown> {
  return {
    name: p.name,
    version: p.version,
    description: p.description,
    license: p.license,
    bin: p.bin,
    engines: p.engines,
    files: p.files,
    optionalDependencies: Object.fromEntries(TARGETS.map((t) => [`${TARGET_SCOPE}/${t.name}`, p.version])),
  };
}

/** One target's package: npm installs it only where os/cpu/libc match, as esbuild's and swc's are. */
function targetManifest(p: RepoPackage, t: Target): Record<string, unknown> {
  return {
    name: `${TARGET_SCOPE}/${t.name}`,
    version: p.version,
    description: `fabric-extbuilder ${p.version}, standalone builder for ${t.name} peers; lay it out with extbuilder install`,
    license: p.license,
    os: ['linux'],
    cpu: [t.arch],
    libc: [t.libc],
    // npm keeps neither links nor empty directories: `extbuilder install` makes bin/{detect,build,release,run}.
    files: ['bin/extbuilder', ...(t.libc === 'musl' ? ['lib/'] : []), 'README', 'TARGET', 'SHA256SUMS'],
    preferUnplugged: true,
  };
}

/** npm pack of a staged directory, without lifecycle scripts (the staged manifests have none). */
function npmPack(dir: string, out: string): string {
  const json = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', out], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return (JSON.parse(json) as { filename: string }[])[0]!.filename;
}

function stageMain(p: RepoPackage, stage: string): void {
  for (const entry of p.files) {
    const from = join(root, entry);
    if (!existsSync(from)) throw new Error(`${entry} is missing: run npm run build first`);
    // npm drops links, so bin/{detect,build,release,run} go in as copies of the launcher they link to: the
    // installed package is a builder dir too, for a peer that has Node (and for doctor with no --builder).
    cpSync(from, join(stage, entry), { recursive: true, dereference: true });
  }
  copyFileSync(join(root, 'README.md'), join(stage, 'README.md'));
  if (existsSync(join(root, 'LICENSE'))) copyFileSync(join(root, 'LICENSE'), join(stage, 'LICENSE'));
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify(mainManifest(p), null, 2)}\n`);
}

function stageTarget(p: RepoPackage, t: Target, stage: string): void {
  const from = join(root, 'dist-binaries', t.name);
  if (!existsSync(join(from, 'TARGET'))) throw new Error(`dist-binaries/${t.name} has not been built: run npm run binaries -- ${t.name}`);
  cpSync(from, stage, { recursive: true, verbatimSymlinks: true });
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify(targetManifest(p, t), null, 2)}\n`);
}

/** Packs the main package into `out`; returns the tarball's name. */
export function packMain(out: string): string {
  return inScratch((stage) => { stageMain(repoPackage(), stage); return npmPack(stage, out); });
}

/** Packs one target's package into `out`; returns the tarball's name. */
export function packTarget(t: Target, out: string): string {
  return inScratch((stage) => { stageTarget(repoPackage(), t, stage); return npmPack(stage, out); });
}

function inScratch<T>(f: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'extbuilder-release-'));
  try { return f(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
}

export function release(out: string): string[] {
  const version = repoPackage().version;
  for (const file of ['extbuilder.cjs', 'cli.cjs', 'quick.cjs', 'kube.cjs']) {
    if (!existsSync(join(root, 'dist', file))) throw new Error(`dist/${file} is missing: run npm run build first`);
  }
  // Written beside the result and renamed over it, so a failed run leaves the previous release whole.
  const partial = `${out}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  try {
    const files = [packMain(partial)];
    for (const t of TARGETS) {
      files.push(packTarget(t, partial));
      const archive = `fabric-extbuilder-${version}-${t.name}.tar.gz`;
      copyFileSync(join(root, 'dist-binaries', `${t.name}.tar.gz`), join(partial, archive));
      files.push(archive);
    }
    files.sort();
    const sums = files.map((f) => `${createHash('sha256').update(readFileSync(join(partial, f))).digest('hex')}  ${f}`);
    writeFileSync(join(partial, 'SHA256SUMS'), `${sums.join('\n')}\n`);
    rmSync(out, { recursive: true, force: true });
    renameSync(partial, out);
    return [...files, 'SHA256SUMS'];
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const i = process.argv.indexOf('--out');
    const out = i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : join(root, 'dist-release');
    const mib = (n: number) => (n / 1048576).toFixed(1);
    for (const f of release(out)) {
      const st = lstatSync(join(out, f));
      process.stdout.write(`${f}  ${mib(st.size)} MiB\n`);
    }
  } catch (err) {
    process.stderr.write(`release: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}

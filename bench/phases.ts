// The peer-phase rows: detect (foreign and claimed), build (service, TLS splice) and release, run as the
// peer runs them, for each builder next to the bare runtime it starts on.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCA } from '../src/peer/pki.js';
import { createBuildContext, peerEnvironment, stageSourceDir, writePeerMetadata, type BuildContext } from '../src/peer/invoke.js';
import type { Command, Contender } from './measure.js';

export interface Builder {
  /** Short name for the table. */
  label: string;
  /** The directory holding bin/<phase>. */
  dir: string;
  /** The floor this builder's ratios are taken against (undefined for the floors themselves). */
  floor?: string;
  /** A floor: an empty program; it exits 0 on every phase. */
  isFloor?: boolean;
}

const PHASES = ['detect', 'build', 'release'] as const;

/** A builder dir whose bin/<phase> files are one program: a link to `target`, or a script with `text`. */
export function makeBuilderDir(root: string, name: string, program: { link: string } | { script: string }): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'bin'), { recursive: true });
  for (const phase of PHASES) {
    const file = join(dir, 'bin', phase);
    if ('link' in program) symlinkSync(program.link, file);
    else { writeFileSync(file, program.script); chmodSync(file, 0o755); }
  }
  return dir;
}

export interface PhaseRow {
  name: string;
  contenders: Contender[];
  /** Which builder each contender belongs to, in the same order. */
  builders: Builder[];
}

function staged(root: string, id: string, files: Record<string, string>, metadata: object): BuildContext {
  const pkg = mkdtempSync(join(root, 'pkg-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(pkg, name, '..'), { recursive: true });
    writeFileSync(join(pkg, name), text);
  }
  const ctx = createBuildContext(root, id);
  stageSourceDir(pkg, ctx.src);
  writePeerMetadata(ctx, JSON.stringify(metadata));
  return ctx;
}

/** A fresh 0700 directory per run, as the peer makes for every build. */
function freshDir(root: string): string {
  const d = mkdtempSync(join(root, 'out-'));
  chmodSync(d, 0o700);
  return d;
}

export async function phaseRows(root: string, builders: Builder[]): Promise<PhaseRow[]> {
  const ca = await createCA('bench CA');
  const rootFile = join(root, 'root.pem');
  writeFileSync(rootFile, ca.certPem);
  // Every builder gets the same environment, as the peer would give it: config for ours, a variable
  // for the reference builder, both propagated.
  const env = peerEnvironment({
    ...process.env,
    EXTBUILDER_CONFIG: JSON.stringify({ tls: { root_cert_file: rootFile } }),
    REF_TLS_ROOT_CERT_FILE: rootFile,
  }, ['EXTBUILDER_CONFIG', 'REF_TLS_ROOT_CERT_FILE']);

  const runs = join(root, 'runs');
  mkdirSync(runs);
  const foreign = staged(root, 'foreign:1', { 'main.go': 'package main\n' }, { type: 'golang', label: 'foreign', path: 'example.com/cc' });
  const index = JSON.stringify({ index: { fields: ['owner'] }, ddoc: 'indexOwnerDoc', name: 'indexOwner', type: 'json' });
  const plain = staged(root, 'plain:1', {
    'connection.json': JSON.stringify({ address: 'asset-cc.org1.example.com:9999', dial_timeout: '10s', tls_required: false }),
    'META-INF/statedb/couchdb/indexes/indexOwner.json': index,
  }, { type: 'ccaas', label: 'plain' });
  const tls = staged(root, 'tls:1', {
    'connection.json': JSON.stringify({ address: 'asset-cc.org1.example.com:9999', dial_timeout: '10s', tls_required: true, root_cert: '' }),
  }, { type: 'ccaas', label: 'tls' });

  const cmd = (b: Builder, phase: string, args: string[]): Command => ({ file: join(b.dir, 'bin', phase), args, env, cwd: root });

  // release reads what the same builder's build wrote.
  const built = new Map<string, string>();
  for (const b of builders) {
    const out = freshDir(runs);
    const builder = b.isFloor ? builders.find((x) => !x.isFloor) ?? b : b;
    const r = spawnSync(join(builder.dir, 'bin', 'build'), [plain.src, plain.metadata, out], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0 && !b.isFloor) throw new Error(`${b.label} build failed: ${r.stderr}`);
    built.set(b.label, out);
  }

  const row = (name: string, phase: string, args: () => string[], expectCode = 0): PhaseRow => ({
    name,
    builders,
    contenders: builders.map((b) => ({
      label: b.label,
      expectCode: b.isFloor ? 0 : expectCode,
      prepare: () => cmd(b, phase, args()),
    })),
  });
  return [
    row('detect (foreign package)', 'detect', () => [foreign.src, foreign.metadata], 1),
    row('detect (claimed)', 'detect', () => [plain.src, plain.metadata]),
    row('build (service)', 'build', () => [plain.src, plain.metadata, freshDir(runs)]),
    row('build (TLS splice)', 'build', () => [tls.src, tls.metadata, freshDir(runs)]),
    {
      name: 'release',
      builders,
      contenders: builders.map((b) => ({ label: b.label, prepare: () => cmd(b, 'release', [built.get(b.label)!, freshDir(runs)]) })),
    },
  ];
}

/** True when jq is on PATH (the reference builder needs it). */
export function haveJq(): boolean {
  return spawnSync('jq', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** The standalone binary for this machine, when scripts/binaries.ts has made it. */
export function seaBinary(repo: string): string | undefined {
  const file = join(repo, 'dist-binaries', 'linux-x64-glibc', 'bin', 'extbuilder');
  return existsSync(file) ? file : undefined;
}

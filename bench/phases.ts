// The peer-phase rows: detect (foreign and claimed), build (service, TLS splice) and release, run as the
// peer runs them, for each builder next to the bare runtime it starts on.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
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

const PHASES = ['detect', 'build', 'release', 'run'] as const;

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
  // run: a launch-mode build whose chaincode is `true` (exits at once): invocation to chaincode exit.
  const launchPkg = staged(root, 'launch:1', { 'launch.json': JSON.stringify({ command: 'true' }) }, { type: 'ccaas', label: 'launch' });
  const launchBld = freshDir(runs);
  const lb = spawnSync(join(builders[0]!.dir, 'bin', 'build'), [launchPkg.src, launchPkg.metadata, launchBld], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const runRows: PhaseRow[] = [];
  if (lb.status === 0) {
    const runDir = freshDir(runs);
    writeFileSync(join(runDir, 'chaincode.json'), JSON.stringify(CHAINCODE_JSON));
    runRows.push(row('run (chaincode: true)', 'run', () => [launchBld, runDir]));
  }
  return [
    ...runRows,
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

/** chaincode.json as the peer writes it, without TLS. */
export const CHAINCODE_JSON = { chaincode_id: 'launch:1', peer_address: '127.0.0.1:7052', client_cert: '', client_key: '', root_cert: '', mspid: 'Org1MSP' };

/**
 * Resident memory that run leaves while the chaincode runs: the RSS of every process started for the
 * run other than the chaincode itself (a `sleep` with a unique duration), in KiB.
 */
export async function memoryLeftByRun(b: Builder, launchBld: string, runDir: string, env: Record<string, string>): Promise<number | string> {
  const token = `3600.${process.pid}${Math.floor(Math.random() * 1e6)}`;
  const child = spawn(join(b.dir, 'bin', 'run'), [launchBld, runDir], { env: { ...env, CC_TOKEN: token }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr.resume();
  try {
    for (let waited = 0; waited < 10_000; waited += 50) {
      const procs = descendants(child.pid!);
      const cc = procs.filter((p) => p.cmd.includes(token));
      if (cc.length) {
        await new Promise((r) => setTimeout(r, 300));
        return descendants(child.pid!).filter((p) => !p.cmd.includes(token)).reduce((sum, p) => sum + p.rssKiB, 0);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return 'the chaincode did not start';
  } finally {
    // The run process (or the chaincode exec'd in its place) and its group.
    try { process.kill(child.pid!, 'SIGTERM'); } catch { /* gone */ }
    await new Promise((r) => child.on('close', r));
  }
}

interface Proc { pid: number; ppid: number; cmd: string; rssKiB: number }

/** `pid` and its descendants, from /proc. */
function descendants(pid: number): Proc[] {
  const all: Proc[] = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      all.push({
        pid: Number(name),
        ppid: Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]),
        rssKiB: Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0),
        cmd: readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' '),
      });
    } catch { /* exited meanwhile */ }
  }
  const out: Proc[] = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    const proc = all.find((x) => x.pid === p);
    if (proc) out.push(proc);
    queue.push(...all.filter((x) => x.ppid === p).map((x) => x.pid));
  }
  return out;
}

/** A launch-mode build whose chaincode sleeps with the duration in $CC_TOKEN; undefined without launch mode. */
export function sleepingChaincode(root: string, builder: Builder, env: Record<string, string>): { bld: string; runDir: string } | undefined {
  const pkg = staged(root, 'sleep:1', { 'launch.json': JSON.stringify({ command: './cc.sh' }), 'cc.sh': '#!/bin/sh\nexec sleep "$CC_TOKEN"\n' }, { type: 'ccaas', label: 'sleep' });
  chmodSync(join(pkg.src, 'cc.sh'), 0o755);
  const bld = freshDir(root);
  const r = spawnSync(join(builder.dir, 'bin', 'build'), [pkg.src, pkg.metadata, bld], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) return undefined;
  const runDir = freshDir(root);
  writeFileSync(join(runDir, 'chaincode.json'), JSON.stringify(CHAINCODE_JSON));
  return { bld, runDir };
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

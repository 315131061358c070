// Timing and memory measurement for the benchmark: contenders run round-robin in one process, so that
// load from anything else on the machine falls on all of them alike; medians and min-max per contender.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** One way of doing the thing a row measures. */
export interface Contender {
  label: string;
  /** Untimed, before every run: fresh output directories and the like. Returns the command to time. */
  prepare: () => Command;
  /** The exit code every run must give; anything else fails the contender (default 0). */
  expectCode?: number;
}

export interface Command {
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
}

export interface Sample {
  label: string;
  ms: number[];
  /** Peak resident set size in KiB (max over the RSS runs), or undefined when it could not be read. */
  rssKiB?: number;
  /** Set when a run gave the wrong exit code: the first stderr line, for the table. */
  failure?: string;
}

export interface Stats {
  median: number;
  min: number;
  max: number;
}

export function stats(values: number[]): Stats {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]! };
}

interface RunResult {
  code: number | null;
  firstLine: string;
  ms: number;
}

/** Spawns the way the peer does (stdout discarded, stderr read) and times exec to exit. */
function timed(c: Command): Promise<RunResult> {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const child = spawn(c.file, c.args, { env: c.env, cwd: c.cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => { if (err.length < 2000) err += d; });
    child.on('error', (e) => { err += String(e); });
    child.on('close', (code) => {
      resolve({ code, firstLine: err.split('\n').find((l) => l.trim()) ?? '', ms: Number(process.hrtime.bigint() - started) / 1e6 });
    });
  });
}

const TIME = '/usr/bin/time';

/** Peak RSS of a command and its descendants (wait4's ru_maxrss, through GNU time), in KiB. */
function peakRss(c: Command, scratch: string): number | undefined {
  if (!existsSync(TIME)) return undefined;
  const out = join(scratch, 'rss');
  const r = spawnSync(TIME, ['-f', '%M', '-o', out, c.file, ...c.args], { env: c.env, cwd: c.cwd, stdio: 'ignore' });
  if (r.error || !existsSync(out)) return undefined;
  const kib = Number(readFileSync(out, 'utf8').trim().split('\n').pop());
  return Number.isFinite(kib) ? kib : undefined;
}

export interface MeasureOptions {
  runs: number;
  /** Untimed runs first, so that page cache and the like are warm for everyone. */
  warmup?: number;
  /** Runs under GNU time for peak RSS (kept apart from the timed runs, since time adds a process). */
  rssRuns?: number;
}

/** Times every contender `runs` times, interleaved; a contender whose exit code is wrong is dropped. */
export async function measure(contenders: Contender[], o: MeasureOptions): Promise<Sample[]> {
  const samples: Sample[] = contenders.map((c) => ({ label: c.label, ms: [] }));
  const scratch = mkdtempSync(join(process.env.TMPDIR ?? '/tmp', 'extbuilder-bench-rss-'));
  try {
    for (let i = -(o.warmup ?? 1); i < o.runs; i++) {
      for (const [k, c] of contenders.entries()) {
        const s = samples[k]!;
        if (s.failure) continue;
        const r = await timed(c.prepare());
        if (r.code !== (c.expectCode ?? 0)) { s.failure = `exit ${r.code}: ${r.firstLine.slice(0, 160)}`; continue; }
        if (i >= 0) s.ms.push(r.ms);
      }
    }
    for (const [k, c] of contenders.entries()) {
      const s = samples[k]!;
      if (s.failure) continue;
      for (let i = 0; i < (o.rssRuns ?? 3); i++) {
        const kib = peakRss(c.prepare(), scratch);
        if (kib !== undefined) s.rssKiB = Math.max(s.rssKiB ?? 0, kib);
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return samples;
}

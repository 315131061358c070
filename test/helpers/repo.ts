// Paths and small helpers shared by the tests.
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, readdirSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES = join(REPO, 'fixtures');

const created: string[] = [];
// Test keys live in these directories: remove them all when the test file's process ends.
process.on('exit', () => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory under the system temp dir, removed when the test process exits. */
export function tempDir(prefix = 'extbuilder-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** A builder directory of its own (bin/ links to this repo's program), for config.json cases. */
export function makeBuilderDir(): string {
  const dir = tempDir('extbuilder-builder-');
  mkdirSync(join(dir, 'bin'));
  for (const phase of ['detect', 'build', 'release', 'run']) symlinkSync(join(REPO, 'bin', 'extbuilder'), join(dir, 'bin', phase));
  return dir;
}

/** Every file below `dir`, relative, sorted. */
export function listFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    if (statSync(join(dir, r)).isDirectory()) out.push(...listFiles(dir, r));
    else out.push(r);
  }
  return out;
}

export const EXTBUILDER = join(REPO, 'bin', 'extbuilder');

export interface CliRun { code: number; stdout: string; stderr: string }

/** Runs the built CLI (`bin/extbuilder ARGS`) as a child process, with `env` over this process's. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(EXTBUILDER, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

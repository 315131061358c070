// The peer's way of running builder phases (contract sections 2-6), re-enacted for simulate and tests:
// pruned environment, 0700 scratch directories, stdout discarded, stderr read line by line.
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Variables the peer always passes on when it has them (DefaultPropagateEnvironment). */
export const DEFAULT_PROPAGATE = ['LD_LIBRARY_PATH', 'LIBPATH', 'PATH', 'TMPDIR'];

/** bufio.Scanner's default token limit: a longer stderr line stops the peer reading the pipe. */
export const PEER_MAX_LINE = 64 * 1024;

/** The environment a builder phase gets: only the defaults and `propagate`, and only those set. */
export function peerEnvironment(from: Record<string, string | undefined>, propagate: string[] = []): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of [...DEFAULT_PROPAGATE, ...propagate]) {
    const value = from[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** The peer's SanitizeCCIDPath: characters unsafe in paths become '-'. */
export function sanitizePackageId(id: string): string {
  return id.replace(/[<>:"/\\|?*&]/g, '-');
}

export interface PhaseRun {
  phase: string;
  args: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  /** stderr lines, as the peer would log them. */
  lines: string[];
  /** Set when a line exceeded 64 KiB: the peer stops reading there (`command output scanning failed`). */
  scanFailed: boolean;
  /** exec failed (missing file, no exec bit, bad interpreter): the peer treats it as a failed phase. */
  execError?: string;
  ms: number;
}

export interface InvokeOptions {
  env: Record<string, string>;
  /** The peer's working directory; the phase inherits it. */
  cwd?: string;
  /** Called per stderr line as it arrives, like the peer's logger. */
  onLine?: (line: string) => void;
  /** Kills the phase after this long (the peer has no such limit; tests and simulate need one). */
  timeoutMs?: number;
}

/** Runs `<builderDir>/bin/<phase> args...` the way the peer does and waits for it. */
export function invokePhase(builderDir: string, phase: string, args: string[], o: InvokeOptions): Promise<PhaseRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    const lines: string[] = [];
    let scanFailed = false;
    let pending = '';
    const child = spawn(join(builderDir, 'bin', phase), args, {
      env: o.env,
      cwd: o.cwd,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const timer = o.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), o.timeoutMs) : undefined;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (scanFailed) return;
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (Buffer.byteLength(line) > PEER_MAX_LINE) { scanFailed = true; return; }
        lines.push(line);
        o.onLine?.(line);
      }
      if (Buffer.byteLength(pending) > PEER_MAX_LINE) scanFailed = true;
    });
    let execError: string | undefined;
    child.on('error', (err) => { execError = (err as NodeJS.ErrnoException).code ?? err.message; });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (pending && !scanFailed) { lines.push(pending); o.onLine?.(pending); }
      resolve({ phase, args, code: execError ? null : code, signal, lines, scanFailed, execError, ms: Date.now() - started });
    });
  });
}

export interface BuildContext {
  root: string;
  src: string;
  metadata: string;
  bld: string;
  release: string;
}

/** `$TMPDIR/fabric-<sanitized id><random>/{src,metadata,bld,release}`, every directory 0700. */
export function createBuildContext(tmpdir: string, packageId: string): BuildContext {
  const root = mkdtempSync(join(tmpdir, `fabric-${sanitizePackageId(packageId)}`));
  chmodSync(root, 0o700);
  const ctx = { root, src: join(root, 'src'), metadata: join(root, 'metadata'), bld: join(root, 'bld'), release: join(root, 'release') };
  for (const d of [ctx.src, ctx.metadata, ctx.bld, ctx.release]) mkdirSync(d, { mode: 0o700 });
  return ctx;
}

/** Writes metadata.json byte for byte, with the mode the peer uses (0700). */
export function writePeerMetadata(ctx: BuildContext, bytes: Uint8Array | string): void {
  const file = join(ctx.metadata, 'metadata.json');
  writeFileSync(file, bytes, { mode: 0o700 });
  chmodSync(file, 0o700);
}

/**
 * Copies a directory into `ctx.src` under the peer's untar rules: regular files keep their modes,
 * directories become 0700, anything else (a symlink, a device) is refused as the peer refuses it.
 */
export function stageSourceDir(from: string, to: string): void {
  for (const name of readdirSync(from)) {
    const s = join(from, name);
    const d = join(to, name);
    const st = lstatSync(s);
    if (st.isDirectory()) {
      mkdirSync(d, { mode: 0o700 });
      chmodSync(d, 0o700);
      stageSourceDir(s, d);
    } else if (st.isFile()) {
      copyFileSync(s, d);
      chmodSync(d, st.mode & 0o7777);
    } else {
      throw new Error(`invalid file type in source: ${s} (the peer refuses symlinks and special files)`);
    }
  }
}

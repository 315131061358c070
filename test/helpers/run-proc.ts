// bin/run started as the peer starts it (stdout discarded, stderr read by line), with a wait for a line.
import { spawn, type ChildProcess } from 'node:child_process';

export interface RunProc {
  child: ChildProcess;
  lines: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The first stderr line matching `re` (waiting for it); throws if run exits first. */
  line(re: RegExp, what: string): Promise<RegExpExecArray>;
}

export function spawnRun(file: string, args: string[], env: Record<string, string>): RunProc {
  const child = spawn(file, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const lines: string[] = [];
  let pending = '';
  const waiters: (() => void)[] = [];
  let closed = false; // 'close', not 'exit': only then has every stderr line been read
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (c: string) => {
    pending += c;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) { lines.push(pending.slice(0, nl)); pending = pending.slice(nl + 1); }
    waiters.splice(0).forEach((w) => w());
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => { closed = true; if (pending) lines.push(pending); waiters.splice(0).forEach((w) => w()); resolve({ code, signal }); });
  });
  return {
    child, lines, exited,
    async line(re, what) {
      for (;;) {
        const m = lines.map((l) => re.exec(l)).find(Boolean);
        if (m) return m;
        if (closed) throw new Error(`run exited before ${what}:\n${lines.join('\n')}`);
        await new Promise<void>((r) => waiters.push(r));
      }
    },
  };
}

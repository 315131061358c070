// Process entry for the bundle: find the invoked name (node script or single executable), run main.
import { main } from './main.js';

function invokedPath(): string {
  // In a single-executable application argv[1] is not the script; argv0 keeps the link's name,
  // while execPath resolves links and would always say "extbuilder".
  let sea = false;
  try {
    sea = (process as unknown as { getBuiltinModule?: (m: string) => { isSea?: () => boolean } }).getBuiltinModule?.('node:sea')?.isSea?.() ?? false;
  } catch { /* not a SEA-capable runtime */ }
  return sea ? process.argv0 : process.argv[1] ?? 'extbuilder';
}

// A single executable's argv is [exe, exe, ...args], like a script's: the arguments start at 2 either way.
/** Settles with the exit code: the standalone build's code-cache maker runs phases in turn through it. */
export const done: Promise<number> = main(invokedPath(), process.argv.slice(2), process.env).then(
  (code) => { process.exitCode = code; return code; },
  (err: unknown) => {
    process.stderr.write(`extbuilder: INTERNAL: ${err instanceof Error ? err.message : String(err)} (report it as a bug)\n`);
    process.exitCode = 1;
    return 1;
  },
);

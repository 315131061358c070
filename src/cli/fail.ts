// How a CLI command fails: one coded line on stderr and, with --json, the same error as JSON on stdout.
import { ExtError, formatError, oneLine } from '../core/errors.js';

/** A usage error: the command line itself is wrong, so nothing ran (exit 2). */
export class UsageError extends Error {
  constructor(readonly what: string, readonly fix: string) {
    super(`${what} (${fix})`);
    this.name = 'UsageError';
  }
}

/** `{"error": {"code", "message", "fix"}}`, what a script reads from stdout when a command fails under --json. */
export function errorJson(err: unknown): string {
  const e = err instanceof ExtError ? { code: err.code, message: err.what, fix: err.fix }
    : err instanceof UsageError ? { code: 'USAGE', message: err.what, fix: err.fix }
    : { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err), fix: 'rerun with EXTBUILDER_DEBUG=1 and report it as a bug' };
  return `${JSON.stringify({ error: { code: e.code, message: oneLine(e.message), fix: oneLine(e.fix) } }, null, 2)}\n`;
}

/**
 * Prints `err` for `command` and returns the exit code: 2 for a usage error, else `code`. With --json the
 * error is also printed on stdout, so a script that parses stdout sees why instead of nothing.
 */
export function failed(command: string, err: unknown, argv: Record<string, unknown>, code = 1): number {
  const line = err instanceof UsageError ? oneLine(`extbuilder: USAGE: ${err.what} (${err.fix})`) : formatError(command, err);
  process.stderr.write(`${line}\n`);
  if (argv.json === true) process.stdout.write(errorJson(err));
  if (process.env.EXTBUILDER_DEBUG === '1' && err instanceof Error && err.stack) process.stderr.write(`${oneLine(err.stack.replace(/\n\s*/g, ' | '), 4000)}\n`);
  return err instanceof UsageError ? 2 : code;
}

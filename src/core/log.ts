// Logging to stderr, the only stream the peer keeps: one capped line per message, warnings coded.
import { writeSync } from 'node:fs';
import type { WarningCode } from './codes.js';
import { oneLine } from './errors.js';

export interface Logger {
  /** A normal progress or summary line. */
  info(message: string): void;
  /** A problem the phase survives: `extbuilder <phase>: warning: CODE: ...`. */
  warn(code: WarningCode, what: string, fix: string): void;
  /** Only with EXTBUILDER_DEBUG=1. */
  debug(message: string): void;
  /** Warnings emitted so far, for callers that report them (inspect, simulate, tests). */
  readonly warnings: { code: WarningCode; message: string }[];
}

export interface LoggerOptions {
  phase: string;
  debug?: boolean;
  /** Where lines go; default: synchronous writes to fd 2, so nothing is lost when the phase exits. */
  write?: (line: string) => void;
}

export function createLogger({ phase, debug = false, write = (l) => writeSync(2, l + '\n') }: LoggerOptions): Logger {
  const warnings: Logger['warnings'] = [];
  return {
    warnings,
    info: (m) => write(oneLine(`extbuilder ${phase}: ${m}`)),
    warn: (code, what, fix) => {
      const message = `${what} (${fix})`;
      warnings.push({ code, message });
      write(oneLine(`extbuilder ${phase}: warning: ${code}: ${message}`));
    },
    debug: (m) => { if (debug) write(oneLine(`extbuilder ${phase}: debug: ${m}`, 4000)); },
  };
}

/** A logger that keeps everything in memory (for the CLI's reports and for tests). */
export function memoryLogger(phase: string): Logger & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign(createLogger({ phase, write: (l) => lines.push(l) }), { lines });
}

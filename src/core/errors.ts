// The typed error every layer throws, and the one-line format the peer log shows for it.
import type { ErrorCode } from './codes.js';

/** Marks ExtErrors across bundles: dist/kube.cjs carries its own copy of this class. */
const BRAND = Symbol.for('fabric-extbuilder.ExtError');

/** A failure with a stable code, a statement of what is wrong and where, and how to fix it. */
export class ExtError extends Error {
  /** `instanceof` by brand, so an ExtError thrown by another chunk's copy of this class is one too. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  constructor(
    readonly code: ErrorCode,
    readonly what: string,
    readonly fix: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${what} (${fix})`, options);
    this.name = 'ExtError';
    (this as unknown as Record<symbol, unknown>)[BRAND] = true;
  }
}

/** The peer's scanner stops on lines over 64 KiB; stay far below it. */
export const MAX_LINE = 1000;

const PEM_BLOCK = /-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(-----END [A-Z0-9 ]+-----|$)/g;

/**
 * Makes any text safe for one stderr line: PEM material redacted (a key must never reach a log),
 * control characters and newlines flattened, length capped.
 */
export function oneLine(text: string, max = MAX_LINE): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(PEM_BLOCK, '<PEM redacted>').replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return flat.length > max ? flat.slice(0, max - 3) + '...' : flat;
}

/** `extbuilder <phase>: <CODE>: <what> (<fix>)`; anything not an ExtError is INTERNAL. */
export function formatError(phase: string, err: unknown): string {
  if (err instanceof ExtError) return oneLine(`extbuilder ${phase}: ${err.code}: ${err.what} (${err.fix})`);
  const what = err instanceof Error ? err.message : String(err);
  return oneLine(`extbuilder ${phase}: INTERNAL: ${what} (rerun with EXTBUILDER_DEBUG=1 and report it as a bug)`);
}

/** Quotes a value for a message, truncated so that one oversized field cannot flood the line. */
export function show(value: unknown, max = 80): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > max ? text.slice(0, max - 3) + '...' : text;
}

// How simulate and doctor print: one line per step or finding with a verdict, details indented under it.
import { ExtError, oneLine } from '../core/errors.js';

export type Verdict = 'ok' | 'warn' | 'fail' | 'skip';

export interface StepError {
  code: string;
  what: string;
  fix: string;
}

export interface Step {
  name: string;
  verdict: Verdict;
  ms: number;
  /** One line: what the step found. */
  summary: string;
  /** Lines shown under the step: builder stderr as the peer logs it, responses, notes. */
  details: string[];
  error?: StepError;
}

export function stepError(err: unknown): StepError {
  if (err instanceof ExtError) return { code: err.code, what: err.what, fix: err.fix };
  const what = err instanceof Error ? err.message : String(err);
  return { code: 'INTERNAL', what, fix: 'rerun with EXTBUILDER_DEBUG=1 and report it as a bug' };
}

/** A step's text: `[n] name  verdict  ms  summary`, then its details and, on failure, cause and fix. */
export function formatStep(n: number, s: Step): string[] {
  const verdict = s.verdict === 'fail' ? 'FAIL' : s.verdict;
  const head = `${`[${n}]`.padEnd(4)} ${s.name.padEnd(9)} ${verdict.padEnd(4)} ${`${s.ms} ms`.padStart(8)}  ${s.summary}`;
  const lines = [oneLine(head, 2000), ...s.details.map((d) => `      ${oneLine(d, 2000)}`)];
  if (s.error) {
    lines.push(`      ${oneLine(`${s.error.code}: ${s.error.what}`, 2000)}`);
    lines.push(`      fix: ${oneLine(s.error.fix, 2000)}`);
  }
  return lines;
}

export interface Finding {
  verdict: Exclude<Verdict, 'skip'>;
  what: string;
  /** How to fix it; omitted for ok. */
  fix?: string;
}

/** doctor's line: `ok|warn|fail <what> (<fix>)`. */
export function formatFinding(f: Finding): string {
  return oneLine(`${f.verdict.padEnd(4)} ${f.what}${f.fix ? ` (${f.fix})` : ''}`, 2000);
}

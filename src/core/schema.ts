// Runs the ahead-of-time compiled validators and turns their first error into a coded ExtError.
import type { ErrorCode } from './codes.js';
import { ExtError, show } from './errors.js';

interface ValidationError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
  data?: unknown;
  parentSchema?: { 'x-code'?: string; 'x-fix'?: string; properties?: Record<string, unknown> };
}

export interface CompiledValidator<T> {
  (data: unknown): data is T;
  errors?: ValidationError[] | null;
}

/** Levenshtein distance, for did-you-mean hints on misspelt keys. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

export function didYouMean(key: string, known: string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-\s]/g, '_');
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = norm(key) === norm(k) ? 0 : editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) { bestD = d; best = k; }
  }
  return bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** The value at a JSON pointer such as /tls, or undefined. */
function valueAt(data: unknown, pointer: string): unknown {
  let v = data;
  for (const part of pointer.split('/').slice(1)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return v;
}

function fieldName(path: string): string {
  return path === '' ? 'the top level' : path.slice(1).replace(/\//g, '.');
}

/**
 * Validates data against a generated validator. `unknownKeyCode` is used for keys the schema does not
 * allow, with a did-you-mean; every other error takes the x-code/x-fix of the schema that failed.
 */
export function check<T>(validate: CompiledValidator<T>, data: unknown, where: string, unknownKeyCode?: ErrorCode): T {
  if (validate(data)) return data;
  const e = validate.errors?.[0];
  if (!e) throw new ExtError('INTERNAL', `${where} failed validation without an error`, 'report this as a bug');
  const code = (e.parentSchema?.['x-code'] ?? 'INTERNAL') as ErrorCode;
  const fix = e.parentSchema?.['x-fix'] ?? 'see the README';
  const field = fieldName(e.instancePath);
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty);
      const known = Object.keys(e.parentSchema?.properties ?? {}).filter((k) => k !== '$schema');
      const guess = didYouMean(key, known);
      const at = e.instancePath ? ` in ${field}` : '';
      throw new ExtError(unknownKeyCode ?? code, `${where} has unknown key ${show(key)}${at}${guess ? `; did you mean ${show(guess)}?` : ''}`,
        guess ? `rename it to ${show(guess)}` : `remove it; known keys are ${known.join(', ')}`);
    }
    case 'required': {
      const missing = String(e.params.missingProperty);
      // A near-miss of the missing key ("adress") is the real cause: say so rather than "missing".
      const here = valueAt(data, e.instancePath);
      const known = Object.keys(e.parentSchema?.properties ?? {});
      const near = here && typeof here === 'object' && !Array.isArray(here)
        ? Object.keys(here).find((k) => !known.includes(k) && didYouMean(k, [missing]) === missing) : undefined;
      if (near !== undefined) {
        throw new ExtError(unknownKeyCode ?? code, `${where} has unknown key ${show(near)}${e.instancePath ? ` in ${field}` : ''}; did you mean ${show(missing)}?`, `rename it to ${show(missing)}`);
      }
      throw new ExtError(code, `${where} is missing ${show(missing)}${e.instancePath ? ` in ${field}` : ''}`, fix);
    }
    case 'minLength':
      throw new ExtError(code, `${where} has an empty ${field}`, fix);
    case 'type':
      throw new ExtError(code, `${where}: ${field} is ${describe(e.data)}, not ${typeNoun(String(e.params.type))}`, fix);
    case 'pattern':
    case 'const':
    case 'enum':
      // The fix says what a valid value looks like; a regular expression would not help an operator.
      throw new ExtError(code, `${where}: ${field} ${show(e.data)} is not valid`, fix);
    default:
      throw new ExtError(code, `${where}: ${field} ${e.message ?? 'is invalid'}, got ${show(e.data)}`, fix);
  }
}

/** Describes a value's JSON type and, for scalars, the value itself (keys are never echoed: strings are short-cut). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return `the string ${show(value, 40)}`;
  if (typeof value === 'number') return `the number ${value}`;
  return withArticle(typeof value);
}

/** "a string", "an object", "an integer": the article for any noun, not always "a". */
export function withArticle(noun: string): string {
  return `${/^[aeiou]/i.test(noun) ? 'an' : 'a'} ${noun}`;
}

/** A JSON Schema type, as a message says it: array is a list, as describe() says. */
function typeNoun(type: string): string {
  return type.split(',').map((t) => withArticle(t === 'array' ? 'list' : t)).join(' or ');
}

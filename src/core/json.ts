// JSON parsing with errors that name the file, line and column, for every file format we read.
import { readFileSync, statSync } from 'node:fs';
import type { ErrorCode } from './codes.js';
import { ExtError } from './errors.js';

/** Line and column (1-based) of a character offset. */
function lineCol(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const col = offset - before.lastIndexOf('\n');
  return `line ${line}, column ${col}`;
}

/** Where and why a text is not JSON, in the words of the mistake people make (a comment, a trailing comma, ...). */
export interface JsonProblem { offset: number; problem: string; remedy: string }

/**
 * A JSON syntax walk run only after JSON.parse failed: it finds the first offending character and names
 * the mistake, which V8's messages do not (and Node 20's give no position for some of them).
 */
export function diagnoseJson(text: string): JsonProblem {
  let i = 0;
  const n = text.length;
  class Stop { constructor(readonly p: JsonProblem) {} }
  const stop = (offset: number, problem: string, remedy: string): never => { throw new Stop({ offset, problem, remedy }); };
  const ws = () => { while (i < n && ' \t\r\n'.includes(text[i]!)) i++; };
  const found = (): string => {
    if (i >= n) return 'the end of the text';
    const c = text[i]!;
    return c < ' ' ? `the control character U+${c.charCodeAt(0).toString(16).padStart(4, '0')}` : JSON.stringify(text.slice(i, i + 1));
  };
  const commentOrStray = (expected: string): never => {
    if (text.startsWith('//', i) || text.startsWith('/*', i)) {
      stop(i, `JSON has no comments, and a ${text.startsWith('//', i) ? '//' : '/* */'} comment starts here`, 'delete the comment, JSON has none');
    }
    if (text[i] === '#') stop(i, 'JSON has no comments, and a # comment starts here', 'delete the comment');
    if (i >= n) stop(i, `the text ends where ${expected} was expected: a closing }, ] or " is missing`, 'complete the JSON: every { [ and " needs its closing partner');
    return stop(i, `found ${found()} where ${expected} was expected`, `write ${expected} here`);
  };
  const string = (what: string) => {
    if (text[i] === '\'') stop(i, `${what} is in single quotes`, 'use double quotes, JSON strings and keys take "..."');
    if (text[i] !== '"') commentOrStray(`${what} in double quotes`);
    i++;
    while (true) {
      if (i >= n) stop(i, 'a string is not closed before the end of the text', 'add the closing "');
      const c = text[i]!;
      if (c === '"') { i++; return; }
      if (c === '\\') {
        const e = text[i + 1];
        if (e !== undefined && '"\\/bfnrt'.includes(e)) { i += 2; continue; }
        if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) { i += 6; continue; }
        stop(i, `a string holds the escape \\${e ?? ''}, which JSON does not have`, 'write a backslash as \\\\, or use / in a path');
      }
      if (c < ' ') {
        stop(i, c === '\n' || c === '\r' ? 'a string runs over a line break, as a PEM pasted as it is does' : `a string holds the raw control character U+${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
          c === '\n' || c === '\r' ? 'write each line break inside the string as \\n, or leave the PEM out and set tls.*_file in the builder config' : 'write it as a \\u escape');
      }
      i++;
    }
  };
  let comma = 0;
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++; ws();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws();
        if (text[i] === '}') stop(comma, 'there is a trailing comma before }', 'delete the comma after the last entry, JSON allows none');
        if (i < n && /[A-Za-z_$]/.test(text[i]!)) {
          const word = /^[A-Za-z0-9_$-]+/.exec(text.slice(i))![0];
          stop(i, `the key ${word} is not in double quotes`, `write "${word}", JSON keys are always quoted`);
        }
        string('a key');
        ws();
        if (text[i] !== ':') commentOrStray('":" after the key');
        i++;
        value();
        ws();
        if (text[i] === ',') { comma = i++; continue; }
        if (text[i] === '}') { i++; return; }
        if (text[i] === '"') stop(i, 'a comma is missing between two entries', 'add a , after the previous value');
        commentOrStray('"," or "}"');
      }
    }
    if (c === '[') {
      i++; ws();
      if (text[i] === ']') { i++; return; }
      for (;;) {
        ws();
        if (text[i] === ']') stop(comma, 'there is a trailing comma before ]', 'delete the comma after the last item, JSON allows none');
        value();
        ws();
        if (text[i] === ',') { comma = i++; continue; }
        if (text[i] === ']') { i++; return; }
        commentOrStray('"," or "]"');
      }
    }
    if (c === '"' || c === '\'') { string('a string'); return; }
    const num = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i));
    if (num && num[0] !== '' && num[0] !== '-') {
      i += num[0].length;
      return;
    }
    const word = /^[A-Za-z_$][A-Za-z0-9_$.-]*/.exec(text.slice(i))?.[0];
    if (word === 'true' || word === 'false' || word === 'null') { i += word.length; return; }
    if (word && /^(true|false|null|none|nil)$/i.test(word)) stop(i, `${word} is not a JSON value`, `write ${/^(none|nil)$/i.test(word) ? 'null' : word.toLowerCase()} in lower case`);
    if (word) stop(i, `the value ${word} is not in double quotes`, `write "${word}", a string value is always quoted and true, false, null are lower case`);
    if (c === '.' || c === '+' || (c === '-' && !num?.[0]?.match(/\d/))) stop(i, 'a number is written in a form JSON does not have: a leading . or +, or a lone -', 'write it as 0.5, 10 or -1');
    commentOrStray('a value');
  };
  try {
    value();
    ws();
    if (i < n) {
      if (text.startsWith('//', i) || text.startsWith('/*', i)) commentOrStray('the end');
      stop(i, `there is more text after the JSON value ends, found ${found()}: an extra } or ], or two objects`, 'keep exactly one JSON value in the file');
    }
  } catch (err) {
    if (err instanceof Stop) return err.p;
    throw err;
  }
  return { offset: n, problem: 'it is not JSON', remedy: 'check its syntax' };
}

/**
 * Parses JSON; on a syntax error, says where (line, column) and what the mistake is in the words people
 * know (a comment, a trailing comma, single quotes, an unquoted key), never echoing the input. `fix` says
 * where to edit (the file to change, and what to run again); the remedy for the mistake goes before it.
 */
export function parseJson(text: string, where: string, code: ErrorCode, fix: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    const p = diagnoseJson(body);
    const offset = p.offset + (body === text ? 0 : 1);
    throw new ExtError(code, `${where} is not valid JSON at ${lineCol(text, offset)}: ${p.problem}`, `${p.remedy}; ${fix}`);
  }
}

export interface ReadJsonOptions {
  where: string;
  readCode: ErrorCode;
  parseCode: ErrorCode;
  fix: string;
  /** The fix for a syntax error (where to edit, what to rerun), when it differs from `fix`. */
  parseFix?: string;
  /** Refuse larger files before reading them. */
  maxBytes?: number;
  tooLargeCode?: ErrorCode;
}

export function readJsonFile(path: string, o: ReadJsonOptions): unknown {
  let text: string;
  try {
    const st = statSync(path);
    // A FIFO or a device (or a link to one) would block the read forever or never end.
    if (!st.isFile()) {
      throw new ExtError(o.readCode, `${o.where} at ${path} is not a regular file`, 'package it as a plain file');
    }
    const size = st.size;
    if (o.maxBytes !== undefined && size > o.maxBytes) {
      throw new ExtError(o.tooLargeCode ?? o.readCode, `${o.where} is ${size} bytes, over the ${o.maxBytes}-byte limit`, 'a real one is a few kilobytes; check that the right file was packaged');
    }
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof ExtError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new ExtError(o.readCode, `cannot read ${o.where} at ${path}: ${e.code ?? e.message}`, o.fix, { cause: err });
  }
  return parseJson(text, o.where, o.parseCode, o.parseFix ?? o.fix);
}

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

/** Where V8 says the syntax error is; the wording differs between Node 20 and 22+. */
function errorPlace(text: string, err: SyntaxError): string {
  const m = /line (\d+) column (\d+)/.exec(err.message);
  if (m) return `line ${m[1]}, column ${m[2]}`;
  const p = /at position (\d+)/.exec(err.message);
  if (p) return lineCol(text, Number(p[1]));
  return /end of JSON input|Unterminated/i.test(err.message) ? lineCol(text, text.length) : 'unknown position';
}

/** The cause without V8's echo of the input, which could hold key material. */
function errorCause(err: SyntaxError): string {
  return err.message.replace(/ in JSON at position \d+.*$/, '').replace(/, ".*$/s, '').replace(/ \(line \d+ column \d+\)$/, '');
}

export function parseJson(text: string, where: string, code: ErrorCode, fix: string): unknown {
  try {
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    throw new ExtError(code, `${where} is not valid JSON at ${errorPlace(text, err)}: ${errorCause(err)}`, fix);
  }
}

export interface ReadJsonOptions {
  where: string;
  readCode: ErrorCode;
  parseCode: ErrorCode;
  fix: string;
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
  return parseJson(text, o.where, o.parseCode, o.fix);
}

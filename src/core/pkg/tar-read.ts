// A push-driven tar reader that reports entries as Go's archive/tar (the peer's reader) does: ustar,
// pax ('x') and GNU long-name ('L', 'K') headers are folded into the next entry, a pax global header
// ('g') is returned as an entry of its own, '\0' becomes '0' (or '5' for a name ending in '/').
import { ExtError } from '../errors.js';

export interface TarHeader {
  name: string;
  /** The type flag as a character: '0' file, '5' directory, '2' symlink, '1' hard link, ... */
  type: string;
  size: number;
  /** Permission bits and any higher bits from the header, as stored. */
  mode: number;
  linkname: string;
}

export interface TarSink {
  /** A new entry; its data follows through data() (size bytes, possibly in several pieces). */
  entry(header: TarHeader): void;
  data(chunk: Uint8Array): void;
  /** All of the entry's data has been passed on. */
  entryEnd(): void;
}

const BLOCK = 512;
/** pax and GNU long-name records are small; refuse to buffer an absurd one. */
const MAX_META = 1 << 20;
/** Entry types whose size field never announces data (Go's isHeaderOnlyType). */
const HEADER_ONLY = new Set(['1', '2', '3', '4', '5', '6']);

export function tarError(what: string): ExtError {
  return new ExtError('PKG_TAR', `${what}`, 'the archive is damaged or not a tar file; recreate it with extbuilder package');
}

function field(block: Uint8Array, start: number, length: number): string {
  let end = start;
  while (end < start + length && block[end] !== 0) end++;
  return Buffer.from(block.subarray(start, end)).toString('utf8');
}

/** Octal with optional NUL/space padding, or GNU base-256 (high bit set) for big values. */
function number(block: Uint8Array, start: number, length: number, what: string): number {
  if (block[start]! & 0x80) {
    let value = block[start]! & 0x7f;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + block[i]!;
    if (!Number.isSafeInteger(value)) throw tarError(`tar header ${what} is too large`);
    return value;
  }
  const text = field(block, start, length).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw tarError(`tar header ${what} ${JSON.stringify(text)} is not an octal number`);
  return parseInt(text, 8);
}

function checksumOk(block: Uint8Array): boolean {
  const stored = number(block, 148, 8, 'checksum');
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

function isZero(block: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** pax records: "<len> <key>=<value>\n" repeated. */
function parsePax(bytes: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  const buf = Buffer.from(bytes);
  let pos = 0;
  while (pos < buf.length) {
    const space = buf.indexOf(0x20, pos);
    const len = space > pos ? Number(buf.toString('latin1', pos, space)) : NaN;
    if (!Number.isInteger(len) || len <= 0 || pos + len > buf.length || buf[pos + len - 1] !== 0x0a) {
      throw tarError('a pax header record is malformed');
    }
    const record = buf.toString('utf8', space + 1, pos + len - 1);
    const eq = record.indexOf('=');
    if (eq < 0) throw tarError('a pax header record has no "="');
    out.set(record.slice(0, eq), record.slice(eq + 1));
    pos += len;
  }
  return out;
}

type State =
  | { kind: 'header' }
  | { kind: 'zero' }                                     // after one zero block: a second one ends the archive
  | { kind: 'body'; left: number; pad: number }
  | { kind: 'meta'; type: string; left: number; pad: number; parts: Uint8Array[] }
  | { kind: 'pad'; left: number }
  | { kind: 'done' };

/**
 * Feed it bytes with push(); it calls the sink for every entry. end() says the input is over and
 * throws if that is in the middle of an entry. Errors are PKG_TAR ExtErrors.
 */
export class TarReader {
  private state: State = { kind: 'header' };
  private block = new Uint8Array(BLOCK);
  private filled = 0;
  private pax = new Map<string, string>();
  private longName?: string;
  private longLink?: string;

  constructor(private readonly sink: TarSink) {}

  /** True once the end-of-archive marker was read; later bytes are ignored, as Go ignores them. */
  get done(): boolean {
    return this.state.kind === 'done';
  }

  push(chunk: Uint8Array): void {
    let pos = 0;
    while (pos < chunk.length) {
      const s = this.state;
      if (s.kind === 'done') return;
      if (s.kind === 'body') {
        const n = Math.min(s.left, chunk.length - pos);
        if (n > 0) this.sink.data(chunk.subarray(pos, pos + n));
        pos += n;
        s.left -= n;
        if (s.left === 0) { this.sink.entryEnd(); this.state = { kind: 'pad', left: s.pad }; }
        continue;
      }
      if (s.kind === 'meta') {
        const n = Math.min(s.left, chunk.length - pos);
        s.parts.push(chunk.slice(pos, pos + n));
        pos += n;
        s.left -= n;
        if (s.left === 0) { this.finishMeta(s.type, Buffer.concat(s.parts)); this.state = { kind: 'pad', left: s.pad }; }
        continue;
      }
      if (s.kind === 'pad') {
        const n = Math.min(s.left, chunk.length - pos);
        pos += n;
        s.left -= n;
        if (s.left === 0) this.state = { kind: 'header' };
        continue;
      }
      // header or zero: collect a whole block
      const n = Math.min(BLOCK - this.filled, chunk.length - pos);
      this.block.set(chunk.subarray(pos, pos + n), this.filled);
      this.filled += n;
      pos += n;
      if (this.filled === BLOCK) {
        this.filled = 0;
        this.onBlock();
      }
    }
  }

  end(): void {
    const s = this.state;
    if (s.kind === 'done') return;
    // Go ends cleanly on EOF at a header boundary (with or without the end marker).
    if ((s.kind === 'header' || s.kind === 'zero') && this.filled === 0) { this.state = { kind: 'done' }; return; }
    throw tarError('the tar archive is truncated (unexpected end of data)');
  }

  private onBlock(): void {
    const block = this.block;
    if (this.state.kind === 'zero') {
      if (!isZero(block)) throw tarError('the tar archive has a damaged end marker (invalid tar header)');
      this.state = { kind: 'done' };
      return;
    }
    if (isZero(block)) { this.state = { kind: 'zero' }; return; }
    if (!checksumOk(block)) throw tarError('a tar header has a wrong checksum (invalid tar header)');
    let type = String.fromCharCode(block[156]!);
    const magic = Buffer.from(block.subarray(257, 265)).toString('latin1');
    const ustar = magic === 'ustar\u000000';
    let name = field(block, 0, 100);
    if (ustar) {
      const prefix = field(block, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    let size = number(block, 124, 12, 'size');
    const dataSize = size;
    const pad = (BLOCK - (dataSize % BLOCK)) % BLOCK;
    if (type === 'x' || type === 'L' || type === 'K') {
      if (size > MAX_META) throw tarError(`a tar ${type} header record is ${size} bytes`);
      this.state = size === 0 ? { kind: 'header' } : { kind: 'meta', type, left: size, pad, parts: [] };
      if (size === 0) this.finishMeta(type, new Uint8Array(0));
      return;
    }
    if (type === 'g') {
      // Go returns a global header as an entry; its records are its data.
      if (size > MAX_META) throw tarError(`a tar global header is ${size} bytes`);
      this.sink.entry({ name, type, size: 0, mode: number(block, 100, 8, 'mode'), linkname: '' });
      this.sink.entryEnd();
      this.state = size === 0 ? { kind: 'header' } : { kind: 'pad', left: size + pad };
      return;
    }
    if (this.longName !== undefined) name = this.longName;
    let linkname = this.longLink ?? field(block, 157, 100);
    const paxPath = this.pax.get('path');
    if (paxPath !== undefined) name = paxPath;
    const paxLink = this.pax.get('linkpath');
    if (paxLink !== undefined) linkname = paxLink;
    const paxSize = this.pax.get('size');
    if (paxSize !== undefined) {
      if (!/^[0-9]+$/.test(paxSize)) throw tarError(`a pax size ${JSON.stringify(paxSize)} is not a number`);
      size = Number(paxSize);
    }
    this.pax = new Map();
    this.longName = undefined;
    this.longLink = undefined;
    if (type === '\u0000') type = name.endsWith('/') ? '5' : '0';
    if (HEADER_ONLY.has(type)) size = 0;
    const entryPad = (BLOCK - (size % BLOCK)) % BLOCK;
    this.sink.entry({ name, type, size, mode: number(block, 100, 8, 'mode'), linkname });
    if (size === 0) {
      this.sink.entryEnd();
      this.state = { kind: 'header' };
    } else {
      this.state = { kind: 'body', left: size, pad: entryPad };
    }
  }

  private finishMeta(type: string, bytes: Uint8Array): void {
    if (type === 'x') {
      for (const [k, v] of parsePax(bytes)) this.pax.set(k, v);
      return;
    }
    const text = Buffer.from(bytes).toString('utf8').replace(/\0[\s\S]*$/, '');
    if (type === 'L') this.longName = text;
    else this.longLink = text;
  }
}

// Deterministic tar headers: the bytes depend only on name, size, mode and type, never on who or
// when (uid/gid 0, empty user and group names, mtime 0). Names that do not fit ustar get a pax record.
export const BLOCK = 512;
/** Two zero blocks end an archive. */
export const TAR_END = new Uint8Array(2 * BLOCK);

/** The zero bytes that bring an entry's data to a block boundary. */
export function tarPadding(size: number): Uint8Array {
  return new Uint8Array((BLOCK - (size % BLOCK)) % BLOCK);
}

function put(block: Uint8Array, offset: number, length: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > length) throw new Error(`tar field too long: ${text}`);
  block.set(bytes, offset);
}

function octal(value: number, length: number): string {
  return value.toString(8).padStart(length - 1, '0');
}

function ustarBlock(name: string, prefix: string, size: number, mode: number, type: string): Uint8Array {
  const block = new Uint8Array(BLOCK);
  put(block, 0, 100, name);
  put(block, 100, 8, octal(mode, 8));
  put(block, 108, 8, octal(0, 8));
  put(block, 116, 8, octal(0, 8));
  put(block, 124, 12, octal(size, 12));
  put(block, 136, 12, octal(0, 12));
  block.fill(0x20, 148, 156);
  put(block, 156, 1, type);
  put(block, 257, 8, 'ustar\u000000');
  put(block, 329, 8, octal(0, 8));
  put(block, 337, 8, octal(0, 8));
  put(block, 345, 155, prefix);
  let sum = 0;
  for (const b of block) sum += b;
  put(block, 148, 8, `${octal(sum, 7)}\u0000`);
  return block;
}

/** Splits a path into ustar's prefix (155 bytes) and name (100 bytes), or undefined if it cannot. */
function splitUstar(path: string): [string, string] | undefined {
  const len = Buffer.byteLength(path);
  if (len <= 100) return ['', path];
  for (let i = path.indexOf('/'); i > 0; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== '') return [prefix, name];
  }
  return undefined;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  // The length counts its own digits.
  let len = bodyLen + String(bodyLen).length;
  while (len !== bodyLen + String(len).length) len = bodyLen + String(len).length;
  return `${len}${body}`;
}

const MAX_USTAR_SIZE = 8 ** 11 - 1;

/**
 * The header block(s) of one entry: type '0' (file) or '5' (directory, name ending in '/').
 * A path too long for ustar is carried by a pax header named after the entry's directory.
 */
export function tarHeader(path: string, size: number, mode: number, type: '0' | '5'): Uint8Array {
  if (size > MAX_USTAR_SIZE) throw new Error(`${path} is over 8 GiB, which this tar writer does not support`);
  const split = splitUstar(path);
  if (split) return ustarBlock(split[1], split[0], size, mode, type);
  const record = Buffer.from(paxRecord('path', path), 'utf8');
  const paxHeader = ustarBlock('PaxHeader', '', record.length, 0o644, 'x');
  let short = path.slice(0, 100);
  while (Buffer.byteLength(short) > 100) short = short.slice(0, -1);
  return Buffer.concat([paxHeader, record, tarPadding(record.length), ustarBlock(short, '', size, mode, type)]);
}

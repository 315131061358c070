// The peer's rules for install packages (peer-contract sections 3 and 9), each a small pure check:
// the label rule, metadata.json as Go's encoding/json reads it, and Untar's path and type rules.
import { posix } from 'node:path';
import { ExtError, show } from '../errors.js';

/** ValidateLabel: `^[[:alnum:]][[:alnum:]_.+-]*$`, ASCII only. */
export const LABEL_RULE = /^[A-Za-z0-9][A-Za-z0-9_.+-]*$/;

export function labelError(label: string): ExtError | undefined {
  if (LABEL_RULE.test(label)) return undefined;
  return new ExtError('PKG_LABEL', `invalid label ${show(label)}: the peer requires a non-empty label of ASCII letters, digits and . + - _, starting with a letter or digit`,
    'choose a label such as mycc_1.0 (the label is not the chaincode name, so any such value works)');
}

/** Go's `%v` of a type flag byte, as the peer prints it ("type 53" for a directory). */
export function typeNumber(type: string): number {
  return type.charCodeAt(0);
}

export const TYPE_NAMES: Record<string, string> = {
  '0': 'file', '1': 'hard link', '2': 'symlink', '3': 'character device', '4': 'block device', '5': 'directory',
  '6': 'FIFO', '7': 'contiguous file', g: 'pax global header', S: 'sparse file',
};

export function typeName(type: string): string {
  return TYPE_NAMES[type] ?? `type ${typeNumber(type)}`;
}

export interface PeerMetadata {
  label: string;
  type: string;
  path: string;
}

const PEER_FIELDS = ['label', 'type', 'path'] as const;

/**
 * metadata.json as the peer's json.Unmarshal into {Type, Path, Label string} sees it: keys match
 * case-insensitively, the last one wins, null leaves a field empty, any other non-string fails.
 */
export function peerMetadata(bytes: Uint8Array): { fields: PeerMetadata; value: unknown } {
  const fix = 'metadata.json must be a JSON object such as {"type": "ccaas", "label": "mycc_1.0"}; repackage with extbuilder package';
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new ExtError('PKG_METADATA_JSON', `could not unmarshal metadata.json as json: ${(err as Error).message.replace(/, ".*$/s, '')}`, fix);
  }
  const fields: PeerMetadata = { label: '', type: '', path: '' };
  if (value === null) return { fields, value };
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ExtError('PKG_METADATA_JSON', `could not unmarshal metadata.json as json: it is ${Array.isArray(value) ? 'an array' : `a ${typeof value}`}, not an object`, fix);
  }
  for (const [key, v] of Object.entries(value)) {
    const f = PEER_FIELDS.find((name) => name === key.toLowerCase());
    if (!f || v === null) continue;
    if (typeof v !== 'string') {
      throw new ExtError('PKG_METADATA_JSON', `could not unmarshal metadata.json as json: field ${show(key)} is ${Array.isArray(v) ? 'an array' : `a ${typeof v}`}, not a string`, fix);
    }
    fields[f] = v;
  }
  return { fields, value };
}

/** Untar's ValidPath: the cleaned name may not be absolute, "..", or start with "../". */
export function validCodePath(name: string): boolean {
  const clean = posix.normalize(name);
  return !(posix.isAbsolute(clean) || clean === '..' || clean.startsWith('../'));
}

/** Where an entry lands below CHAINCODE_SOURCE_DIR ("" for the root itself). */
export function codePath(name: string): string {
  const clean = posix.normalize(name).replace(/\/+$/, '');
  return clean === '.' ? '' : clean;
}

/** Untar's verdict on one entry of code.tar.gz; undefined when it extracts it. */
export function untarError(name: string, type: string): ExtError | undefined {
  if (!validCodePath(name)) {
    return new ExtError('PKG_CODE_PATH', `code.tar.gz holds the absolute or escaping path ${show(name)}, which the peer refuses at install`,
      'package the tree with extbuilder package, which writes relative names only');
  }
  if (type === '0' && codePath(name) === '') {
    // Go joins "" or "." to the destination itself, and opening that directory as a file fails the install.
    return new ExtError('PKG_CODE_PATH', `code.tar.gz holds a regular file named ${show(name)}, which would be the source directory itself; the peer's untar fails on it`,
      'package the tree with extbuilder package, which names every file');
  }
  if (type !== '0' && type !== '5') {
    return new ExtError('PKG_CODE_ENTRY_TYPE', `code.tar.gz holds ${show(name)}, a ${typeName(type)}: the peer extracts only regular files and directories ("invalid file type '${typeNumber(type)}'")`,
      type === '2' ? 'replace the symlink with the file it points to (extbuilder package --dereference does this)' : 'leave it out of the package');
  }
  return undefined;
}

// The peer after release, re-enacted (contract sections 5 and 7): build-info.json and the copy of
// release/ and bld/ into the durable build dir, then release/ read back the way the peer reads it.
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { sanitizePackageId } from './invoke.js';

/** What the peer writes next to the copies: the name of the builder that claimed the package. */
export const BUILD_INFO = 'build-info.json';

/** A copy failure, worded as the peer's CopyDir words it. */
export class CopyRefused extends Error {}

/**
 * The peer's CopyDir (v2.1.1+): directories and regular files with their modes; a symlink only when it
 * is relative and resolves inside the tree being copied; anything else refused. On failure the
 * partial destination is removed, as the peer does.
 */
export function peerCopyDir(srcRoot: string, destRoot: string): void {
  const root = resolve(srcRoot);
  const copy = (src: string, dest: string): void => {
    const st = lstatSync(src);
    if (st.isDirectory()) {
      mkdirSync(dest, { recursive: true, mode: st.mode & 0o7777 });
      for (const name of readdirSync(src).sort()) copy(join(src, name), join(dest, name));
    } else if (st.isSymbolicLink()) {
      const target = readlinkSync(src);
      if (isAbsolute(target)) throw new CopyRefused(`refusing to copy absolute symlink ${src} -> ${target}`);
      const to = resolve(dirname(src), target);
      if (to !== root && !to.startsWith(root + sep)) throw new CopyRefused(`refusing to copy symlink ${src} -> ${target}: it points outside ${srcRoot}`);
      symlinkSync(target, dest);
    } else if (st.isFile()) {
      copyFileSync(src, dest);
      chmodSync(dest, st.mode & 0o7777);
    } else {
      throw new CopyRefused(`refusing to copy unsupported file ${src} with mode ${(st.mode & 0o170000).toString(8)}`);
    }
  };
  try {
    copy(root, destRoot);
  } catch (err) {
    rmSync(destRoot, { recursive: true, force: true });
    throw err;
  }
}

export interface DurableBuild {
  /** <fs>/externalbuilder/builds/<sanitized id> */
  dir: string;
  release: string;
  bld: string;
}

/** Where the peer keeps the build of `packageId` under peer.fileSystemPath `fsPath`. */
export function durablePaths(fsPath: string, packageId: string): DurableBuild {
  const dir = join(fsPath, 'externalbuilder', 'builds', sanitizePackageId(packageId));
  return { dir, release: join(dir, 'release'), bld: join(dir, 'bld') };
}

/**
 * After a successful release: build-info.json (0600), then release/ and bld/ copied. A copy failure
 * leaves build-info.json and whatever was copied before, which is exactly the half-populated durable
 * dir the peer leaves (section 5); the error says so.
 */
export function persistBuild(fsPath: string, packageId: string, builderName: string, scratch: { release: string; bld: string }): DurableBuild {
  const d = durablePaths(fsPath, packageId);
  mkdirSync(d.dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(d.dir, BUILD_INFO), JSON.stringify({ builder_name: builderName }), { mode: 0o600 });
  chmodSync(join(d.dir, BUILD_INFO), 0o600);
  peerCopyDir(scratch.release, d.release);
  peerCopyDir(scratch.bld, d.bld);
  return d;
}

// ---- Go's encoding/json, as far as connection.json needs it ----

/**
 * The members of a top-level JSON object in document order, duplicates kept (Go assigns each in turn,
 * so the last one wins per field, which JSON.parse's object does not reproduce across differently
 * cased duplicates). `text` must already be valid JSON.
 */
function objectMembers(text: string): [string, unknown][] {
  const members: [string, unknown][] = [];
  let i = text.search(/\S/) + 1; // past '{'
  const ws = (): void => { while (/\s/.test(text[i] ?? '')) i++; };
  const valueEnd = (): number => {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const c = text[j];
      if (c === '"') { j++; while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1; } else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') { if (depth === 0) return j; depth--; } else if (c === ',' && depth === 0) return j;
    }
    return text.length;
  };
  for (;;) {
    ws();
    if (text[i] === '}') return members;
    const keyStart = i;
    i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    const key = JSON.parse(text.slice(keyStart, ++i)) as string;
    ws();
    i++; // ':'
    ws();
    const end = valueEnd();
    members.push([key, JSON.parse(text.slice(i, end))]);
    i = end;
    if (text[i] === ',') i++;
  }
}

/** Go's field-name matching (bytes.EqualFold): ASCII case plus the two non-ASCII folds onto ASCII letters. */
export function goFold(name: string): string {
  return name.replace(/\u212a/g, 'k').replace(/\u017f/g, 's').toLowerCase();
}

import { parseGoDuration } from '../core/duration.js';

export { parseGoDuration };

export type PeerVersion = 2 | 3;

/** The connection the peer would dial, after its own checks (EB/instance.go ChaincodeServerInfo). */
export interface PeerConnection {
  address: string;
  /** Nanoseconds; the peer's 3s default applied. */
  dialTimeoutNs: number;
  tls: false | {
    rootCert: string;
    client?: { cert: string; key: string };
    /** Only on 3.x and only with client auth (the ServerNameOverride). */
    serverNameOverride?: string;
  };
  /** Keys the peer did not read (unknown or ignored on this version), for notes. */
  ignored: string[];
}

/** A connection.json the peer refuses at launch: `malformed chaincode info at '<path>': <reason>`. */
export class MalformedChaincodeInfo extends Error {}

const FIELDS = ['address', 'dial_timeout', 'tls_required', 'client_auth_required', 'client_key', 'client_cert', 'root_cert', 'domain'] as const;
type Field = (typeof FIELDS)[number];

function goType(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' ? 'number' : typeof v;
}

/** connection.json text -> what the peer dials, with the peer's JSON and validation rules. */
export function parsePeerConnection(text: string, version: PeerVersion): PeerConnection {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new MalformedChaincodeInfo(`not valid JSON: ${(err as Error).message.replace(/, ".*$/s, '')}`);
  }
  if (value !== null && (typeof value !== 'object' || Array.isArray(value))) {
    throw new MalformedChaincodeInfo(`json: cannot unmarshal ${goType(value)} into a Go value of type ChaincodeServerUserData`);
  }
  const got: Partial<Record<Field, unknown>> = {};
  const ignored: string[] = [];
  for (const [key, v] of value === null ? [] : objectMembers(text)) {
    const field = FIELDS.find((f) => f === goFold(key));
    if (!field || (field === 'domain' && version < 3)) { ignored.push(key); continue; }
    if (v === null && field !== 'dial_timeout') continue; // null leaves a Go string or bool as it was
    got[field] = v;
  }
  const str = (f: Field): string => {
    const v = got[f];
    if (v === undefined) return '';
    if (typeof v !== 'string') throw new MalformedChaincodeInfo(`json: cannot unmarshal ${goType(v)} into Go struct field ${f} of type string`);
    return v;
  };
  const bool = (f: Field): boolean => {
    const v = got[f];
    if (v === undefined) return false;
    if (typeof v !== 'boolean') throw new MalformedChaincodeInfo(`json: cannot unmarshal ${goType(v)} into Go struct field ${f} of type bool${typeof v === 'string' ? ' (a quoted "true" is a string)' : ''}`);
    return v;
  };
  let dialTimeoutNs = 0;
  if ('dial_timeout' in got) {
    const v = got.dial_timeout;
    if (typeof v === 'number') dialTimeoutNs = Math.trunc(v);
    else if (typeof v === 'string') {
      try { dialTimeoutNs = parseGoDuration(v); } catch (err) { throw new MalformedChaincodeInfo((err as Error).message); }
    } else throw new MalformedChaincodeInfo('invalid duration');
  }
  const address = str('address');
  const [tlsRequired, clientAuth] = [bool('tls_required'), bool('client_auth_required')];
  const [clientKey, clientCert, rootCert, domain] = [str('client_key'), str('client_cert'), str('root_cert'), str('domain')];
  if (address === '') throw new MalformedChaincodeInfo('chaincode address not provided');
  const conn: PeerConnection = { address, dialTimeoutNs: dialTimeoutNs === 0 ? 3e9 : dialTimeoutNs, tls: false, ignored };
  if (!tlsRequired) return conn;
  if (clientAuth && clientKey === '') throw new MalformedChaincodeInfo('chaincode tls key not provided');
  if (clientAuth && clientCert === '') throw new MalformedChaincodeInfo('chaincode tls cert not provided');
  if (rootCert === '') throw new MalformedChaincodeInfo('chaincode tls root cert not provided');
  conn.tls = {
    rootCert,
    ...(clientAuth ? { client: { cert: clientCert, key: clientKey } } : {}),
    ...(clientAuth && domain !== '' ? { serverNameOverride: domain } : {}),
  };
  return conn;
}

/** The release dir as the peer consumes it. */
export interface ReleaseView {
  /** Present: the peer dials it (service mode). Absent: the peer calls run (launch mode). */
  connectionPath?: string;
  connection?: PeerConnection;
  /** Index files the ledger takes, relative to release/ (statedb/couchdb/...). */
  indexes: string[];
  /** Files under statedb/ the ledger does not take. */
  strayIndexFiles: string[];
}

const LEDGER_INDEX = /^statedb\/couchdb\/(indexes|collections\/[^/]+\/indexes)\/[^/]+\.json$/;

function listFiles(dir: string, rel = ''): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(join(dir, e.name), r));
    else out.push(r);
  }
  return out;
}

/**
 * Reads a (durable) release dir as the peer does: chaincode/server/connection.json decides the mode and
 * is parsed with the peer's rules; the whole tree, prefixed META-INF/, is what the ledger scans for
 * indexes. Throws MalformedChaincodeInfo when the peer would refuse the connection.json.
 */
export function readRelease(releaseDir: string, version: PeerVersion): ReleaseView {
  const files = listFiles(join(releaseDir, 'statedb')).map((f) => `statedb/${f}`);
  const view: ReleaseView = {
    indexes: files.filter((f) => LEDGER_INDEX.test(f)),
    strayIndexFiles: files.filter((f) => !LEDGER_INDEX.test(f)),
  };
  const connectionPath = join(releaseDir, 'chaincode', 'server', 'connection.json');
  if (!existsSync(connectionPath)) return view;
  view.connectionPath = connectionPath;
  view.connection = parsePeerConnection(readFileSync(connectionPath, 'utf8'), version);
  return view;
}

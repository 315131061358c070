// package's logic: from a connection.json (or its fields) or a launch tree, plus optional indexes, to a
// validated, byte-reproducible install package and, on request, an env file for the chaincode server.
import { existsSync, lstatSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Mode } from '../builder/build.js';
import { imageReference, parseImageReference } from '../builder/image.js';
import { checkIndex } from '../builder/indexes.js';
import { readConnection } from '../builder/service.js';
import { DEFAULT_TYPES } from '../core/config.js';
import { ExtError } from '../core/errors.js';
import { didYouMean } from '../core/schema.js';
import type { Logger } from '../core/log.js';
import { labelError } from '../core/pkg/peer-rules.js';
import { checkTree, comparePaths, mergeCanonical, treeItems, walkTree, type CodeItem } from '../core/pkg/tree.js';
import { checkPackagedConnection, checkSource, type SourceSummary } from './validate.js';
import { startDeflateThreads, writePackage } from '../core/pkg/write.js';

/** connection.json from flags: the keys in this order, only those given. */
export interface ConnectionFields {
  address: string;
  dial_timeout?: string;
  tls_required?: boolean;
  client_auth_required?: boolean;
  root_cert?: string;
  domain?: string;
}

export interface PackageOptions {
  label: string;
  type: string;
  output: string;
  /** Service mode: a connection.json file packaged byte for byte, or fields to write one from. */
  connection?: { file: string } | { fields: ConnectionFields };
  /** Launch mode: the tree to package, launch.json at its root. */
  launch?: string;
  /** Kubernetes mode: the image as NAME@sha256:DIGEST, written to image.json. */
  image?: string;
  dereference?: boolean;
  /** CouchDB indexes: indexes/*.json and collections/<c>/indexes/*.json (or just *.json files). */
  indexes?: string;
  envFile?: string;
  /** Called after each file is written, with the work done and the whole. */
  onProgress?: (done: Work, total: Work) => void;
}

export interface Work {
  files: number;
  bytes: number;
}

export interface PackageOutcome {
  id: string;
  label: string;
  type: string;
  sha256: string;
  size: number;
  output: string;
  mode: Mode;
  /** Kubernetes mode: NAME@sha256:DIGEST. */
  image?: string;
  files: number;
  bytes: number;
  indexes: string[];
  envFile?: string;
  /** The CHAINCODE_SERVER_ADDRESS written to the env file (service mode). */
  serverAddress?: string;
}

const INDEX_PATH = /^(indexes|collections\/[^/]+\/indexes)\/[^/]+\.json$/;
const STATEDB = 'META-INF/statedb/couchdb';

function inputError(what: string, path: string, err?: unknown): ExtError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return new ExtError('PKG_INPUT', `${what} ${path} ${code === 'ENOENT' || !err ? 'does not exist' : `cannot be read (${code ?? String(err)})`}`, 'check the path', { cause: err });
}

function lexists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function requireDir(what: string, path: string): void {
  let ok = false;
  try { ok = statSync(path).isDirectory(); } catch (err) { throw inputError(what, path, err); }
  if (!ok) throw new ExtError('PKG_INPUT', `${what} ${path} is not a directory`, 'give a directory');
}

/** Index files under META-INF/statedb/couchdb, read and checked now, carried as bytes. */
export function indexItems(dir: string): CodeItem[] {
  requireDir('the --indexes directory', dir);
  const files = walkTree(dir).filter((i) => i.kind === 'file');
  const flat = files.every((f) => !f.path.includes('/'));
  const items: CodeItem[] = [];
  for (const f of files) {
    const rel = flat ? `indexes/${f.path}` : f.path;
    if (!INDEX_PATH.test(rel)) {
      throw new ExtError('PKG_INDEX_PATH', `${join(dir, f.path)} would land at ${STATEDB}/${rel}, which the ledger does not read`,
        `lay out ${dir} as indexes/*.json and collections/<name>/indexes/*.json, or give a directory of *.json files only`);
    }
    if (f.size > 1 << 20) throw new ExtError('INDEX_INVALID', `${join(dir, f.path)} is over 1 MiB`, 'an index definition is a few hundred bytes');
    let bytes: Buffer;
    try { bytes = readFileSync(f.source!); } catch (err) { throw inputError('the index file', f.source!, err); }
    checkIndex(bytes.toString('utf8'), join(dir, f.path));
    items.push({ path: `${STATEDB}/${rel}`, kind: 'file', mode: 0o644, size: bytes.length, bytes });
  }
  if (items.length === 0) throw new ExtError('PKG_INPUT', `the --indexes directory ${dir} holds no index files`, 'drop --indexes, or put the *.json index files in it');
  return items;
}

/** connection.json's bytes (the file as it is, or the fields in a fixed order and format) and value. */
function connectionInput(c: NonNullable<PackageOptions['connection']>): { bytes: Buffer; value: unknown } {
  if ('file' in c) {
    if (!existsSync(c.file)) throw inputError('the connection.json file', c.file);
    // build's read: size limit, JSON syntax with line and column; the fix names the user's file, not a package.
    const value = readConnection(c.file, `the connection.json ${c.file}`, `edit ${c.file} and run extbuilder package again`);
    return { bytes: readFileSync(c.file), value };
  }
  return { bytes: Buffer.from(`${JSON.stringify(c.fields, null, 2)}\n`, 'utf8'), value: c.fields };
}

/** The address a chaincode server binds for a connection.json address: every interface, same port. */
export function listenAddress(address: string): string | undefined {
  const port = /:([0-9]{1,5})$/.exec(address)?.[1];
  return port ? `0.0.0.0:${port}` : undefined;
}

function writeEnvFile(path: string, lines: string[]): void {
  const tmp = join(dirname(path), `.${basename(path)}.extbuilder-partial`);
  try {
    writeFileSync(tmp, lines.map((l) => `${l}\n`).join(''), { mode: 0o644 });
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new ExtError('OUTPUT_WRITE', `cannot write ${path}: ${(err as NodeJS.ErrnoException).code}`, 'choose a writable path for --env-out', { cause: err });
  }
}

function checkOutputDir(flag: string, file: string): void {
  const dir = dirname(resolve(file));
  if (!existsSync(dir)) throw new ExtError('OUTPUT_WRITE', `cannot write ${file}: the directory ${dir} does not exist`, `create it first, or choose another ${flag}`);
}

export async function createPackage(o: PackageOptions, log: Logger): Promise<PackageOutcome> {
  const modes = [o.connection && 'service mode (--connection or --address)', o.launch && 'launch mode (--launch)', o.image && 'Kubernetes mode (--image)'].filter(Boolean);
  if (modes.length !== 1) {
    throw new ExtError('PKG_OPTIONS', modes.length ? `${modes.join(' and ')} were given together` : 'none of --connection, --address, --launch and --image was given',
      'give --connection FILE or --address HOST:PORT for a chaincode server the peer dials, --launch DIR for a program the peer starts, or --image NAME@sha256:DIGEST for an image run starts as a pod');
  }
  const bad = labelError(o.label);
  if (bad) throw bad;
  if (o.type.trim() === '') throw new ExtError('PKG_OPTIONS', '--type is empty', 'use --type external (the default) or ccaas');
  if (!DEFAULT_TYPES.includes(o.type.toLowerCase())) {
    const guess = didYouMean(o.type, DEFAULT_TYPES);
    log.warn('PKG_TYPE_UNCLAIMED', `--type ${JSON.stringify(o.type)} is not a type extbuilder claims (${DEFAULT_TYPES.join(', ')}): its detect will decline the package${guess ? `; did you mean ${JSON.stringify(guess)}?` : ''}`,
      guess ? `use --type ${guess}` : 'use --type external, or list the type in the builder config\'s types on every peer');
  }
  checkOutputDir('-o', o.output);
  if (o.envFile) checkOutputDir('--env-out', o.envFile);

  let items: Iterable<CodeItem>;
  let total: Work;
  let summary: SourceSummary;
  if (o.launch) {
    requireDir('the --launch directory', o.launch);
    if (!existsSync(join(o.launch, 'launch.json'))) {
      throw new ExtError('PKG_INPUT', `${o.launch} has no launch.json at its root`, 'write launch.json there (see the README\'s launch mode section)');
    }
    const inside = relative(resolve(o.launch), resolve(o.output));
    if (inside !== '..' && !inside.startsWith(`..${sep}`) && !isAbsolute(inside)) {
      throw new ExtError('PKG_OPTIONS', `the package ${o.output} would be written inside the tree it packages`, 'write it outside the --launch directory, or a second run would package the first');
    }
    // A launch tree is mostly larger than one deflate chunk: its threads start while the tree is checked.
    startDeflateThreads();
    total = checkTree(o.launch, { dereference: o.dereference });
    summary = checkSource(o.launch, log);
    // Walked again while it is written, so the tree is never held in memory as a whole.
    items = treeItems(o.launch, { dereference: o.dereference });
  } else if (o.image) {
    const image = parseImageReference(o.image, '--image');
    const bytes = Buffer.from(`${JSON.stringify({ name: image.name, digest: image.digest }, null, 2)}\n`, 'utf8');
    items = [{ path: 'image.json', kind: 'file', mode: 0o644, size: bytes.length, bytes }];
    total = { files: 1, bytes: bytes.length };
    summary = { mode: 'kubernetes', image: imageReference(image), indexes: [] };
  } else {
    const { bytes, value } = connectionInput(o.connection!);
    const connection = checkPackagedConnection(value, log);
    items = [{ path: 'connection.json', kind: 'file', mode: 0o644, size: bytes.length, bytes }];
    total = { files: 1, bytes: bytes.length };
    summary = { mode: 'service', connection, indexes: [] };
  }
  if (o.indexes) {
    if (o.launch && lexists(join(o.launch, 'META-INF', 'statedb'))) {
      throw new ExtError('PKG_OPTIONS', `${o.launch} already holds META-INF/statedb and --indexes was given`, 'keep the indexes in one place: drop --indexes, or remove META-INF/statedb from the tree');
    }
    const extra = indexItems(o.indexes);
    items = mergeCanonical(items, extra);
    total.files += extra.length;
    total.bytes += extra.reduce((n, i) => n + i.size, 0);
    summary.indexes.push(...extra.map((i) => i.path.slice('META-INF/statedb/'.length)));
    summary.indexes.sort(comparePaths);
  }

  const done: Work = { files: 0, bytes: 0 };
  const onFile = o.onProgress && ((n: number) => { done.files++; done.bytes += n; o.onProgress!(done, total); });
  const written = await writePackage({ output: o.output, label: o.label, type: o.type, items, onFile });
  const outcome: PackageOutcome = {
    id: written.id, label: o.label, type: o.type, sha256: written.sha256, size: written.size, output: o.output,
    mode: summary.mode, ...(summary.image ? { image: summary.image } : {}), files: total.files, bytes: total.bytes, indexes: summary.indexes,
  };
  if (o.envFile) {
    const lines = [`CHAINCODE_ID=${written.id}`];
    if (summary.connection) {
      outcome.serverAddress = listenAddress(summary.connection.address);
      if (outcome.serverAddress) lines.push(`CHAINCODE_SERVER_ADDRESS=${outcome.serverAddress}`);
      else log.warn('PKG_DEFERRED', `the port of address ${JSON.stringify(summary.connection.address)} is set at build, so ${o.envFile} has no CHAINCODE_SERVER_ADDRESS`, 'add CHAINCODE_SERVER_ADDRESS=0.0.0.0:<port> to the chaincode server\'s environment yourself');
    }
    writeEnvFile(o.envFile, lines);
    outcome.envFile = o.envFile;
  }
  return outcome;
}

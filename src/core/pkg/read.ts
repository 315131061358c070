// Reads an install package as the peer does, in one pass: the file is hashed (the package ID), gunzipped
// and its tar entries checked with the peer's parse rules; the code.tar.gz inside is scanned with
// install's rules (gzip, tar, Untar's path and type rules). A large package is streamed, and memory holds
// the entry list and the small files builders read, never the data; one of at most 1 MiB is read whole.
//
// API (used by `inspect` and `simulate`):
//   readPackage(file, { code?, inMemory? }) -> PackageReport (whole and synchronous up to 1 MiB, else streamed)
//     .id, .label, .sha256, .size            the package ID is set when the peer's parse accepts the file
//     .parseError                             calculatepackageid's verdict (undefined = accepted)
//     .installError                           install's verdict: parseError, or code.tar.gz's first fault
//     .metadataBytes, .metadata               metadata.json byte for byte, and parsed
//     .entries, .peerWarnings                 outer entries; "Encountered unexpected file ..." warnings
//     .code: { entries, files, error }        code.tar.gz's entries (cleaned paths, types, modes), the small
//                                             files builders read (connection.json, launch.json,
//                                             META-INF/statedb/**), and the Untar verdict
//   extractCode(file, destDir, report?)    -> extracts code.tar.gz into destDir (which must exist) exactly as
//                                             the peer's Untar: regular files and directories only, dirs
//                                             0700, file modes from the tar (the umask applies, as at the
//                                             peer); throws the PKG_CODE_* ExtError at the first refused entry.
import { close, closeSync, fstatSync, mkdirSync, open, openSync, read, readSync, constants as fsc, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createGunzip, gunzipSync } from 'node:zlib';
import type { Gunzip } from 'fflate';
import { ExtError } from '../errors.js';
import { Sha256 } from '../sha256.js';
import { codePath, labelError, peerMetadata, typeNumber, untarError } from './peer-rules.js';
import { TarReader, type TarHeader, type TarSink } from './tar-read.js';

export const METADATA_FILE = 'metadata.json';
export const CODE_FILE = 'code.tar.gz';
/** The files builders read from code.tar.gz are small; larger ones are listed but not kept. */
export const MAX_SMALL_FILE = 1 << 20;
const READ_CHUNK = 1 << 20;
/** The peer reads metadata.json whole, with no limit; this only bounds our memory. */
const MAX_METADATA = 64 << 20;
/**
 * A package up to this size is read whole and gunzipped synchronously, code.tar.gz too: no streams, no
 * thread pool, no fflate, which is 10 ms of every id and inspect of a service package. Whatever the
 * in-memory read cannot decide exactly as the stream does (any gzip error, or more than IN_MEMORY_INFLATED
 * bytes out, as from a gzip bomb) is read again by the stream, from the start.
 */
const IN_MEMORY_FILE = 1 << 20;
const IN_MEMORY_INFLATED = 16 << 20;
/** Thrown by an in-memory CodeScanner whose gunzip fails; caught by scanInMemory, never escapes it. */
const RETRY_STREAMING = Symbol('read it again as a stream');

export interface OuterEntry {
  name: string;
  type: string;
  size: number;
}

export interface CodeEntry {
  /** The name as stored in the tar. */
  name: string;
  /** Where it lands below CHAINCODE_SOURCE_DIR (cleaned, no "./", no trailing "/"). */
  path: string;
  type: string;
  size: number;
  mode: number;
  linkname: string;
}

export interface CodeReport {
  entries: CodeEntry[];
  /** connection.json, launch.json and META-INF/statedb/** by path, when at most MAX_SMALL_FILE bytes. */
  files: Map<string, Buffer>;
  /** Why install (or Untar) would refuse this code.tar.gz; undefined when it would not. */
  error?: ExtError;
}

export interface PackageReport {
  file: string;
  size: number;
  sha256: string;
  entries: OuterEntry[];
  peerWarnings: string[];
  parseError?: ExtError;
  installError?: ExtError;
  label?: string;
  id?: string;
  metadataBytes?: Buffer;
  metadata?: unknown;
  code?: CodeReport;
  /** How many code.tar.gz entries the package holds; the peer uses the last. */
  codeCount: number;
}

export interface ReadOptions {
  /** Scan code.tar.gz too (inspect, install verdict); `id` does not need it. Default true. */
  code?: boolean;
  /** false: stream even a small package (the tests compare the two reads). Default true. */
  inMemory?: boolean;
}

function isSmallFile(path: string): boolean {
  return path === 'connection.json' || path === 'launch.json' || path.startsWith('META-INF/statedb/');
}

/** fflate's Gunzip, imported only by reads that open code.tar.gz: its module start costs id 2-4 ms. */
type GunzipClass = typeof Gunzip;
const loadGunzip = async (): Promise<GunzipClass> => (await import('fflate')).Gunzip;

/**
 * Scans one code.tar.gz as it streams past: gunzip (fflate, synchronous) into a tar reader. Without a
 * Gunzip class it is in memory: it holds the compressed bytes and gunzips them whole at the entry's end.
 */
class CodeScanner {
  readonly report: CodeReport = { entries: [], files: new Map() };
  private stopped = false;
  private small?: { path: string; parts: Buffer[]; size: number };
  private readonly tar: TarReader;
  private readonly gunzip?: Gunzip;
  private held?: Uint8Array[];

  constructor(Gunzip: GunzipClass | undefined, private readonly extract?: TarSink) {
    this.tar = new TarReader({
      entry: (h) => this.entry(h),
      data: (c) => this.data(c),
      entryEnd: () => this.entryEnd(),
    });
    if (Gunzip) this.gunzip = new Gunzip((chunk) => this.tar.push(chunk));
    else this.held = [];
  }

  private entry(h: TarHeader): void {
    const path = codePath(h.name);
    this.report.entries.push({ name: h.name, path, type: h.type, size: h.size, mode: h.mode, linkname: h.linkname });
    if (!this.report.error) {
      this.report.error = untarError(h.name, h.type);
      if (this.report.error && this.extract) throw this.report.error;
    }
    if (h.type === '0' && isSmallFile(path) && h.size <= MAX_SMALL_FILE) this.small = { path, parts: [], size: 0 };
    if (!this.report.error) this.extract?.entry(h);
  }

  private data(chunk: Uint8Array): void {
    if (this.small) this.small.parts.push(Buffer.from(chunk));
    if (!this.report.error) this.extract?.data(chunk);
  }

  private entryEnd(): void {
    if (this.small) this.report.files.set(this.small.path, Buffer.concat(this.small.parts));
    this.small = undefined;
    if (!this.report.error) this.extract?.entryEnd();
  }

  push(chunk: Uint8Array): void {
    if (this.held) { this.held.push(chunk); return; }
    if (this.stopped) return;
    try {
      this.gunzip!.push(chunk);
      if (this.tar.done) this.stopped = true;
    } catch (err) {
      this.fail(err);
    }
  }

  finish(): void {
    if (this.held) return this.finishInMemory(this.held);
    if (!this.stopped) {
      try {
        this.gunzip!.push(new Uint8Array(0), true);
      } catch (err) {
        // Like Go, a damaged gzip trailer after the tar's end marker goes unnoticed.
        if (!this.tar.done) this.fail(err);
      }
    }
    if (!this.stopped) {
      try {
        this.tar.end();
      } catch (err) {
        this.fail(err);
      }
    }
    this.stopped = true;
  }

  /** The stream's finish for bytes gunzipped whole; a gzip error is for the stream to judge, as it stops at the tar's end. */
  private finishInMemory(held: Uint8Array[]): void {
    let tar: Buffer;
    try {
      tar = gunzipSync(Buffer.concat(held), { maxOutputLength: IN_MEMORY_INFLATED });
    } catch {
      throw RETRY_STREAMING;
    }
    this.held = undefined;
    try {
      this.tar.push(tar);
      this.tar.end();
    } catch (err) {
      this.fail(err);
    }
    this.stopped = true;
  }

  private fail(err: unknown): void {
    this.stopped = true;
    // An entry refused or unwritable during extraction ends it, as Untar's first error does.
    if (err instanceof ExtError && err.code !== 'PKG_TAR') throw err;
    const fix = 'code.tar.gz must be a gzip-compressed tar; package with extbuilder package';
    const e = err instanceof ExtError
      ? new ExtError('PKG_CODE_TAR', `code.tar.gz: ${err.what}`, fix)
      : new ExtError('PKG_CODE_NOT_GZIP', `code.tar.gz is not a valid gzip stream (${(err as Error).message}); the peer scans it for META-INF/statedb at install and fails`, fix);
    this.report.error ??= e;
    if (this.extract) throw e;
  }
}

interface ScanResult {
  size: number;
  sha256: string;
  error?: ExtError;
}

/** A fault in the tar reader's sink is its ExtError; anything else there is a bug of ours. */
const codedError = (err: unknown): ExtError => (err instanceof ExtError ? err : new ExtError('INTERNAL', (err as Error).message, 'report this as a bug'));

function readError(file: string, err: unknown): ExtError {
  const e = err as NodeJS.ErrnoException;
  return new ExtError('PKG_READ', `cannot read the package ${file}: ${e.code ?? e.message}`, 'give the path of a chaincode package file (.tar.gz)', { cause: err });
}

/**
 * The file's bytes in READ_CHUNK pieces, as createReadStream gives them but without fs streams, whose
 * modules cost every id and inspect about 2 ms to load. Errors are fs's own (ENOENT, EISDIR, ...).
 */
async function* fileChunks(file: string): AsyncGenerator<Buffer> {
  const fd = await new Promise<number>((resolve, reject) => open(file, 'r', (err, fd) => (err ? reject(err) : resolve(fd))));
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(READ_CHUNK);
      const n = await new Promise<number>((resolve, reject) => read(fd, buf, 0, READ_CHUNK, null, (err, n) => (err ? reject(err) : resolve(n))));
      if (n === 0) return;
      yield n === READ_CHUNK ? buf : buf.subarray(0, n);
    }
  } finally {
    await new Promise<void>((resolve) => close(fd, () => resolve()));
  }
}

/**
 * Hashes every byte of the file while node:zlib (on the thread pool) gunzips it into `sink`.
 * Gunzipping stops at the tar's end marker; hashing never stops.
 */
async function scanPackage(file: string, sink: TarSink): Promise<ScanResult> {
  const hash = new Sha256();
  const tar = new TarReader(sink);
  const gunzip = createGunzip({ chunkSize: READ_CHUNK });
  let size = 0;
  let error: ExtError | undefined;
  let feeding = true;
  let seen = 0;
  const stop = () => { feeding = false; gunzip.destroy(); };
  gunzip.on('data', (chunk: Buffer) => {
    if (!feeding) return;
    seen += chunk.length;
    try {
      tar.push(chunk);
      if (tar.done) stop();
    } catch (err) {
      error = codedError(err);
      stop();
    }
  });
  const closed = new Promise<void>((resolve) => gunzip.once('close', resolve));
  gunzip.on('error', (err: NodeJS.ErrnoException) => {
    if (!feeding) return;
    error = new ExtError('PKG_NOT_GZIP', seen === 0
      ? `${file} is not a gzip stream (${err.message}); the peer fails with "error reading as gzip stream"`
      : `the gzip stream of ${file} is damaged (${err.message})`, 'a chaincode package is a .tar.gz; create it with extbuilder package');
    feeding = false;
  });
  const drained = () => new Promise<void>((resolve) => {
    const done = () => { gunzip.off('drain', done); gunzip.off('close', done); resolve(); };
    gunzip.on('drain', done);
    gunzip.on('close', done);
  });
  try {
    for await (const chunk of fileChunks(file)) {
      hash.update(chunk);
      size += chunk.length;
      if (feeding && !gunzip.write(chunk)) await drained();
    }
  } catch (err) {
    gunzip.destroy();
    throw readError(file, err);
  }
  if (feeding) gunzip.end();
  await closed;
  if (size === 0 && !error) error = new ExtError('PKG_NOT_GZIP', `${file} is empty`, 'a chaincode package is a .tar.gz; create it with extbuilder package');
  if (!error) {
    try {
      tar.end();
    } catch (err) {
      error = err as ExtError;
    }
  }
  return { size, sha256: hash.digestHex(), error };
}

/** The whole file when it is a regular file of 1 to IN_MEMORY_FILE bytes; otherwise undefined (stream it). */
function wholeSmallFile(file: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw readError(file, err);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size === 0 || st.size > IN_MEMORY_FILE) return undefined;
    // One byte past the stat's size: a file that grew since is streamed like any large one.
    const buf = Buffer.allocUnsafe(st.size + 1);
    let n = 0;
    for (let got; n < buf.length && (got = readSync(fd, buf, n, buf.length - n, null)) > 0;) n += got;
    return n > 0 && n <= st.size ? buf.subarray(0, n) : undefined;
  } catch (err) {
    throw readError(file, err);
  } finally {
    closeSync(fd);
  }
}

/**
 * scanPackage for a whole small file, synchronously, or undefined when the stream must decide (any gzip
 * error, inflated output past the limit): then `sink` has been given nothing but can be dropped.
 */
function scanInMemory(bytes: Buffer, sink: TarSink): ScanResult | undefined {
  let tarBytes: Buffer;
  try {
    tarBytes = gunzipSync(bytes, { maxOutputLength: IN_MEMORY_INFLATED });
  } catch {
    return undefined;
  }
  let error: ExtError | undefined;
  try {
    const tar = new TarReader(sink);
    tar.push(tarBytes);
    tar.end();
  } catch (err) {
    if (err === RETRY_STREAMING) return undefined;
    error = codedError(err);
  }
  return { size: bytes.length, sha256: new Sha256().update(bytes).digestHex(), error };
}

/** The outer tar as ParseChaincodePackage walks it: every entry a regular file; metadata.json parsed. */
class PeerParse implements TarSink {
  entries: OuterEntry[] = [];
  peerWarnings: string[] = [];
  metadataBytes?: Buffer;
  metadata?: unknown;
  label = '';
  codeCount = 0;
  code?: CodeScanner;
  private target: 'metadata' | 'code' | 'other' = 'other';
  private parts: Buffer[] = [];

  /** `gunzip` is fflate's, loaded by the caller when code.tar.gz is to be scanned or extracted; none: in memory. */
  constructor(private readonly scanCode: boolean, private readonly gunzip?: GunzipClass, private readonly extract?: { sink: TarSink; occurrence: number }) {}

  entry(h: TarHeader): void {
    this.entries.push({ name: h.name, type: h.type, size: h.size });
    if (h.type !== '0') {
      throw new ExtError('PKG_ENTRY_TYPE', `tar entry ${h.name} is not a regular file, type ${typeNumber(h.type)}: the peer accepts only regular files at the top level`,
        'the package must hold exactly the files metadata.json and code.tar.gz; create it with extbuilder package');
    }
    this.parts = [];
    if (h.name === METADATA_FILE) {
      if (h.size > MAX_METADATA) throw new ExtError('PKG_METADATA_JSON', `metadata.json is ${h.size} bytes`, 'metadata.json is a small object such as {"type": "ccaas", "label": "mycc_1.0"}');
      this.target = 'metadata';
    } else if (h.name === CODE_FILE) {
      this.target = 'code';
      this.codeCount++;
      const extractHere = this.extract && this.extract.occurrence === this.codeCount;
      if (this.scanCode || extractHere) this.code = new CodeScanner(this.gunzip, extractHere ? this.extract!.sink : undefined);
    } else {
      this.target = 'other';
      this.peerWarnings.push(`Encountered unexpected file '${h.name}' in top level of chaincode package`);
    }
  }

  data(chunk: Uint8Array): void {
    if (this.target === 'metadata') this.parts.push(Buffer.from(chunk));
    else if (this.target === 'code') this.code?.push(chunk);
  }

  entryEnd(): void {
    if (this.target === 'metadata') {
      this.metadataBytes = Buffer.concat(this.parts);
      this.parts = [];
      const { fields, value } = peerMetadata(this.metadataBytes);
      this.label = fields.label;
      this.metadata = value;
    } else if (this.target === 'code') {
      this.code?.finish();
    }
    this.target = 'other';
  }
}

/** One pass over the package into a PeerParse: in memory when it is small and gunzips cleanly, else streamed. */
async function parsePackage(file: string, scanCode: boolean, inMemory: boolean, extract?: { sink: TarSink; occurrence: number }): Promise<{ parse: PeerParse; scan: ScanResult }> {
  const whole = inMemory ? wholeSmallFile(file) : undefined;
  if (whole) {
    const parse = new PeerParse(scanCode, undefined, extract);
    const scan = scanInMemory(whole, parse);
    if (scan) return { parse, scan };
  }
  const parse = new PeerParse(scanCode, scanCode || extract ? await loadGunzip() : undefined, extract);
  return { parse, scan: await scanPackage(file, parse) };
}

export async function readPackage(file: string, options: ReadOptions = {}): Promise<PackageReport> {
  const { parse, scan } = await parsePackage(file, options.code !== false, options.inMemory !== false);
  let parseError = scan.error;
  if (!parseError && parse.codeCount === 0) {
    parseError = new ExtError('PKG_NO_CODE', 'did not find a code package inside the package (no top-level entry named exactly code.tar.gz)',
      parse.entries.some((e) => e.name.endsWith('code.tar.gz')) ? 'entries must be named code.tar.gz, not ./code.tar.gz: create the package with extbuilder package' : 'create the package with extbuilder package');
  }
  if (!parseError && parse.metadataBytes === undefined) {
    parseError = new ExtError('PKG_NO_METADATA', 'did not find any package metadata (no top-level entry named exactly metadata.json)', 'create the package with extbuilder package');
  }
  if (!parseError) parseError = labelError(parse.label);
  const report: PackageReport = {
    file, size: scan.size, sha256: scan.sha256, entries: parse.entries, peerWarnings: parse.peerWarnings,
    parseError, metadataBytes: parse.metadataBytes, metadata: parse.metadata, codeCount: parse.codeCount,
    code: parse.code?.report,
  };
  if (!parseError) {
    report.label = parse.label;
    report.id = `${parse.label}:${scan.sha256}`;
  }
  report.installError = parseError ?? report.code?.error;
  return report;
}

/** Writes entries the way Untar does: MkdirAll 0700, OpenFile(O_CREATE|O_RDWR, header mode). */
class Extractor implements TarSink {
  private fd?: number;
  private current = '';

  constructor(private readonly dest: string) {}

  private fail(what: string, err: unknown): never {
    throw new ExtError('OUTPUT_WRITE', `cannot extract ${what}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'check the destination directory', { cause: err });
  }

  entry(h: TarHeader): void {
    const path = codePath(h.name);
    const target = join(this.dest, path);
    this.current = path;
    try {
      if (h.type === '5') { mkdirSync(target, { recursive: true, mode: 0o700 }); return; }
      mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
      this.fd = openSync(target, fsc.O_CREAT | fsc.O_RDWR, h.mode & 0o777);
    } catch (err) {
      this.fail(h.name, err);
    }
  }

  data(chunk: Uint8Array): void {
    if (this.fd === undefined) return;
    try {
      let off = 0;
      while (off < chunk.length) off += writeSync(this.fd, chunk, off);
    } catch (err) {
      this.fail(this.current, err);
    }
  }

  entryEnd(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * Extracts code.tar.gz (the last one, as the peer) into destDir with the peer's Untar rules. Pass the
 * report from readPackage to skip a pass. Throws the parse error if the peer would not get that far.
 */
export async function extractCode(file: string, destDir: string, report?: PackageReport, options: Pick<ReadOptions, 'inMemory'> = {}): Promise<void> {
  const inMemory = options.inMemory !== false;
  const r = report ?? await readPackage(file, { code: false, inMemory });
  if (r.parseError) throw r.parseError;
  const { scan } = await parsePackage(file, false, inMemory, { sink: new Extractor(destDir), occurrence: r.codeCount });
  if (scan.error) throw scan.error;
}

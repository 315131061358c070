// CouchDB index discovery and checks: META-INF/statedb at the root of the source, the peer CLI's layout.
import { readdirSync, readFileSync, statSync, copyFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { ExtError } from '../core/errors.js';
import { parseJson } from '../core/json.js';
import type { Logger } from '../core/log.js';

/** An index file: `rel` is its path below statedb/ as the ledger reads it, e.g. couchdb/indexes/a.json. */
export interface IndexFile {
  rel: string;
  path: string;
}

const MAX_INDEX_BYTES = 1 << 20;
const INDEX_PATH = /^couchdb\/(indexes|collections\/[^/]+\/indexes)\/[^/]+\.json$/;

function walk(dir: string, rel: string, out: { rel: string; path: string; dir: boolean }[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const r = rel ? `${rel}/${entry.name}` : entry.name;
    const p = join(dir, entry.name);
    if (entry.isDirectory()) walk(p, r, out);
    else out.push({ rel: r, path: p, dir: false });
  }
}

/** Checks one index: JSON whose `index.fields` is a non-empty array. */
export function checkIndex(text: string, where: string): void {
  const fix = 'a CouchDB index is {"index": {"fields": ["owner"]}, "ddoc": "indexOwnerDoc", "name": "indexOwner", "type": "json"}';
  const value = parseJson(text, where, 'INDEX_INVALID', `edit ${where}; ${fix}`) as { index?: { fields?: unknown } } | null;
  const fields = value && typeof value === 'object' ? value.index?.fields : undefined;
  if (!Array.isArray(fields) || fields.length === 0) {
    throw new ExtError('INDEX_INVALID', `${where} has no index.fields array`, fix);
  }
}

/**
 * Finds and checks the indexes under `<sourceDir>/META-INF/statedb`. Files at paths the ledger ignores
 * are reported and skipped; an index file that is not a valid index fails the build, since the peer
 * would otherwise apply the others and drop it silently.
 */
export function findIndexes(sourceDir: string, log: Logger): IndexFile[] {
  const root = join(sourceDir, 'META-INF', 'statedb');
  try {
    if (!statSync(root).isDirectory()) return [];
  } catch {
    return [];
  }
  const files: { rel: string; path: string }[] = [];
  walk(root, '', files as never);
  const found: IndexFile[] = [];
  for (const f of files) {
    const where = `META-INF/statedb/${f.rel}`;
    if (!INDEX_PATH.test(f.rel)) {
      log.warn('INDEX_IGNORED', `${where} is not at a path the ledger reads`, 'put indexes at META-INF/statedb/couchdb/indexes/*.json or META-INF/statedb/couchdb/collections/<name>/indexes/*.json');
      continue;
    }
    let text: string;
    try {
      const st = statSync(f.path);
      // A FIFO or a device would block the read forever or never end.
      if (!st.isFile()) throw new ExtError('INDEX_READ', `${where} is not a regular file`, 'package index definitions as plain files');
      if (st.size > MAX_INDEX_BYTES) throw new ExtError('INDEX_INVALID', `${where} is over 1 MiB`, 'an index definition is a few hundred bytes');
      text = readFileSync(f.path, 'utf8');
    } catch (err) {
      if (err instanceof ExtError) throw err;
      throw new ExtError('INDEX_READ', `cannot read ${where}: ${(err as NodeJS.ErrnoException).code}`, 'check the file modes in the package', { cause: err });
    }
    checkIndex(text, where);
    found.push({ rel: f.rel, path: f.path });
  }
  return found;
}

/** Copies indexes to `<destDir>/statedb/<rel>`, which is where release puts them for the ledger. */
export function copyIndexes(indexes: IndexFile[], destDir: string): string[] {
  return indexes.map((ix) => {
    const rel = `statedb/${ix.rel}`;
    const target = join(destDir, rel);
    mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
    copyFileSync(ix.path, target);
    return rel;
  });
}

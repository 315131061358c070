// What goes into code.tar.gz: a launch tree walked into a sorted list of files and directories, with
// modes normalised (0755 if any execute bit, else 0644), refusing what the peer refuses.
import { accessSync, constants, lstatSync, readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { ExtError } from '../errors.js';

/** One entry of code.tar.gz: `path` is relative, '/'-separated, without a trailing '/'. */
export interface CodeItem {
  path: string;
  kind: 'file' | 'dir';
  mode: number;
  size: number;
  /** Where a file's bytes come from: a file on disk, or bytes in memory. */
  source?: string;
  bytes?: Uint8Array;
}

/** Byte order of the UTF-8 path components: the same order on every machine and file system. */
export function comparePaths(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const c = Buffer.compare(Buffer.from(pa[i]!), Buffer.from(pb[i]!));
    if (c !== 0) return c;
  }
  return pa.length - pb.length;
}

export function normalMode(st: { mode: number }, kind: 'file' | 'dir'): number {
  return kind === 'dir' || (st.mode & 0o111) !== 0 ? 0o755 : 0o644;
}

/**
 * The entries in their canonical order, with a directory entry only for an empty directory: the peer
 * creates parent directories itself (0700, like any directory it extracts), and its own packager writes
 * no directory entries either.
 */
export function canonical(items: CodeItem[]): CodeItem[] {
  const parents = new Set<string>();
  for (const item of items) {
    const parts = item.path.split('/');
    for (let n = 1; n < parts.length; n++) parents.add(parts.slice(0, n).join('/'));
  }
  return items.filter((i) => i.kind === 'file' || !parents.has(i.path)).sort((a, b) => comparePaths(a.path, b.path));
}

function listing(paths: string[], max = 10): string {
  return paths.slice(0, max).join(', ') + (paths.length > max ? `, and ${paths.length - max} more` : '');
}

export interface WalkOptions {
  /** Package what symlinks point to instead of refusing them. */
  dereference?: boolean;
}

/** What the peer (or tar) cannot take, collected so that one error lists every offender. */
interface Problems {
  links: string[];
  special: string[];
  unreadable: string[];
}

function throwProblems(p: Problems): void {
  if (p.links.length > 0) {
    throw new ExtError('PKG_SYMLINK', `the tree holds ${p.links.length} symlink${p.links.length === 1 ? '' : 's'}, which the peer refuses at install ("invalid file type '50'"): ${listing(p.links)}`,
      'rerun with --dereference to package the files they point to, or replace them');
  }
  if (p.special.length > 0) {
    throw new ExtError('PKG_SPECIAL_FILE', `the tree holds sockets, FIFOs or devices: ${listing(p.special)}`, 'remove them from the tree; only files and directories can be packaged');
  }
  if (p.unreadable.length > 0) {
    throw new ExtError('PKG_INPUT', `cannot read ${listing(p.unreadable)}`, 'make every file in the tree readable by the user running extbuilder package');
  }
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * The tree's entries in canonical order, one directory read at a time: a depth-first walk with each
 * directory's names in byte order is exactly comparePaths order, so nothing needs sorting as a whole
 * and memory follows the tree's depth, not its size. Only empty directories are entries (canonical).
 */
function* entries(root: string, o: WalkOptions, problems: Problems, checkAccess = true): Generator<CodeItem> {
  function* visit(dir: string, rel: string, ancestors: string[]): Generator<CodeItem> {
    let names: string[];
    try {
      names = readdirSync(dir).sort(byteOrder);
    } catch (err) {
      problems.unreadable.push(`${rel || '.'}/ (${(err as NodeJS.ErrnoException).code})`);
      return;
    }
    if (names.length === 0 && rel) yield { path: rel, kind: 'dir', mode: 0o755, size: 0 };
    for (const name of names) {
      const abs = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      let st: Stats;
      try {
        st = lstatSync(abs);
      } catch (err) {
        problems.unreadable.push(`${r} (${(err as NodeJS.ErrnoException).code})`);
        continue;
      }
      if (st.isSymbolicLink()) {
        if (!o.dereference) { problems.links.push(r); continue; }
        try {
          st = statSync(abs);
        } catch {
          throw new ExtError('PKG_SYMLINK', `${r} is a symlink to a missing target`, 'fix or remove the link');
        }
      }
      if (st.isDirectory()) {
        // Only a followed symlink can lead back to a parent.
        if (!o.dereference) {
          yield* visit(abs, r, ancestors);
          continue;
        }
        const real = realpathSync(abs);
        if (ancestors.includes(real)) throw new ExtError('PKG_SYMLINK', `${r} links back to one of its own parent directories`, 'remove the loop before packaging');
        yield* visit(abs, r, [...ancestors, real]);
      } else if (st.isFile()) {
        try {
          if (checkAccess) accessSync(abs, constants.R_OK);
        } catch (err) {
          problems.unreadable.push(`${r} (${(err as NodeJS.ErrnoException).code})`);
          continue;
        }
        yield { path: r, kind: 'file', mode: normalMode(st, 'file'), size: st.size, source: abs };
      } else {
        problems.special.push(r);
      }
    }
  }
  yield* visit(root, '', o.dereference ? [realpathSync(root)] : []);
}

const noProblems = (): Problems => ({ links: [], special: [], unreadable: [] });

/**
 * Walks `root` once without keeping its entries: refuses symlinks (without `dereference`; the peer
 * refuses them at install), sockets, FIFOs, devices and unreadable files, listing every one, before
 * anything is written; counts the files and their bytes.
 */
export function checkTree(root: string, o: WalkOptions = {}): { files: number; bytes: number } {
  const problems = noProblems();
  let files = 0;
  let bytes = 0;
  for (const item of entries(root, o, problems)) {
    if (item.kind === 'file') {
      files++;
      bytes += item.size;
    }
  }
  throwProblems(problems);
  return { files, bytes };
}

/**
 * `root`'s code items in canonical order, walked as they are consumed. Run checkTree first: this walk
 * stops at the first problem, which then means the tree changed in between (a file that became
 * unreadable since is not looked for here: opening it fails the package with PKG_INPUT).
 */
export function* treeItems(root: string, o: WalkOptions = {}): Generator<CodeItem> {
  const problems = noProblems();
  for (const item of entries(root, o, problems, false)) {
    throwProblems(problems);
    yield item;
  }
  throwProblems(problems);
}

/** `root`'s code items in canonical order as a list, for small trees (index directories, tests). */
export function walkTree(root: string, o: WalkOptions = {}): CodeItem[] {
  checkTree(root, o);
  return [...treeItems(root, o)];
}

/**
 * Tree items (canonical, as treeItems gives them) merged with a few more (index files) into canonical
 * order, without collecting the tree; an empty directory of the tree that the extra items fill is
 * dropped, as canonical() drops it.
 */
export function* mergeCanonical(tree: Iterable<CodeItem>, more: CodeItem[]): Generator<CodeItem> {
  const extra = canonical(more);
  let next = 0;
  for (const item of tree) {
    while (next < extra.length && comparePaths(extra[next]!.path, item.path) < 0) yield extra[next++]!;
    if (item.kind === 'dir' && extra.some((e) => e.path.startsWith(`${item.path}/`))) continue;
    yield item;
  }
  while (next < extra.length) yield extra[next++]!;
}

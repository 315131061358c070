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

/**
 * Walks `root` into code items. Without `dereference`, symlinks are refused with the list of them
 * (the peer refuses them at install); sockets, FIFOs and devices always are; unreadable files and
 * directories are refused before anything is written.
 */
export function walkTree(root: string, o: WalkOptions = {}): CodeItem[] {
  const items: CodeItem[] = [];
  const links: string[] = [];
  const special: string[] = [];
  const unreadable: string[] = [];
  const visit = (dir: string, rel: string, ancestors: string[]) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (err) {
      unreadable.push(`${rel || '.'}/ (${(err as NodeJS.ErrnoException).code})`);
      return;
    }
    for (const name of names) {
      const abs = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      let st: Stats;
      try {
        st = lstatSync(abs);
      } catch (err) {
        unreadable.push(`${r} (${(err as NodeJS.ErrnoException).code})`);
        continue;
      }
      if (st.isSymbolicLink()) {
        if (!o.dereference) { links.push(r); continue; }
        try {
          st = statSync(abs);
        } catch {
          throw new ExtError('PKG_SYMLINK', `${r} is a symlink to a missing target`, 'fix or remove the link');
        }
      }
      if (st.isDirectory()) {
        const real = realpathSync(abs);
        if (ancestors.includes(real)) throw new ExtError('PKG_SYMLINK', `${r} links back to one of its own parent directories`, 'remove the loop before packaging');
        items.push({ path: r, kind: 'dir', mode: 0o755, size: 0 });
        visit(abs, r, [...ancestors, real]);
      } else if (st.isFile()) {
        try {
          accessSync(abs, constants.R_OK);
        } catch (err) {
          unreadable.push(`${r} (${(err as NodeJS.ErrnoException).code})`);
          continue;
        }
        items.push({ path: r, kind: 'file', mode: normalMode(st, 'file'), size: st.size, source: abs });
      } else {
        special.push(r);
      }
    }
  };
  visit(root, '', [realpathSync(root)]);
  if (links.length > 0) {
    throw new ExtError('PKG_SYMLINK', `the tree holds ${links.length} symlink${links.length === 1 ? '' : 's'}, which the peer refuses at install ("invalid file type '50'"): ${listing(links)}`,
      'rerun with --dereference to package the files they point to, or replace them');
  }
  if (special.length > 0) {
    throw new ExtError('PKG_SPECIAL_FILE', `the tree holds sockets, FIFOs or devices: ${listing(special)}`, 'remove them from the tree; only files and directories can be packaged');
  }
  if (unreadable.length > 0) {
    throw new ExtError('PKG_INPUT', `cannot read ${listing(unreadable)}`, 'make every file in the tree readable by the user running extbuilder package');
  }
  return items.sort((a, b) => comparePaths(a.path, b.path));
}

// tree.ts: the launch tree walked in canonical order one directory at a time (so packaging never holds
// the whole tree), checked before anything is written, and merged with index files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExtError } from '../src/core/errors.js';
import { checkTree, comparePaths, mergeCanonical, treeItems, type CodeItem } from '../src/core/pkg/tree.js';
import { tempDir } from './helpers/repo.js';

/**
 * Names whose order differs between path components in byte order (the format's), locale order and
 * whole-path string order: 'a b/x' < 'a-/y' < 'a/b.txt' < 'a/b/c' as strings, but 'a/...' comes first
 * and 'a/b/c' precedes 'a/b.txt' by components; and 'ｚ' (U+FF5A) sorts before '😀' in UTF-8 bytes but
 * after it in JavaScript's UTF-16 string order.
 */
const FILES = ['a b/x', 'a-/y', 'a/b/c', 'a/b.txt', 'B', 'é/z', 'z.js', 'a/b/c2/d', '😀.txt', 'ｚ.txt'];

function makeTree(): string {
  const root = tempDir('extbuilder-tree-');
  for (const f of FILES) {
    const path = join(root, 'src', ...f.split('/'));
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, f);
  }
  mkdirSync(join(root, 'src', 'empty', 'inner'), { recursive: true });
  return join(root, 'src');
}

test('the walk gives comparePaths order, only empty directories as entries, and counts what it will write', () => {
  const root = makeTree();
  const paths = [...treeItems(root)].map((i) => `${i.path}${i.kind === 'dir' ? '/' : ''}`);
  assert.deepEqual(paths, ['B', 'a/b/c', 'a/b/c2/d', 'a/b.txt', 'a b/x', 'a-/y', 'empty/inner/', 'z.js', 'é/z', 'ｚ.txt', '😀.txt']);
  assert.deepEqual(paths, [...paths].sort((x, y) => comparePaths(x.replace(/\/$/, ''), y.replace(/\/$/, ''))));
  assert.deepEqual(checkTree(root), { files: FILES.length, bytes: FILES.reduce((n, f) => n + Buffer.byteLength(f), 0) });
});

test('a symlink that appears after the check fails the walk that writes', () => {
  const root = makeTree();
  checkTree(root);
  symlinkSync('/etc/hostname', join(root, 'a', 'late-link'));
  assert.throws(() => [...treeItems(root)], (err) => err instanceof ExtError && err.code === 'PKG_SYMLINK' && err.message.includes('a/late-link'));
});

test('merging index files: canonical order, and an empty directory they fill is no longer an entry', () => {
  const root = tempDir('extbuilder-tree-merge-');
  mkdirSync(join(root, 'META-INF'));
  writeFileSync(join(root, 'launch.json'), '{}');
  writeFileSync(join(root, 'Z'), 'z');
  const index = (path: string): CodeItem => ({ path, kind: 'file', mode: 0o644, size: 2, bytes: Buffer.from('{}') });
  const merged = [...mergeCanonical(treeItems(root), [index('META-INF/statedb/couchdb/indexes/b.json'), index('META-INF/statedb/couchdb/indexes/a.json')])];
  assert.deepEqual(merged.map((i) => i.path), ['META-INF/statedb/couchdb/indexes/a.json', 'META-INF/statedb/couchdb/indexes/b.json', 'Z', 'launch.json']);
});

// The package reader against a real peer's verdicts (fixtures/packages/vectors, from ../shared/vectors),
// and against packages made by GNU tar: symlinks, escaping names, long names, ./ prefixes, truncation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync, readdirSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { extractCode, readPackage } from '../src/core/pkg/read.js';
import { FIXTURES, tempDir } from './helpers/repo.js';

const VECTORS = join(FIXTURES, 'packages', 'vectors');
const expected = JSON.parse(readFileSync(join(VECTORS, 'expected.json'), 'utf8')) as Record<string, {
  calculatepackageid_exit: number; package_id?: string; peer_error?: string; peer_warnings?: string[];
}>;

/** The code a peer error maps to: the verdict must match, the wording need not. */
const CODE_FOR_PEER_ERROR: [RegExp, string][] = [
  [/invalid label/, 'PKG_LABEL'],
  [/is not a regular file, type 53/, 'PKG_ENTRY_TYPE'],
  [/did not find a code package/, 'PKG_NO_CODE'],
  [/missing metadata.json/, 'PKG_NO_METADATA'],
  [/could not unmarshal metadata.json/, 'PKG_METADATA_JSON'],
  [/error reading as gzip stream/, 'PKG_NOT_GZIP'],
];

for (const [name, want] of Object.entries(expected)) {
  test(`vector ${name}: the peer's verdict and package ID`, async () => {
    const r = await readPackage(join(VECTORS, name));
    if (want.calculatepackageid_exit === 0) {
      assert.equal(r.parseError, undefined, r.parseError?.message);
      assert.equal(r.id, want.package_id);
    } else {
      assert.equal(r.id, undefined);
      const code = CODE_FOR_PEER_ERROR.find(([re]) => re.test(want.peer_error ?? ''))?.[1];
      assert.ok(code, `no mapping for ${want.peer_error}`);
      assert.equal(r.parseError?.code, code, r.parseError?.message);
    }
    assert.deepEqual(r.peerWarnings, want.peer_warnings ?? []);
  });
}

test('code-not-gzip: calculatepackageid accepts it, install does not', async () => {
  const r = await readPackage(join(VECTORS, 'code-not-gzip.tar.gz'));
  assert.equal(r.parseError, undefined);
  assert.equal(r.installError?.code, 'PKG_CODE_NOT_GZIP');
});

test('the package ID is the SHA-256 of the file bytes, as sha256sum computes it', async () => {
  const file = join(VECTORS, 'tutorial-examplecc.tar.gz');
  const sum = execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0];
  const r = await readPackage(file);
  assert.equal(r.sha256, sum);
  assert.equal(r.size, statSync(file).size);
  assert.equal(r.metadataBytes?.toString(), execFileSync('tar', ['-xzOf', file, 'metadata.json'], { encoding: 'utf8' }));
});

/** A package made by GNU tar from `code` (a directory, archived with `tarArgs`) and a metadata.json. */
function tarPackage(code: string, tarArgs: string[], metadata = '{"type":"external","label":"t_1"}'): string {
  const dir = tempDir('extbuilder-pkg-');
  writeFileSync(join(dir, 'metadata.json'), metadata);
  execFileSync('tar', ['-czf', join(dir, 'code.tar.gz'), '-C', code, ...tarArgs]);
  execFileSync('tar', ['-czf', join(dir, 'pkg.tar.gz'), '-C', dir, 'metadata.json', 'code.tar.gz']);
  return join(dir, 'pkg.tar.gz');
}

function codeTree(): string {
  const src = tempDir('extbuilder-code-');
  writeFileSync(join(src, 'connection.json'), '{"address": "cc.example.com:9999", "dial_timeout": "10s"}\n');
  mkdirSync(join(src, 'bin'));
  writeFileSync(join(src, 'bin', 'tool'), '#!/bin/sh\n', { mode: 0o755 });
  return src;
}

test('a symlink in code.tar.gz: the ID is computed, install is refused with the peer\'s type 50', async () => {
  const src = codeTree();
  symlinkSync('bin/tool', join(src, 'link'));
  const r = await readPackage(tarPackage(src, ['.']));
  assert.ok(r.id);
  assert.equal(r.installError?.code, 'PKG_CODE_ENTRY_TYPE');
  assert.match(r.installError!.message, /'50'/);
  assert.ok(r.code?.entries.some((e) => e.path === 'link' && e.type === '2' && e.linkname === 'bin/tool'));
});

test('an escaping or absolute name in code.tar.gz is refused like Untar does', async () => {
  const src = codeTree();
  const outside = tempDir('extbuilder-outside-');
  writeFileSync(join(outside, 'x'), 'x');
  mkdirSync(join(src, 'sub'));
  const escaping = await readPackage(tarPackage(join(src, 'sub'), ['-P', `../connection.json`]));
  assert.equal(escaping.installError?.code, 'PKG_CODE_PATH');
  const absolute = await readPackage(tarPackage(src, ['-P', join(outside, 'x')]));
  assert.equal(absolute.installError?.code, 'PKG_CODE_PATH');
});

test('a regular file named "." in code.tar.gz is refused: the peer would open its source directory as a file', async () => {
  const src = codeTree();
  writeFileSync(join(src, 'dot'), 'x');
  const r = await readPackage(tarPackage(src, ['--transform', 's,^dot$,.,', 'connection.json', 'dot']));
  assert.ok(r.code?.entries.some((e) => e.path === '' || e.path === '.'), 'the entry is read');
  assert.equal(r.installError?.code, 'PKG_CODE_PATH');
  assert.match(r.installError!.message, /source directory itself/);
});

test('./-prefixed, long (GNU and pax) names are read as the peer reads them', async () => {
  const src = codeTree();
  const deep = join(src, 'a'.repeat(60), 'b'.repeat(60), 'c'.repeat(60));
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(deep, `${'d'.repeat(120)}.txt`), 'deep');
  for (const format of ['gnu', 'pax']) {
    const r = await readPackage(tarPackage(src, [`--format=${format}`, '.']));
    assert.equal(r.installError, undefined, `${format}: ${r.installError?.message}`);
    assert.ok(r.code?.files.has('connection.json'), `${format}: connection.json found under ./`);
    const long = r.code!.entries.find((e) => e.name.endsWith('.txt'));
    assert.equal(long?.path, `${'a'.repeat(60)}/${'b'.repeat(60)}/${'c'.repeat(60)}/${'d'.repeat(120)}.txt`, format);
    assert.equal(long?.size, 4);
  }
});

test('a truncated package is refused, and a package of another format is not gzip', async () => {
  const good = readFileSync(join(VECTORS, 'valid-external.tar.gz'));
  const dir = tempDir();
  // Cut inside the tar's entries: cutting only the zero padding after the end marker goes unnoticed, by Go too.
  writeFileSync(join(dir, 'cut.tar.gz'), good.subarray(0, Math.floor(good.length / 2)));
  const cut = await readPackage(join(dir, 'cut.tar.gz'));
  assert.equal(cut.id, undefined);
  assert.match(cut.parseError?.code ?? '', /^PKG_(NOT_GZIP|TAR)$/);
  writeFileSync(join(dir, 'empty.tar.gz'), '');
  assert.equal((await readPackage(join(dir, 'empty.tar.gz'))).parseError?.code, 'PKG_NOT_GZIP');
  execFileSync('tar', ['-cf', join(dir, 'plain.tar'), '-C', dir, 'empty.tar.gz']);
  assert.equal((await readPackage(join(dir, 'plain.tar'))).parseError?.code, 'PKG_NOT_GZIP');
  await assert.rejects(readPackage(join(dir, 'missing.tar.gz')), { code: 'PKG_READ' });
});

test('extractCode writes what Untar writes: tar modes for files, 0700 directories', async () => {
  const src = codeTree();
  chmodSync(join(src, 'bin'), 0o755);
  const pkg = tarPackage(src, ['.']);
  const dest = tempDir('extbuilder-extract-');
  const umask = process.umask(0o022);
  try {
    await extractCode(pkg, dest);
  } finally {
    process.umask(umask);
  }
  assert.deepEqual(readdirSync(dest).sort(), ['bin', 'connection.json']);
  assert.equal(statSync(join(dest, 'bin')).mode & 0o777, 0o700);
  assert.equal(statSync(join(dest, 'bin', 'tool')).mode & 0o777, 0o755);
  assert.equal(statSync(join(dest, 'connection.json')).mode & 0o777, 0o644);
  assert.equal(readFileSync(join(dest, 'connection.json'), 'utf8'), readFileSync(join(src, 'connection.json'), 'utf8'));
});

test('extractCode stops at the first entry the peer refuses', async () => {
  const src = codeTree();
  symlinkSync('/etc/passwd', join(src, 'zz-link'));
  const dest = tempDir('extbuilder-extract-');
  await assert.rejects(extractCode(tarPackage(src, ['.']), dest), { code: 'PKG_CODE_ENTRY_TYPE' });
  assert.ok(!readdirSync(dest).includes('zz-link'));
  await assert.rejects(extractCode(join(VECTORS, 'dir-entry.tar.gz'), dest), { code: 'PKG_ENTRY_TYPE' });
});

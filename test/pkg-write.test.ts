// Reproducible packages: the same inputs give the same bytes whatever the umask, time zone, file mtimes
// and directory creation order (the CLI run as child processes), pinned by golden SHA-256s; and the
// output is a plain tar.gz that GNU tar and our reader agree on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { extractCode, readPackage } from '../src/core/pkg/read.js';
import { writePackage } from '../src/core/pkg/write.js';
import { walkTree, canonical } from '../src/core/pkg/tree.js';
import { FIXTURES, REPO, listFiles, tempDir } from './helpers/repo.js';

const TREE = join(FIXTURES, 'packages', 'launch-tree');
const CLI = join(REPO, 'bin', 'extbuilder');

/**
 * Golden SHA-256s. A change here means every package ID changes for users: only accept a new value
 * for a deliberate format change, never for a dependency or Node upgrade.
 */
const GOLDEN_LAUNCH = 'e8eceff81a6c70f3d60571afdba7cb515e82c42a7e30fd227438c3ab83ef8955';
const GOLDEN_SERVICE = 'c9b99d51e315b1a467129329fcf497421b156eb1bbc452cc95d6cf6afb8c5577';

interface CopyOptions { reverse: boolean; fileMode?: number; mtime: Date }

/** Copies a tree creating entries in sorted or reverse order, with a given mode and mtime. */
function copyTree(from: string, to: string, o: CopyOptions): void {
  mkdirSync(to, { recursive: true });
  const names = readdirSync(from).sort();
  if (o.reverse) names.reverse();
  for (const name of names) {
    const s = join(from, name);
    const d = join(to, name);
    if (statSync(s).isDirectory()) {
      copyTree(s, d, o);
    } else {
      writeFileSync(d, readFileSync(s));
      const exec = (statSync(s).mode & 0o100) !== 0;
      chmodSync(d, o.fileMode !== undefined ? (exec ? o.fileMode | 0o100 : o.fileMode) : statSync(s).mode & 0o777);
      utimesSync(d, o.mtime, o.mtime);
    }
  }
  utimesSync(to, o.mtime, o.mtime);
}

function runPackage(args: string[], umask: string, tz: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('sh', ['-c', `umask ${umask}; exec "$0" "$@"`, process.execPath, CLI, 'package', ...args], {
    env: { PATH: process.env.PATH, TZ: tz }, encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

test('launch mode: identical bytes under different umask, TZ, mtimes, modes and creation order', () => {
  const work = tempDir('extbuilder-repro-');
  const a = join(work, 'a');
  const b = join(work, 'b');
  copyTree(TREE, a, { reverse: false, mtime: new Date('2024-01-02T03:04:05Z') });
  copyTree(TREE, b, { reverse: true, fileMode: 0o600, mtime: new Date('1999-12-31T23:59:59Z') });
  const ra = runPackage(['--launch', a, '--label', 'golden_1.0', '-o', join(work, 'a.tar.gz')], '022', 'UTC');
  const rb = runPackage(['--launch', b, '--label', 'golden_1.0', '-o', join(work, 'b.tar.gz')], '077', 'Pacific/Kiritimati');
  assert.equal(ra.status, 0, ra.stderr);
  assert.equal(rb.status, 0, rb.stderr);
  assert.ok(readFileSync(join(work, 'a.tar.gz')).equals(readFileSync(join(work, 'b.tar.gz'))), 'the two packages differ');
  const sum = sha256(join(work, 'a.tar.gz'));
  assert.equal(ra.stdout.trim(), `golden_1.0:${sum}`);
  assert.equal(sum, GOLDEN_LAUNCH, 'the launch fixture package bytes changed: package IDs would change for every user');
});

test('service mode from flags: identical bytes in two runs, pinned by a golden SHA-256', () => {
  const work = tempDir('extbuilder-repro-');
  const args = (out: string) => ['--address', 'mycc.org1.example.com:9999', '--dial-timeout', '10s', '--indexes', join(FIXTURES, 'packages', 'indexes'), '--label', 'golden_1.0', '-o', join(work, out)];
  const r1 = runPackage(args('1.tar.gz'), '002', 'America/New_York');
  const r2 = runPackage(args('2.tar.gz'), '077', 'Asia/Kolkata');
  assert.equal(r1.status, 0, r1.stderr);
  assert.equal(r2.status, 0, r2.stderr);
  assert.equal(r1.stdout, r2.stdout);
  assert.equal(sha256(join(work, '1.tar.gz')), GOLDEN_SERVICE);
});

test('the fixed header fields: GNU tar sees mode, owner 0/0, mtime 0, regular files only at the top', async () => {
  const work = tempDir('extbuilder-fields-');
  const out = join(work, 'p.tar.gz');
  await writePackage({ output: out, label: 'f_1', type: 'external', items: canonical(walkTree(TREE)) });
  const outer = execFileSync('tar', ['--numeric-owner', '-tvzf', out], { encoding: 'utf8', env: { TZ: 'UTC' } }).trim().split('\n');
  assert.equal(outer.length, 2);
  assert.match(outer[0]!, /^-rw-r--r-- 0\/0 +\d+ 1970-01-01 00:00 metadata\.json$/);
  assert.match(outer[1]!, /^-rw-r--r-- 0\/0 +\d+ 1970-01-01 00:00 code\.tar\.gz$/);
  // gzip header: no mtime (bytes 4-7 zero), OS byte 3.
  const head = readFileSync(out).subarray(0, 10);
  assert.deepEqual([...head.subarray(4, 8)], [0, 0, 0, 0]);
  assert.equal(head[9], 3);
  execFileSync('tar', ['-xzf', out, '-C', work]);
  const inner = execFileSync('tar', ['--numeric-owner', '-tvzf', join(work, 'code.tar.gz')], { encoding: 'utf8', env: { TZ: 'UTC' } }).trim().split('\n');
  for (const line of inner) assert.match(line, /^(-rw-r--r--|-rwxr-xr-x|drwxr-xr-x) 0\/0 +\d+ 1970-01-01 00:00 [^.]/, line);
  assert.ok(inner.some((l) => l.startsWith('-rwxr-xr-x') && l.endsWith(' bin/chaincode')));
  const unpacked = join(work, 'unpacked');
  mkdirSync(unpacked);
  execFileSync('tar', ['-xzf', join(work, 'code.tar.gz'), '-C', unpacked]);
  assert.deepEqual(listFiles(unpacked), listFiles(TREE));
  for (const f of listFiles(TREE)) assert.ok(readFileSync(join(unpacked, f)).equals(readFileSync(join(TREE, f))), f);
});

test('paths over 255 bytes get a pax record that GNU tar and our reader both honour', async () => {
  const src = tempDir('extbuilder-long-');
  const rel = `${'x'.repeat(150)}/${'y'.repeat(150)}/${'z'.repeat(120)}.txt`;
  mkdirSync(join(src, 'x'.repeat(150), 'y'.repeat(150)), { recursive: true });
  writeFileSync(join(src, rel), 'long');
  writeFileSync(join(src, 'connection.json'), '{"address": "a.example.com:1"}');
  const work = tempDir('extbuilder-long-out-');
  const out = join(work, 'p.tar.gz');
  await writePackage({ output: out, label: 'l_1', type: 'external', items: canonical(walkTree(src)) });
  const r = await readPackage(out);
  assert.equal(r.installError, undefined);
  assert.ok(r.code?.entries.some((e) => e.path === rel && e.size === 4));
  execFileSync('tar', ['-xzf', out, '-C', work]);
  const unpacked = join(work, 'u');
  mkdirSync(unpacked);
  execFileSync('tar', ['-xzf', join(work, 'code.tar.gz'), '-C', unpacked]);
  assert.equal(readFileSync(join(unpacked, rel), 'utf8'), 'long');
});

test('only empty directories get a directory entry, and they survive the peer\'s extraction', async () => {
  const src = tempDir('extbuilder-dirs-');
  mkdirSync(join(src, 'full', 'empty'), { recursive: true });
  mkdirSync(join(src, 'also-empty'));
  writeFileSync(join(src, 'full', 'a.txt'), 'a');
  writeFileSync(join(src, 'launch.json'), '{"command": "node"}');
  const out = join(tempDir('extbuilder-dirs-out-'), 'p.tar.gz');
  await writePackage({ output: out, label: 'd_1', type: 'external', items: canonical(walkTree(src)) });
  const r = await readPackage(out);
  assert.deepEqual(r.code!.entries.map((e) => e.name), ['also-empty/', 'full/a.txt', 'full/empty/', 'launch.json']);
  const dest = tempDir('extbuilder-dirs-x-');
  await extractCode(out, dest, r);
  assert.deepEqual(readdirSync(dest).sort(), ['also-empty', 'full', 'launch.json']);
  assert.ok(statSync(join(dest, 'full', 'empty')).isDirectory());
  assert.equal(statSync(join(dest, 'full')).mode & 0o777, 0o700);
});

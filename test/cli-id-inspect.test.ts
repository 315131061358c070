// extbuilder id and inspect as a user runs them: id agrees with the real peer's calculatepackageid on
// every vector (exit code, ID, --output json); inspect passes only what the peer installs and build builds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, REPO, tempDir } from './helpers/repo.js';

const CLI = join(REPO, 'bin', 'extbuilder');
const VECTORS = join(FIXTURES, 'packages', 'vectors');
const expected = JSON.parse(readFileSync(join(VECTORS, 'expected.json'), 'utf8')) as Record<string, { calculatepackageid_exit: number; package_id?: string }>;

function run(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('id gives calculatepackageid\'s exit code and ID for every vector', () => {
  for (const [name, want] of Object.entries(expected)) {
    const r = run(['id', join(VECTORS, name)]);
    assert.equal(r.status, want.calculatepackageid_exit, `${name}: ${r.stderr}`);
    if (want.calculatepackageid_exit === 0) {
      assert.equal(r.stdout, `${want.package_id}\n`, name);
    } else {
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^extbuilder id: PKG_[A-Z_]+: .*\n$/, name);
    }
  }
});

test('id --output json and --json print the peer CLI\'s JSON', () => {
  const file = join(VECTORS, 'tutorial-examplecc.tar.gz');
  const want = `{\n\t"package_id": "${expected['tutorial-examplecc.tar.gz']!.package_id}"\n}\n`;
  assert.equal(run(['id', '--output', 'json', file]).stdout, want);
  assert.equal(run(['id', '--json', file]).stdout, want);
});

test('id warns about extra top-level files, which still count in the ID', () => {
  const r = run(['id', join(VECTORS, 'extra-file.tar.gz')]);
  assert.equal(r.status, 0);
  assert.match(r.stderr, /warning: PKG_UNEXPECTED_FILE: Encountered unexpected file 'README\.md'/);
});

test('inspect: a valid service package passes and is described', () => {
  const r = run(['inspect', join(VECTORS, 'valid-external.tar.gz')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^id +${expected['valid-external.tar.gz']!.package_id}$`, 'm'));
  assert.match(r.stdout, /^mode +service$/m);
  assert.match(r.stdout, /^verdict +ok/m);
});

test('inspect rejects code-not-gzip, which calculatepackageid accepts', () => {
  const r = run(['inspect', join(VECTORS, 'code-not-gzip.tar.gz')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^extbuilder inspect: PKG_CODE_NOT_GZIP: /m);
  const j = run(['inspect', '--json', join(VECTORS, 'code-not-gzip.tar.gz')]);
  const report = JSON.parse(j.stdout);
  assert.equal(report.ok, false);
  assert.equal(report.error.code, 'PKG_CODE_NOT_GZIP');
  assert.equal(report.package_id, expected['code-not-gzip.tar.gz']!.package_id);
});

/** A package made the way tutorials make them: tar czf of a code dir and metadata.json. */
function tutorialPackage(fill: (code: string) => void, metadata = '{"type":"ccaas","label":"t_1"}'): string {
  const dir = tempDir('extbuilder-insp-');
  const code = join(dir, 'code');
  mkdirSync(code);
  fill(code);
  writeFileSync(join(dir, 'metadata.json'), metadata);
  execFileSync('tar', ['-czf', join(dir, 'code.tar.gz'), '-C', code, '.']);
  execFileSync('tar', ['-czf', join(dir, 'pkg.tar.gz'), '-C', dir, 'metadata.json', 'code.tar.gz']);
  return join(dir, 'pkg.tar.gz');
}

test('inspect fails what build would reject, and what the peer refuses inside code.tar.gz', () => {
  const cases: [string, (code: string) => void, string][] = [
    ['string boolean', (c) => writeFileSync(join(c, 'connection.json'), '{"address": "a.example.com:1", "tls_required": "true"}'), 'CONN_BOOLEAN'],
    ['no entry file', (c) => writeFileSync(join(c, 'README'), 'x'), 'SOURCE_NO_ENTRY'],
    ['both modes', (c) => { writeFileSync(join(c, 'connection.json'), '{"address": "a.example.com:1"}'); writeFileSync(join(c, 'launch.json'), '{"command": "node"}'); }, 'SOURCE_BOTH_MODES'],
    ['symlink', (c) => { writeFileSync(join(c, 'connection.json'), '{"address": "a.example.com:1"}'); symlinkSync('connection.json', join(c, 'l')); }, 'PKG_CODE_ENTRY_TYPE'],
    ['bad index', (c) => {
      writeFileSync(join(c, 'connection.json'), '{"address": "a.example.com:1"}');
      mkdirSync(join(c, 'META-INF', 'statedb', 'couchdb', 'indexes'), { recursive: true });
      writeFileSync(join(c, 'META-INF', 'statedb', 'couchdb', 'indexes', 'a.json'), '{"index": {"fields": []}}');
    }, 'INDEX_INVALID'],
  ];
  for (const [name, fill, code] of cases) {
    const r = run(['inspect', tutorialPackage(fill)]);
    assert.equal(r.status, 1, `${name}: ${r.stdout}`);
    assert.match(r.stderr, new RegExp(`^extbuilder inspect: ${code}: `, 'm'), name);
  }
});

test('inspect warns about indexes at paths the ledger ignores, and lists the ones it reads', () => {
  const pkg = tutorialPackage((c) => {
    writeFileSync(join(c, 'connection.json'), '{"address": "a.example.com:1"}');
    mkdirSync(join(c, 'META-INF', 'statedb', 'couchdb', 'indexes'), { recursive: true });
    writeFileSync(join(c, 'META-INF', 'statedb', 'couchdb', 'indexes', 'a.json'), '{"index": {"fields": ["a"]}}');
    writeFileSync(join(c, 'META-INF', 'statedb', 'couchdb', 'b.json'), '{"index": {"fields": ["b"]}}');
  });
  const r = run(['inspect', '--json', pkg]);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.deepEqual(report.indexes, ['couchdb/indexes/a.json']);
  assert.ok(report.warnings.some((w: { code: string }) => w.code === 'INDEX_IGNORED'));
  assert.match(r.stderr, /warning: INDEX_IGNORED: META-INF\/statedb\/couchdb\/b\.json/);
});

test('inspect on a missing file: one line, exit 1', () => {
  const r = run(['inspect', join(tempDir(), 'nope.tar.gz')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^extbuilder inspect: PKG_READ: .*\n$/);
});

test('inspect describes a launch package: command, workdir, indexes, modes', () => {
  const out = join(tempDir('extbuilder-insp-'), 'l.tar.gz');
  const made = run(['package', '--launch', join(FIXTURES, 'packages', 'launch-tree'), '--label', 'l_1', '-o', out]);
  assert.equal(made.status, 0, made.stderr);
  const r = run(['inspect', '--json', out]);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.package_id, made.stdout.trim());
  assert.equal(report.mode, 'launch');
  assert.deepEqual(report.launch, { command: 'bin/chaincode', args: ['--peer-address', '{{.peer_address}}', '--id', '{{.chaincode_id}}'], workdir: '.' });
  assert.deepEqual(report.indexes, ['couchdb/collections/private/indexes/indexColor.json', 'couchdb/indexes/indexOwner.json']);
  assert.ok(report.code.some((e: { name: string; mode: string }) => e.name === 'bin/chaincode' && e.mode === '755'));
  const text = run(['inspect', out]).stdout;
  assert.match(text, /^command +"bin\/chaincode" "--peer-address" "\{\{\.peer_address\}\}"/m);
  assert.match(text, /^  -rwxr-xr-x +\d+  bin\/chaincode$/m);
});

test('a code.tar.gz made by git archive carries a pax global header, which the peer refuses (type 103)', { skip: spawnSync('git', ['--version']).status !== 0 && 'no git' }, () => {
  const dir = tempDir('extbuilder-git-');
  const repo = join(dir, 'repo');
  mkdirSync(repo);
  writeFileSync(join(repo, 'connection.json'), '{"address": "a.example.com:1"}');
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', '-c', 'init.defaultBranch=main', ...args], { cwd: repo });
  git('init', '-q');
  git('add', '.');
  git('commit', '-qm', 'cc');
  git('archive', '--format=tar.gz', '-o', join(dir, 'code.tar.gz'), 'HEAD');
  writeFileSync(join(dir, 'metadata.json'), '{"type":"ccaas","label":"g_1"}');
  execFileSync('tar', ['-czf', join(dir, 'pkg.tar.gz'), '-C', dir, 'metadata.json', 'code.tar.gz']);
  assert.equal(run(['id', join(dir, 'pkg.tar.gz')]).status, 0);
  const r = run(['inspect', join(dir, 'pkg.tar.gz')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^extbuilder inspect: PKG_CODE_ENTRY_TYPE: .*pax global header.*'103'/m);
});

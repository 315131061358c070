// README.md and docs/: the pages' links resolve, the README's quick start is the one the release
// ships, the Chinese quick start runs the same commands, and the examples of the README's ten-minute
// path and of docs/migrating-from-ccaas-tutorials.md do what the pages say, run as written.
// (The compose, custom-image and Kubernetes examples of docs/deployments.md: test/binaries-examples.test.ts;
// the code reference of docs/errors.md: test/generated.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_PEER_PATH } from '../src/cli/install.js';
import { REPO, tempDir } from './helpers/repo.js';

const DOCS = join(REPO, 'docs');
const read = (rel: string) => readFileSync(join(REPO, rel), 'utf8');
const pages = (): string[] => {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(REPO, rel), { withFileTypes: true })) {
      if (e.isDirectory()) walk(`${rel}/${e.name}`);
      else if (e.name.endsWith('.md')) out.push(`${rel}/${e.name}`);
    }
  };
  walk('docs');
  return out.sort();
};

/** The fenced block after `<!-- example:NAME -->` in a page. */
function block(rel: string, name: string): string {
  const text = read(rel);
  const b = new RegExp(`<!-- example:${name} -->\\n\x60{3}[a-z]*\\n([\\s\\S]*?)\x60{3}`).exec(text)?.[1];
  assert.ok(b, `${rel} has the ${name} example`);
  return b;
}
/** The first fenced block after a heading. */
function blockAfter(text: string, heading: string): string {
  const at = text.indexOf(`\n${heading}\n`);
  assert.ok(at >= 0, heading);
  return /\x60{3}[a-z]*\n([\s\S]*?)\x60{3}/.exec(text.slice(at))![1]!;
}
const cli = (args: string[], cwd: string) => spawnSync(join(REPO, 'bin', 'extbuilder'), args, { cwd, encoding: 'utf8', env: { PATH: process.env.PATH! } });
/** A command line of a shell block, its continuation lines joined, split into words (quotes removed). */
function commandLine(text: string, start: RegExp): string[] {
  const line = text.replace(/\\\n\s*/g, ' ').split('\n').find((l) => start.test(l));
  assert.ok(line, String(start));
  return line.replace(/\s+#.*$/, '').trim().split(/\s+/).map((w) => w.replace(/^"|"$/g, ''));
}

test('every relative link in README.md and docs/ names a file that exists', () => {
  let links = 0;
  for (const rel of ['README.md', ...pages()]) {
    const text = read(rel).replace(/\x60{3}[\s\S]*?\x60{3}/g, '');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!) || target!.startsWith('#')) continue;
      const path = resolve(dirname(join(REPO, rel)), target!.replace(/#.*$/, ''));
      assert.ok(existsSync(path), `${rel}: the link ${target} leads nowhere`);
      links++;
    }
  }
  assert.ok(links >= 30, `${links} links`);
});

test('the README links every page under docs/, and is short enough to read in five minutes', () => {
  const readme = read('README.md');
  for (const rel of pages()) assert.ok(readme.includes(`](${rel})`), `README.md links ${rel}`);
  for (const rel of ['docs/configuration.md', 'docs/service-mode.md', 'docs/launch-mode.md', 'docs/packages.md', 'docs/diagnostics.md',
    'docs/binaries.md', 'docs/deployments.md', 'docs/performance.md', 'docs/errors.md', 'docs/migrating-from-ccaas-tutorials.md', 'docs/zh-CN/quick-start.md']) {
    assert.ok(existsSync(join(REPO, rel)), rel);
  }
  assert.ok(readme.split('\n').length < 150, 'README.md stays one screenful of sections');
  assert.match(blockAfter(readme, '## Set-up'), /^npm ci && npm run demo .*\nnpm test /);
});

const RELEASE = join(REPO, 'dist-release');

test('the README\'s quick start, run as written, installs extbuilder from the release\'s tarballs and lays out a builder doctor accepts', {
  skip: (!existsSync(join(RELEASE, 'SHA256SUMS')) && 'dist-release/ is not built (npm run release; CI builds it)') || (process.arch !== 'x64' && 'the quick start names the x64 tarball'),
}, () => {
  const lines = blockAfter(read('README.md'), '## Quick start').trim().split('\n');
  assert.match(lines[0]!, /^npm ci && npm run release /, 'the first step builds the release (CI runs it before the tests)');
  // The rest exactly as written, in a shell at a directory that has the release where the README's shell has it.
  const home = tempDir('extbuilder-quickstart-home-');
  const cwd = tempDir('extbuilder-quickstart-');
  symlinkSync(RELEASE, join(cwd, 'dist-release'));
  const script = ['set -eu', ...lines.slice(1), 'test -L peer-builder/bin/detect', 'extbuilder --version'].join('\n');
  const r = spawnSync('bash', ['-c', script], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: home, npm_config_cache: join(home, '.npm'), npm_config_registry: 'http://127.0.0.1:9/' } });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^installed linux-x64-glibc in /m);
  assert.match(r.stdout, /doctor: no problems found/);
  const version = (JSON.parse(read('package.json')) as { version: string }).version;
  assert.ok(lines[1]!.includes(`fabric-extbuilder-${version}.tgz`), 'the quick start names the tarballs of this version');
});

test('the Chinese quick start runs exactly the README\'s commands', () => {
  const readme = read('README.md');
  const zh = read('docs/zh-CN/quick-start.md');
  const fences = (t: string) => [...t.matchAll(/\x60{3}[a-z]*\n([\s\S]*?)\x60{3}/g)].map((m) => m[1]!);
  const zhBlocks = fences(zh);
  for (const b of [blockAfter(readme, '## Quick start'), block('README.md', 'ten-minutes')]) {
    assert.ok(zhBlocks.includes(b), `docs/zh-CN/quick-start.md holds, unchanged:\n${b}`);
  }
});

test('the ten-minute path: its package and env file carry the ID, its server is where the package dials, its peers mount ./peer-builder', () => {
  const ten = block('README.md', 'ten-minutes');
  const dir = tempDir('extbuilder-ten-');
  const pkg = commandLine(ten, /^extbuilder package /);
  const r = cli(pkg.slice(1), dir);
  assert.equal(r.status, 0, r.stderr);
  const id = cli(['id', 'basic.tar.gz'], dir);
  assert.equal(id.status, 0, id.stderr);
  const env = readFileSync(join(dir, pkg[pkg.indexOf('--env-out') + 1]!), 'utf8');
  assert.equal(env, `CHAINCODE_ID=${id.stdout.trim()}\nCHAINCODE_SERVER_ADDRESS=0.0.0.0:9999\n`);
  assert.match(ten, /CHAINCODE_ID=\$\(extbuilder id basic\.tar\.gz\)/);
  // The server is reachable from the peers under the name the package dials.
  const [host] = pkg[pkg.indexOf('--address') + 1]!.split(':');
  const run = commandLine(ten, /^docker run /);
  assert.equal(run[run.indexOf('--name') + 1], host);
  assert.equal(run[run.indexOf('--hostname') + 1], host);
  assert.equal(run[run.indexOf('--network') + 1], 'fabric_test');
  assert.equal(run[run.indexOf('--env-file') + 1], pkg[pkg.indexOf('--env-out') + 1]);
  const image = run.at(-1)!;
  assert.match(image, /:[\w.-]+$/, 'a pinned tag');
  assert.equal(commandLine(ten, /^docker build /)[3], image);
  // The override's mount, interpolated as compose does with the EXTBUILDER the path exports (this
  // repository, where the quick start ran `extbuilder install ./peer-builder`).
  assert.match(ten, /^export EXTBUILDER="\$PWD"$/m);
  assert.match(blockAfter(read('README.md'), '## Quick start'), /^extbuilder install \.\/peer-builder /m);
  const compose = commandLine(ten, /^docker compose /);
  const override = compose[compose.lastIndexOf('-f') + 1]!.replace('$EXTBUILDER', REPO);
  assert.equal(override, join(REPO, 'examples', 'quickstart', 'compose.yaml'));
  const { services } = parseYaml(readFileSync(override, 'utf8')) as { services: Record<string, { environment: string[]; volumes: string[] }> };
  assert.deepEqual(Object.keys(services).sort(), ['peer0.org1.example.com', 'peer0.org2.example.com']);
  for (const [name, s] of Object.entries(services)) {
    const [src, dst, mode] = s.volumes[0]!.replace(/\$\{EXTBUILDER(:\?[^}]*)?\}/, REPO).split(':');
    assert.equal(src, join(REPO, 'peer-builder'), `${name}: an absolute source (compose's project directory is test-network/compose)`);
    assert.equal(dst, DEFAULT_PEER_PATH);
    assert.equal(mode, 'ro');
    const value = s.environment.find((e) => e.startsWith('CORE_CHAINCODE_EXTERNALBUILDERS='))!.slice('CORE_CHAINCODE_EXTERNALBUILDERS='.length);
    assert.equal((parseYaml(value) as { path: string }[])[0]!.path, dst);
  }
});

const MIGRATING = 'docs/migrating-from-ccaas-tutorials.md';

test('migration page: the commented connection.json is refused as CONN_PARSE, the plain one packages', () => {
  const dir = tempDir('extbuilder-migrate-');
  writeFileSync(join(dir, 'commented.json'), block(MIGRATING, 'tutorial-connection'));
  assert.match(block(MIGRATING, 'tutorial-connection'), /\/\//);
  const bad = cli(['package', '--label', 'basic_1.0', '--connection', 'commented.json', '-o', 'x.tar.gz'], dir);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^extbuilder package: CONN_PARSE: /m);
  assert.ok(!existsSync(join(dir, 'x.tar.gz')), 'nothing written');
  writeFileSync(join(dir, 'connection.json'), block(MIGRATING, 'connection'));
  const good = cli(['package', '--label', 'basic_1.0', '--connection', 'connection.json', '-o', 'x.tar.gz'], dir);
  assert.equal(good.status, 0, good.stderr);
});

test('migration page: the right tar commands make a package the peer installs; without metadata.json it is PKG_NO_METADATA', () => {
  const dir = tempDir('extbuilder-migrate-tar-');
  writeFileSync(join(dir, 'connection.json'), block(MIGRATING, 'connection'));
  writeFileSync(join(dir, 'metadata.json'), '{"type": "external", "label": "basic_1.0"}\n');
  const right = spawnSync('bash', ['-e', '-c', block(MIGRATING, 'tar-right')], { cwd: dir, encoding: 'utf8' });
  assert.equal(right.status, 0, right.stderr);
  const inspect = cli(['inspect', 'pkg.tar.gz'], dir);
  assert.equal(inspect.status, 0, inspect.stdout + inspect.stderr);
  const wrong = spawnSync('bash', ['-e', '-c', block(MIGRATING, 'tar-wrong')], { cwd: dir, encoding: 'utf8' });
  assert.equal(wrong.status, 0, wrong.stderr);
  for (const cmd of ['id', 'inspect']) {
    const r = cli([cmd, 'pkg.tar.gz'], dir);
    assert.equal(r.status, 1, cmd);
    assert.match(r.stderr, new RegExp(`^extbuilder ${cmd}: PKG_NO_METADATA: `, 'm'));
  }
});

test('migration page: extbuilder package writes the env file with the ID extbuilder id prints', () => {
  const dir = tempDir('extbuilder-migrate-pkg-');
  writeFileSync(join(dir, 'connection.json'), block(MIGRATING, 'connection'));
  const r = spawnSync('bash', ['-e', '-c', block(MIGRATING, 'package')], { cwd: dir, encoding: 'utf8', env: { PATH: `${join(REPO, 'bin')}:${process.env.PATH}` } });
  assert.equal(r.status, 0, r.stderr);
  const id = cli(['id', 'pkg.tar.gz'], dir).stdout.trim();
  assert.match(id, /^basic_1\.0:[0-9a-f]{64}$/);
  assert.equal(readFileSync(join(dir, 'chaincode.env'), 'utf8'), `CHAINCODE_ID=${id}\nCHAINCODE_SERVER_ADDRESS=0.0.0.0:9999\n`);
});

test('the README no longer carries the moved reference sections; their pages do', () => {
  const readme = read('README.md');
  for (const [heading, page] of [['## Service mode: connection.json', 'service-mode.md'], ['## Limits', 'performance.md'], ['## `extbuilder install DIR`', 'binaries.md'], ['## `extbuilder simulate PACKAGE`', 'diagnostics.md']] as const) {
    assert.ok(!readme.includes(`\n${heading.replace(/^#/, '##')}\n`) && !readme.includes(`\n${heading}\n`), `README.md: ${heading}`);
    assert.ok(readFileSync(join(DOCS, page), 'utf8').match(new RegExp(`^#{1,2} ${heading.replace(/^#+ /, '').replace(/[.*+?^${}()|[\]\\`]/g, '\\$&')}$`, 'm')), `${page}: ${heading}`);
  }
  assert.ok(read('docs/errors.md').includes('<!-- codes:start -->'));
});

test('docs/errors.md: its example line is what build prints for a quoted "true"', () => {
  const line = /^\x60{3}\n(extbuilder build: CONN_BOOLEAN: .*)\n\x60{3}$/m.exec(read('docs/errors.md'))?.[1];
  assert.ok(line, 'docs/errors.md shows a CONN_BOOLEAN line');
  const dir = tempDir('extbuilder-errors-');
  for (const d of ['src', 'meta']) mkdirSync(join(dir, d));
  writeFileSync(join(dir, 'src', 'connection.json'), '{"address": "mycc:9999", "tls_required": "true"}');
  writeFileSync(join(dir, 'meta', 'metadata.json'), '{"type": "ccaas", "label": "mycc_1.0"}');
  const r = spawnSync(join(REPO, 'bin', 'build'), [join(dir, 'src'), join(dir, 'meta'), join(dir, 'out')], { encoding: 'utf8', env: { PATH: process.env.PATH! } });
  assert.equal(r.status, 1);
  assert.equal(r.stderr.trim(), line);
});

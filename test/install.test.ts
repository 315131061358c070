// extbuilder install: the layout it writes (from a target laid out by scripts/binaries), the wiring it
// prints, its refusals, and, when dist-binaries/ is built, installing real targets that doctor then accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { BINARY_TARGETS, CONFIG_EXAMPLE, detectTarget } from '../src/cli/install.js';
import { loadConfig } from '../src/core/config.js';
import { ERROR_CODES } from '../src/core/codes.js';
import { createBuildContext, invokePhase, peerEnvironment, writePeerMetadata } from '../src/peer/invoke.js';
import { layoutTarget } from '../scripts/binaries/layout.js';
import { findTarget, TARGETS } from '../scripts/binaries/targets.js';
import { REPO, listFiles, tempDir } from './helpers/repo.js';

const EXTBUILDER = join(REPO, 'bin', 'extbuilder');
const DIST = join(REPO, 'dist-binaries');

function cli(args: string[]) {
  return spawnSync(EXTBUILDER, args, { encoding: 'utf8', env: { PATH: process.env.PATH } });
}

/** A target laid out by the real layout code, around a small stand-in executable (the real one is 100 MiB). */
function fakeTarget(name: string): string {
  const work = tempDir('extbuilder-fake-target-');
  const exe = join(work, 'exe');
  writeFileSync(exe, '#!/bin/sh\necho stand-in\n');
  chmodSync(exe, 0o755);
  const libDir = join(work, 'libs');
  mkdirSync(libDir);
  const t = findTarget(name)!;
  for (const lib of [t.loader, 'libc.so.6', 'libm.so.6', 'libdl.so.2', 'libpthread.so.0', 'libstdc++.so.6', 'libgcc_s.so.1']) writeFileSync(join(libDir, lib), lib);
  const out = join(work, name);
  layoutTarget(out, { target: t, executable: exe, libDir, provenance: ['test'], version: '0.0.0' });
  return out;
}

test('install and scripts/binaries agree on the target names', () => {
  assert.deepEqual([...BINARY_TARGETS], TARGETS.map((t) => t.name));
});

test('--target auto: a glibc loader means the glibc build, its absence the musl one', () => {
  assert.equal(detectTarget('x64', (p) => p === '/lib64/ld-linux-x86-64.so.2'), 'linux-x64-glibc');
  assert.equal(detectTarget('x64', (p) => p === '/lib/ld-musl-x86_64.so.1'), 'linux-x64-musl');
  assert.equal(detectTarget('arm64', (p) => p === '/lib/ld-linux-aarch64.so.1'), 'linux-arm64-glibc');
  assert.equal(detectTarget('arm64', () => false), 'linux-arm64-musl');
  assert.throws(() => detectTarget('s390x', () => true), /INSTALL_TARGET|no standalone build/);
});

test('install lays out the target, with relative links, lib/ and a config example the builder accepts', () => {
  const from = fakeTarget('linux-x64-musl');
  const dir = join(tempDir(), 'builder');
  const r = cli(['install', dir, '--from', from, '--peer-path', '/opt/hyperledger/extbuilder']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.deepEqual(listFiles(dir), [...listFiles(from), CONFIG_EXAMPLE].sort());
  for (const f of listFiles(from)) assert.ok(readFileSync(join(dir, f)).equals(readFileSync(join(from, f))), f);
  for (const phase of ['detect', 'build', 'release', 'run']) assert.equal(readlinkSync(join(dir, 'bin', phase)), 'extbuilder');
  assert.equal(lstatSync(join(dir, 'bin', 'extbuilder')).mode & 0o777, 0o755);
  assert.equal(lstatSync(join(dir, 'lib', 'libc.so.6')).mode & 0o777, 0o644 | 0o111);
  // The example is a valid config.json, as docs/binaries.md says: copied into place, the builder loads it.
  const example = JSON.parse(readFileSync(join(dir, CONFIG_EXAMPLE), 'utf8'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(example));
  const config = loadConfig({ env: {}, builderDir: dir });
  assert.deepEqual(config.template, example.template);
  assert.deepEqual(config.types, ['external', 'ccaas']);
});

test('the printed core.yaml entry, CORE_CHAINCODE_EXTERNALBUILDERS value and volume line all name the peer path', () => {
  const from = fakeTarget('linux-x64-glibc');
  const dir = join(tempDir(), 'b');
  const r = cli(['install', dir, '--from', from, '--peer-path', '/srv/builders/ext']);
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, new RegExp(`^installed linux-x64-glibc in ${dir}$`, 'm'));
  const lines = out.split('\n');
  const start = lines.findIndex((l) => l.startsWith('core.yaml')) + 1;
  const block = lines.slice(start, lines.indexOf('', start)).join('\n');
  const core = parseYaml(block) as { chaincode: { externalBuilders: unknown[] } };
  const entry = { name: 'extbuilder', path: '/srv/builders/ext', propagateEnvironment: ['EXTBUILDER_CONFIG', 'CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG'] };
  assert.deepEqual(core.chaincode.externalBuilders, [entry]);
  const envValue = /^ {2}CORE_CHAINCODE_EXTERNALBUILDERS='(.*)'$/m.exec(out)?.[1];
  assert.ok(envValue, out);
  assert.deepEqual(parseYaml(envValue), [entry], 'the environment value is the YAML flow list the peer parses');
  assert.match(out, new RegExp(`-v ${dir}:/srv/builders/ext:ro`));
  assert.match(out, new RegExp(`- ${dir}:/srv/builders/ext:ro`));
});

test('reinstalling upgrades in place and keeps config.json; another target\'s lib/ goes away', () => {
  const dir = join(tempDir(), 'b');
  assert.equal(cli(['install', dir, '--from', fakeTarget('linux-x64-musl')]).status, 0);
  writeFileSync(join(dir, 'config.json'), '{"template":{"peername":"peer1org2"}}');
  mkdirSync(join(dir, 'tls'));
  writeFileSync(join(dir, 'tls', 'ca.crt'), 'kept');
  const r = cli(['install', dir, '--from', fakeTarget('linux-x64-glibc')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^upgraded linux-x64-glibc in /);
  assert.equal(readFileSync(join(dir, 'TARGET'), 'utf8'), 'linux-x64-glibc\n');
  assert.equal(readFileSync(join(dir, 'config.json'), 'utf8'), '{"template":{"peername":"peer1org2"}}');
  assert.equal(readFileSync(join(dir, 'tls', 'ca.crt'), 'utf8'), 'kept');
  assert.equal(existsSync(join(dir, 'lib')), false);
  assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.extbuilder-partial')), []);
});

function assertOneLine(r: ReturnType<typeof cli>, code: keyof typeof ERROR_CODES, status: number): void {
  assert.equal(r.status, status, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, new RegExp(`^extbuilder install: ${code}: [^\\n]+ \\([^\\n]+\\)\\n$`));
}

test('refusals: a foreign non-empty directory, a damaged target, an unknown or mismatched target', () => {
  const from = fakeTarget('linux-x64-glibc');
  const foreign = tempDir();
  writeFileSync(join(foreign, 'notes.txt'), 'mine');
  assertOneLine(cli(['install', foreign, '--from', from]), 'INSTALL_DEST', 1);
  assert.deepEqual(readdirSync(foreign), ['notes.txt'], 'nothing written');

  const damaged = fakeTarget('linux-x64-glibc');
  writeFileSync(join(damaged, 'bin', 'extbuilder'), '#!/bin/sh\necho tampered\n');
  const dest = join(tempDir(), 'b');
  assertOneLine(cli(['install', dest, '--from', damaged]), 'INSTALL_CHECKSUM', 1);
  assert.equal(existsSync(join(dest, 'bin')), false, 'nothing installed from a damaged target');

  assertOneLine(cli(['install', join(tempDir(), 'x'), '--target', 'linux-riscv64-glibc']), 'INSTALL_TARGET', 2);
  assertOneLine(cli(['install', join(tempDir(), 'x'), '--from', from, '--target', 'linux-x64-musl']), 'INSTALL_TARGET', 2);
  assertOneLine(cli(['install', join(tempDir(), 'x'), '--from', tempDir()]), 'INSTALL_SOURCE', 1);
});

// ---- real targets from dist-binaries/ ----

function notBuilt(target: string): string | false {
  return existsSync(join(DIST, target, 'bin', 'extbuilder')) ? false : `dist-binaries/${target} is not built (run: npm run binaries -- ${target})`;
}

for (const target of ['linux-x64-glibc', 'linux-x64-musl']) {
  test(`install --target ${target} from the npm package, then doctor --builder passes on it`, { skip: notBuilt(target) || (process.arch !== 'x64' && 'doctor checks the x64 build against this machine') }, () => {
    const dir = join(tempDir(), 'extbuilder');
    const r = cli(['install', dir, '--target', target]);
    assert.equal(r.status, 0, r.stderr);
    const doctor = cli(['doctor', '--builder', dir]);
    assert.equal(doctor.status, 0, doctor.stdout + doctor.stderr);
    assert.match(doctor.stdout, /doctor: no problems found/);
  });
}

test('the standalone x64 glibc build installs itself, runs the phases from there, and refuses other targets', { skip: notBuilt('linux-x64-glibc') || (process.arch !== 'x64' && 'the x64 build runs only on x64') }, async () => {
  const self = join(DIST, 'linux-x64-glibc', 'bin', 'extbuilder');
  const dir = join(tempDir(), 'extbuilder');
  const r = spawnSync(self, ['install', dir], { encoding: 'utf8', env: {} });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(join(dir, 'TARGET'), 'utf8'), 'linux-x64-glibc\n');
  const doctor = spawnSync(join(dir, 'bin', 'extbuilder'), ['doctor', '--builder', dir], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  assert.equal(doctor.status, 0, doctor.stdout + doctor.stderr);

  const ctx = createBuildContext(tempDir(), 'basic_1.0:00');
  writePeerMetadata(ctx, '{"type":"ccaas","label":"basic_1.0"}');
  writeFileSync(join(ctx.src, 'connection.json'), '{"address":"{{.peername}}-basic:9999"}');
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ template: { peername: 'peer0org1' } }));
  const env = peerEnvironment(process.env);
  assert.equal((await invokePhase(dir, 'detect', [ctx.src, ctx.metadata], { env })).code, 0);
  const build = await invokePhase(dir, 'build', [ctx.src, ctx.metadata, ctx.bld], { env });
  assert.equal(build.code, 0, build.lines.join('\n'));
  assert.equal(JSON.parse(readFileSync(join(ctx.bld, 'connection.json'), 'utf8')).address, 'peer0org1-basic:9999', 'config.json of the installed dir is read');

  const other = spawnSync(self, ['install', join(tempDir(), 'y'), '--target', 'linux-x64-musl'], { encoding: 'utf8', env: {} });
  assert.equal(other.status, 2);
  assert.match(other.stderr, /^extbuilder install: INSTALL_TARGET: this program is the linux-x64-glibc build/);
});

// npm run release's packages as a user installs them: packed from the built targets, installed offline into
// an empty prefix, `extbuilder install` of every target, and the installed builder run by the peer stand-in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BINARY_TARGETS, detectTarget } from '../src/cli/install.js';
import { VERSION } from '../src/builder/output.js';
import { createBuildContext, invokePhase, peerEnvironment, writePeerMetadata } from '../src/peer/invoke.js';
import { packMain, packTarget, release, tarballName, TARGET_SCOPE } from '../scripts/release.js';
import { TARGETS } from '../scripts/binaries/targets.js';
import { REPO, tempDir } from './helpers/repo.js';

const unbuilt = BINARY_TARGETS.filter((t) => !existsSync(join(REPO, 'dist-binaries', t, 'TARGET')));
const skip = unbuilt.length > 0 ? `dist-binaries/ lacks ${unbuilt.join(', ')} (run: npm run binaries)` : false;
const HOST = process.arch === 'x64' ? detectTarget() : undefined;

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const mainTarball = tarballName('fabric-extbuilder', VERSION);
const targetTarball = (t: string) => tarballName(`${TARGET_SCOPE}/${t}`, VERSION);

/** npm with no registry it can reach and a cache of its own: what it installs comes from the tarballs. */
function npm(args: string[], cache: string) {
  return spawnSync('npm', [...args, '--offline', '--registry', 'http://127.0.0.1:9/', '--cache', cache, '--no-audit', '--no-fund', '--loglevel', 'error'],
    { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: cache } });
}

/**
 * dist-release/ as npm run release wrote it (CI runs it before the tests), when it was made from what
 * dist/ and dist-binaries/ hold now: the archives are the built ones and the main tarball carries these
 * bundles. Packing four 100 MiB targets again took half a minute idle and over two minutes under load.
 */
function freshRelease(): string | undefined {
  const dir = join(REPO, 'dist-release');
  if (!existsSync(join(dir, 'SHA256SUMS')) || !existsSync(join(dir, mainTarball))) return undefined;
  for (const t of BINARY_TARGETS) {
    const archive = join(dir, `fabric-extbuilder-${VERSION}-${t}.tar.gz`);
    if (!existsSync(archive) || !existsSync(join(dir, targetTarball(t))) || sha256(archive) !== sha256(join(REPO, 'dist-binaries', `${t}.tar.gz`))) return undefined;
  }
  // Every file the main tarball takes from the checkout as it is (not package.json or bin/, which release
  // writes) must be the checkout's now: a docs edit after the release makes it stale too.
  const unpacked = tempDir('extbuilder-release-check-');
  execFileSync('tar', ['-xzf', join(dir, mainTarball), '-C', unpacked]);
  const walk = (rel: string): boolean => readdirSync(join(unpacked, 'package', rel), { withFileTypes: true }).every((e) => {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) return walk(r);
    if (r === 'package.json' || r.startsWith('bin/')) return true;
    return existsSync(join(REPO, r)) && readFileSync(join(unpacked, 'package', r)).equals(readFileSync(join(REPO, r)));
  });
  return walk('') ? dir : undefined;
}

let packed: string | undefined;
/** One release for the whole file: npm run release's own when it is current, else packed here. */
function out(): string {
  packed ??= freshRelease() ?? (() => { const dir = join(tempDir('extbuilder-release-'), 'dist-release'); release(dir); return dir; })();
  return packed;
}

test('npm run release writes the main tarball, one tarball and one .tar.gz per target, and SHA256SUMS over them', { skip }, () => {
  const dir = out();
  const sums = readFileSync(join(dir, 'SHA256SUMS'), 'utf8').trim().split('\n');
  const files = [mainTarball, ...BINARY_TARGETS.flatMap((t) => [targetTarball(t), `fabric-extbuilder-${VERSION}-${t}.tar.gz`])].sort();
  assert.deepEqual(sums.map((l) => l.split('  ')[1]), files);
  for (const line of sums) {
    const [hash, file] = line.split('  ');
    assert.equal(sha256(join(dir, file!)), hash, file);
  }
  for (const t of BINARY_TARGETS) {
    // One target a package keeps each well under npm's comfortable size.
    assert.ok(statSync(join(dir, targetTarball(t))).size < 50 * 1024 * 1024, `${t} is 50 MB or more`);
    const manifest = JSON.parse(execFileSync('tar', ['-xOzf', join(dir, targetTarball(t)), 'package/package.json'], { encoding: 'utf8' })) as Record<string, unknown>;
    const [, arch, libc] = t.split('-');
    assert.deepEqual([manifest.name, manifest.os, manifest.cpu, manifest.libc], [`${TARGET_SCOPE}/${t}`, ['linux'], [arch], [libc]]);
  }
  const main = JSON.parse(execFileSync('tar', ['-xOzf', join(dir, mainTarball), 'package/package.json'], { encoding: 'utf8' })) as Record<string, unknown>;
  assert.equal(main.dependencies, undefined, 'the bundle needs no runtime dependency');
  assert.deepEqual(Object.keys(main.optionalDependencies as object).sort(), BINARY_TARGETS.map((t) => `${TARGET_SCOPE}/${t}`).sort());
  const listing = execFileSync('tar', ['-tzf', join(dir, mainTarball)], { encoding: 'utf8' }).split('\n');
  for (const f of ['bin/extbuilder', 'bin/detect', 'bin/build', 'bin/release', 'bin/run', 'dist/extbuilder.cjs', 'dist/cli.cjs', 'dist/quick.cjs', 'dist/kube.cjs']) assert.ok(listing.includes(`package/${f}`), f);
});

test('@kubernetes/client-node is in dist/kube.cjs only: neither the phases\' bundle nor the CLI inlines it, and the chunk loads by itself', () => {
  // npm test builds dist/ first; client-node's code names KubeConfig, and its package name is in its user agent.
  const text = (f: string) => readFileSync(join(REPO, 'dist', f), 'latin1');
  for (const f of ['extbuilder.cjs', 'cli.cjs', 'quick.cjs']) {
    assert.doesNotMatch(text(f), /KubeConfig|kubernetes-client|@kubernetes\/client-node/, `dist/${f} inlines client-node (import src/kube only as ../kube/index.js)`);
  }
  assert.match(text('kube.cjs'), /KubeConfig/);
  const r = spawnSync(process.execPath, ['-e', 'const k = require(process.argv[1]); process.stdout.write(typeof k.runPod)', join(REPO, 'dist', 'kube.cjs')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'function');
  assert.equal(r.stderr, '');
});

test('release is byte-reproducible: packed again, the main and the host target\'s tarballs are the same bytes', { skip }, () => {
  const again = tempDir('extbuilder-release-again-');
  const target = TARGETS.find((t) => t.name === (HOST ?? 'linux-x64-glibc'))!;
  for (const file of [packMain(again), packTarget(target, again)]) {
    assert.equal(sha256(join(again, file)), sha256(join(out(), file)), file);
  }
});

test('from the tarballs alone, offline, an empty prefix gets extbuilder; install lays out every target, naming the npm command for a missing one', { skip: skip || (!HOST && 'the host target is x64 only here') }, async () => {
  const dir = out();
  const work = tempDir('extbuilder-npm-');
  const prefix = join(work, 'prefix');
  const cache = join(work, 'cache');
  const r = npm(['install', '-g', '--prefix', prefix, join(dir, mainTarball), join(dir, targetTarball(HOST!))], cache);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const extbuilder = join(prefix, 'bin', 'extbuilder');
  const run = (args: string[]) => spawnSync(extbuilder, args, { encoding: 'utf8', cwd: work, env: { PATH: `${join(prefix, 'bin')}:${process.env.PATH}` } });
  assert.equal(run(['--version']).stdout, `${VERSION}\n`);

  // doctor with no --builder: the npm package is a builder dir of its own (for a peer that has Node).
  const own = run(['doctor']);
  assert.equal(own.status, 0, own.stdout + own.stderr);

  // Another target, before its package is there: the one npm command that brings it.
  const others = BINARY_TARGETS.filter((t) => t !== HOST);
  const missing = run(['install', join(work, 'b-missing'), '--target', others[0]!]);
  assert.equal(missing.status, 1);
  assert.equal(missing.stderr.split('\n').filter(Boolean).length, 1);
  assert.ok(missing.stderr.includes(`(run npm install -g --force --prefix ${prefix} ${TARGET_SCOPE}/${others[0]}@${VERSION})`), missing.stderr);
  assert.doesNotMatch(missing.stderr, /npm run/);
  assert.equal(existsSync(join(work, 'b-missing')), false);

  const more = npm(['install', '-g', '--force', '--prefix', prefix, ...others.map((t) => join(dir, targetTarball(t)))], cache);
  assert.equal(more.status, 0, more.stdout + more.stderr);
  for (const t of BINARY_TARGETS) {
    const b = join(work, `b-${t}`);
    const inst = run(['install', b, '--target', t]);
    assert.equal(inst.status, 0, inst.stderr);
    assert.equal(readFileSync(join(b, 'TARGET'), 'utf8').trim(), t);
    for (const phase of ['detect', 'build', 'release', 'run']) assert.equal(readlinkSync(join(b, 'bin', phase)), 'extbuilder');
    assert.equal(lstatSync(join(b, 'bin', 'extbuilder')).mode & 0o111, 0o111);
    // The installed files are the built target's, byte for byte.
    assert.equal(execFileSync('sha256sum', ['--quiet', '-c', 'SHA256SUMS'], { cwd: b, encoding: 'utf8' }), '');
  }

  // The host's builder as the peer runs it: detect, build and release through the peer stand-in.
  const b = join(work, `b-${HOST}`);
  const doctor = run(['doctor', '--builder', b]);
  assert.equal(doctor.status, 0, doctor.stdout + doctor.stderr);
  assert.match(doctor.stdout, /doctor: no problems found/);
  writeFileSync(join(b, 'config.json'), JSON.stringify({ template: { peername: 'peer0org1' } }));
  const ctx = createBuildContext(tempDir(), 'basic_1.0:00');
  writePeerMetadata(ctx, '{"type":"ccaas","label":"basic_1.0"}');
  writeFileSync(join(ctx.src, 'connection.json'), '{"address":"{{.peername}}-basic:9999","dial_timeout":"10s","tls_required":false}');
  const env = peerEnvironment(process.env);
  assert.equal((await invokePhase(b, 'detect', [ctx.src, ctx.metadata], { env })).code, 0);
  const build = await invokePhase(b, 'build', [ctx.src, ctx.metadata, ctx.bld], { env });
  assert.equal(build.code, 0, build.lines.join('\n'));
  const rel = await invokePhase(b, 'release', [ctx.bld, ctx.release], { env });
  assert.equal(rel.code, 0, rel.lines.join('\n'));
  const conn = JSON.parse(readFileSync(join(ctx.release, 'chaincode', 'server', 'connection.json'), 'utf8')) as { address: string };
  assert.equal(conn.address, 'peer0org1-basic:9999');
});

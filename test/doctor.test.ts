// extbuilder doctor, run as a user runs it: a good installation passes; each broken variant (no exec bit,
// CRLF script, dangling link, uncovered propagateEnvironment, ccaas_builder first, vm.endpoint, bad TLS
// files, half-written or orphaned durable builds) is flagged on its own line with a fix.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { persistBuild } from '../src/peer/durable.js';
import { createCA, issue } from '../src/peer/pki.js';
import { REPO, tempDir } from './helpers/repo.js';

const EXTBUILDER = join(REPO, 'bin', 'extbuilder');
let root: string;
let counter = 0;
let pem: { ca: string; cert: string; key: string; otherKey: string };

interface Setup {
  builder: string;
  coreYaml: string;
  fsPath: string;
  config: string;
}

interface Options {
  builders?: (b: string) => Record<string, unknown>[];
  vmEndpoint?: string;
  config?: Record<string, unknown>;
  edit?: (s: Setup) => void;
}

/** A complete installation: builder dir linked to this program, config.json with TLS files, core.yaml, one durable build. */
function install(o: Options = {}): Setup {
  const dir = join(root, `install-${++counter}`);
  const builder = join(dir, 'extbuilder');
  mkdirSync(join(builder, 'bin'), { recursive: true });
  for (const p of ['detect', 'build', 'release', 'run']) symlinkSync(EXTBUILDER, join(builder, 'bin', p));
  const tls = join(dir, 'tls');
  mkdirSync(tls, { mode: 0o700 });
  const file = (name: string, text: string, mode: number): string => { const f = join(tls, name); writeFileSync(f, text, { mode }); chmodSync(f, mode); return f; };
  const config = join(builder, 'config.json');
  writeFileSync(config, JSON.stringify(o.config ?? {
    tls: { root_cert_file: file('ca.crt', pem.ca, 0o644), client_cert_file: file('client.crt', pem.cert, 0o644), client_key_file: file('client.key', pem.key, 0o600) },
  }));
  const builders = o.builders?.(builder) ?? [
    { name: 'extbuilder', path: builder, propagateEnvironment: ['EXTBUILDER_CONFIG'] },
    { name: 'ccaas_builder', path: '/opt/hyperledger/ccaas_builder', propagateEnvironment: ['CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG'] },
  ];
  const coreYaml = join(dir, 'core.yaml');
  writeFileSync(coreYaml, stringify({ peer: { fileSystemPath: join(dir, 'fs') }, chaincode: { externalBuilders: builders }, vm: { endpoint: o.vmEndpoint ?? '' } }));
  const fsPath = join(dir, 'fs');
  const release = join(dir, 'scratch', 'release');
  mkdirSync(join(release, 'chaincode', 'server'), { recursive: true });
  mkdirSync(join(dir, 'scratch', 'bld'));
  writeFileSync(join(release, 'chaincode', 'server', 'connection.json'), JSON.stringify({ address: 'cc.org1:9999', dial_timeout: '10s' }));
  persistBuild(fsPath, 'mycc_1.0:0123abcd', 'extbuilder', { release, bld: join(dir, 'scratch', 'bld') });
  const s = { builder, coreYaml, fsPath, config };
  o.edit?.(s);
  return s;
}

function doctor(s: Setup, env: Record<string, string> = {}): { code: number; lines: string[]; stderr: string } {
  // Through this node explicitly, so that a PATH without node tests the builder, not doctor itself.
  const r = spawnSync(process.execPath, [EXTBUILDER, 'doctor', '--builder', s.builder, '--core-yaml', s.coreYaml, '--fs-path', s.fsPath],
    { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
  return { code: r.status ?? -1, lines: r.stdout.trim().split('\n'), stderr: r.stderr };
}

/** The one line starting with `verdict` that matches `re`. */
function line(r: { lines: string[] }, verdict: 'ok' | 'warn' | 'fail', re: RegExp): string {
  const found = r.lines.filter((l) => l.startsWith(verdict.padEnd(4) + ' ') && re.test(l));
  assert.equal(found.length, 1, `expected one "${verdict}" line matching ${re} in:\n${r.lines.join('\n')}`);
  return found[0]!;
}

before(async () => {
  root = tempDir('extbuilder-doctor-');
  const ca = await createCA('chaincode server CA');
  const client = await issue(ca, { usage: 'client' });
  const other = await issue(ca, { usage: 'client' });
  pem = { ca: ca.certPem, cert: client.certPem, key: client.keyPem, otherKey: other.keyPem };
});

after(() => rmSync(root, { recursive: true, force: true }));

test('a good installation: every line ok, exit 0', () => {
  const r = doctor(install());
  assert.equal(r.code, 0, r.lines.join('\n') + r.stderr);
  assert.deepEqual(r.lines.filter((l) => /^(warn|fail)/.test(l)), []);
  line(r, 'ok', /^ok   bin\/detect: script for \/usr\/bin\/env node$/);
  line(r, 'ok', /builder config: .*config\.json; claims external, ccaas/);
  line(r, 'ok', /tls\.client_cert_file and tls\.client_key_file are a matching pair/);
  line(r, 'ok', /core\.yaml entry 1: name extbuilder/);
  line(r, 'ok', /order: no earlier builder claims external, ccaas/);
  line(r, 'ok', /build mycc_1\.0-0123abcd: builder extbuilder, service cc\.org1:9999, tls off, 0 index/);
  assert.equal(r.lines.at(-1), 'doctor: no problems found');
});

test('bin/detect without the exec bit', () => {
  const r = doctor(install({ edit: (s) => { unlinkSync(join(s.builder, 'bin', 'detect')); writeFileSync(join(s.builder, 'bin', 'detect'), '#!/bin/sh\nexit 0\n', { mode: 0o644 }); chmodSync(join(s.builder, 'bin', 'detect'), 0o644); } }));
  assert.equal(r.code, 1);
  assert.match(line(r, 'fail', /bin\/detect/), /^fail bin\/detect is not executable \(mode 0644\) \(chmod 755 .*"not mine"/);
});

test('a CRLF script, a missing interpreter and a dangling link', () => {
  const r = doctor(install({
    edit: (s) => {
      const bin = join(s.builder, 'bin');
      for (const p of ['detect', 'build', 'release']) unlinkSync(join(bin, p));
      writeFileSync(join(bin, 'detect'), '#!/bin/sh\r\nexit 0\r\n', { mode: 0o755 });
      writeFileSync(join(bin, 'build'), '#!/usr/local/bin/no-such-shell\nexit 0\n', { mode: 0o755 });
      symlinkSync('../nowhere/extbuilder', join(bin, 'release'));
    },
  }));
  assert.equal(r.code, 1);
  line(r, 'fail', /^fail bin\/detect has CRLF line endings: the kernel looks for the interpreter "\/bin\/sh\\r" \(convert it to LF/);
  line(r, 'fail', /^fail bin\/build needs the interpreter \/usr\/local\/bin\/no-such-shell, which this system lacks/);
  line(r, 'fail', /^fail bin\/release is a link to \.\.\/nowhere\/extbuilder, which does not resolve/);
});

test('a builder running through env node without node on the peer\'s PATH', () => {
  const r = doctor(install(), { PATH: '/nonexistent' });
  assert.equal(r.code, 1);
  line(r, 'fail', /^fail bin\/detect runs "node" through env, but node is not on the PATH it gets \(\/nonexistent\)/);
});

test('a variable the config needs but propagateEnvironment does not cover', () => {
  const s = install({ builders: (b) => [{ name: 'extbuilder', path: b, propagateEnvironment: [] }] });
  const r = doctor(s, { EXTBUILDER_CONFIG: s.config, CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG: '{"peername": "peer0"}' });
  assert.equal(r.code, 1);
  line(r, 'fail', /^fail EXTBUILDER_CONFIG is set but not in propagateEnvironment of extbuilder: the peer does not pass it.*\(add EXTBUILDER_CONFIG to propagateEnvironment\)/);
  line(r, 'fail', /^fail CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG is set but not in propagateEnvironment/);
  // Listed (here through the v2.0-2.1 key) and set: fine.
  const old = install({ builders: (b) => [{ name: 'extbuilder', path: b, environmentWhitelist: ['EXTBUILDER_CONFIG'] }] });
  const ok = doctor(old, { EXTBUILDER_CONFIG: old.config });
  assert.equal(ok.code, 0, ok.lines.join('\n'));
  line(ok, 'ok', /propagateEnvironment taken from environmentWhitelist/);
});

test('Fabric\'s ccaas_builder listed first claims ccaas packages: a warning, or a failure when extbuilder claims nothing else', () => {
  const first = (b: string): Record<string, unknown>[] => [
    { name: 'ccaas_builder', path: '/opt/hyperledger/ccaas_builder', propagateEnvironment: ['CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG'] },
    { name: 'extbuilder', path: b, propagateEnvironment: ['EXTBUILDER_CONFIG'] },
  ];
  const r = doctor(install({ builders: first }));
  assert.equal(r.code, 0);
  assert.match(line(r, 'warn', /ccaas_builder/), /is listed before extbuilder and claims type ccaas first: ccaas packages never reach extbuilder \(move extbuilder above ccaas_builder/);
  const only = doctor(install({ builders: first, config: { types: ['ccaas'] } }));
  assert.equal(only.code, 1);
  line(only, 'fail', /ccaas_builder .*extbuilder never gets a package/);
});

test('vm.endpoint still set: a failed detect shows up as a Docker error', () => {
  const r = doctor(install({ vmEndpoint: 'unix:///var/run/docker.sock' }));
  assert.match(line(r, 'warn', /vm\.endpoint/), /falls back to Docker/);
  assert.equal(doctor(install(), { CORE_VM_ENDPOINT: 'tcp://docker:2375' }).lines.filter((l) => l.startsWith('warn') && l.includes('tcp://docker:2375')).length, 1, 'CORE_VM_ENDPOINT overrides core.yaml');
});

test('builder config: an unreadable TLS file and a key that does not match the certificate', () => {
  const r = doctor(install({ edit: (s) => { rmSync(join(s.builder, '..', 'tls', 'ca.crt')); writeFileSync(join(s.builder, '..', 'tls', 'client.key'), pem.otherKey, { mode: 0o600 }); } }));
  assert.equal(r.code, 1);
  line(r, 'fail', /^fail tls\.root_cert_file .*ca\.crt is not readable \(ENOENT\)/);
  line(r, 'fail', /^fail tls\.client_key_file does not belong to tls\.client_cert_file/);
});

test('durable builds: a half-written one and one whose builder left core.yaml', () => {
  const r = doctor(install({
    edit: (s) => {
      const builds = join(s.fsPath, 'externalbuilder', 'builds');
      mkdirSync(join(builds, 'half_1.0-aa', 'release'), { recursive: true });
      mkdirSync(join(builds, 'old_1.0-bb'));
      writeFileSync(join(builds, 'old_1.0-bb', 'build-info.json'), '{"builder_name":"k8s_builder"}');
    },
  }));
  assert.equal(r.code, 1);
  assert.match(line(r, 'fail', /half_1\.0-aa/), /is half-written: build-info\.json is missing .*\(delete .*half_1\.0-aa and restart the peer/);
  assert.match(line(r, 'fail', /old_1\.0-bb/), /was built by builder k8s_builder, which core\.yaml no longer lists: the peer fails with "already built with builder 'k8s_builder', but that builder is no longer available"/);
  line(r, 'ok', /build mycc_1\.0-0123abcd/);
});

test('usage: a path that does not exist exits 2 with one line', () => {
  const r = spawnSync(EXTBUILDER, ['doctor', '--builder', join(root, 'nope')], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr.trim(), /^extbuilder doctor: SIM_USAGE: --builder .*nope does not exist \(check the path\)$/);
});

test('ELF binaries: the architecture and the dynamic loader (libc) are checked', (t) => {
  const glibc = '/lib64/ld-linux-x86-64.so.2';
  const bytes = process.arch === 'x64' && existsSync('/bin/true') ? readFileSync('/bin/true') : Buffer.alloc(0);
  const at = bytes.indexOf(glibc);
  if (at < 0) { t.skip('needs a glibc x86-64 /bin/true to patch'); return; }
  const variant = (patch: (b: Buffer) => void): Buffer => { const b = Buffer.from(bytes); patch(b); return b; };
  const musl = variant((b) => { b.fill(0, at, at + glibc.length); b.write('/lib/ld-musl-x86_64.so.1', at, 'latin1'); });
  const arm = variant((b) => b.writeUInt16LE(183, 18));
  const r = doctor(install({
    edit: (s) => {
      const bin = join(s.builder, 'bin');
      for (const [p, b] of [['detect', bytes], ['build', musl], ['release', arm]] as const) {
        unlinkSync(join(bin, p));
        writeFileSync(join(bin, p), b, { mode: 0o755 });
      }
    },
  }));
  assert.equal(r.code, 1);
  line(r, 'ok', /^ok   bin\/detect: x64 binary \(loader \/lib64\/ld-linux-x86-64\.so\.2\)$/);
  if (!existsSync('/lib/ld-musl-x86_64.so.1')) {
    line(r, 'fail', /^fail bin\/build needs the loader \/lib\/ld-musl-x86_64\.so\.1 \(musl \(Alpine\)\), which this system lacks/);
  }
  line(r, 'fail', /^fail bin\/release is built for arm64, this system is x64/);
});

test('without --fs-path, the durable builds are found at core.yaml\'s peer.fileSystemPath', () => {
  const s = install();
  const r = spawnSync(process.execPath, [EXTBUILDER, 'doctor', '--builder', s.builder, '--core-yaml', s.coreYaml], { env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  line({ lines: r.stdout.trim().split('\n') }, 'ok', /build mycc_1\.0-0123abcd: builder extbuilder/);
});

test('--json: the same findings for machines', () => {
  const s = install({ vmEndpoint: 'unix:///var/run/docker.sock' });
  const r = spawnSync(process.execPath, [EXTBUILDER, 'doctor', '--builder', s.builder, '--core-yaml', s.coreYaml, '--json'], { env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { ok: boolean; findings: { verdict: string; what: string; fix?: string }[] };
  assert.equal(report.ok, true);
  const vm = report.findings.find((f) => f.what.startsWith('vm.endpoint'))!;
  assert.equal(vm.verdict, 'warn');
  assert.match(vm.fix!, /docker build is disabled/);
});

test('where peers are configured: CORE_CHAINCODE_EXTERNALBUILDERS in its flow syntax, --peer-path for the path the peer sees, and what was not checked', () => {
  const s = install({ builders: () => [{ name: 'extbuilder', path: '/opt/hyperledger/extbuilder', propagateEnvironment: ['EXTBUILDER_CONFIG'] }] });
  const run = (args: string[], env: Record<string, string> = {}) => {
    const r = spawnSync(process.execPath, [EXTBUILDER, 'doctor', '--builder', s.builder, '--fs-path', s.fsPath, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
    return { code: r.status ?? -1, lines: r.stdout.trim().split('\n'), stderr: r.stderr };
  };
  // core.yaml names the container path: a host-side run matches it through --peer-path.
  const host = run(['--core-yaml', s.coreYaml]);
  assert.equal(host.code, 1);
  assert.match(line(host, 'fail', /no externalBuilders entry/), /core\.yaml has no externalBuilders entry with path .* give that path with --peer-path/);
  const mapped = run(['--core-yaml', s.coreYaml, '--peer-path', '/opt/hyperledger/extbuilder/']);
  assert.equal(mapped.code, 0, mapped.lines.join('\n'));
  line(mapped, 'ok', new RegExp(`^ok   core\\.yaml entry 1: name extbuilder, path /opt/hyperledger/extbuilder \\(${s.builder} on this host\\)$`));

  // The variable replaces core.yaml's list, as on the peer; read as YAML flow syntax.
  const flow = '[{name: mine, path: /opt/x, propagateEnvironment: [CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG]}]';
  const env = run(['--core-yaml', s.coreYaml, '--peer-path', '/opt/x'], { CORE_CHAINCODE_EXTERNALBUILDERS: flow, EXTBUILDER_CONFIG: s.config });
  line(env, 'ok', /^ok   externalBuilders read from CORE_CHAINCODE_EXTERNALBUILDERS, which replaces core\.yaml's list/);
  line(env, 'ok', /^ok   CORE_CHAINCODE_EXTERNALBUILDERS entry 1: name mine, path \/opt\/x /);
  assert.match(line(env, 'fail', /EXTBUILDER_CONFIG is set/), /not in propagateEnvironment of mine/);
  const alone = run(['--peer-path', '/opt/x'], { CORE_CHAINCODE_EXTERNALBUILDERS: flow });
  line(alone, 'ok', /CORE_CHAINCODE_EXTERNALBUILDERS entry 1: name mine/);
  assert.ok(!alone.lines.some((l) => l.includes('not checked')), alone.lines.join('\n'));

  // Neither: say what was not checked.
  const none = run([]);
  assert.equal(none.code, 0, none.lines.join('\n'));
  assert.match(line(none, 'warn', /not checked/), /not checked: the peer's externalBuilders entry .*give --core-yaml .*--peer-path.*CORE_CHAINCODE_EXTERNALBUILDERS/);
});

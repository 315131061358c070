// extbuilder simulate in service mode, as a user runs it (bin/extbuilder), against real fabric-shim
// chaincode servers: plaintext, TLS, mutual TLS with the client pair spliced by the builder config, and
// every failure class provoked for real: wrong port, wrong root CA, name mismatch, missing client cert,
// wrong chaincode ID, plaintext/TLS mix-ups, a silent server, and broken builders.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { freePort, startChaincodeServer, type RunningServer } from '../scripts/demo.js';
import { createCA, issue } from '../src/peer/pki.js';
import { EXTBUILDER, REPO, runCli, tempDir, type CliRun } from './helpers/repo.js';


type Run = CliRun;

const cli = runCli;

let dir: string;
const servers: RunningServer[] = [];
let silent: Server;
const silentSockets: Socket[] = [];
const cfg: Record<string, string> = {};
const pkgs: Record<string, { file: string; id: string }> = {};

async function pkg(name: string, args: string[]): Promise<void> {
  const file = join(dir, `${name}.tar.gz`);
  const r = await cli(['package', '--label', `${name}_1.0`, '--type', 'ccaas', ...(args.includes('--dial-timeout') ? [] : ['--dial-timeout', '5s']), ...args, '-o', file]);
  assert.equal(r.code, 0, r.stderr);
  pkgs[name] = { file, id: r.stdout.trim().split('\n').pop()! };
}

function simulate(name: string, args: string[] = [], config?: string): Promise<Run> {
  const env: Record<string, string> = config ? { EXTBUILDER_CONFIG: cfg[config]! } : {};
  return cli(['simulate', pkgs[name]!.file, ...(config ? ['--propagate', 'EXTBUILDER_CONFIG'] : []), ...args], env);
}

/** The failure line: `extbuilder simulate: CODE: ...`. */
function failure(r: Run): string {
  assert.equal(r.code, 1, `simulate should fail:\n${r.stdout}\n${r.stderr}`);
  const line = r.stderr.trim().split('\n').pop()!;
  assert.match(line, /^extbuilder simulate: [A-Z_]+: /);
  return line;
}

before(async () => {
  dir = tempDir('extbuilder-simulate-');
  const serverCa = await createCA('chaincode server CA');
  const serverCert = await issue(serverCa, { dns: ['localhost'], ips: ['127.0.0.1'], usage: 'server' });
  const otherCa = await createCA('some other CA');
  const peerCa = await createCA('Org1 peer TLS CA');
  const client = await issue(peerCa, { commonName: 'peer0.org1', usage: 'client' });
  const file = (name: string, text: string, mode = 0o644): string => {
    const f = join(dir, name);
    writeFileSync(f, text, { mode });
    chmodSync(f, mode);
    return f;
  };
  const config = (name: string, tls: Record<string, string>): void => { cfg[name] = file(`${name}.json`, JSON.stringify({ tls })); };
  config('tls', { root_cert_file: file('server-ca.crt', serverCa.certPem) });
  config('wrongca', { root_cert_file: file('other-ca.crt', otherCa.certPem) });
  config('mtls', { root_cert_file: join(dir, 'server-ca.crt'), client_cert_file: file('client.crt', client.certPem), client_key_file: file('client.key', client.keyPem, 0o600) });

  const namedCert = await issue(serverCa, { dns: ['cc.org1.example.com'], usage: 'server' });
  const [plainPort, tlsPort, mtlsPort, nobodyPort, namedPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  silent = createServer((s) => { silentSockets.push(s); });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  const silentPort = (silent.address() as { port: number }).port;
  const at = (p: number): string[] => ['--address', `127.0.0.1:${p}`];
  await Promise.all([
    pkg('plain', at(plainPort)),
    pkg('stale', at(plainPort)),
    pkg('refused', at(nobodyPort)),
    pkg('tls', [...at(tlsPort), '--tls']),
    pkg('named', [...at(namedPort), '--tls']),
    pkg('tlsonly', [...at(mtlsPort), '--tls']),
    pkg('mtls', [...at(mtlsPort), '--tls', '--client-auth']),
    pkg('domain', [...at(mtlsPort), '--tls', '--client-auth', '--domain', 'cc.wrong.example']),
    pkg('plaintotls', at(tlsPort)),
    pkg('tlstoplain', [...at(plainPort), '--tls']),
    pkg('silent', ['--address', `127.0.0.1:${silentPort}`, '--dial-timeout', '300ms']),
    pkg('silentlong', ['--address', `127.0.0.1:${silentPort}`, '--dial-timeout', '60s']),
  ]);
  servers.push(...await Promise.all([
    startChaincodeServer({ chaincodeId: pkgs.plain!.id, dir, port: plainPort }),
    startChaincodeServer({ chaincodeId: pkgs.tls!.id, dir: join(dir), port: tlsPort, tls: serverCert }),
    (async () => { const d = join(dir, 'named-server'); mkdirSync(d); return startChaincodeServer({ chaincodeId: pkgs.named!.id, dir: d, port: namedPort, tls: namedCert }); })(),
    (async () => { const d = join(dir, 'mtls-server'); mkdirSync(d); return startChaincodeServer({ chaincodeId: pkgs.mtls!.id, dir: d, port: mtlsPort, tls: { ...serverCert, clientCaPem: peerCa.certPem } }); })(),
  ]));
});

after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  for (const s of silentSockets) s.destroy();
  await new Promise<void>((r) => silent.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

test('plaintext: every step passes and put then get round-trips through the in-memory state', async () => {
  const r = await simulate('plain', ['--invoke', 'put', 'colour', 'blue', '--invoke', 'get', 'colour']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /\[3\]\s+detect\s+ok/);
  assert.match(r.stdout, /\[chaincode\.externalbuilder\.extbuilder\] waitForExit -> extbuilder build: service 127\.0\.0\.1:\d+, tls off, 0 indexes command=build/);
  assert.match(r.stdout, /connect\s+ok .*plaintext; REGISTER as plain_1\.0:[0-9a-f]{64}, answered REGISTERED and READY/);
  assert.match(r.stdout, /get -> 200 "blue"/);
  assert.match(r.stdout, /simulate: PASS/);
});

test('--json gives the steps with verdicts, timings and the package ID', async () => {
  const r = await simulate('plain', ['--json', '--invoke', 'get', 'missing-key']);
  const report = JSON.parse(r.stdout) as { ok: boolean; packageId: string; mode: string; steps: { name: string; verdict: string; ms: number; error?: { code: string } }[] };
  assert.equal(report.packageId, pkgs.plain!.id);
  assert.equal(report.mode, 'service');
  assert.deepEqual(report.steps.map((s) => s.name), ['package', 'extract', 'detect', 'build', 'release', 'persist', 'read', 'connect', 'invoke']);
  assert.ok(report.steps.every((s) => typeof s.ms === 'number'));
  // get of a missing key: the contract throws, the peer side answers 500, simulate fails on it.
  assert.equal(report.ok, false);
  assert.equal(report.steps.at(-1)!.error!.code, 'SIM_INVOKE');
  assert.equal(r.code, 1);
});

test('TLS: the server certificate is checked against root_cert spliced from the builder config', async () => {
  const r = await simulate('tls', ['--invoke', 'put', 'k', 'v'], 'tls');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /tls on, server name 127\.0\.0\.1/);
  assert.match(r.stdout, /connect\s+ok .*TLSv1\.[23] \(server certificate CN=localhost/);
});

test('mutual TLS: the peer presents the client pair the builder config splices in', async () => {
  const r = await simulate('mtls', ['--invoke', 'put', 'k', 'v', '--invoke', 'get', 'k'], 'mtls');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /tls mutual/);
  assert.match(r.stdout, /get -> 200 "v"/);
});

test('wrong port: connection refused, named as such', async () => {
  const line = failure(await simulate('refused'));
  assert.match(line, /DIAL_REFUSED: connection refused at 127\.0\.0\.1:\d+: nothing listens there/);
});

test('wrong root CA: the server certificate is not signed by root_cert', async () => {
  const line = failure(await simulate('tls', [], 'wrongca'));
  assert.match(line, /DIAL_UNKNOWN_CA: the chaincode server's certificate \(CN=localhost.*\) is not signed by root_cert/);
});

test('server name mismatch: the certificate names a DNS name, the peer dials an IP address', async () => {
  const line = failure(await simulate('named', [], 'tls'));
  assert.match(line, /DIAL_NAME_MISMATCH: the chaincode server's certificate \(CN=cc\.org1\.example\.com, DNS:cc\.org1\.example\.com\) does not name the host in address "127\.0\.0\.1:\d+"/);
});

test('server name mismatch: Fabric 3.x checks domain (with client auth); 2.x ignores it', async () => {
  const line = failure(await simulate('domain', [], 'mtls'));
  assert.match(line, /DIAL_NAME_MISMATCH: .*does not name domain "cc\.wrong\.example"/);
  // A 2.x peer never reads domain: TLS succeeds against 127.0.0.1 and the next check is the ID.
  const v2 = await simulate('domain', ['--peer-version', '2.5'], 'mtls');
  assert.match(v2.stdout, /keys the peer does not read: domain \(domain needs Fabric 3\.0\)/);
  assert.doesNotMatch(failure(v2), /DIAL_/);
});

test('missing client certificate: the server requires one and connection.json has no client auth', async () => {
  const line = failure(await simulate('tlsonly', [], 'tls'));
  assert.match(line, /DIAL_CLIENT_CERT_REJECTED: .*requires a client certificate/);
});

test('wrong chaincode ID: the server registers with another package\'s ID', async () => {
  const line = failure(await simulate('stale'));
  assert.ok(line.includes(`REGISTER_WRONG_ID: the chaincode server registered as "${pkgs.plain!.id}", not as the package ID "${pkgs.stale!.id}"`), line);
  assert.ok(line.includes(`CHAINCODE_ID=${pkgs.stale!.id}`), 'the fix names the ID to use');
});

test('plaintext to a TLS server, and TLS to a plaintext server, are told apart', async () => {
  assert.match(failure(await simulate('plaintotls')), /DIAL_EXPECTS_TLS/);
  assert.match(failure(await simulate('tlstoplain', [], 'tls')), /DIAL_NOT_TLS: TLS handshake with .* failed: the server does not speak TLS/);
});

test('a server that accepts but never answers: dial timeout, bounded by dial_timeout', async () => {
  assert.match(failure(await simulate('silent')), /DIAL_TIMEOUT: HTTP\/2 \(gRPC\) greeting with 127\.0\.0\.1:\d+ did not complete within dial_timeout 300 ms/);
});

/** A builder dir whose detect is `detect` (text, mode) and whose other phases are this program. */
function brokenBuilder(detect: string, mode: number): string {
  const b = tempDir('extbuilder-broken-');
  mkdirSync(join(b, 'bin'));
  writeFileSync(join(b, 'bin', 'detect'), detect, { mode });
  chmodSync(join(b, 'bin', 'detect'), mode);
  for (const p of ['build', 'release', 'run']) symlinkSync(EXTBUILDER, join(b, 'bin', p));
  return b;
}

test('a detect without the exec bit: the peer cannot run it, and simulate says why', async () => {
  const b = brokenBuilder('#!/bin/sh\nexit 0\n', 0o644);
  try {
    const r = await simulate('plain', ['--builder', b]);
    const line = failure(r);
    assert.match(line, /SIM_PHASE_EXEC: the peer cannot execute .*bin\/detect \(EACCES\), so it counts as "not detected": bin\/detect is not executable \(mode 0644\)/);
  } finally {
    rmSync(b, { recursive: true, force: true });
  }
});

test('a detect script with CRLF line endings: named, with the interpreter the kernel looks for', async () => {
  const b = brokenBuilder('#!/bin/sh\r\nexit 0\r\n', 0o755);
  try {
    const line = failure(await simulate('plain', ['--builder', b]));
    assert.match(line, /SIM_PHASE_EXEC: .*bin\/detect has CRLF line endings: the kernel looks for the interpreter "\/bin\/sh\\r"/);
  } finally {
    rmSync(b, { recursive: true, force: true });
  }
});

test('a package type the builder does not claim: detect declines, and the Docker fallback is explained', async () => {
  const file = join(dir, 'golang.tar.gz');
  const p = await cli(['package', '--label', 'golang_1.0', '--type', 'golang', '--address', '127.0.0.1:7052', '-o', file]);
  assert.equal(p.code, 0, p.stderr);
  const r = await cli(['simulate', file]);
  assert.match(failure(r), /SIM_DETECT_DECLINED: detect of extbuilder exited 1: it does not claim type "golang" .*Docker/);
});

test('--core-yaml: the builder entry gives the name the peer logs under and the variables it passes', async () => {
  const core = join(dir, 'core.yaml');
  writeFileSync(core, `chaincode:\n  externalBuilders:\n    - name: mybuilder\n      path: ${REPO}\n      propagateEnvironment:\n        - EXTBUILDER_CONFIG\n`);
  const r = await cli(['simulate', pkgs.mtls!.file, '--core-yaml', core, '--json'], { EXTBUILDER_CONFIG: cfg.mtls! });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const report = JSON.parse(r.stdout) as { builder: { name: string }; steps: { name: string; details: string[] }[] };
  assert.equal(report.builder.name, 'mybuilder');
  assert.ok(report.steps.find((s) => s.name === 'build')!.details.some((d) => d.startsWith('[chaincode.externalbuilder.mybuilder] waitForExit -> extbuilder build: service')));
});

test('a variable set in the shell but not propagated: the builder never sees it, and simulate says so, naming the builder entry', async () => {
  const r = await cli(['simulate', pkgs.mtls!.file], { EXTBUILDER_CONFIG: cfg.mtls! });
  const line = failure(r);
  assert.match(line, /SIM_ENV_NOT_PROPAGATED: build exited 1 with CONN_[A-Z_]+, but EXTBUILDER_CONFIG is set in this shell and not in the propagateEnvironment of builder extbuilder \(.*\), so the peer does not pass it on/);
  assert.match(line, /\(add EXTBUILDER_CONFIG to propagateEnvironment of the externalBuilders entry extbuilder in core\.yaml .*--propagate EXTBUILDER_CONFIG/);
  assert.match(r.stdout, /waitForExit -> extbuilder build: CONN_[A-Z_]+: .* command=build/);
  // Propagated, the same run gets past build.
  assert.doesNotMatch((await simulate('mtls')).stderr, /SIM_ENV_NOT_PROPAGATED|CONN_ROOT_CERT_MISSING/);
});

test('a durable build that exists is reused: detect, build and release are skipped, as the peer skips them', async () => {
  const fsPath = join(dir, 'fs');
  const first = await simulate('plain', ['--fs-path', fsPath]);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  const again = await simulate('plain', ['--fs-path', fsPath, '--json']);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  const report = JSON.parse(again.stdout) as { steps: { name: string; verdict: string; details: string[] }[] };
  assert.deepEqual(report.steps.map((s) => s.name), ['package', 'cached', 'read', 'connect']);
  assert.equal(report.steps[1]!.verdict, 'warn');
  assert.match(report.steps[1]!.details[0]!, /runs no detect, build or release; delete it and restart the peer to rebuild/);
  // The same durable build seen by a peer whose builder has another name, then with build-info.json gone.
  assert.match(failure(await simulate('plain', ['--fs-path', fsPath, '--name', 'renamed'])), /SIM_DURABLE_BROKEN: chaincode 'plain_1\.0:[0-9a-f]{64}' was already built with builder "extbuilder", but that builder is no longer available/);
  rmSync(join(fsPath, 'externalbuilder', 'builds', pkgs.plain!.id.replace(':', '-'), 'build-info.json'));
  assert.match(failure(await simulate('plain', ['--fs-path', fsPath])), /SIM_DURABLE_BROKEN: could not read '.*build-info\.json' for build info \(ENOENT\)/);
});

test('a detect script with CRLF after a clean #! line: it starts, fails, and simulate names the CRLF', async () => {
  const b = brokenBuilder('#!/bin/sh\ntrue\r\n', 0o755);
  try {
    const line = failure(await simulate('plain', ['--builder', b]));
    assert.match(line, /SIM_PHASE_EXEC: the peer runs .*bin\/detect but it exits \d+, so it counts as "not detected": bin\/detect has CRLF line endings: the shell reads every \\r as part of a command/);
  } finally {
    rmSync(b, { recursive: true, force: true });
  }
});

test('SIGINT during a step: the step fails as interrupted, cleanup runs, exit 130', async () => {
  const before = silentSockets.length;
  const child = spawn(EXTBUILDER, ['simulate', pkgs.silentlong!.file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  let exited = false;
  const closed = new Promise<number | null>((r) => child.on('close', (code) => { exited = true; r(code); }));
  // The connect step is under way once the silent server has the connection.
  while (silentSockets.length === before) {
    assert.ok(!exited, `simulate exited before it reached the silent server:\n${stdout}\n${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGINT');
  assert.equal(await closed, 130, stdout + stderr);
  assert.match(stdout, /connect\s+FAIL .*SIM_INTERRUPTED/);
  assert.match(stderr, /extbuilder simulate: SIM_INTERRUPTED: interrupted by a signal/);
  const fsPath = /(\/\S+\/extbuilder-simulate-[^/]+)\/externalbuilder/.exec(stdout)?.[1];
  assert.ok(fsPath && !existsSync(fsPath), 'the temporary fileSystemPath is removed');
});

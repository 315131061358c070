// Issue 12, "say the real cause": the messages for inputs people get wrong, through the real program
// (the CLI and the peer's phases as child processes), one test per class.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createBuildContext, invokePhase, peerEnvironment, stageSourceDir, writePeerMetadata } from '../src/peer/invoke.js';
import { REPO, runCli, tempDir } from './helpers/repo.js';
import { makeCasePki } from './helpers/service-cases.js';

const PACKAGE_ID = 'basic_1.0:4844d431f1730dbe5f633ec3dbcc02debe09925731a37942eb65bd19150b9ff1';

function oneErrorLine(stderr: string, phase: string, code: string): string {
  const lines = stderr.trim().split('\n');
  const err = lines.filter((l) => !l.includes(': warning: '));
  assert.equal(err.length, 1, `one error line: ${stderr}`);
  assert.match(err[0]!, new RegExp(`^extbuilder ${phase}: ${code}: `), err[0]);
  assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');
  return err[0]!;
}

/** build as the peer runs it, on a package holding this connection.json; its stderr lines and exit code. */
async function buildService(connection: string, env: Record<string, string> = {}): Promise<{ code: number; lines: string[] }> {
  const tmp = tempDir('extbuilder-msg-');
  const ctx = createBuildContext(tmp, PACKAGE_ID);
  writePeerMetadata(ctx, JSON.stringify({ type: 'ccaas', label: 'basic_1.0' }));
  writeFileSync(join(ctx.src, 'connection.json'), connection);
  const penv = peerEnvironment({ PATH: process.env.PATH, TMPDIR: tmp, ...env }, Object.keys(env));
  const r = await invokePhase(REPO, 'build', [ctx.src, ctx.metadata, ctx.bld], { env: penv, cwd: tmp });
  return { code: r.code ?? -1, lines: r.lines };
}

const JSON_CASES: [string, string, RegExp][] = [
  ['a // comment', '{\n  "address": "cc:9999", // the chaincode server\n  "dial_timeout": "10s"\n}\n', /line 2, column 25: JSON has no comments, and a \/\/ comment starts here \(delete the comment/],
  ['a /* */ comment', '{\n  /* server */\n  "address": "cc:9999"\n}\n', /line 2, column 3: JSON has no comments, and a \/\* \*\/ comment/],
  ['a trailing comma', '{\n  "address": "cc:9999",\n  "dial_timeout": "10s",\n}\n', /line 3, column 24: there is a trailing comma before \}/],
  ['single quotes', "{'address': 'cc:9999'}", /line 1, column 2: a key is in single quotes \(use double quotes/],
  ['an unquoted key', '{address: "cc:9999"}', /line 1, column 2: the key address is not in double quotes \(write "address"/],
  ['a missing comma', '{\n  "address": "cc:9999"\n  "dial_timeout": "10s"\n}', /line 3, column 3: a comma is missing between two entries/],
  ['a PEM pasted with its line breaks', '{"address": "cc:9999", "tls_required": true, "root_cert": "-----BEGIN\nabc"}', /line 1, column 70: a string runs over a line break/],
  ['True', '{"address": "cc:9999", "tls_required": True}', /True is not a JSON value \(write true in lower case/],
  ['a cut-off file', '{"address": "cc:9999"', /the text ends where "," or "}" was expected/],
];

test('JSON syntax: package names the mistake and the user\'s own file, not a package that does not exist yet', async () => {
  const dir = tempDir('extbuilder-msg-');
  for (const [name, text, expected] of JSON_CASES) {
    const file = join(dir, 'connection.json');
    writeFileSync(file, text);
    const r = await runCli(['package', '--label', 'basic_1.0', '--connection', file, '-o', join(dir, 'p.tar.gz')]);
    assert.equal(r.code, 1, name);
    const line = oneErrorLine(r.stderr, 'package', 'CONN_PARSE');
    assert.match(line, expected, name);
    assert.ok(line.includes(`edit ${file} and run extbuilder package again`), line);
    assert.doesNotMatch(line, /inspect|packaged/, `${name}: nothing is packaged yet: ${line}`);
    assert.doesNotMatch(line, /BEGIN|abc/, 'the input is not echoed');
  }
});

test('JSON syntax: build, launch.json, EXTBUILDER_CONFIG, CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG and metadata.json say it the same way', async () => {
  const b = await buildService(JSON_CASES[0]![1]);
  assert.equal(b.code, 1);
  assert.match(oneErrorLine(b.lines.join('\n'), 'build', 'CONN_PARSE'), /connection\.json is not valid JSON at line 2, column 25: JSON has no comments.*edit connection\.json in the chaincode's source and package it again/);

  const c = await buildService('{"address": "cc:9999"}', { EXTBUILDER_CONFIG: '{"template": {"a": "b"},}' });
  assert.match(oneErrorLine(c.lines.join('\n'), 'build', 'CONFIG_PARSE'), /EXTBUILDER_CONFIG is not valid JSON at line 1, column 24: there is a trailing comma before \}.*set EXTBUILDER_CONFIG again/);

  const cc = await buildService('{"address": "cc:9999"}', { CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG: "{'peername': 'peer0org1'}" });
  assert.match(oneErrorLine(cc.lines.join('\n'), 'build', 'CONFIG_PARSE'), /CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG is not valid JSON at line 1, column 2: a key is in single quotes/);

  const tmp = tempDir('extbuilder-msg-');
  const ctx = createBuildContext(tmp, PACKAGE_ID);
  writePeerMetadata(ctx, '{"type": "ccaas", // service\n "label": "basic_1.0"}');
  const d = await invokePhase(REPO, 'detect', [ctx.src, ctx.metadata], { env: peerEnvironment({ PATH: process.env.PATH }), cwd: tmp });
  assert.match(oneErrorLine(d.lines.join('\n'), 'detect', 'METADATA_PARSE'), /metadata\.json is not valid JSON at line 1, column 19: JSON has no comments/);

  const launch = tempDir('extbuilder-msg-launch-');
  writeFileSync(join(launch, 'launch.json'), '{"command": "/bin/true",}');
  const p = await runCli(['package', '--label', 'l_1', '--launch', launch, '-o', join(tmp, 'l.tar.gz')]);
  assert.match(oneErrorLine(p.stderr, 'package', 'LAUNCH_PARSE'), /launch\.json is not valid JSON at line 1, column 24: there is a trailing comma before \}.*edit launch\.json at the root of the launch tree/);
});

test('keys as the peer reads them: a case variant is accepted, renamed and warned about; a near-miss of any key gets a did-you-mean', async () => {
  // Go's encoding/json matches "Address" to the address field, so a plain builder (ccaas_builder) works with it.
  const ok = await buildService('{"Address": "cc:9999", "DIAL_TIMEOUT": "10s"}');
  assert.equal(ok.code, 0, ok.lines.join(' | '));
  assert.ok(ok.lines.some((l) => /^extbuilder build: warning: CONN_KEY_CASE: connection\.json key "Address" is read by the peer as "address"/.test(l)), ok.lines.join(' | '));
  assert.ok(ok.lines.some((l) => l.includes('"DIAL_TIMEOUT" is read by the peer as "dial_timeout"')), ok.lines.join(' | '));

  const both = await buildService('{"address": "cc:9999", "Address": "other:1"}');
  assert.equal(both.code, 1);
  assert.match(oneErrorLine(both.lines.join('\n'), 'build', 'CONN_DUPLICATE_KEY'), /both "address" and "Address"/);

  const dir = tempDir('extbuilder-msg-');
  for (const [text, key, meant] of [['{"adress": "cc:9999"}', 'adress', 'address'], ['{"address": "cc:9999", "dial_timout": "10s"}', 'dial_timout', 'dial_timeout'],
    ['{"address": "cc:9999", "tls_requried": true}', 'tls_requried', 'tls_required']] as const) {
    writeFileSync(join(dir, 'c.json'), text);
    const r = await runCli(['package', '--label', 'basic_1.0', '--connection', join(dir, 'c.json'), '-o', join(dir, 'p.tar.gz')]);
    assert.equal(r.code, 1, text);
    assert.ok(oneErrorLine(r.stderr, 'package', 'CONN_UNKNOWN_KEY').includes(`unknown key "${key}"; did you mean "${meant}"?`), r.stderr);
  }
});

test('a type this builder does not claim: package warns with a did-you-mean, inspect\'s verdict fails naming the claimed types, detect declines', async () => {
  const dir = tempDir('extbuilder-msg-');
  const pkg = join(dir, 'p.tar.gz');
  const p = await runCli(['package', '--label', 'basic_1.0', '--address', 'cc:9999', '--type', 'extrenal', '-o', pkg]);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stderr, /^extbuilder package: warning: PKG_TYPE_UNCLAIMED: --type "extrenal" is not a type extbuilder claims \(external, ccaas\).*did you mean "external"\? \(use --type external\)$/m);
  const i = await runCli(['inspect', pkg]);
  assert.equal(i.code, 1, i.stdout);
  assert.match(i.stdout, /^verdict +FAIL: PKG_TYPE_NOT_CLAIMED/m);
  assert.match(oneErrorLine(i.stderr, 'inspect', 'PKG_TYPE_NOT_CLAIMED'), /will not claim it: metadata\.json type "extrenal" is not one of the types it claims \(external, ccaas\).*did you mean "external"\?/);
  const j = await runCli(['inspect', '--json', pkg]);
  assert.equal((JSON.parse(j.stdout) as { ok: boolean }).ok, false);

  const tmp = tempDir('extbuilder-msg-');
  const ctx = createBuildContext(tmp, PACKAGE_ID);
  writePeerMetadata(ctx, JSON.stringify({ type: 'extrenal', label: 'basic_1.0' }));
  const d = await invokePhase(REPO, 'detect', [ctx.src, ctx.metadata], { env: peerEnvironment({ PATH: process.env.PATH }), cwd: tmp });
  assert.equal(d.code, 1, 'detect declines, as the peer expects of a builder that does not claim a package');

  const ok = await runCli(['package', '--label', 'basic_1.0', '--address', 'cc:9999', '--type', 'CCaaS', '-o', pkg]);
  assert.doesNotMatch(ok.stderr, /PKG_TYPE_UNCLAIMED/, 'types are claimed case-insensitively');
  assert.equal((await runCli(['inspect', pkg])).code, 0);
});

test('launch trees: a CRLF #! line or a missing exec bit is refused at package and at build, with a fix in the launch tree', async () => {
  const dir = tempDir('extbuilder-msg-');
  for (const [name, mode, text, expected] of [
    ['CRLF', 0o755, '#!/bin/sh\r\nexec sleep 1\r\n', /"\.\/start\.sh" has CRLF line endings: its first line "#!\/bin\/sh\\r".*\(convert start\.sh in the launch tree to LF line endings/],
    ['no exec bit', 0o644, '#!/bin/sh\nexec sleep 1\n', /"\.\/start\.sh" is not executable \(mode 644\) \(chmod \+x start\.sh in the launch tree and package it again/],
  ] as const) {
    const tree = join(dir, name.replace(/ /g, '-'));
    mkdirSync(tree);
    writeFileSync(join(tree, 'launch.json'), '{"command": "./start.sh"}');
    writeFileSync(join(tree, 'start.sh'), text);
    chmodSync(join(tree, 'start.sh'), mode);
    const p = await runCli(['package', '--label', 'l_1', '--launch', tree, '-o', join(dir, `${name}.tar.gz`)]);
    assert.equal(p.code, 1, `${name}: ${p.stderr}`);
    assert.match(oneErrorLine(p.stderr, 'package', 'LAUNCH_COMMAND_NOT_EXECUTABLE'), expected, name);
    assert.ok(!existsSync(join(dir, `${name}.tar.gz`)), 'nothing written');

    // build, on a package made by other means (a tar the tutorials' way).
    const tmp = tempDir('extbuilder-msg-');
    const ctx = createBuildContext(tmp, PACKAGE_ID);
    writePeerMetadata(ctx, JSON.stringify({ type: 'external', label: 'l_1' }));
    stageSourceDir(tree, ctx.src);
    chmodSync(join(ctx.src, 'start.sh'), mode);
    const b = await invokePhase(REPO, 'build', [ctx.src, ctx.metadata, ctx.bld], { env: peerEnvironment({ PATH: process.env.PATH, TMPDIR: tmp }), cwd: tmp });
    assert.equal(b.code, 1, `${name}: ${b.lines.join(' | ')}`);
    assert.match(oneErrorLine(b.lines.join('\n'), 'build', 'LAUNCH_COMMAND_NOT_EXECUTABLE'), expected, name);
    assert.deepEqual(readdirSync(ctx.bld), [], 'BUILD_OUTPUT_DIR holds nothing');
  }
});

test('addresses the peer cannot dial: 0.0.0.0 warned at package, inspect and build; loopback at package and inspect', async () => {
  const dir = tempDir('extbuilder-msg-');
  const pkg = join(dir, 'p.tar.gz');
  const any = await runCli(['package', '--label', 'basic_1.0', '--address', '0.0.0.0:9999', '-o', pkg]);
  assert.equal(any.code, 0, any.stderr);
  assert.match(any.stderr, /^extbuilder package: warning: CONN_ADDRESS_UNDIALABLE: connection\.json address "0\.0\.0\.0:9999" is the any-address a server listens on, not one the peer can dial \(/m);
  const ia = await runCli(['inspect', pkg]);
  assert.equal(ia.code, 0, 'a warning, not a failure');
  assert.match(ia.stderr, /^extbuilder inspect: warning: CONN_ADDRESS_UNDIALABLE: /m);
  const b = await buildService('{"address": "[::]:9999"}');
  assert.equal(b.code, 0, b.lines.join(' | '));
  assert.ok(b.lines.some((l) => l.startsWith('extbuilder build: warning: CONN_ADDRESS_UNDIALABLE: connection.json address "[::]:9999"')), b.lines.join(' | '));

  for (const address of ['localhost:9999', '127.0.0.1:9999', '[::1]:9999']) {
    const l = await runCli(['package', '--label', 'basic_1.0', '--address', address, '-o', pkg]);
    assert.equal(l.code, 0, l.stderr);
    assert.match(l.stderr, /^extbuilder package: warning: CONN_ADDRESS_LOOPBACK: connection\.json address .* is loopback: a peer in its own container \(Docker, Kubernetes\) dials itself there/m, address);
    assert.match((await runCli(['inspect', pkg])).stderr, /^extbuilder inspect: warning: CONN_ADDRESS_LOOPBACK: /m);
  }
  const named = await runCli(['package', '--label', 'basic_1.0', '--address', 'basic-cc:9999', '-o', pkg]);
  assert.equal(named.stderr, '', 'a service name is what a containerised peer dials');
});

test('wording: a spliced certificate is named by its file, expired CAs are not also ok, the exec-bit fix is the phase\'s, articles', async () => {
  const pki = await makeCasePki();
  // A server certificate where the CA belongs, spliced from the builder config: not "in connection.json".
  const spliced = await buildService('{"address": "cc:9999", "tls_required": true}', { EXTBUILDER_CONFIG: JSON.stringify({ tls: { root_cert_file: join(pki.dir, 'server.crt') } }) });
  const line = oneErrorLine(spliced.lines.join('\n'), 'build', 'TLS_ROOT_NOT_CA');
  assert.ok(line.includes(`root_cert spliced from tls.root_cert_file ${join(pki.dir, 'server.crt')} (`), line);
  assert.doesNotMatch(line, /in connection\.json/);
  const inline = await buildService(JSON.stringify({ address: 'cc:9999', tls_required: true, root_cert: pki.pem['server.crt'] }));
  assert.match(oneErrorLine(inline.lines.join('\n'), 'build', 'TLS_ROOT_NOT_CA'), /root_cert in connection\.json \(/);

  // "a list", "an object": never "a array" / "a object".
  const list = await buildService('{"address": "cc:9999"}', { EXTBUILDER_CONFIG: '{"types": "ccaas"}' });
  assert.match(oneErrorLine(list.lines.join('\n'), 'build', 'CONFIG_INVALID'), /types is the string "ccaas", not a list/);
  const obj = await buildService('{"address": "cc:9999"}', { EXTBUILDER_CONFIG: '{"tls": "x"}' });
  assert.match(oneErrorLine(obj.lines.join('\n'), 'build', 'CONFIG_INVALID'), /tls is the string "x", not an object/);

  // doctor: an expired CA is a fail and not then an ok; bin/build without its exec bit gets build's consequence.
  const builder = tempDir('extbuilder-msg-builder-');
  mkdirSync(join(builder, 'bin'));
  for (const p of ['detect', 'release', 'run']) symlinkSync(join(REPO, 'bin', 'extbuilder'), join(builder, 'bin', p));
  writeFileSync(join(builder, 'bin', 'build'), '#!/bin/sh\nexit 0\n', { mode: 0o644 });
  writeFileSync(join(builder, 'config.json'), JSON.stringify({ tls: { root_cert_file: join(pki.dir, 'expired-ca.crt') } }));
  const d = await runCli(['doctor', '--builder', builder]);
  assert.equal(d.code, 1, d.stdout);
  const lines = d.stdout.split('\n');
  assert.ok(lines.some((l) => /^fail tls\.root_cert_file \(.*expired CA.*\) is not valid now/.test(l)), d.stdout);
  assert.ok(!lines.some((l) => /^ok +tls\.root_cert_file/.test(l)), `expired CA also reported ok:\n${d.stdout}`);
  const build = lines.find((l) => l.startsWith('fail bin/build is not executable'));
  assert.ok(build && build.includes('the peer fails the build'), d.stdout);
  assert.doesNotMatch(build!, /detect/);
});

// Package-time validation reuses build's rules with real certificates: TLS material in the package is
// checked as build checks it, material left to the peer (templates, spliced TLS) is named, not refused.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExtError } from '../src/core/errors.js';
import { memoryLogger } from '../src/core/log.js';
import { createPackage } from '../src/packaging/package.js';
import { checkPackagedConnection } from '../src/packaging/validate.js';
import { readPackage } from '../src/core/pkg/read.js';
import { createCA, issue } from '../src/peer/pki.js';
import { tempDir } from './helpers/repo.js';

const pem: Record<string, string> = {};

before(async () => {
  const ca = await createCA('Org1 chaincode CA');
  const server = await issue(ca, { dns: ['cc.org1.example.com'], usage: 'server' });
  const client = await issue(ca, { commonName: 'peer0', usage: 'client' });
  const other = await issue(ca, { commonName: 'other', usage: 'client' });
  Object.assign(pem, { ca: ca.certPem, server: server.certPem, clientCert: client.certPem, clientKey: client.keyPem, otherKey: other.keyPem });
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof ExtError) return err.code;
    throw err;
  }
}

test('literal TLS material is checked as build checks it', () => {
  const log = memoryLogger('package');
  const base = { address: 'cc.org1.example.com:9999', tls_required: true };
  assert.equal(checkPackagedConnection({ ...base, root_cert: pem.ca }, log).tls, 'on');
  assert.equal(codeOf(() => checkPackagedConnection({ ...base, root_cert: pem.server }, log)), 'TLS_ROOT_NOT_CA');
  assert.equal(codeOf(() => checkPackagedConnection({ ...base, root_cert: 'not a pem' }, log)), 'TLS_PEM_INVALID');
  const mutual = { ...base, client_auth_required: true, root_cert: pem.ca, client_cert: pem.clientCert };
  assert.equal(checkPackagedConnection({ ...mutual, client_key: pem.clientKey }, log).tls, 'mutual');
  assert.ok(log.warnings.some((w) => w.code === 'CONN_CLIENT_KEY_IN_PACKAGE'), 'a key in the package is warned about');
  assert.equal(codeOf(() => checkPackagedConnection({ ...mutual, client_key: pem.otherKey }, log)), 'TLS_KEY_MISMATCH');
});

test('TLS material left empty is taken as spliced at build, and named', () => {
  const log = memoryLogger('package');
  const s = checkPackagedConnection({ address: 'cc.org1.example.com:9999', tls_required: true, client_auth_required: true }, log);
  assert.equal(s.tls, 'mutual');
  assert.deepEqual(s.spliced, ['root_cert', 'client_cert', 'client_key']);
  assert.deepEqual(s.templated, []);
  assert.ok(log.warnings.some((w) => w.code === 'PKG_DEFERRED'));
  // A literal root cert next to spliced client material is still checked.
  assert.equal(codeOf(() => checkPackagedConnection({ address: 'a.example.com:1', tls_required: true, client_auth_required: true, root_cert: pem.server }, log)), 'TLS_ROOT_NOT_CA');
});

test('templates: syntax checked, values left to each peer, the rest still validated', () => {
  const log = memoryLogger('package');
  const s = checkPackagedConnection({ address: '{{.host}}:{{.port}}', dial_timeout: '{{.timeout}}', tls_required: '{{.tls}}' }, log);
  assert.equal(s.tls, 'set at build');
  assert.deepEqual(s.templated, ['address', 'dial_timeout', 'tls_required']);
  assert.deepEqual(s.spliced, ['root_cert']);
  assert.equal(codeOf(() => checkPackagedConnection({ address: '{{.host | upper}}:1' }, log)), 'TEMPLATE_SYNTAX');
  assert.equal(codeOf(() => checkPackagedConnection({ address: '{{.host}}:1', dial_timeout: 'ten seconds' }, log)), 'CONN_DIAL_TIMEOUT');
  assert.equal(codeOf(() => checkPackagedConnection({ address: '{{.host}}:1', tls_requried: true }, log)), 'CONN_UNKNOWN_KEY');
  assert.equal(codeOf(() => checkPackagedConnection(['a'], log)), 'CONN_NOT_OBJECT');
});

test('--root-cert puts the CA into connection.json; a server certificate there is refused before writing', async () => {
  const dir = tempDir('extbuilder-pkgtls-');
  writeFileSync(join(dir, 'ca.pem'), pem.ca!);
  const log = memoryLogger('package');
  const out = join(dir, 'ok.tar.gz');
  const o = await createPackage({ label: 'tls_1', type: 'external', output: out, connection: { fields: { address: 'cc.org1.example.com:9999', tls_required: true, root_cert: pem.ca! } } }, log);
  assert.equal(o.mode, 'service');
  assert.equal(o.id, `tls_1:${o.sha256}`);
  const bad = join(dir, 'bad.tar.gz');
  await assert.rejects(createPackage({ label: 'tls_1', type: 'external', output: bad, connection: { fields: { address: 'cc.org1.example.com:9999', tls_required: true, root_cert: pem.server! } } }, log),
    (err) => err instanceof ExtError && err.code === 'TLS_ROOT_NOT_CA');
  assert.ok(!existsSync(bad));
  const r = await readPackage(out);
  const conn = JSON.parse(r.code!.files.get('connection.json')!.toString('utf8'));
  assert.equal(conn.root_cert, pem.ca);
});

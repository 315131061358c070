// The peer after release (src/peer/durable.ts): connection.json read with Go's encoding/json rules and
// the peer's checks, dial_timeout parsing, the copy into the durable dir, and the ledger's index paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MalformedChaincodeInfo, parseGoDuration, parsePeerConnection, peerCopyDir, persistBuild, readRelease } from '../src/peer/durable.js';
import { tempDir } from './helpers/repo.js';

const ROOT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function malformed(text: string, reason: RegExp, version: 2 | 3 = 3): void {
  assert.throws(() => parsePeerConnection(text, version), (e: Error) => e instanceof MalformedChaincodeInfo && reason.test(e.message), `${text} -> ${reason}`);
}

test('dial_timeout: Go durations, numbers as nanoseconds, the 3s default, and the values the peer refuses', () => {
  const ns = (v: unknown): number => parsePeerConnection(JSON.stringify({ address: 'cc:9999', dial_timeout: v }), 3).dialTimeoutNs;
  assert.equal(ns('10s'), 10e9);
  assert.equal(ns('1h30m'), 5400e9);
  assert.equal(ns('1.5s'), 1.5e9);
  assert.equal(ns('.5ms'), 0.5e6);
  assert.equal(ns('300µs'), 300e3);
  assert.equal(ns(10), 10, 'a bare number is nanoseconds');
  assert.equal(ns('0'), 3e9, 'zero means the default');
  assert.equal(parsePeerConnection('{"address": "cc:9999"}', 3).dialTimeoutNs, 3e9);
  malformed('{"address": "cc:9999", "dial_timeout": ""}', /time: invalid duration ""/);
  malformed('{"address": "cc:9999", "dial_timeout": null}', /invalid duration/);
  malformed('{"address": "cc:9999", "dial_timeout": "10"}', /missing unit in duration "10"/);
  malformed('{"address": "cc:9999", "dial_timeout": "10 s"}', /unknown unit|invalid/);
  assert.equal(parseGoDuration('-1s'), -1e9);
  assert.throws(() => parseGoDuration('.s'), /invalid duration/);
});

test('keys match case-insensitively, including Go\'s Kelvin-sign fold, and the last occurrence wins', () => {
  const c = parsePeerConnection('{"ADDRESS": "a:1", "Tls_Required": true, "root_CERT": "x", "address": "b:2"}', 3);
  assert.equal(c.address, 'b:2');
  assert.ok(c.tls && c.tls.rootCert === 'x');
  // U+212A KELVIN SIGN folds to k in Go's EqualFold, so this key is client_key.
  const k = parsePeerConnection(JSON.stringify({ address: 'a:1', tls_required: true, client_auth_required: true, root_cert: 'r', client_cert: 'c', ['client_\u212aey']: 'key' }), 3);
  assert.ok(k.tls && k.tls.client?.key === 'key');
  // JSON.parse would keep the first position of "Address" with the last value; Go assigns in order.
  assert.equal(parsePeerConnection('{"Address": "a:1", "address": "b:2", "Address": "c:3"}', 3).address, 'c:3');
  assert.deepEqual(parsePeerConnection('{"address": "a:1", "adress": "x", "tls": true}', 3).ignored, ['adress', 'tls']);
});

test('the peer\'s own checks and type errors give "malformed chaincode info" reasons', () => {
  malformed('{"dial_timeout": "10s"}', /chaincode address not provided/);
  malformed('{"address": null}', /chaincode address not provided/);
  malformed('{"address": "a:1", "tls_required": "true"}', /cannot unmarshal string into Go struct field tls_required of type bool/);
  malformed('{"address": 7052}', /cannot unmarshal number/);
  malformed('[]', /cannot unmarshal array/);
  malformed('{"address": "a:1",}', /not valid JSON/);
  malformed('{"address": "a:1", "tls_required": true}', /chaincode tls root cert not provided/);
  malformed(`{"address": "a:1", "tls_required": true, "client_auth_required": true, "root_cert": ${JSON.stringify(ROOT)}}`, /chaincode tls key not provided/);
  // TLS off: every TLS field is ignored, even a missing root cert.
  assert.equal(parsePeerConnection('{"address": "a:1", "tls_required": false, "client_auth_required": true}', 3).tls, false);
});

test('domain: read only by 3.x and only with client auth', () => {
  const base = { address: '10.0.0.5:9999', tls_required: true, root_cert: ROOT, domain: 'cc.example.com' };
  const mutual = { ...base, client_auth_required: true, client_cert: 'c', client_key: 'k' };
  const v3 = parsePeerConnection(JSON.stringify(mutual), 3);
  assert.ok(v3.tls && v3.tls.serverNameOverride === 'cc.example.com');
  const v2 = parsePeerConnection(JSON.stringify(mutual), 2);
  assert.ok(v2.tls && v2.tls.serverNameOverride === undefined);
  assert.deepEqual(v2.ignored, ['domain']);
  const noAuth = parsePeerConnection(JSON.stringify(base), 3);
  assert.ok(noAuth.tls && noAuth.tls.serverNameOverride === undefined);
});

test('the durable copy keeps modes and in-tree relative symlinks, and refuses what the peer refuses', () => {
  const dir = tempDir();
  try {
    const src = join(dir, 'release');
    mkdirSync(join(src, 'chaincode', 'server'), { recursive: true });
    writeFileSync(join(src, 'chaincode', 'server', 'connection.json'), '{"address": "cc:1"}', { mode: 0o600 });
    chmodSync(join(src, 'chaincode', 'server', 'connection.json'), 0o600);
    symlinkSync('server/connection.json', join(src, 'chaincode', 'link.json'));
    const ctx = { release: src, bld: join(dir, 'bld') };
    mkdirSync(ctx.bld);
    writeFileSync(join(ctx.bld, 'build.json'), '{}');
    const d = persistBuild(join(dir, 'fs'), 'cc_1.0:ab', 'extbuilder', ctx);
    assert.equal(d.dir, join(dir, 'fs', 'externalbuilder', 'builds', 'cc_1.0-ab'));
    assert.deepEqual(JSON.parse(readFileSync(join(d.dir, 'build-info.json'), 'utf8')), { builder_name: 'extbuilder' });
    assert.equal(statSync(join(d.dir, 'build-info.json')).mode & 0o777, 0o600);
    assert.equal(statSync(join(d.release, 'chaincode', 'server', 'connection.json')).mode & 0o777, 0o600);
    assert.equal(readlinkSync(join(d.release, 'chaincode', 'link.json')), 'server/connection.json');
    assert.ok(existsSync(join(d.bld, 'build.json')));

    for (const [name, target] of [['abs', '/etc/passwd'], ['escape', '../../outside']] as const) {
      const bad = join(dir, `bad-${name}`);
      mkdirSync(bad);
      symlinkSync(target, join(bad, 'link'));
      assert.throws(() => peerCopyDir(bad, join(dir, `out-${name}`)), name === 'abs' ? /refusing to copy absolute symlink/ : /points outside/);
      assert.ok(!existsSync(join(dir, `out-${name}`)), 'a failed copy leaves no destination');
    }
    const fifoDir = join(dir, 'fifo');
    mkdirSync(fifoDir);
    if (spawnSync('mkfifo', [join(fifoDir, 'pipe')]).status === 0) {
      assert.throws(() => peerCopyDir(fifoDir, join(dir, 'out-fifo')), /refusing to copy unsupported file/);
    }
    assert.ok(lstatSync(join(dir, 'fs')).isDirectory());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readRelease: service or launch by chaincode/server/connection.json; indexes at the ledger\'s paths only', () => {
  const dir = tempDir();
  try {
    const put = (rel: string, text = '{}'): void => { mkdirSync(join(dir, rel, '..'), { recursive: true }); writeFileSync(join(dir, rel), text); };
    put('statedb/couchdb/indexes/owner.json');
    put('statedb/couchdb/collections/private/indexes/size.json');
    put('statedb/couchdb/indexes/nested/ignored.json');
    put('statedb/indexes/wrong.json');
    let view = readRelease(dir, 3);
    assert.equal(view.connection, undefined, 'no connection.json: the peer calls run');
    assert.deepEqual(view.indexes, ['statedb/couchdb/collections/private/indexes/size.json', 'statedb/couchdb/indexes/owner.json']);
    assert.deepEqual(view.strayIndexFiles, ['statedb/couchdb/indexes/nested/ignored.json', 'statedb/indexes/wrong.json']);
    put('chaincode/server/connection.json', '{"address": "cc:7052", "dial_timeout": "2s"}');
    view = readRelease(dir, 3);
    assert.equal(view.connection?.address, 'cc:7052');
    assert.equal(view.connection?.dialTimeoutNs, 2e9);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// The peer side of the chaincode stream against a real fabric-shim chaincode that dials in, with and without TLS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { listenPeer, type PeerListener } from '../src/peer/listen.js';

const repo = resolve(import.meta.dirname, '..');
const contract = join(repo, 'fixtures', 'launch', 'node-kv');

/** Starts the contract the way a launch.json would, with the shim's env conventions, straight from the fixture. */
async function startChaincode(peer: PeerListener, chaincodeId: string): Promise<{ child: ChildProcess; dir: string }> {
  const cfg = await peer.runConfig({ chaincodeId });
  const dir = mkdtempSync(join(tmpdir(), 'handler-test-'));
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', NODE_PATH: join(repo, 'node_modules'), CORE_PEER_TLS_ENABLED: String(cfg.client_cert !== '') };
  if (cfg.client_cert) {
    writeFileSync(join(dir, 'root.pem'), cfg.root_cert);
    writeFileSync(join(dir, 'cert.b64'), Buffer.from(cfg.client_cert).toString('base64'));
    writeFileSync(join(dir, 'key.b64'), Buffer.from(cfg.client_key).toString('base64'), { mode: 0o600 });
    Object.assign(env, { CORE_PEER_TLS_ROOTCERT_FILE: join(dir, 'root.pem'), CORE_TLS_CLIENT_CERT_PATH: join(dir, 'cert.b64'), CORE_TLS_CLIENT_KEY_PATH: join(dir, 'key.b64') });
  }
  const child = spawn(process.execPath, ['start.js', 'start', '--peer.address', cfg.peer_address, '--chaincode-id-name', chaincodeId, '--module-path', '.'],
    { cwd: contract, env, stdio: ['ignore', 'ignore', 'inherit'] });
  return { child, dir };
}

for (const tls of [false, true]) {
  test(`a fabric-shim contract registers and runs transactions against the stand-in (tls ${tls ? 'on' : 'off'})`, async () => {
    const peer = await listenPeer({ tls, session: { expectedChaincodeId: 'kv:01' } });
    const { child, dir } = await startChaincode(peer, 'kv:01');
    try {
      const session = await peer.nextSession();
      assert.deepEqual(await session.registered, { chaincodeId: 'kv:01' });

      const put = await session.invoke('put', ['colour', 'blue']);
      assert.equal(put.status, 200, put.message);
      assert.equal(put.payload.toString(), 'blue');
      assert.equal(session.state.get('colour')?.toString(), 'blue');

      const got = await session.invoke('get', ['colour']);
      assert.equal(got.status, 200);
      assert.equal(got.payload.toString(), 'blue');

      const missing = await session.invoke('get', ['nothing']);
      assert.equal(missing.status, 500);
      assert.match(missing.message, /nothing does not exist/);

      const t0 = Date.now();
      const who = JSON.parse((await session.invoke('whoami', [], { channel: 'ch1', txId: 'tx-1' })).payload.toString()) as { pid: number; mspid: string; time: string; txId: string; channel: string };
      assert.equal(who.pid, child.pid);
      assert.equal(who.mspid, 'Org1MSP');
      assert.equal(who.txId, 'tx-1');
      assert.equal(who.channel, 'ch1');
      assert.ok(Math.abs(Date.parse(who.time) - t0) < 60_000, `transaction time ${who.time}`);
    } finally {
      child.kill('SIGKILL');
      await peer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('a failed transaction leaves the world state as it was; concurrent transactions are kept apart', async () => {
  const peer = await listenPeer();
  const { child, dir } = await startChaincode(peer, 'kv:02');
  try {
    const session = await peer.nextSession();
    await session.registered;
    session.state.set('a', Buffer.from('1'));
    const failed = await session.invoke('putThenFail', ['a', '2']);
    assert.equal(failed.status, 500);
    assert.match(failed.message, /failing on purpose/);
    assert.equal(session.state.get('a')?.toString(), '1');
    assert.equal((await session.invoke('nosuchfn', [])).status, 500);
    // two transactions in flight at once each get their own answer
    const [x, y] = await Promise.all([session.invoke('put', ['x', 'X']), session.invoke('put', ['y', 'Y'])]);
    assert.equal(x.payload.toString(), 'X');
    assert.equal(y.payload.toString(), 'Y');
  } finally {
    child.kill('SIGKILL');
    await peer.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('range queries page through the state in key order', async () => {
  const peer = await listenPeer();
  const { child, dir } = await startChaincode(peer, 'kv:04');
  try {
    const session = await peer.nextSession();
    await session.registered;
    for (let i = 0; i < 250; i++) session.state.set(`k${String(i).padStart(3, '0')}`, Buffer.from(String(i)));
    session.state.set('z', Buffer.from('last'));
    assert.equal((await session.invoke('count', ['k', 'l'])).payload.toString(), '250');
    assert.equal((await session.invoke('count', ['k100', 'k200'])).payload.toString(), '100');
    assert.equal((await session.invoke('count', ['', ''])).payload.toString(), '251');
  } finally {
    child.kill('SIGKILL');
    await peer.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('private data lives per collection, takes transient inputs and answers hashes', async () => {
  const peer = await listenPeer();
  const { child, dir } = await startChaincode(peer, 'kv:05');
  try {
    const session = await peer.nextSession();
    await session.registered;
    const put = await session.invoke('putPrivate', ['secrets', 'k'], { transient: { value: 'hidden' } });
    assert.equal(put.status, 200, put.message);
    assert.equal(session.privateState.get('secrets')?.get('k')?.toString(), 'hidden');
    assert.equal(session.state.size, 0, 'private writes stay out of the public state');
    assert.equal((await session.invoke('getPrivate', ['secrets', 'k'])).payload.toString(), 'hidden');
    assert.equal((await session.invoke('privateHash', ['secrets', 'k'])).payload.toString(), createHash('sha256').update('hidden').digest('hex'));
    assert.equal((await session.invoke('putPrivate', ['secrets', 'k'])).status, 500, 'no transient value, no write');
  } finally {
    child.kill('SIGKILL');
    await peer.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a chaincode registering under another ID is refused and the session says why', async () => {
  const peer = await listenPeer({ session: { expectedChaincodeId: 'kv:expected' } });
  const { child, dir } = await startChaincode(peer, 'kv:other');
  try {
    const session = await peer.nextSession();
    await assert.rejects(session.registered, /registered as "kv:other", expected "kv:expected"/);
  } finally {
    child.kill('SIGKILL');
    await peer.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a chaincode without a client certificate cannot connect to the TLS listener', async () => {
  const peer = await listenPeer({ tls: true });
  const cfg = await peer.runConfig({ chaincodeId: 'kv:03' });
  const dir = mkdtempSync(join(tmpdir(), 'handler-test-'));
  writeFileSync(join(dir, 'root.pem'), cfg.root_cert);
  // a certificate from another CA: the listener must refuse it, as the peer refuses one it did not issue
  const other = await listenPeer({ tls: true });
  const foreign = await other.runConfig({ chaincodeId: 'kv:03' });
  await other.close();
  writeFileSync(join(dir, 'cert.b64'), Buffer.from(foreign.client_cert).toString('base64'));
  writeFileSync(join(dir, 'key.b64'), Buffer.from(foreign.client_key).toString('base64'), { mode: 0o600 });
  const child = spawn(process.execPath, ['start.js', 'start', '--peer.address', cfg.peer_address, '--chaincode-id-name', 'kv:03', '--module-path', '.'], {
    cwd: contract, stdio: 'ignore',
    env: { PATH: process.env.PATH ?? '', NODE_PATH: join(repo, 'node_modules'), CORE_PEER_TLS_ENABLED: 'true', CORE_PEER_TLS_ROOTCERT_FILE: join(dir, 'root.pem'), CORE_TLS_CLIENT_CERT_PATH: join(dir, 'cert.b64'), CORE_TLS_CLIENT_KEY_PATH: join(dir, 'key.b64') },
  });
  try {
    await assert.rejects(peer.nextSession(4000), /no chaincode connected/);
  } finally {
    child.kill('SIGKILL');
    await peer.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

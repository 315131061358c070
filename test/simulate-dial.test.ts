// src/peer/dial.ts on its own: addresses as the peer takes them, the server name it checks, and TLS
// material in connection.json that cannot even be loaded (the peer fails before dialling too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { expectedServerName, probe, splitAddress } from '../src/peer/dial.js';
import { parsePeerConnection } from '../src/peer/durable.js';

test('addresses: host:port and [IPv6]:port; the server name is the host unless 3.x client auth sets domain', () => {
  assert.deepEqual(splitAddress('cc.org1.example.com:9999'), { host: 'cc.org1.example.com', port: 9999 });
  assert.deepEqual(splitAddress('[::1]:7052'), { host: '::1', port: 7052 });
  assert.throws(() => splitAddress('no-port'), /DIAL_ADDRESS|not host:port/);
  const tls = { tls_required: true, root_cert: 'r', client_auth_required: true, client_cert: 'c', client_key: 'k', domain: 'cc.example.com' };
  assert.equal(expectedServerName(parsePeerConnection(JSON.stringify({ address: '10.1.2.3:9999', ...tls }), 3)), 'cc.example.com');
  assert.equal(expectedServerName(parsePeerConnection(JSON.stringify({ address: '10.1.2.3:9999', ...tls }), 2)), '10.1.2.3');
});

test('unusable PEM in connection.json is named, not thrown out of the socket callback', async () => {
  const sockets: Socket[] = [];
  const server = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  try {
    const port = (server.address() as { port: number }).port;
    const conn = parsePeerConnection(JSON.stringify({ address: `127.0.0.1:${port}`, tls_required: true, client_auth_required: true, root_cert: 'x', client_cert: 'garbage', client_key: 'garbage' }), 3);
    await assert.rejects(probe(conn), /DIAL_TLS_HANDSHAKE: the TLS material in connection\.json cannot be used/);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

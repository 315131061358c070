// The peer's chaincode listener, re-enacted: a ChaincodeSupport.Register gRPC server on 127.0.0.1 that
// chaincode started by run dials (contract section 6), and the chaincode.json the peer writes for run.
//
// API (stable; used by run's tests and by simulate):
//   listenPeer({ tls?, session? }) -> PeerListener
//     tls: true gives the listener, like the peer, a fresh CA created for this start and a server
//     certificate for 127.0.0.1/localhost from it, and requires client certificates from that CA.
//   listener.address       "127.0.0.1:PORT" (chaincode.json's peer_address)
//   listener.nextSession() the next chaincode stream, as a PeerSession (src/peer/handler.ts), in arrival order
//   listener.writeChaincodeJson(dir, { chaincodeId, mspid? }) writes <dir>/chaincode.json (0600) as the peer
//     does for one launch: with TLS, a client certificate issued for this launch; returns the file's path
//   listener.close()       stops the server and every session
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { peer } from '@hyperledger/fabric-protos';
import { servePeerSession, type PeerSession, type SessionOptions } from './handler.js';
import { createCA, issue, type CA } from './pki.js';
import type { ChaincodeRun } from '../generated/types.js';

export interface ListenOptions {
  tls?: boolean;
  /** Passed to every session (expected chaincode ID, creator identity). */
  session?: SessionOptions;
}

/** chaincode.json as the peer writes it (schemas/chaincode-run.schema.json). */
export type ChaincodeRunJson = ChaincodeRun;

export interface PeerListener {
  address: string;
  /** The listener's CA when TLS is on (the peer's ephemeral chaincode CA). */
  ca?: CA;
  sessions: PeerSession[];
  nextSession(timeoutMs?: number): Promise<PeerSession>;
  /** What the peer would put in chaincode.json for one launch (a client certificate per call with TLS). */
  runConfig(o: { chaincodeId: string; mspid?: string }): Promise<ChaincodeRunJson>;
  writeChaincodeJson(dir: string, o: { chaincodeId: string; mspid?: string }): Promise<string>;
  close(): Promise<void>;
}

export async function listenPeer(o: ListenOptions = {}): Promise<PeerListener> {
  const sessions: PeerSession[] = [];
  const waiting: ((s: PeerSession) => void)[] = [];
  let taken = 0;
  const server = new grpc.Server();
  server.addService(peer.ChaincodeSupportService, {
    register(call: grpc.ServerDuplexStream<peer.ChaincodeMessage, peer.ChaincodeMessage>) {
      const session = servePeerSession(call, o.session);
      sessions.push(session);
      const w = waiting.shift();
      if (w) { taken++; w(session); }
    },
  });

  let ca: CA | undefined;
  let creds = grpc.ServerCredentials.createInsecure();
  if (o.tls) {
    ca = await createCA('extbuilder peer chaincode CA');
    const server = await issue(ca, { dns: ['localhost'], ips: ['127.0.0.1'], usage: 'server' });
    creds = grpc.ServerCredentials.createSsl(Buffer.from(ca.certPem),
      [{ private_key: Buffer.from(server.keyPem), cert_chain: Buffer.from(server.certPem) }], true);
  }
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', creds, (err, p) => (err ? reject(err) : resolve(p)));
  });
  const address = `127.0.0.1:${port}`;

  const runConfig: PeerListener['runConfig'] = async ({ chaincodeId, mspid = 'Org1MSP' }) => {
    const client = ca ? await issue(ca, { commonName: chaincodeId, usage: 'client' }) : undefined;
    return {
      chaincode_id: chaincodeId,
      peer_address: address,
      client_cert: client?.certPem ?? '',
      client_key: client?.keyPem ?? '',
      root_cert: ca?.certPem ?? '',
      mspid,
    };
  };

  return {
    address,
    ca,
    sessions,
    runConfig,
    nextSession(timeoutMs = 30_000) {
      if (taken < sessions.length) return Promise.resolve(sessions[taken++]!);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const i = waiting.indexOf(done);
          if (i >= 0) waiting.splice(i, 1);
          reject(new Error(`no chaincode connected to ${address} within ${timeoutMs} ms`));
        }, timeoutMs);
        // A caller that gives up waiting (run exited first) must not be kept alive by this timer.
        timer.unref();
        const done = (s: PeerSession): void => { clearTimeout(timer); resolve(s); };
        waiting.push(done);
      });
    },
    async writeChaincodeJson(dir, co) {
      const file = join(dir, 'chaincode.json');
      writeFileSync(file, JSON.stringify(await runConfig(co)), { mode: 0o600 });
      chmodSync(file, 0o600);
      return file;
    },
    async close() {
      for (const s of sessions) s.close();
      // A chaincode still connected would hold a graceful shutdown open; give it a moment, then cut it.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => { server.forceShutdown(); resolve(); }, 1000);
        server.tryShutdown(() => { clearTimeout(timer); resolve(); });
      });
    },
  };
}

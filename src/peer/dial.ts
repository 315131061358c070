// The peer dialling a chaincode server (contract section 7), re-enacted: first a plain TCP/TLS/HTTP-2
// probe with the peer's TLS settings, which names the cause of a failure (gRPC hides it), then the real
// gRPC dial, the Chaincode.Connect stream and the registration handshake (served by handler.ts).
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate, type TLSSocket } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { peer } from '@hyperledger/fabric-protos';
import { ExtError } from '../core/errors.js';
import type { PeerConnection } from './durable.js';
import { servePeerSession, type PeerSession, type SessionOptions } from './handler.js';

/** The client connection preface and an empty SETTINGS frame: what a gRPC client sends first. */
const H2_PREFACE = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);
const H2_SETTINGS = 4;

/** The peer's keepalive towards chaincode servers (comm.DefaultKeepaliveOptions), not configurable. */
const KEEPALIVE = { 'grpc.keepalive_time_ms': 60_000, 'grpc.keepalive_timeout_ms': 20_000 };

export function splitAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  if (!m) throw new ExtError('DIAL_ADDRESS', `address ${JSON.stringify(address)} is not host:port`, 'write host:port in connection.json');
  return { host: m[1] ?? m[2] ?? '', port: Number(m[3]) };
}

/** The name the peer checks the server certificate against: the override, else the address's host. */
export function expectedServerName(conn: PeerConnection): string {
  return (conn.tls && conn.tls.serverNameOverride) || splitAddress(conn.address).host;
}

function certNames(cert: PeerCertificate | undefined): string {
  if (!cert || !cert.subject) return 'unknown';
  const alt = cert.subjectaltname ? `, ${cert.subjectaltname}` : '';
  return `CN=${cert.subject.CN ?? ''}${alt}`;
}

export interface ProbeResult {
  /** "TLSv1.3" or "plaintext". */
  protocol: string;
  /** The server certificate's names, with TLS. */
  serverCert?: string;
  ms: number;
}

/** Turns a socket/TLS error into the cause a user can act on. */
function classify(err: NodeJS.ErrnoException & { reason?: string }, conn: PeerConnection, stage: 'tcp' | 'tls' | 'h2', serverCert?: string): ExtError {
  const code = err.code ?? '';
  const addr = conn.address;
  const name = expectedServerName(conn);
  if (code === 'ECONNREFUSED') {
    return new ExtError('DIAL_REFUSED', `connection refused at ${addr}: nothing listens there`, 'start the chaincode server, or fix address in connection.json (host and port the peer can reach)');
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new ExtError('DIAL_DNS', `the host of ${addr} does not resolve (${code})`, 'fix the host in connection.json, or add it to the peer\'s DNS');
  }
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return new ExtError('DIAL_UNREACHABLE', `${addr} is unreachable (${code})`, 'check the network between the peer and the chaincode server');
  }
  if (['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_SIGNATURE_FAILURE'].includes(code)) {
    return new ExtError('DIAL_UNKNOWN_CA', `the chaincode server's certificate (${serverCert ?? 'unknown'}) is not signed by root_cert (${code})`,
      'root_cert must be the CA that issued the chaincode server\'s TLS certificate (it is the only CA the peer trusts here); fix root_cert or tls.root_cert_file');
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const how = conn.tls && conn.tls.serverNameOverride ? `domain ${JSON.stringify(name)} (used because client_auth_required is on)` : `the host in address ${JSON.stringify(addr)}`;
    return new ExtError('DIAL_NAME_MISMATCH', `the chaincode server's certificate (${serverCert ?? 'unknown'}) does not name ${how}`,
      'issue the server certificate with that name in its subjectAltName, or change address (Fabric 3.x with client auth: domain)');
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return new ExtError('DIAL_SERVER_CERT_EXPIRED', `the chaincode server's certificate (${serverCert ?? 'unknown'}) is not valid now (${code})`, 'renew the chaincode server\'s TLS certificate');
  }
  const alert = `${code} ${err.message}`;
  if (/CERTIFICATE_REQUIRED|alert number 116|BAD_CERTIFICATE|alert number 42|ALERT_UNKNOWN_CA|alert number 48|UNSUPPORTED_CERTIFICATE|CERTIFICATE_UNKNOWN|alert number 46/i.test(alert)) {
    const sent = conn.tls && conn.tls.client ? 'the client certificate from connection.json was refused' : 'it requires a client certificate and connection.json has client_auth_required off';
    return new ExtError('DIAL_CLIENT_CERT_REJECTED', `the chaincode server rejected the peer's TLS client: ${sent} (${code || err.message})`,
      conn.tls && conn.tls.client
        ? 'the server must trust the CA of client_cert (its client CA file), or splice a client pair that CA issued (tls.client_cert_file, tls.client_key_file)'
        : 'set "client_auth_required": true and splice the peer\'s client pair with tls.client_cert_file and tls.client_key_file');
  }
  if (stage === 'tls' && /WRONG_VERSION_NUMBER|packet length too long|unknown protocol|ECONNRESET|socket disconnected/i.test(alert)) {
    return new ExtError('DIAL_NOT_TLS', `TLS handshake with ${addr} failed: the server does not speak TLS (${code || err.message})`,
      'start the chaincode server with its TLS key and certificate, or set "tls_required": false');
  }
  if (stage === 'tls') {
    return new ExtError('DIAL_TLS_HANDSHAKE', `TLS handshake with ${addr} failed: ${code || err.message}`,
      /HANDSHAKE_FAILURE|alert number 40/i.test(alert) && !(conn.tls && conn.tls.client)
        ? 'the server may require a client certificate: set "client_auth_required": true and splice the peer\'s pair (tls.client_cert_file, tls.client_key_file)'
        : 'compare the server\'s TLS settings (protocol versions, key type) with what the peer offers: TLS 1.2 or 1.3 with root_cert as the only CA');
  }
  return new ExtError('DIAL_FAILED', `connection to ${addr} failed during ${stage}: ${code || err.message}`, 'check that the address is the chaincode server\'s');
}

/**
 * Connects as the peer would, at the socket level, within dial_timeout: TCP, TLS with root_cert as the
 * only CA (client pair and server name as the peer picks them), then HTTP/2, whose first frame from a
 * gRPC server is SETTINGS. Resolves on that frame; rejects with a classified ExtError.
 */
export function probe(conn: PeerConnection, signal?: AbortSignal): Promise<ProbeResult> {
  const { host, port } = splitAddress(conn.address);
  const started = Date.now();
  const timeoutMs = Math.max(0, conn.dialTimeoutNs / 1e6);
  return new Promise((resolve, reject) => {
    let stage: 'tcp' | 'tls' | 'h2' = 'tcp';
    let serverCert: string | undefined;
    let settled = false;
    let tcp: Socket | undefined;
    let sock: Socket | TLSSocket | undefined;
    const done = (err?: ExtError, result?: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      sock?.destroy();
      tcp?.destroy();
      if (err) reject(err); else resolve(result!);
    };
    // An interrupt closes the sockets at once: a silent server would otherwise hold the process for dial_timeout.
    const onAbort = (): void => done(new ExtError('SIM_INTERRUPTED', 'interrupted by a signal', 'run it again'));
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => {
      const what = stage === 'tcp' ? 'TCP connection' : stage === 'tls' ? 'TLS handshake' : 'HTTP/2 (gRPC) greeting';
      const shown = conn.dialTimeoutNs >= 1e6 ? `${timeoutMs} ms` : `${conn.dialTimeoutNs} ns (a bare number in connection.json is nanoseconds)`;
      done(new ExtError('DIAL_TIMEOUT', `${what} with ${conn.address} did not complete within dial_timeout ${shown}`,
        stage === 'tcp' ? 'check that the address is reachable from the peer (firewall, host, port), or raise dial_timeout'
          : stage === 'tls' ? 'the server accepted the connection but did not finish TLS: check that it is the chaincode server and that it speaks TLS, or raise dial_timeout'
            : 'the server accepted the connection but did not answer as a gRPC server: check the port, and tls_required (a TLS server stays silent to plaintext)'));
    }, timeoutMs);
    const onError = (err: NodeJS.ErrnoException): void => done(classify(err, conn, stage, serverCert));
    const greet = (s: Socket | TLSSocket, protocol: string): void => {
      stage = 'h2';
      let head = Buffer.alloc(0);
      s.on('data', (data: Buffer) => {
        head = Buffer.concat([head, data]);
        if (head.length < 4) return; // a frame header's type is its 4th byte
        const chunk = head;
        if (chunk[3] === H2_SETTINGS) return done(undefined, { protocol, serverCert, ms: Date.now() - started });
        if (!conn.tls && chunk[0] === 0x15 && chunk[1] === 0x03) {
          return done(new ExtError('DIAL_EXPECTS_TLS', `${conn.address} answered plaintext with a TLS alert: the server requires TLS`, 'set "tls_required": true and give root_cert (or tls.root_cert_file)'));
        }
        done(new ExtError('DIAL_NOT_GRPC', `${conn.address} does not answer as an HTTP/2 (gRPC) server (first bytes ${JSON.stringify(chunk.subarray(0, 16).toString('latin1'))})`, 'check the port: it must be the chaincode server\'s gRPC port'));
      });
      s.on('end', () => done(conn.tls
        ? classify(Object.assign(new Error('the server closed the connection right after the handshake'), { code: conn.tls.client ? 'ALERT_BAD_CERTIFICATE' : 'CERTIFICATE_REQUIRED' }), conn, 'h2', serverCert)
        : new ExtError('DIAL_EXPECTS_TLS', `${conn.address} closed a plaintext connection without answering: the server most likely requires TLS`, 'set "tls_required": true and give root_cert (or tls.root_cert_file)')));
      s.write(H2_PREFACE);
    };
    tcp = netConnect({ host, port });
    tcp.on('error', onError);
    tcp.on('connect', () => {
      if (!conn.tls) return greet(tcp!, 'plaintext');
      stage = 'tls';
      const name = expectedServerName(conn);
      let t: TLSSocket;
      try {
        t = tlsConnect({
          socket: tcp!,
          ca: conn.tls.rootCert,
          cert: conn.tls.client?.cert,
          key: conn.tls.client?.key,
          // SNI carries names only; Go omits it for IP addresses too.
          servername: isIP(name) ? undefined : name,
          ALPNProtocols: ['h2'],
          checkServerIdentity: (_host, cert) => checkServerIdentity(name, cert),
          // Verified below, once the server's certificate can be named in the message.
          rejectUnauthorized: false,
        });
      } catch (err) {
        // Unusable PEM in connection.json: the peer fails the same way before it dials.
        return done(new ExtError('DIAL_TLS_HANDSHAKE', `the TLS material in connection.json cannot be used: ${(err as Error).message}`, 'give root_cert, client_cert and client_key as whole PEM text (extbuilder build checks them)'));
      }
      sock = t;
      t.on('error', onError);
      t.on('secureConnect', () => {
        serverCert = certNames(t.getPeerCertificate());
        if (!t.authorized) {
          const reason = t.authorizationError as unknown as Error | string;
          const code = typeof reason === 'string' ? reason : (reason as NodeJS.ErrnoException).code ?? reason.message;
          return done(classify(Object.assign(new Error(String(code)), { code }), conn, 'tls', serverCert));
        }
        greet(t, t.getProtocol() ?? 'TLS');
      });
    });
  });
}

export interface DialOptions {
  /** The package ID: the chaincode must register with exactly this name. */
  packageId: string;
  /** How long to wait for REGISTER once the stream is open (the peer's startuptimeout is 300 s). */
  registerTimeoutMs?: number;
  session?: SessionOptions;
  /** Ends the dial at once (closing the client and its timers), as an interrupted simulate needs. */
  signal?: AbortSignal;
}

export interface Dialled {
  session: PeerSession;
  probe: ProbeResult;
  /** The chaincode ID the server registered with. */
  chaincodeId: string;
  close(): Promise<void>;
}

/** Channel credentials and options exactly as the peer builds them from connection.json. */
export function grpcSettings(conn: PeerConnection): { creds: grpc.ChannelCredentials; options: grpc.ChannelOptions } {
  if (!conn.tls) return { creds: grpc.credentials.createInsecure(), options: { ...KEEPALIVE } };
  const creds = grpc.credentials.createSsl(Buffer.from(conn.tls.rootCert),
    conn.tls.client ? Buffer.from(conn.tls.client.key) : null, conn.tls.client ? Buffer.from(conn.tls.client.cert) : null);
  const override = conn.tls.serverNameOverride;
  return { creds, options: { ...KEEPALIVE, ...(override ? { 'grpc.ssl_target_name_override': override, 'grpc.default_authority': override } : {}) } };
}

/**
 * The peer's launch of a service-mode chaincode: a blocking dial bounded by dial_timeout, the
 * Chaincode.Connect stream, and the chaincode's REGISTER answered with REGISTERED and READY.
 */
export async function dialChaincode(conn: PeerConnection, o: DialOptions): Promise<Dialled> {
  const probed = await probe(conn, o.signal);
  const { creds, options } = grpcSettings(conn);
  const client = new peer.ChaincodeClient(conn.address, creds, options);
  const close = async (): Promise<void> => { client.close(); };
  const closeOnAbort = (): void => client.close();
  o.signal?.addEventListener('abort', closeOnAbort, { once: true });
  try {
    await new Promise<void>((resolve, reject) => {
      client.waitForReady(Date.now() + Math.max(1000, conn.dialTimeoutNs / 1e6), (err) => (err ? reject(err) : resolve()));
    });
  } catch (err) {
    client.close();
    o.signal?.removeEventListener('abort', closeOnAbort);
    if (o.signal?.aborted) throw new ExtError('SIM_INTERRUPTED', 'interrupted by a signal', 'run it again');
    throw new ExtError('DIAL_FAILED', `the socket-level connection to ${conn.address} worked but the gRPC dial failed: ${(err as Error).message}`, 'rerun with EXTBUILDER_DEBUG=1 and GRPC_TRACE=all for detail');
  }
  const stream = client.connect();
  stream.on('error', () => undefined); // surfaced through the session
  const session = servePeerSession(stream, { ...o.session, expectedChaincodeId: o.packageId });
  const timeoutMs = o.registerTimeoutMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  // An interrupt must not wait out the register timer: that kept the process alive for its full length.
  const stop = (): void => { clearTimeout(timer); session.close(); client.close(); };
  o.signal?.addEventListener('abort', stop, { once: true });
  try {
    const { chaincodeId } = await Promise.race([
      session.registered,
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new ExtError('REGISTER_TIMEOUT', `the chaincode server at ${conn.address} accepted the stream but sent no REGISTER within ${timeoutMs} ms`, 'check that the server is a Fabric chaincode server (fabric-shim server mode, or the Go shim\'s ChaincodeServer)')), timeoutMs); }),
    ]);
    return { session, probe: probed, chaincodeId, async close() { session.close(); await Promise.race([session.closed, new Promise((r) => setTimeout(r, 1000))]); await close(); } };
  } catch (err) {
    session.close();
    client.close();
    if (err instanceof ExtError) throw err;
    const msg = (err as Error).message;
    const wrong = /registered as (".*"), expected/.exec(msg);
    if (wrong) {
      throw new ExtError('REGISTER_WRONG_ID', `the chaincode server registered as ${wrong[1]}, not as the package ID ${JSON.stringify(o.packageId)}; the peer refuses it`,
        `start the chaincode server with CHAINCODE_ID=${o.packageId} (extbuilder package --env-out writes it), or install the package it was started for`);
    }
    throw new ExtError('REGISTER_FAILED', `the chaincode stream from ${conn.address} closed before registration: ${msg}`, 'see the chaincode server\'s log');
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', stop);
    o.signal?.removeEventListener('abort', closeOnAbort);
  }
}

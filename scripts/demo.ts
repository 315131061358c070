// npm run demo: one put/get contract (fixtures/demo/contract) taken through a peer's hands without a
// Fabric network: packaged, built and released by extbuilder, then reached over real gRPC, first as a
// chaincode server (plaintext, then mutual TLS with the peer's client pair spliced in by the builder
// config), then in launch mode. Also exports the chaincode-server starter the simulate tests use.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCA, issue } from '../src/peer/pki.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEMO_CONTRACT = join(REPO, 'fixtures', 'demo', 'contract');
const SHIM_CLI = join(REPO, 'node_modules', 'fabric-shim', 'cli.js');
const EXTBUILDER = join(REPO, 'bin', 'extbuilder');

// ---- a real chaincode server: fabric-shim's `fabric-chaincode-node server` ----

export interface ServerTls {
  certPem: string;
  keyPem: string;
  /** The CA whose client certificates the server accepts; with it, client auth is required. */
  clientCaPem?: string;
}

export interface RunningServer {
  address: string;
  port: number;
  child: ChildProcess;
  /** The command line, for transcripts. */
  command: string;
  /** What the server printed. */
  output(): string;
  stop(): Promise<void>;
}

/** A port nobody listens on now (the OS picks it; the short window before use is fine on loopback). */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((res) => {
    const c = connect({ host: '127.0.0.1', port });
    c.on('connect', () => { c.destroy(); res(true); });
    c.on('error', () => res(false));
  });
}

export interface StartOptions {
  /** The chaincode ID the server registers with: it must be the package ID. */
  chaincodeId: string;
  /** Where the server's TLS files are written (keys 0600). */
  dir: string;
  tls?: ServerTls;
  port?: number;
}

/** Starts the demo contract as a chaincode server on 127.0.0.1 and resolves once it accepts connections. */
export async function startChaincodeServer(o: StartOptions): Promise<RunningServer> {
  const port = o.port ?? await freePort();
  const args = ['server', '--chaincode-address', `127.0.0.1:${port}`, '--chaincode-id', o.chaincodeId, '--module-path', DEMO_CONTRACT];
  if (o.tls) {
    const write = (name: string, text: string, mode: number): string => {
      const f = join(o.dir, name);
      writeFileSync(f, text, { mode });
      chmodSync(f, mode);
      return f;
    };
    args.push('--chaincode-tls-cert-file', write('server.crt', o.tls.certPem, 0o644), '--chaincode-tls-key-file', write('server.key', o.tls.keyPem, 0o600));
    if (o.tls.clientCaPem) args.push('--chaincode-tls-client-cacert-file', write('client-ca.crt', o.tls.clientCaPem, 0o644));
  }
  const child = spawn(process.execPath, [SHIM_CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CORE_CHAINCODE_LOGGING_LEVEL: 'warning' } });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<void>((res) => child.on('exit', () => res()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  for (const until = Date.now() + 30_000; ;) {
    if (child.exitCode !== null) throw new Error(`the chaincode server exited with ${child.exitCode}: ${out.trim().slice(-2000)}`);
    if (Date.now() > until) { await stop(); throw new Error(`the chaincode server did not listen on port ${port} within 30 s: ${out.trim().slice(-2000)}`); }
    if (await accepts(port)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { address: `127.0.0.1:${port}`, port, child, command: `fabric-chaincode-node ${args.map((a) => (a.startsWith(o.dir + '/') ? relative(o.dir, a) : a)).join(' ')}`, output: () => out, stop };
}

// ---- the demo ----

interface CliRun { code: number; stdout: string; stderr: string }

/** Runs bin/extbuilder as a user would, echoing the command and its output into the transcript. */
function extbuilder(args: string[], o: { env?: Record<string, string>; show?: string; quiet?: boolean } = {}): Promise<CliRun> {
  const envText = Object.entries(o.env ?? {}).map(([k, v]) => `${k}=${v} `).join('');
  process.stdout.write(`\n$ ${envText}extbuilder ${o.show ?? args.join(' ')}\n`);
  return new Promise((res) => {
    const child = spawn(EXTBUILDER, args, { env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; if (!o.quiet) process.stdout.write(d.toString().replace(/^(?=.)/gm, '  ')); });
    child.stderr.on('data', (d: Buffer) => { stderr += d; process.stdout.write(d.toString().replace(/^(?=.)/gm, '  ')); });
    child.on('close', (code) => res({ code: code ?? 1, stdout, stderr }));
  });
}

function heading(text: string): void {
  process.stdout.write(`\n== ${text} ==\n`);
}

function expect(ok: boolean, what: string): void {
  if (!ok) throw new Error(`demo expectation failed: ${what}`);
  process.stdout.write(`  -> ${what}\n`);
}

function packageId(r: CliRun): string {
  const id = r.stdout.trim().split('\n').pop() ?? '';
  if (r.code !== 0 || !/^[^:]+:[0-9a-f]{64}$/.test(id)) throw new Error(`extbuilder package failed: ${r.stderr || r.stdout}`);
  return id;
}

async function main(): Promise<number> {
  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'extbuilder-demo-'));
  chmodSync(work, 0o700);
  const servers: RunningServer[] = [];
  const cwd = process.cwd();
  process.chdir(work);
  const stopAll = async (): Promise<void> => { await Promise.all(servers.splice(0).map((s) => s.stop())); };
  const onSignal = (): void => { void stopAll().then(() => process.exit(130)); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    process.stdout.write('fabric-extbuilder demo: one put/get contract through a peer\'s hands, with no Fabric network.\n');
    process.stdout.write(`Working in ${work} (removed at the end). The peer is re-enacted by \`extbuilder simulate\`;\n`);
    process.stdout.write('everything else is real: packages, builder processes, fabric-shim, gRPC, TLS.\n');

    // 1. Service mode, plaintext.
    heading('1. Chaincode as a service, plaintext');
    const port1 = await freePort();
    const plainId = packageId(await extbuilder(['package', '--label', 'putget_1.0', '--type', 'ccaas', '--address', `127.0.0.1:${port1}`, '--dial-timeout', '5s', '-o', 'plain.tar.gz']));
    let server = await startChaincodeServer({ chaincodeId: plainId, dir: work, port: port1 });
    servers.push(server);
    process.stdout.write(`\n$ ${server.command} &\n  (the chaincode server, started with the package ID printed above)\n`);
    let r = await extbuilder(['simulate', 'plain.tar.gz', '--invoke', 'put', 'greeting', 'hello', '--invoke', 'get', 'greeting']);
    expect(r.code === 0 && r.stdout.includes('get -> 200 "hello"'), 'put then get round-trips: the peer side served the state');
    await stopAll();

    // 2. Service mode, mutual TLS; the peer's client pair comes from its builder config, not the package.
    heading('2. Chaincode as a service, mutual TLS (the peer\'s client certificate spliced in at build)');
    const serverCa = await createCA('chaincode server CA');
    const serverCert = await issue(serverCa, { dns: ['localhost'], ips: ['127.0.0.1'], usage: 'server' });
    const peerCa = await createCA('Org1 peer TLS CA');
    const peerClient = await issue(peerCa, { commonName: 'peer0.org1.example.com', usage: 'client' });
    const pki = join(work, 'peer-tls');
    const write = (name: string, text: string, mode: number): string => {
      const f = join(pki, name);
      writeFileSync(f, text, { mode });
      chmodSync(f, mode);
      return f;
    };
    mkdirSync(pki, { mode: 0o700 });
    const config = {
      tls: {
        root_cert_file: write('chaincode-ca.crt', serverCa.certPem, 0o644),
        client_cert_file: write('client.crt', peerClient.certPem, 0o644),
        client_key_file: write('client.key', peerClient.keyPem, 0o600),
      },
    };
    const configFile = join(work, 'extbuilder-config.json');
    writeFileSync(configFile, JSON.stringify(config, null, 2) + '\n');
    process.stdout.write(`\nThe peer's builder config (${relative(work, configFile)}), certificates made just now in ${relative(work, pki)}/ (key 0600):\n`);
    process.stdout.write(JSON.stringify(config, null, 2).replace(/^/gm, '  ') + '\n');
    const port2 = await freePort();
    const mtlsId = packageId(await extbuilder(['package', '--label', 'putget_1.0', '--type', 'ccaas', '--address', `127.0.0.1:${port2}`, '--dial-timeout', '5s', '--tls', '--client-auth', '-o', 'mtls.tar.gz']));
    server = await startChaincodeServer({ chaincodeId: mtlsId, dir: work, port: port2, tls: { ...serverCert, clientCaPem: peerCa.certPem } });
    servers.push(server);
    process.stdout.write(`\n$ ${server.command} &\n  (requires a client certificate from the Org1 peer TLS CA)\n`);
    const tlsEnv = { EXTBUILDER_CONFIG: configFile };
    r = await extbuilder(['simulate', 'mtls.tar.gz', '--propagate', 'EXTBUILDER_CONFIG', '--invoke', 'put', 'greeting', 'hello over mTLS', '--invoke', 'get', 'greeting'],
      { env: tlsEnv, show: 'simulate mtls.tar.gz --propagate EXTBUILDER_CONFIG --invoke put greeting "hello over mTLS" --invoke get greeting' });
    expect(r.code === 0 && r.stdout.includes('get -> 200 "hello over mTLS"') && r.stdout.includes('tls mutual'), 'the peer dialled with mutual TLS and the round trip worked');

    // 3. A mistake, caught before any peer sees it.
    heading('3. A classic mistake: the server runs with another package\'s ID');
    process.stdout.write('  Same mTLS package, but the server is restarted with the plaintext package\'s ID (a hard-coded ID gone stale):\n');
    await stopAll();
    server = await startChaincodeServer({ chaincodeId: plainId, dir: work, port: port2, tls: { ...serverCert, clientCaPem: peerCa.certPem } });
    servers.push(server);
    r = await extbuilder(['simulate', 'mtls.tar.gz', '--propagate', 'EXTBUILDER_CONFIG'], { env: tlsEnv });
    expect(r.code === 1 && r.stderr.includes('REGISTER_WRONG_ID'), 'simulate names the cause (REGISTER_WRONG_ID) and exits 1; a real peer would only time out');
    await stopAll();

    // 4. Launch mode: the peer starts the chaincode with run, and the chaincode dials the peer.
    heading('4. Launch mode: the peer calls run, the chaincode dials the peer (TLS, a fresh CA per peer start)');
    packageId(await extbuilder(['package', '--label', 'putget_1.0', '--launch', DEMO_CONTRACT, '-o', 'launch.tar.gz']));
    const launchEnv = { EXTBUILDER_CONFIG: JSON.stringify({ template: { node_path: join(REPO, 'node_modules') } }) };
    r = await extbuilder(['simulate', 'launch.tar.gz', '--propagate', 'EXTBUILDER_CONFIG', '--invoke', 'put', 'greeting', 'hello from run', '--invoke', 'get', 'greeting'],
      { env: launchEnv, show: `simulate launch.tar.gz --propagate EXTBUILDER_CONFIG --invoke put greeting "hello from run" --invoke get greeting` });
    expect(r.code === 0 && r.stdout.includes('get -> 200 "hello from run"'), 'run started the chaincode, it registered over TLS, and the round trip worked; run was stopped as the peer stops it');

    heading(`Done in ${((Date.now() - started) / 1000).toFixed(1)} s; every process started here has exited`);
    process.stdout.write('Next: extbuilder simulate YOUR.tar.gz and extbuilder doctor --core-yaml core.yaml (docs/diagnostics.md).\n');
    return 0;
  } catch (err) {
    process.stderr.write(`\ndemo failed: ${(err as Error).message}\n`);
    for (const s of servers) if (s.output().trim()) process.stderr.write(`chaincode server output:\n${s.output()}\n`);
    return 1;
  } finally {
    await stopAll();
    process.chdir(cwd);
    rmSync(work, { recursive: true, force: true });
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then((code) => { process.exitCode = code; }, (err) => { console.error(err); process.exitCode = 1; });
}

// examples/: what can be checked without a Docker engine or a cluster. Every YAML file parses; the paths
// in compose, Dockerfiles and manifests agree with install's layout and with each other; the example
// package and per-org/per-peer configs render the chaincode addresses the examples' servers listen on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync, chmodSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { DEFAULT_PEER_PATH } from '../src/cli/install.js';
import { createCA, issue } from '../src/peer/pki.js';
import { createBuildContext, invokePhase, peerEnvironment, writePeerMetadata } from '../src/peer/invoke.js';
import { layoutTarget } from '../scripts/binaries/layout.js';
import { findTarget, TARGETS } from '../scripts/binaries/targets.js';
import { REPO, listFiles, tempDir } from './helpers/repo.js';

const EX = join(REPO, 'examples');

interface BuilderEntry { name: string; path: string; propagateEnvironment?: string[] }

/** CORE_CHAINCODE_EXTERNALBUILDERS as the peer reads it: a YAML flow list. */
function builders(value: string): BuilderEntry[] {
  const list = parseYaml(value) as BuilderEntry[];
  assert.ok(Array.isArray(list), value);
  return list;
}

function envList(env: string[] | Record<string, string>): Record<string, string> {
  if (!Array.isArray(env)) return env;
  return Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
}

function envMounts(service: { volumes?: string[] }): { src: string; dst: string; mode?: string }[] {
  return (service.volumes ?? []).map((v) => { const [src, dst, mode] = v.split(':'); return { src: src!, dst: dst!, mode }; });
}

test('every YAML file under examples/ parses, every document of it', () => {
  const files = listFiles(EX).filter((f) => /\.ya?ml$/.test(f));
  assert.ok(files.length >= 5, files.join(', '));
  for (const f of files) {
    for (const doc of parseAllDocuments(readFileSync(join(EX, f), 'utf8'))) assert.deepEqual(doc.errors, [], f);
  }
});

// ---- compose: the chaincode-as-a-service tutorial ----

interface ComposeService { image?: string; hostname?: string; environment?: string[]; volumes?: string[]; expose?: string[] }
const compose = () => parseYaml(readFileSync(join(EX, 'compose', 'compose.yaml'), 'utf8')) as { services: Record<string, ComposeService> };

test('compose: both peers mount the install directory read-only where their builder entry points, and their own config', () => {
  const { services } = compose();
  for (const org of ['org1', 'org2']) {
    const peer = services[`peer0.${org}.example.com`]!;
    assert.match(peer.image!, /^hyperledger\/fabric-peer:2\.3\.[3-9]$/, 'a 2.3 peer that reads CORE_CHAINCODE_EXTERNALBUILDERS (2.3.3+)');
    const env = envList(peer.environment!);
    const [entry] = builders(env.CORE_CHAINCODE_EXTERNALBUILDERS!);
    assert.equal(entry!.path, DEFAULT_PEER_PATH, 'install prints this path by default');
    assert.ok(entry!.propagateEnvironment!.includes('EXTBUILDER_CONFIG'), 'EXTBUILDER_CONFIG reaches the builder');
    const mounts = Object.fromEntries(peer.volumes!.map((v) => { const [src, dst, mode] = v.split(':'); return [dst!, { src: src!, mode }]; }));
    assert.deepEqual(mounts[DEFAULT_PEER_PATH], { src: './extbuilder', mode: 'ro' }, 'the directory `extbuilder install ./extbuilder` makes');
    const configMount = mounts[env.EXTBUILDER_CONFIG!]!;
    assert.equal(configMount.src, `./${org}/builder-config.json`);
    assert.ok(existsSync(join(EX, 'compose', configMount.src)), configMount.src);
    // The TLS files the config names are inside a directory the peer mounts.
    const config = JSON.parse(readFileSync(join(EX, 'compose', configMount.src), 'utf8')) as { tls: Record<string, string> };
    for (const file of Object.values(config.tls)) {
      assert.ok(Object.keys(mounts).some((dst) => file.startsWith(`${dst}/`)), `${org}: ${file} is mounted`);
    }
  }
});

test('compose: one package for both orgs renders each org\'s chaincode server address, with TLS spliced from peer files', async () => {
  const { services } = compose();
  const ca = await createCA('chaincode CA');
  const peerCert = await issue(ca, { commonName: 'peer0', usage: 'client' });
  for (const org of ['org1', 'org2']) {
    const dir = tempDir(`extbuilder-example-${org}-`);
    // The config's container paths, moved under a temp dir that stands in for the container's root.
    const config = JSON.parse(readFileSync(join(EX, 'compose', org, 'builder-config.json'), 'utf8')) as { template: object; tls: Record<string, string> };
    const files: Record<string, string> = { root_cert_file: ca.certPem, client_cert_file: peerCert.certPem, client_key_file: peerCert.keyPem };
    for (const [k, path] of Object.entries(config.tls)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), files[k]!, { mode: 0o600 });
      config.tls[k] = join(dir, path);
    }
    const ctx = createBuildContext(dir, 'basic_1.0:00');
    writePeerMetadata(ctx, readFileSync(join(EX, 'compose', 'metadata.json')));
    writeFileSync(join(ctx.src, 'connection.json'), readFileSync(join(EX, 'compose', 'connection.json')));
    const env = peerEnvironment({ PATH: process.env.PATH, EXTBUILDER_CONFIG: JSON.stringify(config) }, ['EXTBUILDER_CONFIG']);
    for (const [phase, args] of [['detect', [ctx.src, ctx.metadata]], ['build', [ctx.src, ctx.metadata, ctx.bld]], ['release', [ctx.bld, ctx.release]]] as const) {
      const r = await invokePhase(REPO, phase, [...args], { env });
      assert.equal(r.code, 0, `${org} ${phase}: ${r.lines.join('\n')}`);
    }
    const conn = JSON.parse(readFileSync(join(ctx.release, 'chaincode', 'server', 'connection.json'), 'utf8')) as Record<string, unknown>;
    const [host, port] = String(conn.address).split(':');
    const server = services[host!];
    assert.ok(server, `${org}: compose has a service ${host}`);
    assert.equal(server.hostname, host);
    assert.ok(server.expose!.includes(port!), `${host} exposes ${port}`);
    assert.equal(envList(server.environment!).CHAINCODE_SERVER_ADDRESS, `0.0.0.0:${port}`);
    assert.equal(conn.tls_required, true);
    assert.equal(conn.root_cert, ca.certPem);
    assert.equal(conn.client_key, peerCert.keyPem);
    assert.doesNotMatch(readFileSync(join(EX, 'compose', 'connection.json'), 'utf8'), /BEGIN/, 'the package itself carries no key or certificate');
  }
});

test('compose: doctor accepts core-externalbuilders.yaml and org1\'s builder config for an installed builder', async () => {
  const work = tempDir('extbuilder-example-doctor-');
  // A target laid out by the real layout code around a stand-in executable, then installed.
  const exe = join(work, 'exe');
  writeFileSync(exe, '#!/bin/sh\nexit 0\n');
  chmodSync(exe, 0o755);
  layoutTarget(join(work, 'target'), { target: findTarget('linux-x64-glibc')!, executable: exe, provenance: [], version: '0.0.0' });
  const builder = join(work, 'extbuilder');
  const cli = (args: string[], env: Record<string, string>) => spawnSync(join(REPO, 'bin', 'extbuilder'), args, { encoding: 'utf8', env: { PATH: process.env.PATH!, ...env } });
  assert.equal(cli(['install', builder, '--from', join(work, 'target')], {}).status, 0);
  // The example files name paths inside the peer container; here they live under `work`.
  const core = readFileSync(join(EX, 'compose', 'core-externalbuilders.yaml'), 'utf8');
  assert.ok(core.includes(`path: ${DEFAULT_PEER_PATH}`));
  writeFileSync(join(work, 'core.yaml'), core.replace(DEFAULT_PEER_PATH, builder));
  const config = JSON.parse(readFileSync(join(EX, 'compose', 'org1', 'builder-config.json'), 'utf8')) as { tls: Record<string, string> };
  const ca = await createCA('chaincode CA');
  const client = await issue(ca, { commonName: 'peer0', usage: 'client' });
  const pem: Record<string, string> = { root_cert_file: ca.certPem, client_cert_file: client.certPem, client_key_file: client.keyPem };
  for (const [k, path] of Object.entries(config.tls)) {
    mkdirSync(join(work, path, '..'), { recursive: true });
    writeFileSync(join(work, path), pem[k]!, { mode: 0o600 });
    config.tls[k] = join(work, path);
  }
  writeFileSync(join(work, 'config.json'), JSON.stringify(config));
  const r = cli(['doctor', '--builder', builder, '--core-yaml', join(work, 'core.yaml')], { EXTBUILDER_CONFIG: join(work, 'config.json') });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^ok +propagateEnvironment passes EXTBUILDER_CONFIG$/m);
  assert.match(r.stdout, /^ok +core\.yaml entry 1: name extbuilder, path /m);
});

test('compose: the README\'s openssl lines make TLS files the builder accepts, for the names the peers dial', { skip: spawnSync('openssl', ['version']).status !== 0 && 'openssl is not installed' }, async () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const block = /<!-- example:compose-tls -->\n```bash\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block, 'the README has the compose TLS block');
  const dir = tempDir('extbuilder-example-tls-');
  const made = spawnSync('bash', ['-e', '-c', block], { cwd: dir, encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  const { services } = compose();
  for (const org of ['org1', 'org2']) {
    const config = JSON.parse(readFileSync(join(EX, 'compose', org, 'builder-config.json'), 'utf8')) as { tls: Record<string, string> };
    // The peer mounts ./orgN/tls at /etc/hyperledger/chaincode-tls.
    const mount = envMounts(services[`peer0.${org}.example.com`]!).find((m) => m.src === `./${org}/tls`)!;
    for (const [k, path] of Object.entries(config.tls)) config.tls[k] = join(dir, org, 'tls', relative(mount.dst, path));
    const ctx = createBuildContext(dir, 'basic_1.0:00');
    writePeerMetadata(ctx, readFileSync(join(EX, 'compose', 'metadata.json')));
    writeFileSync(join(ctx.src, 'connection.json'), readFileSync(join(EX, 'compose', 'connection.json')));
    const env = peerEnvironment({ PATH: process.env.PATH, EXTBUILDER_CONFIG: JSON.stringify(config) }, ['EXTBUILDER_CONFIG']);
    const build = await invokePhase(REPO, 'build', [ctx.src, ctx.metadata, ctx.bld], { env });
    assert.equal(build.code, 0, `${org}: ${build.lines.join('\n')}`);
    const host = String((JSON.parse(readFileSync(join(ctx.bld, 'connection.json'), 'utf8')) as { address: string }).address).split(':')[0]!;
    // The server's certificate chains to the CA the peer trusts and names the host the peer dials.
    const verify = spawnSync('openssl', ['verify', '-CAfile', join(dir, org, 'tls', 'ca.crt'), join(dir, org, 'chaincode-tls', 'server.crt')], { encoding: 'utf8' });
    assert.equal(verify.status, 0, verify.stderr);
    const san = spawnSync('openssl', ['x509', '-noout', '-ext', 'subjectAltName', '-in', join(dir, org, 'chaincode-tls', 'server.crt')], { encoding: 'utf8' });
    assert.match(san.stdout, new RegExp(`DNS:${host.replace(/\./g, '\\.')}\\b`));
    // The chaincode server container finds its files where its environment says.
    const server = services[host]!;
    const serverEnv = envList(server.environment!);
    const tlsMount = envMounts(server).find((m) => m.dst === '/tls')!;
    assert.equal(tlsMount.src, `./${org}/chaincode-tls`);
    for (const k of ['CHAINCODE_TLS_CERT', 'CHAINCODE_TLS_KEY', 'CHAINCODE_CLIENT_CA_CERT']) {
      assert.ok(existsSync(join(dir, org, 'chaincode-tls', relative('/tls', serverEnv[k]!))), `${host}: ${k}`);
    }
  }
});

// ---- custom peer images ----

test('Dockerfiles: musl for the Alpine 2.4 image, glibc for 2.5 and 3.x; copied to the path their builder entry names', () => {
  const files = readdirSync(join(EX, 'custom-image')).filter((f) => f.startsWith('Dockerfile'));
  assert.deepEqual(files.sort(), ['Dockerfile.fabric-2.4', 'Dockerfile.fabric-2.5', 'Dockerfile.fabric-3']);
  for (const f of files) {
    const text = readFileSync(join(EX, 'custom-image', f), 'utf8');
    const from = /^FROM (hyperledger\/fabric-peer:(\S+))$/m.exec(text)!;
    const target = /^ARG EXTBUILDER_TARGET=(\S+)$/m.exec(text)![1]!;
    assert.ok(TARGETS.some((t) => t.name === target), target);
    const alpine = /^2\.[0-4]/.test(from[2]!);
    assert.equal(target.endsWith('-musl'), alpine, `${f}: ${from[2]} is ${alpine ? 'Alpine (musl)' : 'Ubuntu (glibc)'}`);
    const copy = /^COPY dist-binaries\/\$\{EXTBUILDER_TARGET\} (\S+)$/m.exec(text)!;
    const env = /^ENV CORE_CHAINCODE_EXTERNALBUILDERS="(.*)"$/m.exec(text)![1]!;
    const list = builders(env);
    assert.equal(list[0]!.name, 'extbuilder', 'extbuilder is tried before the image\'s ccaas_builder');
    assert.equal(list[0]!.path, copy[1]);
  }
});

// ---- Kubernetes ----

interface K8sDoc { kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: any; data?: Record<string, string> }
function k8s(file: string): K8sDoc[] {
  return parseAllDocuments(readFileSync(join(EX, 'kubernetes', file), 'utf8')).map((d) => d.toJS() as K8sDoc);
}

test('Kubernetes: the init container installs the builder into the volume the peer mounts read-only at its builder path', () => {
  const [peer] = k8s('peer.yaml');
  const pod = peer!.spec.template.spec;
  const init = pod.initContainers[0];
  const dockerfile = readFileSync(join(EX, 'kubernetes', 'Dockerfile.extbuilder'), 'utf8');
  const entry = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
  const copyTo = /^COPY dist-binaries\/\$\{EXTBUILDER_TARGET\} (\S+)$/m.exec(dockerfile)![1]!;
  assert.deepEqual(entry, [`${copyTo}/bin/extbuilder`, 'install'], 'the image runs its own build\'s install');
  const installDir: string = init.args[0];
  const initMount = init.volumeMounts.find((m: { mountPath: string }) => installDir.startsWith(`${m.mountPath}/`));
  assert.ok(initMount, 'install writes into a mounted volume');
  const container = pod.containers.find((c: { name: string }) => c.name === 'peer');
  const env = Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value])) as Record<string, string>;
  const [entryB] = builders(env.CORE_CHAINCODE_EXTERNALBUILDERS!);
  const peerMount = container.volumeMounts.find((m: { mountPath: string }) => m.mountPath === entryB!.path);
  assert.ok(peerMount, 'the peer mounts the builder at the path of its externalBuilders entry');
  assert.equal(peerMount.name, initMount.name);
  assert.equal(peerMount.readOnly, true);
  assert.equal(`${initMount.mountPath}/${peerMount.subPath}`, installDir, 'the peer sees the directory install made');
  const configMount = container.volumeMounts.find((m: { mountPath: string }) => env.EXTBUILDER_CONFIG!.startsWith(`${m.mountPath}/`));
  const volume = pod.volumes.find((v: { name: string }) => v.name === configMount.name);
  const maps = k8s('extbuilder-config.yaml');
  assert.ok(maps.some((m) => m.kind === 'ConfigMap' && m.metadata.name === volume.configMap.name), 'the peer\'s ConfigMap exists');
  assert.equal(relative(configMount.mountPath, env.EXTBUILDER_CONFIG!), 'config.json');
});

test('Kubernetes: each peer\'s config renders the package\'s address to its chaincode Service, which selects the Deployment', async () => {
  const maps = k8s('extbuilder-config.yaml').filter((d) => d.kind === 'ConfigMap');
  assert.ok(maps.length >= 2, 'a config per peer');
  const cc = k8s('chaincode.yaml');
  const services = cc.filter((d) => d.kind === 'Service');
  for (const map of maps) {
    const dir = tempDir('extbuilder-k8s-');
    const ctx = createBuildContext(dir, 'basic_1.0:00');
    writePeerMetadata(ctx, '{"type":"ccaas","label":"basic_1.0"}');
    writeFileSync(join(ctx.src, 'connection.json'), readFileSync(join(EX, 'kubernetes', 'connection.json')));
    const env = peerEnvironment({ PATH: process.env.PATH, EXTBUILDER_CONFIG: map.data!['config.json']! }, ['EXTBUILDER_CONFIG']);
    const r = await invokePhase(REPO, 'build', [ctx.src, ctx.metadata, ctx.bld], { env });
    assert.equal(r.code, 0, r.lines.join('\n'));
    const [host, port] = String((JSON.parse(readFileSync(join(ctx.bld, 'connection.json'), 'utf8')) as { address: string }).address).split(':');
    const peerName = map.metadata.name.replace(/^extbuilder-/, '');
    assert.equal(host, `basic-${peerName}`);
    const svc = services.find((s) => s.metadata.name === host);
    if (!svc) continue; // chaincode.yaml shows peer0-org1's server; other peers' follow the same pattern
    const deployment = cc.find((d) => d.kind === 'Deployment' && d.metadata.name === host)!;
    assert.deepEqual(svc.spec.selector, deployment.spec.template.metadata.labels);
    assert.equal(String(svc.spec.ports[0].port), port);
    const ports = deployment.spec.template.spec.containers[0].ports as { name: string; containerPort: number }[];
    assert.ok(ports.some((p) => p.name === svc.spec.ports[0].targetPort), 'targetPort names a container port');
    const ccEnv = Object.fromEntries(deployment.spec.template.spec.containers[0].env.map((e: { name: string; value: string }) => [e.name, e.value]));
    assert.equal(ccEnv.CHAINCODE_SERVER_ADDRESS, `0.0.0.0:${ports[0]!.containerPort}`);
  }
  assert.ok(services.length >= 1);
});

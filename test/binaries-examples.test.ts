// examples/: what can be checked without a Docker engine or a cluster. Every YAML file parses; the paths
// in compose, Dockerfiles and manifests agree with install's layout and with each other; the example
// package and per-org/per-peer configs render the chaincode addresses the examples' servers listen on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
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

/** Compose's variable interpolation: $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $$. */
function interpolate(text: string, vars: Record<string, string | undefined>): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[?-])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (m, braced?: string, op?: string, arg?: string, bare?: string) => {
    if (m === '$$') return '$';
    const name = (braced ?? bare)!;
    const value = vars[name];
    const unset = op?.startsWith(':') ? !value : value === undefined;
    if (op?.endsWith('?') && unset) throw new Error(`compose refuses to start: ${name}: ${arg}`);
    if (op?.endsWith('-') && unset) return arg!;
    assert.ok(value !== undefined, `compose would use "" for the unset variable ${name}`);
    return value;
  });
}

/** The directory the example's set-up commands run in, as `cd "$EXTBUILDER/examples/compose"` gives it. */
const CX = join(REPO, 'examples', 'compose');
const VARS = { EXTBUILDER: REPO, FABRIC_SAMPLES: '/nonexistent/fabric-samples', CHAINCODE_ID: 'basic_1.0:00' };

/** A service's short-syntax volumes, interpolated and resolved against compose's project directory. */
function envMounts(service: { volumes?: string[] }, vars: Record<string, string | undefined> = VARS, projectDir = '/nonexistent/fabric-samples/test-network/compose'): { src: string; dst: string; mode?: string; bind: boolean }[] {
  return (service.volumes ?? []).map((v) => {
    const [src, dst, mode] = interpolate(v, vars).split(':');
    // A source that is a path (./, ../, /, ~) is a bind mount, resolved against the project directory; else a named volume.
    const bind = /^(\.|\/|~)/.test(src!);
    const path = src!.startsWith('~') ? join(vars.HOME ?? '~', src!.slice(1)) : bind ? resolve(projectDir, src!) : src!;
    return { src: path, dst: dst!, mode, bind };
  });
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
    const mounts = Object.fromEntries(envMounts(peer).map((m) => [m.dst, { src: m.src, mode: m.mode }]));
    assert.deepEqual(mounts[DEFAULT_PEER_PATH], { src: join(CX, 'extbuilder'), mode: 'ro' }, 'the directory `extbuilder install ./extbuilder` makes');
    const configMount = mounts[env.EXTBUILDER_CONFIG!]!;
    assert.equal(configMount.src, join(CX, org, 'builder-config.json'));
    assert.ok(existsSync(configMount.src), configMount.src);
    // The TLS files the config names are inside a directory the peer mounts.
    const config = JSON.parse(readFileSync(configMount.src, 'utf8')) as { tls: Record<string, string> };
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

const DEPLOYMENTS = join(REPO, 'docs', 'deployments.md');
/** A fenced block of docs/deployments.md, found by the <!-- example:NAME --> marker before it. */
function docBlock(name: string): string {
  const page = readFileSync(DEPLOYMENTS, 'utf8');
  const block = new RegExp(`<!-- example:${name} -->\n\x60{3}(?:bash|sh)\n([\\s\\S]*?)\x60{3}`).exec(page)?.[1];
  assert.ok(block, `docs/deployments.md has the ${name} block`);
  return block;
}
const HAS_OPENSSL = spawnSync('openssl', ['version']).status === 0;

test('compose: the openssl lines of docs/deployments.md make TLS files the builder accepts, for the names the peers dial', { skip: !HAS_OPENSSL && 'openssl is not installed' }, async () => {
  const block = docBlock('compose-tls');
  const dir = tempDir('extbuilder-example-tls-');
  const made = spawnSync('bash', ['-e', '-c', block], { cwd: dir, encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  const { services } = compose();
  for (const org of ['org1', 'org2']) {
    const config = JSON.parse(readFileSync(join(EX, 'compose', org, 'builder-config.json'), 'utf8')) as { tls: Record<string, string> };
    // The peer mounts ./orgN/tls at /etc/hyperledger/chaincode-tls.
    const mount = envMounts(services[`peer0.${org}.example.com`]!).find((m) => m.src === join(CX, org, 'tls'))!;
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
    assert.equal(tlsMount.src, join(CX, org, 'chaincode-tls'));
    for (const k of ['CHAINCODE_TLS_CERT', 'CHAINCODE_TLS_KEY', 'CHAINCODE_CLIENT_CA_CERT']) {
      assert.ok(existsSync(join(dir, org, 'chaincode-tls', relative('/tls', serverEnv[k]!))), `${host}: ${k}`);
    }
  }
});

// ---- custom peer images ----

test('Dockerfiles: musl for the Alpine 2.4 image, glibc for 2.5 and 3.x; copied to the path their builder entry names', () => {
  const files = readdirSync(join(EX, 'custom-image')).filter((f) => f.startsWith('Dockerfile') && !f.endsWith('.dockerignore'));
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

// ---- compose, as docker compose resolves it ----

test('compose: after the set-up steps of docs/deployments.md, every bind-mount source resolves, as compose resolves it, to an existing file or directory', { skip: !HAS_OPENSSL && 'openssl is not installed' }, async () => {
  const setup = docBlock('compose-setup');
  const run = docBlock('compose-run').replace(/\\\n\s*/g, ' ');
  // A stand-in for this repository (git's files of examples/compose only) and for $HOME.
  const work = tempDir('extbuilder-example-mounts-');
  const repo = join(work, 'fabric-extbuilder');
  const home = join(work, 'home');
  mkdirSync(home);
  for (const f of listFiles(CX).filter((f) => spawnSync('git', ['ls-files', '--error-unmatch', f], { cwd: CX }).status === 0)) {
    mkdirSync(dirname(join(repo, 'examples', 'compose', f)), { recursive: true });
    writeFileSync(join(repo, 'examples', 'compose', f), readFileSync(join(CX, f)));
  }
  // The variables, as the documented export lines set them, run from the repository's root.
  const exports = setup.split('\n').filter((l) => /^export /.test(l)).join('\n');
  const names = [...exports.matchAll(/^export ([A-Z_]+)=/gm)].map((m) => m[1]!);
  assert.deepEqual(names.sort(), ['EXTBUILDER', 'FABRIC_SAMPLES']);
  const shown = spawnSync('bash', ['-e', '-c', `${exports}\n${names.map((n) => `printf '%s\\0' "$${n}"`).join('\n')}`], { cwd: repo, encoding: 'utf8', env: { PATH: process.env.PATH!, HOME: home } });
  assert.equal(shown.status, 0, shown.stderr);
  const vars: Record<string, string> = { HOME: home, ...Object.fromEntries(names.map((n, i) => [n, shown.stdout.split('\0')[i]!])) };
  assert.equal(vars.EXTBUILDER, repo);
  // Every variable compose.yaml uses is set by the documented commands (the run block exports CHAINCODE_ID and the rest).
  const text = readFileSync(join(CX, 'compose.yaml'), 'utf8').replace(/^\s*#.*$/gm, '');
  const runExports = [...run.matchAll(/\bexport ((?:[A-Z_]+=\S+\s*)+)/g)].flatMap((m) => [...m[1]!.matchAll(/([A-Z_]+)=/g)].map((x) => x[1]!));
  for (const [, a, b] of text.matchAll(/\$\{([A-Za-z_]\w*)|\$([A-Za-z_]\w*)/g)) {
    const name = (a ?? b)!;
    assert.ok(names.includes(name) || runExports.includes(name), `compose.yaml uses ${name}, which the commands shown do not set`);
  }
  for (const n of runExports) vars[n] ??= 'basic_1.0:00';
  // The set-up steps: install (the same command, from a stand-in musl target) and the openssl block.
  assert.match(setup, /^cd "\$EXTBUILDER\/examples\/compose"$/m);
  const installDir = /^\.\.\/\.\.\/bin\/extbuilder install (\S+) --target linux-x64-musl$/m.exec(setup)![1]!;
  const cx = join(repo, 'examples', 'compose');
  const exe = join(work, 'exe');
  writeFileSync(exe, '#!/bin/sh\nexit 0\n');
  chmodSync(exe, 0o755);
  // (a glibc layout around a stand-in executable: the musl one needs the Debian runtime libraries)
  layoutTarget(join(work, 'target'), { target: findTarget('linux-x64-glibc')!, executable: exe, provenance: [], version: '0.0.0' });
  const inst = spawnSync(join(REPO, 'bin', 'extbuilder'), ['install', installDir, '--from', join(work, 'target')], { cwd: cx, encoding: 'utf8' });
  assert.equal(inst.status, 0, inst.stderr);
  const tls = spawnSync('bash', ['-e', '-c', docBlock('compose-tls')], { cwd: cx, encoding: 'utf8' });
  assert.equal(tls.status, 0, tls.stderr);
  // compose's project directory: the first -f file's directory, relative to where the command runs.
  const cd = /^cd "([^"]+)"$/m.exec(run.slice(0, run.indexOf('docker compose')))![1]!;
  const cwd = interpolate(cd, vars);
  const command = /^docker compose (.*) up -d$/m.exec(run)![1]!;
  assert.doesNotMatch(command, /--project-directory/);
  const files = [...command.matchAll(/-f ("[^"]+"|\S+)/g)].map((m) => interpolate(m[1]!.replace(/^"|"$/g, ''), vars));
  assert.equal(files.at(-1), join(cx, 'compose.yaml'), 'the override is this repository\'s compose.yaml');
  const projectDir = dirname(resolve(cwd, files[0]!));
  assert.equal(projectDir, join(vars.FABRIC_SAMPLES!, 'test-network', 'compose'));
  const { services } = compose();
  let checked = 0;
  for (const [name, service] of Object.entries(services)) {
    const env = envList(service.environment ?? []);
    for (const m of envMounts(service, vars, projectDir)) {
      assert.ok(m.bind, `${name}: ${m.src} is a bind mount`);
      assert.ok(existsSync(m.src), `${name}: ${m.src} (for ${m.dst}) does not exist: Docker would create an empty directory`);
      // The peer reads EXTBUILDER_CONFIG as a file; every other mount here is a directory.
      const wantFile = m.dst === env.EXTBUILDER_CONFIG;
      assert.equal(statSync(m.src).isFile(), wantFile, `${name}: ${m.src} should be a ${wantFile ? 'file' : 'directory'}`);
      if (m.dst === DEFAULT_PEER_PATH) assert.ok(existsSync(join(m.src, 'bin', 'detect')), `${name}: the builder dir holds bin/detect`);
      checked++;
    }
    if (env.EXTBUILDER_CONFIG) {
      // The TLS files the builder config names exist under the mounts, as the peer will see them.
      const mounts = envMounts(service, vars, projectDir);
      const config = JSON.parse(readFileSync(mounts.find((m) => m.dst === env.EXTBUILDER_CONFIG)!.src, 'utf8')) as { tls: Record<string, string> };
      for (const file of Object.values(config.tls)) {
        const m = mounts.find((x) => file.startsWith(`${x.dst}/`))!;
        assert.ok(statSync(join(m.src, relative(m.dst, file))).isFile(), `${name}: ${file}`);
      }
    }
    for (const k of ['CHAINCODE_TLS_CERT', 'CHAINCODE_TLS_KEY', 'CHAINCODE_CLIENT_CA_CERT']) {
      if (!env[k]) continue;
      const m = envMounts(service, vars, projectDir).find((x) => env[k]!.startsWith(`${x.dst}/`))!;
      assert.ok(statSync(join(m.src, relative(m.dst, env[k]!))).isFile(), `${name}: ${k}`);
    }
  }
  assert.equal(checked, 8, 'three mounts per peer, one per chaincode server');
  // The same file with the relative sources it used to have would have mounted nothing real.
  assert.ok(!existsSync(join(projectDir, 'extbuilder')));
});

// ---- images: pinned tags ----

/** The tag of an image reference (after the last ':' that follows the last '/'), or a digest. */
function imageTag(ref: string): string | undefined {
  if (ref.includes('@sha256:')) return ref.slice(ref.indexOf('@') + 1);
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? ref.slice(colon + 1) : undefined;
}

test('every image in examples/ (compose services, Kubernetes containers, Dockerfile FROM) has a pinned tag, never latest', () => {
  const refs: [string, string][] = [];
  const walk = (node: unknown, file: string) => {
    if (Array.isArray(node)) node.forEach((n) => walk(n, file));
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) if (k === 'image' && typeof v === 'string') refs.push([file, v]); else walk(v, file);
    }
  };
  for (const f of listFiles(EX).filter((f) => /\.ya?ml$/.test(f))) {
    for (const doc of parseAllDocuments(readFileSync(join(EX, f), 'utf8'))) walk(doc.toJS(), f);
  }
  for (const f of listFiles(EX).filter((f) => /(^|\/)Dockerfile[^/]*$/.test(f) && !f.endsWith('.dockerignore'))) {
    for (const m of readFileSync(join(EX, f), 'utf8').matchAll(/^FROM\s+(?:--\S+\s+)*(\S+)/gm)) refs.push([f, m[1]!]);
  }
  assert.ok(refs.length >= 10, refs.map((r) => r.join(': ')).join('\n'));
  assert.ok(refs.some(([, r]) => r.includes('asset-transfer-basic')), 'the chaincode images are among them');
  for (const [file, ref] of refs) {
    const tag = imageTag(ref);
    assert.ok(tag, `${file}: ${ref} has no tag (it would mean latest)`);
    assert.notEqual(tag, 'latest', `${file}: ${ref}`);
  }
});

// ---- build contexts: .dockerignore ----

/** Docker's .dockerignore matching (moby/patternmatcher): Go filepath.Match per pattern plus **, a
 *  pattern matching a path or any of its parents, the last matching pattern deciding, ! for exceptions. */
function dockerignore(text: string): (path: string) => boolean {
  const rules = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => {
    const exception = l.startsWith('!');
    const pattern = join('/', exception ? l.slice(1).trim() : l).slice(1);
    const re = pattern.split('/').map((seg) => seg === '**' ? '.*' : seg.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')).join('/');
    return { exception, re: new RegExp(`^${re.replace(/\.\*\//g, '(.*/)?')}$`) };
  });
  return (path: string) => {
    const parts = path.split('/');
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const r of rules) if (prefixes.some((p) => r.re.test(p))) excluded = !r.exception;
    return !excluded;
  };
}

test('.dockerignore: each example Dockerfile\'s context (the repository root) holds what it COPYs and leaves out node_modules, .cache, dist-release and the archives', () => {
  const dockerfiles = ['custom-image/Dockerfile.fabric-2.4', 'custom-image/Dockerfile.fabric-2.5', 'custom-image/Dockerfile.fabric-3', 'kubernetes/Dockerfile.extbuilder'];
  const root = readFileSync(join(REPO, '.dockerignore'), 'utf8');
  for (const f of dockerfiles) {
    const text = readFileSync(join(EX, f), 'utf8');
    const copy = /^COPY (dist-binaries\/\$\{EXTBUILDER_TARGET\}) /m.exec(text)![1]!;
    const def = /^ARG EXTBUILDER_TARGET=(\S+)$/m.exec(text)![1]!;
    const libc = def.endsWith('-musl') ? 'musl' : 'glibc';
    // The targets this image can run: its default's libc on either architecture (any, for the init image).
    const targets = TARGETS.filter((t) => f.startsWith('kubernetes/') || t.name.endsWith(`-${libc}`)).map((t) => t.name);
    assert.ok(targets.includes(def));
    const own = join(EX, `${f}.dockerignore`);
    // BuildKit reads <Dockerfile>.dockerignore when it exists; the classic builder reads the root one. Both must work.
    for (const [name, ignore] of [['.dockerignore', root], [`${f}.dockerignore`, existsSync(own) ? readFileSync(own, 'utf8') : root]] as const) {
      const included = dockerignore(ignore);
      for (const t of targets) {
        const dir = copy.replace('${EXTBUILDER_TARGET}', t);
        for (const p of [dir, `${dir}/bin/extbuilder`, `${dir}/bin/detect`, `${dir}/lib/ld-linux-x86-64.so.2`, `${dir}/SHA256SUMS`]) {
          assert.ok(included(p), `${name} (for ${f}): ${p} is in the context`);
        }
      }
      for (const p of ['node_modules/yaml/package.json', '.cache/node/x.tgz', 'dist-release/fabric-extbuilder-0.1.0.tgz', `dist-binaries/${def}.tar.gz`,
        '.git/HEAD', 'dist/cli.cjs', 'src/cli/main.ts', 'test/x.test.ts', 'fixtures/a', 'bench/RESULTS.md', 'examples/compose/org1/tls/peer.key']) {
        assert.ok(!included(p), `${name} (for ${f}): ${p} is left out`);
      }
    }
  }
  // The real tree here: what the root .dockerignore sends is target directories only.
  const included = dockerignore(root);
  let bytes = 0;
  const visit = (rel: string) => {
    for (const e of readdirSync(join(REPO, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        // Skip a directory that is left out and that no exception reaches into (as the builder does).
        if (!included(p) && !/^dist-binaries$/.test(p)) continue;
        visit(p);
      } else if (included(p)) {
        assert.match(p, /^dist-binaries\/linux-(x64|arm64)-(glibc|musl)\//, `${p} is sent with the context`);
        bytes += lstatSync(join(REPO, p)).size;
      }
    }
  };
  visit('');
  if (bytes) console.log(`# .dockerignore: the context holds ${(bytes / 2 ** 20).toFixed(0)} MiB of built targets`);
});

// Kubernetes mode against a real cluster (../shared/k8s): the node-kv contract as an image, started by
// run as a pod (hostNetwork, so it dials the stand-in peer on 127.0.0.1), registering and answering; with
// and without TLS; SIGTERM, SIGKILL and the next run; RBAC; every error class provoked for real.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBuildContext, invokePhase, peerEnvironment, writePeerMetadata, type BuildContext } from '../src/peer/invoke.js';
import { listenPeer, type PeerListener } from '../src/peer/listen.js';
import { REPO } from './helpers/repo.js';
import { spawnRun, type RunProc as BaseRun } from './helpers/run-proc.js';
import { brokenImage, cluster, nodeKvImage, type ChaincodeImage, type Cluster } from './helpers/kube.js';

const found = cluster();
const skip = found.skip;
const NS = `extb-test-${process.pid}`;
const CC_ID = 'kv_1.0:4844d431f1730dbe5f633ec3dbcc02debe09925731a37942eb65bd19150b9ff1';
const roots: string[] = [];
const listeners: PeerListener[] = [];
const runs: ChildProcess[] = [];
let c: Cluster;
let kv: ChaincodeImage;
let kvBuild: BuildContext;
let peerN = 0;

function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  roots.push(d);
  return d;
}

/** build and release of an image.json package, as the peer does at install. */
async function install(image: { name: string; digest: string }): Promise<BuildContext> {
  const ctx = createBuildContext(tmpdir(), CC_ID);
  roots.push(ctx.root);
  writeFileSync(join(ctx.src, 'image.json'), JSON.stringify(image));
  writePeerMetadata(ctx, JSON.stringify({ type: 'k8s', label: 'kv_1.0' }));
  const env = peerEnvironment({ ...process.env, EXTBUILDER_CONFIG: JSON.stringify({ types: ['k8s'] }) }, ['EXTBUILDER_CONFIG']);
  for (const [phase, args] of [['detect', [ctx.src, ctx.metadata]], ['build', [ctx.src, ctx.metadata, ctx.bld]], ['release', [ctx.bld, ctx.release]]] as const) {
    const r = await invokePhase(REPO, phase, [...args], { env, timeoutMs: 60_000 });
    assert.equal(r.code, 0, `${phase}: ${r.lines.join('\n')}`);
  }
  return ctx;
}

interface RunProc extends BaseRun {
  /** The pod's name from run's start line. */
  started(): Promise<string>;
}

/** bin/run as the peer calls it: pruned environment, the builder config inline, stderr read by line. */
function startRun(bld: string, runDir: string, kubernetes: Record<string, unknown>, peerId: string, builderDir = REPO): RunProc {
  const config = JSON.stringify({ kubernetes: { namespace: NS, kubeconfig: c.kubeconfig, host_network: true, ...kubernetes } });
  const env = peerEnvironment({ ...process.env, EXTBUILDER_CONFIG: config, CORE_PEER_ID: peerId }, ['EXTBUILDER_CONFIG', 'CORE_PEER_ID']);
  const run = spawnRun(join(builderDir, 'bin', 'run'), [bld, runDir], env);
  runs.push(run.child);
  return { ...run, started: async () => (await run.line(/^extbuilder run: \S+ -> \S+ \(tls (?:on|off)\), pod [^/]+\/(\S+) on node/, 'the pod ran'))[1]! };
}

function runMetadataDir(): string {
  const dir = tempDir('fabric-run');
  chmodSync(dir, 0o700);
  return dir;
}

/** The pods and Secrets this builder made in the test namespace for one peer ID. */
function objectsOf(peerId: string): string[] {
  const out = c.kubectl(['-n', NS, 'get', 'pods,secrets', '-l', `fabric-extbuilder/peer=${peerId}`, '-o', 'name']);
  return out.split('\n').filter(Boolean).sort();
}

async function until(what: string, ms: number, f: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function nextPeer(): string {
  return `peer${++peerN}.org1.test`;
}

before(async () => {
  if (skip) return;
  c = found.cluster!;
  c.kubectl(['create', 'namespace', NS]);
  kv = nodeKvImage(c);
  kvBuild = await install(kv);
});

after(async () => {
  for (const r of runs) if (r.exitCode === null && r.signalCode === null) r.kill('SIGKILL');
  for (const l of listeners) await l.close();
  if (!skip) c.kubectl(['delete', 'namespace', NS, '--wait=false'], { allowFail: true });
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

async function listener(tls: boolean): Promise<PeerListener> {
  const l = await listenPeer({ tls, session: { expectedChaincodeId: CC_ID } });
  listeners.push(l);
  return l;
}

for (const tls of [false, true]) {
  test(`run starts the image as a pod that registers and answers (tls ${tls ? 'on' : 'off'}); SIGTERM deletes the pod and its Secret`, { skip }, async () => {
    const peer = await listener(tls);
    const runDir = runMetadataDir();
    await peer.writeChaincodeJson(runDir, { chaincodeId: CC_ID, mspid: 'Org1MSP' });
    const peerId = nextPeer();
    const run = startRun(kvBuild.bld, runDir, {}, peerId);
    const name = await run.started();
    const session = await peer.nextSession(120_000);
    assert.deepEqual(await session.registered, { chaincodeId: CC_ID });
    assert.equal((await session.invoke('put', ['colour', 'blue'])).status, 200);
    assert.equal((await session.invoke('get', ['colour'])).payload.toString(), 'blue');

    assert.match(name, /^hlfcc-kv-1-0-[0-9a-f]{10}$/);
    const pod = JSON.parse(c.kubectl(['-n', NS, 'get', 'pod', name, '-o', 'json'])) as {
      metadata: { labels: Record<string, string>; annotations: Record<string, string>; uid: string };
      spec: { containers: { image: string; env: { name: string; value: string }[] }[]; restartPolicy: string };
    };
    const env = Object.fromEntries(pod.spec.containers[0]!.env.map((e) => [e.name, e.value]));
    assert.equal(pod.spec.containers[0]!.image, `${kv.name}@${kv.digest}`);
    assert.equal(env.CORE_CHAINCODE_ID_NAME, CC_ID);
    assert.equal(env.CORE_PEER_ADDRESS, peer.address);
    assert.equal(env.CORE_PEER_LOCALMSPID, 'Org1MSP');
    assert.equal(env.CORE_PEER_TLS_ENABLED, String(tls));
    assert.equal(pod.metadata.labels['fabric-extbuilder/chaincode-label'], 'kv_1.0');
    assert.equal(pod.metadata.labels['fabric-extbuilder/peer'], peerId);
    assert.equal(pod.metadata.annotations['fabric-extbuilder/chaincode-id'], CC_ID);
    assert.equal(pod.metadata.annotations['fabric-extbuilder/peer-address'], peer.address);
    if (tls) {
      assert.equal(env.CORE_TLS_CLIENT_KEY_FILE, '/etc/hyperledger/fabric/client_pem.key');
      assert.equal(env.CORE_TLS_CLIENT_KEY_PATH, '/etc/hyperledger/fabric/client.key');
      const secret = JSON.parse(c.kubectl(['-n', NS, 'get', 'secret', name, '-o', 'json'])) as { data: Record<string, string>; metadata: { ownerReferences: { kind: string; uid: string }[] } };
      assert.deepEqual(Object.keys(secret.data).sort(), ['client.crt', 'client.key', 'client_pem.crt', 'client_pem.key', 'peer.crt']);
      assert.deepEqual(secret.metadata.ownerReferences.map((o) => [o.kind, o.uid]), [['Pod', pod.metadata.uid]]);
      // The Node shim reads base64 of the PEM from the *_PATH files, the Go shim the PEM itself.
      const pem = Buffer.from(secret.data['client_pem.crt']!, 'base64').toString();
      assert.equal(Buffer.from(Buffer.from(secret.data['client.crt']!, 'base64').toString(), 'base64').toString(), pem);
      assert.match(pem, /^-----BEGIN CERTIFICATE-----/);
    } else {
      assert.equal(env.CORE_TLS_CLIENT_KEY_FILE, undefined);
      assert.deepEqual(objectsOf(peerId), [`pod/${name}`]);
    }

    const t = Date.now();
    run.child.kill('SIGTERM');
    const exit = await run.exited;
    const took = Date.now() - t;
    assert.equal(exit.code, 143, run.lines.join('\n'));
    assert.ok(took < 5000, `run took ${took} ms after SIGTERM, beyond the peer's 5 s grace`);
    assert.ok(run.lines.some((l) => (tls ? /SIGTERM: deleting pod \S+ and its Secret$/ : /SIGTERM: deleting pod \S+$/).test(l)), run.lines.join('\n'));
    await until('the pod and Secret gone', 30_000, () => objectsOf(peerId).length === 0);
  });
}

const SEA = join(REPO, 'dist-binaries', 'linux-x64-glibc', 'bin', 'extbuilder');
const seaSkip = skip ?? (process.arch !== 'x64' || !existsSync(SEA) ? 'no standalone binary for this machine (npm run binaries makes dist-binaries/linux-x64-glibc)' : undefined);

test('the standalone binary\'s run starts the pod from its embedded Kubernetes client, and SIGTERM cleans up', { skip: seaSkip }, async () => {
  const dir = tempDir('extb-sea-');
  mkdirSync(join(dir, 'bin'));
  symlinkSync(SEA, join(dir, 'bin', 'run'));
  const peer = await listener(true);
  const runDir = runMetadataDir();
  await peer.writeChaincodeJson(runDir, { chaincodeId: CC_ID });
  const peerId = nextPeer();
  const run = startRun(kvBuild.bld, runDir, {}, peerId, dir);
  await run.started();
  assert.deepEqual(await (await peer.nextSession(120_000)).registered, { chaincodeId: CC_ID });
  run.child.kill('SIGTERM');
  assert.equal((await run.exited).code, 143, run.lines.join('\n'));
  // The chaincode's own warnings come through its log (pid 1 in the pod); run's, with its pid, must not be there.
  assert.ok(!run.lines.some((l) => l.startsWith(`(node:${run.child.pid}) `)), run.lines.join('\n'));
  await until('nothing left', 30_000, () => objectsOf(peerId).length === 0);
});

test('a run killed with SIGKILL leaves its pod, which doctor --kubernetes lists and the next run deletes first', { skip }, async () => {
  const peer = await listener(false);
  const peerId = nextPeer();
  const runDir = runMetadataDir();
  await peer.writeChaincodeJson(runDir, { chaincodeId: CC_ID });
  const killed = startRun(kvBuild.bld, runDir, {}, peerId);
  const name = await killed.started();
  await (await peer.nextSession(120_000)).registered;
  killed.child.kill('SIGKILL');
  await killed.exited;
  assert.deepEqual(objectsOf(peerId), [`pod/${name}`], 'a SIGKILL gives run no chance to clean up');

  const config = JSON.stringify({ kubernetes: { namespace: NS, kubeconfig: c.kubeconfig } });
  const doctor = spawnSync(process.execPath, [join(REPO, 'bin', 'extbuilder'), 'doctor', '--kubernetes'], { encoding: 'utf8', env: { ...process.env, EXTBUILDER_CONFIG: config } });
  assert.match(doctor.stdout, new RegExp(`${name}.*run gone`), doctor.stdout + doctor.stderr);

  const runDir2 = runMetadataDir();
  await peer.writeChaincodeJson(runDir2, { chaincodeId: CC_ID });
  const next = startRun(kvBuild.bld, runDir2, {}, peerId);
  assert.equal(await next.started(), name);
  assert.ok(next.lines.some((l) => l.includes(`deleting pod ${NS}/${name}, left by an earlier run`)), next.lines.join('\n'));
  await (await peer.nextSession(120_000)).registered;
  next.child.kill('SIGTERM');
  assert.equal((await next.exited).code, 143);
  await until('nothing left', 30_000, () => objectsOf(peerId).length === 0);
});

test('an upgrade: the new package\'s pod starts beside the old one, which is not touched while it runs', { skip }, async () => {
  const newId = `kv_1.0:${'e'.repeat(64)}`;
  const oldPeer = await listener(false);
  const newPeer = await listenPeer({ session: { expectedChaincodeId: newId } });
  listeners.push(newPeer);
  const peerId = nextPeer();
  const oldDir = runMetadataDir();
  await oldPeer.writeChaincodeJson(oldDir, { chaincodeId: CC_ID });
  const oldRun = startRun(kvBuild.bld, oldDir, {}, peerId);
  const oldName = await oldRun.started();
  await (await oldPeer.nextSession(120_000)).registered;
  const uid = c.kubectl(['-n', NS, 'get', 'pod', oldName, '-o', 'jsonpath={.metadata.uid}']);

  const newDir = runMetadataDir();
  await newPeer.writeChaincodeJson(newDir, { chaincodeId: newId });
  const newRun = startRun(kvBuild.bld, newDir, {}, peerId);
  const newName = await newRun.started();
  assert.deepEqual(await (await newPeer.nextSession(120_000)).registered, { chaincodeId: newId });
  assert.notEqual(newName, oldName);
  assert.equal(c.kubectl(['-n', NS, 'get', 'pod', oldName, '-o', 'jsonpath={.metadata.uid}']), uid, 'the old pod is the same pod');
  assert.equal(oldRun.child.exitCode, null, 'the old run still supervises it');

  for (const r of [oldRun, newRun]) r.child.kill('SIGTERM');
  assert.deepEqual([(await oldRun.exited).code, (await newRun.exited).code], [143, 143]);
  await until('nothing left', 30_000, () => objectsOf(peerId).length === 0);
});

test('run exits with the container\'s exit code and passes its output on; kubernetes.env is templated', { skip }, async () => {
  const peer = await listener(false);
  const runDir = runMetadataDir();
  await peer.writeChaincodeJson(runDir, { chaincodeId: CC_ID });
  const peerId = nextPeer();
  const run = startRun(kvBuild.bld, runDir, { env: { KV_EXIT: '3', KV_SAY: 'hello from {{.chaincode_id}}' } }, peerId);
  const exit = await run.exited;
  assert.equal(exit.code, 3, run.lines.join('\n'));
  assert.ok(run.lines.includes(`chaincode says hello from ${CC_ID}`), run.lines.join('\n'));
  await until('the pod gone', 30_000, () => objectsOf(peerId).length === 0);
});

/** Runs the kv package (or `bld`) with these settings, expecting one coded failure line and nothing left. */
async function expectFailure(code: string, kubernetes: Record<string, unknown>, o: { bld?: string; tls?: boolean; pattern?: RegExp } = {}): Promise<string> {
  const peer = await listener(o.tls ?? false);
  const runDir = runMetadataDir();
  await peer.writeChaincodeJson(runDir, { chaincodeId: CC_ID });
  const peerId = nextPeer();
  const run = startRun(o.bld ?? kvBuild.bld, runDir, kubernetes, peerId);
  const exit = await run.exited;
  assert.equal(exit.code, 1, run.lines.join('\n'));
  const coded = run.lines.filter((l) => /^extbuilder run: [A-Z0-9_]+: /.test(l));
  assert.equal(coded.length, 1, run.lines.join('\n'));
  assert.ok(coded[0]!.startsWith(`extbuilder run: ${code}: `), coded[0]);
  if (o.pattern) assert.match(coded[0]!, o.pattern);
  assert.ok(!run.lines.some((l) => /^\s+at /.test(l)), 'no stack trace');
  if (code !== 'K8S_NAMESPACE' && code !== 'K8S_UNREACHABLE') assert.deepEqual(objectsOf(peerId), [], 'a failed start leaves no pod or Secret');
  return coded[0]!;
}

test('an image that cannot be pulled: K8S_IMAGE_PULL with the kubelet\'s reason', { skip }, async () => {
  const ctx = await install({ name: 'extbuilder.test/not-there', digest: `sha256:${'0'.repeat(64)}` });
  await expectFailure('K8S_IMAGE_PULL', {}, { bld: ctx.bld, pattern: /ErrImagePull|ImagePullBackOff/ });
});

test('a container whose command does not exist: K8S_CONTAINER_START', { skip }, async () => {
  const ctx = await install(brokenImage(c));
  await expectFailure('K8S_CONTAINER_START', {}, { bld: ctx.bld, pattern: /no\/such\/program|StartError|ContainerCannotRun|RunContainerError/ });
});

test('no node fits: K8S_UNSCHEDULABLE with the scheduler\'s message', { skip }, async () => {
  await expectFailure('K8S_UNSCHEDULABLE', { node_selector: { 'extbuilder.test/nowhere': 'x' } }, { pattern: /node affinity|selector/ });
});

test('a start timeout: K8S_START_TIMEOUT, and the pod is deleted', { skip }, async () => {
  await expectFailure('K8S_START_TIMEOUT', { start_timeout: '100ms' });
});

test('an unknown namespace: K8S_NAMESPACE', { skip }, async () => {
  await expectFailure('K8S_NAMESPACE', { namespace: 'extb-no-such-namespace' }, { pattern: /extb-no-such-namespace/ });
});

test('an API server that does not answer: K8S_UNREACHABLE naming the server', { skip }, async () => {
  const raw = JSON.parse(c.kubectl(['config', 'view', '--raw', '--minify', '-o', 'json'])) as { clusters: { cluster: { server: string } }[] };
  raw.clusters[0]!.cluster.server = 'https://127.0.0.1:1';
  const file = join(tempDir('extb-kc-'), 'kubeconfig');
  writeFileSync(file, JSON.stringify(raw), { mode: 0o600 });
  await expectFailure('K8S_UNREACHABLE', { kubeconfig: file }, { pattern: /127\.0\.0\.1:1.*ECONNREFUSED/ });
});

/** A kubeconfig for a new service account bound to a Role with `rules`. */
function serviceAccountKubeconfig(sa: string, rules: { resources: string[]; verbs: string[] }[]): string {
  c.kubectl(['-n', NS, 'create', 'serviceaccount', sa]);
  const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: sa, namespace: NS }, rules: rules.map((r) => ({ apiGroups: [''], ...r })) };
  const binding = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: sa, namespace: NS }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: sa }, subjects: [{ kind: 'ServiceAccount', name: sa, namespace: NS }] };
  c.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [role, binding] }) });
  const token = c.kubectl(['-n', NS, 'create', 'token', sa, '--duration=1h']).trim();
  const raw = JSON.parse(c.kubectl(['config', 'view', '--raw', '--minify', '-o', 'json'])) as { clusters: { name: string; cluster: Record<string, string> }[] };
  const kc = {
    apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'k8s', cluster: raw.clusters[0]!.cluster }],
    users: [{ name: sa, user: { token } }], contexts: [{ name: sa, context: { cluster: 'k8s', user: sa, namespace: NS } }], 'current-context': sa,
  };
  const file = join(tempDir('extb-kc-'), 'kubeconfig');
  writeFileSync(file, JSON.stringify(kc), { mode: 0o600 });
  return file;
}

/** The minimal Role docs/kubernetes.md gives. */
const MINIMAL_ROLE = [
  { resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
  { resources: ['pods/log'], verbs: ['get'] },
  { resources: ['secrets'], verbs: ['create', 'delete'] },
];

test('a service account without the Secret permissions: K8S_FORBIDDEN names the verb and resource; doctor --kubernetes says which', { skip }, async () => {
  const kc = serviceAccountKubeconfig('no-secrets', MINIMAL_ROLE.slice(0, 2));
  await expectFailure('K8S_FORBIDDEN', { kubeconfig: kc }, { tls: true, pattern: /refused to create secrets in namespace/ });
  const doctor = spawnSync(process.execPath, [join(REPO, 'bin', 'extbuilder'), 'doctor', '--kubernetes'], {
    encoding: 'utf8', env: { ...process.env, EXTBUILDER_CONFIG: JSON.stringify({ kubernetes: { kubeconfig: kc } }) },
  });
  assert.equal(doctor.status, 1, doctor.stdout + doctor.stderr);
  assert.match(doctor.stdout, /^fail may not create secrets in extb-test-\d+, needed to hand the chaincode its TLS files/m, doctor.stdout);
});

test('the minimal Role from the docs is enough: doctor --kubernetes passes and a TLS run registers', { skip }, async () => {
  const kc = serviceAccountKubeconfig('minimal', MINIMAL_ROLE);
  const doctor = spawnSync(process.execPath, [join(REPO, 'bin', 'extbuilder'), 'doctor', '--kubernetes'], {
    encoding: 'utf8', env: { ...process.env, EXTBUILDER_CONFIG: JSON.stringify({ kubernetes: { kubeconfig: kc } }) },
  });
  assert.equal(doctor.status, 0, doctor.stdout + doctor.stderr);
  const peer = await listener(true);
  const runDir = runMetadataDir();
  await peer.writeChaincodeJson(runDir, { chaincodeId: CC_ID });
  const peerId = nextPeer();
  const run = startRun(kvBuild.bld, runDir, { kubeconfig: kc }, peerId);
  await run.started();
  const session = await peer.nextSession(120_000);
  assert.deepEqual(await session.registered, { chaincodeId: CC_ID });
  run.child.kill('SIGTERM');
  assert.equal((await run.exited).code, 143, run.lines.join('\n'));
  await until('nothing left', 30_000, () => objectsOf(peerId).length === 0);
});

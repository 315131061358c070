// Kubernetes mode's two figures, on the real cluster of ../shared/k8s: from run's start to the chaincode
// registered with the peer, and from SIGTERM to the pod gone from the API; launch mode's start beside it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createBuildContext, invokePhase, peerEnvironment, stageSourceDir, writePeerMetadata } from '../src/peer/invoke.js';
import { listenPeer } from '../src/peer/listen.js';
import { cluster, nodeKvImage } from '../test/helpers/kube.js';
import { makeBuilderDir, seaBinary } from './phases.js';

const CC_ID = 'kv_1.0:4844d431f1730dbe5f633ec3dbcc02debe09925731a37942eb65bd19150b9ff1';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

const fmt = (xs: number[]) => `${median(xs).toFixed(0)} ms (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)})`;

async function install(repo: string, root: string, source: (src: string) => void, config: string): Promise<string> {
  const ctx = createBuildContext(root, CC_ID);
  source(ctx.src);
  writePeerMetadata(ctx, JSON.stringify({ type: 'external', label: 'kv_1.0' }));
  const env = peerEnvironment({ ...process.env, EXTBUILDER_CONFIG: config }, ['EXTBUILDER_CONFIG']);
  for (const [phase, args] of [['build', [ctx.src, ctx.metadata, ctx.bld]], ['release', [ctx.bld, ctx.release]]] as const) {
    const r = await invokePhase(repo, phase, [...args], { env, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`${phase}: ${r.lines.join('\n')}`);
  }
  return ctx.bld;
}

/** One launch: ms to registered, and (Kubernetes) ms from SIGTERM to the pod gone. */
async function once(builderDir: string, bld: string, root: string, config: string, podGone?: (name: string) => boolean): Promise<{ start: number; stop?: number }> {
  const peer = await listenPeer({ session: { expectedChaincodeId: CC_ID } });
  const runDir = mkdtempSync(join(root, 'fabric-run'));
  chmodSync(runDir, 0o700);
  await peer.writeChaincodeJson(runDir, { chaincodeId: CC_ID });
  const env = peerEnvironment({ ...process.env, EXTBUILDER_CONFIG: config, CORE_PEER_ID: 'bench-peer' }, ['EXTBUILDER_CONFIG', 'CORE_PEER_ID']);
  const t0 = performance.now();
  const child: ChildProcess = spawn(join(builderDir, 'bin', 'run'), [bld, runDir], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const closed = new Promise<void>((r) => child.on('close', () => r()));
  try {
    const session = await peer.nextSession(120_000);
    await session.registered;
    const start = performance.now() - t0;
    if (!podGone) return { start };
    // run's start line may reach us after the chaincode's REGISTER does.
    const until = Date.now() + 10_000;
    while (!/pod [^/]+\/(\S+) on node/.test(err) && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    const name = /pod [^/]+\/(\S+) on node/.exec(err)?.[1];
    if (!name) throw new Error(`no pod name in run's log:\n${err}`);
    const t1 = performance.now();
    child.kill('SIGTERM');
    while (!podGone(name)) await new Promise((r) => setTimeout(r, 20));
    const stop = performance.now() - t1;
    await closed;
    return { start, stop };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await closed;
    await peer.close();
  }
}

export async function kubernetesRows(repo: string, root: string, runs: number, say: (l?: string) => void, notes: string[]): Promise<void> {
  const found = cluster();
  if (!found.cluster) { notes.push(`Kubernetes mode: ${found.skip}.`); return; }
  const c = found.cluster;
  const ns = 'extb-bench';
  c.kubectl(['create', 'namespace', ns], { allowFail: true });
  const image = nodeKvImage(c);
  const kubeConfig = JSON.stringify({ kubernetes: { namespace: ns, kubeconfig: c.kubeconfig, host_network: true } });
  const kubeBld = await install(repo, root, (src) => writeFileSync(join(src, 'image.json'), JSON.stringify(image)), kubeConfig);
  const launchConfig = JSON.stringify({ template: { node_path: join(repo, 'node_modules') } });
  const launchBld = await install(repo, root, (src) => { stageSourceDir(join(repo, 'fixtures', 'launch', 'node-kv'), src); }, launchConfig);
  const builders: [string, string][] = [['extbuilder (node)', repo]];
  const sea = seaBinary(repo);
  if (sea) builders.push(['extbuilder (standalone)', makeBuilderDir(root, 'sea-k8s', { link: sea })]);
  // kubectl answers NotFound once the API has removed the pod: what a user checking for leftovers sees.
  const gone = (name: string) => spawnSync(c.kubectlPath, ['--kubeconfig', c.kubeconfig, '-n', ns, 'get', 'pod', name, '-o', 'name'], { encoding: 'utf8' }).stderr.includes('NotFound');

  say('## Kubernetes mode');
  say();
  say(`run as the peer calls it, with the fixtures/launch/node-kv contract as an image on the single-node cluster of`);
  say(`../shared/k8s (hostNetwork pod, image present on the node), ${runs} launches per row, one after another. Start: from`);
  say('spawning run to the chaincode\'s REGISTER at the stand-in peer. Stop: from SIGTERM to run until the API reports');
  say('the pod NotFound (the pod is deleted with a 1 s grace period; the contract exits on SIGTERM). Launch mode\'s start');
  say('(the same contract as a local process, execve where the runtime has it) is the reference for the pod\'s cost.');
  say();
  say('| builder | start, Kubernetes mode | SIGTERM to pod gone | start, launch mode |');
  say('|---|---|---|---|');
  for (const [label, dir] of builders) {
    const k: { start: number; stop?: number }[] = [];
    const l: number[] = [];
    for (let i = 0; i < runs; i++) {
      k.push(await once(dir, kubeBld, root, kubeConfig, gone));
      l.push((await once(dir, launchBld, root, launchConfig)).start);
    }
    say(`| ${label} | ${fmt(k.map((x) => x.start))} | ${fmt(k.map((x) => x.stop!))} | ${fmt(l)} |`);
  }
  say();
  c.kubectl(['delete', 'namespace', ns, '--wait=false'], { allowFail: true });
}

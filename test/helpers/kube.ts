// The real cluster for Kubernetes-mode tests: ../shared/k8s started, kubectl,
// and the fixtures/launch/node-kv contract made into an image imported by digest, without a registry.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { FIXTURES, REPO } from './repo.js';

export const K8S_DIR = join(REPO, '..', 'shared', 'k8s');
const STATE = process.env.K8S_STATE ?? '/tmp/extbuilder-k8s';

export interface Cluster {
  kubeconfig: string;
  /** kubectl with this cluster's kubeconfig; returns stdout. */
  kubectl(args: string[], o?: { input?: string; allowFail?: boolean }): string;
  kubectlPath: string;
  /** ctr against the node's containerd (images without a registry). */
  ctr: (args: string[]) => string;
}

let cached: { cluster?: Cluster; skip?: string } | undefined;

/** The cluster of ../shared/k8s, or why the Kubernetes tests skip without it. */
export function cluster(): { cluster?: Cluster; skip?: string } {
  if (cached) return cached;
  let kubeconfig: string | undefined;
  let kubectlBin = 'kubectl';
  let ctr: Cluster['ctr'];
  if (existsSync(join(K8S_DIR, 'up.sh'))) {
    // Idempotent: about a second when the cluster is up already.
    const up = spawnSync(join(K8S_DIR, 'up.sh'), [STATE], { encoding: 'utf8', timeout: 240_000 });
    if (up.status !== 0) throw new Error(`../shared/k8s/up.sh failed (${up.status}):\n${up.stdout}\n${up.stderr}`);
    kubeconfig = join(STATE, 'admin.kubeconfig');
    kubectlBin = join(STATE, 'bin', 'kubectl');
    ctr = (args) => execFileSync(join(STATE, 'bin', 'ctr'), ['--address', join(STATE, 'run', 'containerd.sock'), '-n', 'k8s.io', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  }
  if (!kubeconfig) {
    return (cached = { skip: process.env.KUBECONFIG
      ? 'KUBECONFIG is set but ../shared/k8s is not here, and the tests load their image into its containerd (there is no registry)'
      : 'no ../shared/k8s and no KUBECONFIG: the Kubernetes tests need a real cluster' });
  }
  const kc = kubeconfig;
  const kubectl: Cluster['kubectl'] = (args, o = {}) => {
    const r = spawnSync(kubectlBin, ['--kubeconfig', kc, ...args], { encoding: 'utf8', input: o.input, timeout: 60_000 });
    if (r.status !== 0 && !o.allowFail) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr || r.error?.message}`);
    return r.stdout;
  };
  return (cached = { cluster: { kubeconfig: kc, kubectl, kubectlPath: kubectlBin, ctr: ctr! } });
}

/** The files a Node program needs in an image with nothing else: node, its libraries, the loader. */
function nodeFiles(): string[] {
  const node = realpathSync(process.execPath);
  const out = [`${node}:/usr/local/bin/node`];
  for (const line of execFileSync('ldd', [node], { encoding: 'utf8' }).split('\n')) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m) out.push(`${realpathSync(m[1]!)}:${m[1]}`);
  }
  return out;
}

/** The packages `names` need, following package.json dependencies through the hoisted node_modules. */
function closure(names: string[]): string[] {
  const seen = new Set<string>();
  const visit = (name: string, from: string) => {
    for (let dir = from; ; dir = dirname(dir)) {
      const candidate = join(dir, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) {
        if (seen.has(candidate)) return;
        seen.add(candidate);
        const pkg = JSON.parse(readFileSync(join(candidate, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
        for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep, candidate);
        return;
      }
      if (dir === dirname(dir) || dir === dirname(REPO)) return;
    }
  };
  for (const n of names) visit(n, REPO);
  // Nested copies sit inside their parent's tree, which is copied whole.
  return [...seen].filter((d) => ![...seen].some((o) => o !== d && d.startsWith(`${o}/`))).sort();
}

/** An image whose entrypoint does not exist: the container fails before it runs. */
export function brokenImage(c: Cluster): ChaincodeImage {
  return importImage(c, 'extbuilder.test/broken', (tar, ref) => {
    const work = dirname(tar);
    writeFileSync(join(work, 'readme'), 'nothing to run\n');
    execFileSync(join(K8S_DIR, 'images', 'mkimage.py'), [ref, tar, '--file', `${join(work, 'readme')}:/readme`, '--entrypoint', '["/no/such/program"]'], { stdio: ['ignore', 'ignore', 'pipe'] });
  }, 'v1');
}

function importImage(c: Cluster, name: string, make: (tar: string, ref: string) => void, key: string): ChaincodeImage {
  const pattern = new RegExp(`^${name.replace(/[./]/g, '\\$&')}:${key}\\s+\\S+\\s+(sha256:[0-9a-f]{64})`, 'm');
  const known = pattern.exec(c.ctr(['images', 'ls']));
  if (known) return { name, digest: known[1]! };
  const work = join(tmpdir(), `extbuilder-image-${name.replace(/\W/g, '-')}-${key}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    make(join(work, 'image.tar'), `${name}:${key}`);
    c.ctr(['images', 'import', '--digests', '--base-name', name, join(work, 'image.tar')]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const m = pattern.exec(c.ctr(['images', 'ls']));
  if (!m) throw new Error(`the imported image ${name}:${key} is not listed by ctr images ls`);
  return { name, digest: m[1]! };
}

export interface ChaincodeImage {
  /** NAME (no tag), and the manifest digest the kubelet finds without a registry. */
  name: string;
  digest: string;
}

/**
 * fixtures/launch/node-kv as an image: node and the fabric-shim closure under /chaincode, started by an
 * entry that ends on SIGTERM (node as PID 1 ignores it otherwise). Made once per input, then reused.
 */
export function nodeKvImage(c: Cluster): ChaincodeImage {
  const fixture = join(FIXTURES, 'launch', 'node-kv');
  const files = nodeFiles();
  const modules = closure(['fabric-shim', 'fabric-contract-api']);
  // KV_EXIT (set through kubernetes.env) makes it print a line and exit with that code instead.
  const entry = [
    "'use strict';",
    "process.on('SIGTERM', () => process.exit(143));",
    "if (process.env.KV_EXIT) { console.log(`chaincode says ${process.env.KV_SAY ?? ''}`); process.exit(Number(process.env.KV_EXIT)); }",
    // As a Node chaincode image's entrypoint does: fabric-shim takes these two as arguments only.
    "process.argv.push('--peer.address', process.env.CORE_PEER_ADDRESS, '--chaincode-id-name', process.env.CORE_CHAINCODE_ID_NAME);",
    "require('./start.js');",
    '',
  ].join('\n');
  const key = createHash('sha256').update(JSON.stringify([files, modules, entry, readdirSync(fixture)])).digest('hex').slice(0, 12);
  return importImage(c, 'extbuilder.test/node-kv', (tar, ref) => {
    const entryFile = join(dirname(tar), 'entry.js');
    writeFileSync(entryFile, entry);
    const args = [ref, tar, '--tree', `${fixture}:/chaincode`, '--file', `${entryFile}:/chaincode/entry.js`];
    for (const f of files) args.push('--file', f);
    for (const m of modules) args.push('--tree', `${m}:/chaincode/node_modules/${relative(join(REPO, 'node_modules'), m)}`);
    args.push('--workdir', '/chaincode', '--entrypoint', JSON.stringify(['/usr/local/bin/node', 'entry.js', 'start', '--module-path', '/chaincode']));
    execFileSync(join(K8S_DIR, 'images', 'mkimage.py'), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  }, key);
}

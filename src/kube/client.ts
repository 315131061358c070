// The connection to the Kubernetes API: which credentials and namespace, and every failure turned into
// one coded line that names what Kubernetes said.
import { existsSync, readFileSync } from 'node:fs';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { ExtError } from '../core/errors.js';
import type { PodSettings } from './index.js';

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** A request the API server does not answer in this long is reported, not waited out. */
const REQUEST_TIMEOUT_MS = 15_000;

export interface Kube {
  kc: KubeConfig;
  core: CoreV1Api;
  namespace: string;
  /** The API server's URL, for messages. */
  server: string;
  /** Where the credentials came from, for messages. */
  source: string;
}

type Env = Record<string, string | undefined>;

function load(kc: KubeConfig, file: string, from: string): string {
  try {
    kc.loadFromFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ExtError('K8S_CONFIG', `cannot load the kubeconfig ${file} (${from}): ${code ?? (err as Error).message.split('\n')[0]}`,
      'point kubernetes.kubeconfig (or KUBECONFIG_PATH, KUBECONFIG) at a readable kubeconfig, and list the variable in the builder\'s propagateEnvironment', { cause: err });
  }
  return `kubeconfig ${file} (${from})`;
}

/**
 * Credentials: kubernetes.kubeconfig, KUBECONFIG_PATH (fabric-builder-k8s), the pod's service account
 * when the peer runs in the cluster, then KUBECONFIG. The namespace: the configured one, the service
 * account's, the kubeconfig context's, else default.
 */
export function connect(settings: Pick<PodSettings, 'kubeconfig' | 'namespace'>, env: Env): Kube {
  const kc = new KubeConfig();
  let source: string;
  const inCluster = !!env.KUBERNETES_SERVICE_HOST && !!env.KUBERNETES_SERVICE_PORT && existsSync(`${SA_DIR}/token`);
  if (settings.kubeconfig) source = load(kc, settings.kubeconfig, 'the builder config or KUBECONFIG_PATH');
  else if (inCluster) {
    // client-node reads the service's address from process.env, which is run's environment.
    kc.loadFromCluster();
    source = 'the pod\'s service account';
  } else if (env.KUBECONFIG?.trim()) source = load(kc, env.KUBECONFIG.trim().split(':')[0]!, 'KUBECONFIG');
  else {
    throw new ExtError('K8S_CONFIG', 'no Kubernetes credentials: no kubernetes.kubeconfig, KUBECONFIG_PATH or KUBECONFIG is set, and run is not in a pod with a service account (KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT)',
      'in a cluster, list KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT in the builder\'s propagateEnvironment; elsewhere set kubernetes.kubeconfig in the builder config');
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new ExtError('K8S_CONFIG', `the ${source} has no current context with a cluster`, 'set current-context in the kubeconfig');
  let namespace = settings.namespace;
  if (!namespace && existsSync(`${SA_DIR}/namespace`)) namespace = readFileSync(`${SA_DIR}/namespace`, 'utf8').trim() || undefined;
  namespace ??= kc.getContextObject(kc.getCurrentContext())?.namespace || 'default';
  return { kc, core: kc.makeApiClient(CoreV1Api), namespace, server: cluster.server, source };
}

interface Status { message?: string; reason?: string; details?: { kind?: string; name?: string } }

function statusOf(err: { body?: unknown }): Status {
  const b = err.body;
  if (b && typeof b === 'object') return b as Status;
  if (typeof b === 'string') {
    try { return JSON.parse(b) as Status; } catch { return { message: b.slice(0, 300) }; }
  }
  return {};
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'UND_ERR_CONNECT_TIMEOUT']);

function networkCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; errno?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    const code = typeof e.code === 'string' ? e.code : typeof e.errno === 'string' ? e.errno : undefined;
    if (code && (NETWORK_CODES.has(code) || /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO/.test(code))) return code;
  }
  const m = /reason: (?:connect |getaddrinfo )?([A-Z_]{5,})/.exec(String((err as Error)?.message ?? ''));
  return m?.[1];
}

/** What a failed call means to the operator: `verb resource` is what run was doing, e.g. "create pods". */
export function apiError(kube: Kube, err: unknown, verb: string, resource: string): ExtError {
  if (err instanceof ExtError) return err;
  const code = (err as { code?: unknown }).code;
  const where = `in namespace ${kube.namespace}`;
  if (typeof code === 'number') {
    const st = statusOf(err as { body?: unknown });
    const said = st.message ?? `HTTP ${code}`;
    if (code === 401) {
      return new ExtError('K8S_UNAUTHORIZED', `the API server ${kube.server} did not accept the credentials from the ${kube.source}: ${said}`, 'renew the token or certificate in the kubeconfig');
    }
    // RBAC says "... cannot <verb> resource ..."; a full ResourceQuota or Pod Security admission is a 403 too, with its own fix.
    if (code === 403 && (/cannot \w+ resource/.test(said) || !st.message)) {
      return new ExtError('K8S_FORBIDDEN', `Kubernetes refused to ${verb} ${resource} ${where}: ${said}`,
        `grant ${verb} on ${resource} to that identity (the Role in docs/kubernetes.md); extbuilder doctor --kubernetes checks every permission run needs`);
    }
    if (code === 404 && st.details?.kind === 'namespaces') {
      return new ExtError('K8S_NAMESPACE', `the namespace ${kube.namespace} does not exist on ${kube.server}: ${said}`,
        `create it (kubectl create namespace ${kube.namespace}), or set kubernetes.namespace or FABRIC_K8S_BUILDER_NAMESPACE to an existing one`);
    }
    return new ExtError('K8S_API', `Kubernetes refused to ${verb} ${resource} ${where}: ${st.reason ? `${st.reason}: ` : ''}${said}`, 'the quoted status says what to change');
  }
  const net = networkCode(err);
  if (net) {
    return new ExtError('K8S_UNREACHABLE', `cannot reach the Kubernetes API server ${kube.server} (from the ${kube.source}) to ${verb} ${resource}: ${net}`,
      'check the server address in the kubeconfig and that the peer can reach it');
  }
  return new ExtError('K8S_API', `cannot ${verb} ${resource} ${where}: ${String((err as Error)?.message ?? err).split('\n')[0]}`, 'rerun with EXTBUILDER_DEBUG=1 for the detail', { cause: err });
}

/** One API call, with the operator's reading of its failure and a bound on how long it may take. */
export async function call<T>(kube: Kube, verb: string, resource: string, f: () => Promise<T>): Promise<T>;
/** With `missingOk`, a 404 (the object is already gone) gives undefined. */
export async function call<T>(kube: Kube, verb: string, resource: string, f: () => Promise<T>, missingOk: true): Promise<T | undefined>;
export async function call<T>(kube: Kube, verb: string, resource: string, f: () => Promise<T>, missingOk = false): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ExtError('K8S_UNREACHABLE', `the API server ${kube.server} did not answer a request to ${verb} ${resource} within ${REQUEST_TIMEOUT_MS / 1000} s`, 'check that the peer can reach it')), REQUEST_TIMEOUT_MS);
    timer.unref();
  });
  try {
    return await Promise.race([f(), timeout]);
  } catch (err) {
    if (missingOk && (err as { code?: unknown }).code === 404) return undefined;
    throw apiError(kube, err, verb, resource);
  } finally {
    clearTimeout(timer);
  }
}

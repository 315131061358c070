// run in Kubernetes mode: from the built image.json, chaincode.json, the builder config's kubernetes
// section and fabric-builder-k8s's variables to the plain inputs of the pod launcher (src/kube), which is
// loaded only here, so no other phase or mode pays for the Kubernetes client.
import { join } from 'node:path';
import type { Config, KubernetesConfig } from '../core/config.js';
import { templateSourcesHint } from '../core/config.js';
import { parseGoDuration } from '../core/duration.js';
import { ExtError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { render } from '../core/template.js';
import type { PodRunInputs, PodSettings } from '../kube/index.js';
import { IMAGE_DIR, imageReference, readImage } from './image.js';
import type { ChaincodeRun } from '../generated/types.js';

export const DEFAULT_START_TIMEOUT = '3m';
export const DEFAULT_PREFIX = 'hlfcc';

type Env = Record<string, string | undefined>;

/** An env value, or undefined when unset or empty (the peer propagates unset variables as empty). */
function fromEnv(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

/**
 * The builder config's kubernetes section wins; fabric-builder-k8s's FABRIC_K8S_BUILDER_* variables fill
 * what it leaves out, so a peer set up for that builder works unchanged.
 */
export function podSettings(config: Config, chaincode: ChaincodeRun, env: Env): PodSettings {
  const k: KubernetesConfig = config.kubernetes ?? {};
  const timeoutText = k.start_timeout ?? fromEnv(env, 'FABRIC_K8S_BUILDER_START_TIMEOUT') ?? DEFAULT_START_TIMEOUT;
  let startTimeoutMs: number;
  try {
    startTimeoutMs = parseGoDuration(timeoutText) / 1e6;
  } catch (err) {
    throw new ExtError('CONFIG_INVALID', `the start timeout ${JSON.stringify(timeoutText)} is not a Go duration (${(err as Error).message})`, 'set kubernetes.start_timeout or FABRIC_K8S_BUILDER_START_TIMEOUT to a duration such as "3m"', { cause: err });
  }
  if (!(startTimeoutMs > 0)) throw new ExtError('CONFIG_INVALID', `the start timeout ${JSON.stringify(timeoutText)} is not positive`, 'give a duration such as "3m"');
  const prefix = k.object_name_prefix ?? fromEnv(env, 'FABRIC_K8S_BUILDER_OBJECT_NAME_PREFIX') ?? DEFAULT_PREFIX;
  if (!/^[a-z0-9]([-a-z0-9]{0,18}[a-z0-9])?$/.test(prefix)) {
    throw new ExtError('CONFIG_INVALID', `the object name prefix ${JSON.stringify(prefix)} is not up to 20 lower-case letters, digits and -`, 'set kubernetes.object_name_prefix or FABRIC_K8S_BUILDER_OBJECT_NAME_PREFIX to a name such as hlfcc');
  }
  const label = chaincode.chaincode_id.slice(0, chaincode.chaincode_id.lastIndexOf(':'));
  const data = { ...config.template, chaincode_id: chaincode.chaincode_id, peer_address: chaincode.peer_address, mspid: chaincode.mspid };
  const hint = `chaincode_id, peer_address and mspid come from chaincode.json; ${templateSourcesHint(config)}`;
  const extraEnv = Object.fromEntries(Object.entries(k.env ?? {}).map(([name, v]) => [name, render(v, data, `kubernetes.env.${name}`, hint)]));
  return {
    namespace: k.namespace ?? fromEnv(env, 'FABRIC_K8S_BUILDER_NAMESPACE'),
    kubeconfig: k.kubeconfig ?? fromEnv(env, 'KUBECONFIG_PATH'),
    serviceAccount: k.service_account ?? fromEnv(env, 'FABRIC_K8S_BUILDER_SERVICE_ACCOUNT'),
    imagePullSecrets: k.image_pull_secrets ?? [],
    resources: k.chaincodes?.[label]?.resources ?? k.resources,
    nodeSelector: k.node_selector,
    tolerations: k.tolerations,
    affinity: k.affinity,
    nodeRole: k.node_role ?? fromEnv(env, 'FABRIC_K8S_BUILDER_NODE_ROLE'),
    env: extraEnv,
    labels: k.labels ?? {},
    annotations: k.annotations ?? {},
    hostNetwork: k.host_network ?? false,
    peerAddress: k.peer_address ?? chaincode.peer_address,
    startTimeoutMs,
    prefix,
  };
}

export interface KubernetesRunInputs {
  buildDir: string;
  chaincode: ChaincodeRun;
  env: Env;
  config: Config;
  log: Logger;
}

/** Everything the pod launcher needs, read and checked; nothing is created yet. */
export function preparePod({ buildDir, chaincode, env, config, log }: KubernetesRunInputs): PodRunInputs {
  const image = readImage(join(buildDir, IMAGE_DIR));
  // The peer's own ID when the operator propagates it (fabric-builder-k8s needs CORE_PEER_ID too); else
  // the peer's chaincode address and MSP, which also tell peers apart.
  let peerId = fromEnv(env, 'CORE_PEER_ID');
  if (!peerId) {
    peerId = `${chaincode.mspid}@${chaincode.peer_address}`;
    log.info(`CORE_PEER_ID is not in this builder's propagateEnvironment: this peer's pods are told apart by ${peerId}, which peers behind one address share`);
  }
  return { image: imageReference(image), chaincode, peerId, settings: podSettings(config, chaincode, env), env, log };
}

/** Starts the pod and supervises it; returns the chaincode container's exit code. */
export async function runInKubernetes(inputs: KubernetesRunInputs): Promise<number> {
  const pod = preparePod(inputs);
  const { runPod } = await import('../kube/index.js');
  return runPod(pod);
}

// The Kubernetes launcher, a separately bundled chunk (dist/kube.cjs): only run in Kubernetes mode and
// doctor --kubernetes load it, so no other phase pays for @kubernetes/client-node.
import type { Logger } from '../core/log.js';
import type { ChaincodeRun } from '../generated/types.js';

/** How the pod is made, resolved from the builder config and fabric-builder-k8s's variables. */
export interface PodSettings {
  /** Unset: the service account's namespace, the kubeconfig context's, else default. */
  namespace?: string;
  /** A kubeconfig file; unset: in-cluster credentials, else KUBECONFIG. */
  kubeconfig?: string;
  serviceAccount?: string;
  imagePullSecrets: string[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  nodeSelector?: Record<string, string>;
  tolerations?: Record<string, unknown>[];
  affinity?: Record<string, unknown>;
  /** fabric-builder-k8s's dedicated nodes: affinity for and toleration of fabric-builder-k8s-role=<role>. */
  nodeRole?: string;
  /** Extra environment, already rendered. */
  env: Record<string, string>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  hostNetwork: boolean;
  /** What the chaincode dials. */
  peerAddress: string;
  startTimeoutMs: number;
  /** The start of every object name. */
  prefix: string;
}

/** What run hands to the launcher: plain values, already read and checked by src/builder. */
export interface PodRunInputs {
  /** NAME@sha256:DIGEST. */
  image: string;
  chaincode: ChaincodeRun;
  /** Tells this peer's pods from other peers' (CORE_PEER_ID, else MSP and address). */
  peerId: string;
  settings: PodSettings;
  /** run's environment: KUBECONFIG, KUBERNETES_SERVICE_HOST. */
  env: Record<string, string | undefined>;
  log: Logger;
}

export { runPod } from './launch.js';
export { checkAccess, listPods, REQUIRED_ACCESS, type AccessCheck, type ManagedPod } from './access.js';
export { connect } from './client.js';

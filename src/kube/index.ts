// The Kubernetes launcher, a separately bundled chunk (dist/kube.cjs): only run in Kubernetes mode and
// doctor --kubernetes load it, so no other phase pays for @kubernetes/client-node.
import type { Logger } from '../core/log.js';

/** What run hands to the launcher: plain values, already read and checked by src/builder. */
export interface PodRunInputs {
  log: Logger;
}

export async function runPod(_inputs: PodRunInputs): Promise<number> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  void KubeConfig;
  return 1;
}

// What doctor --kubernetes asks the cluster: may this identity do what run does (SelfSubjectAccessReview),
// and which chaincode pods exist, with the run that supervises each.
import { AuthorizationV1Api } from '@kubernetes/client-node';
import { call, type Kube } from './client.js';
import { ANNOTATION, LABEL, MANAGED_BY } from './objects.js';

/** Every request run makes: the minimal Role in docs/kubernetes.md grants exactly these. */
export const REQUIRED_ACCESS: { verb: string; resource: string; subresource?: string; why: string }[] = [
  { verb: 'create', resource: 'pods', why: 'start the chaincode' },
  { verb: 'get', resource: 'pods', why: 'find a pod a killed run left, and see a deleted one go' },
  { verb: 'watch', resource: 'pods', why: 'see the chaincode start and exit' },
  { verb: 'delete', resource: 'pods', why: 'stop the chaincode on SIGTERM' },
  { verb: 'get', resource: 'pods', subresource: 'log', why: 'stream the chaincode\'s log to the peer' },
  { verb: 'create', resource: 'secrets', why: 'hand the chaincode its TLS files' },
  { verb: 'delete', resource: 'secrets', why: 'remove the TLS files with the pod' },
  { verb: 'list', resource: 'pods', why: 'doctor --kubernetes only: list chaincode pods' },
];

export interface AccessCheck {
  verb: string;
  resource: string;
  why: string;
  allowed: boolean;
  reason?: string;
}

export async function checkAccess(kube: Kube): Promise<AccessCheck[]> {
  const authz = kube.kc.makeApiClient(AuthorizationV1Api);
  const out: AccessCheck[] = [];
  for (const r of REQUIRED_ACCESS) {
    const review = await call(kube, 'create', 'selfsubjectaccessreviews', () => authz.createSelfSubjectAccessReview({
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { namespace: kube.namespace, verb: r.verb, resource: r.resource, ...(r.subresource ? { subresource: r.subresource } : {}) } } },
    }));
    out.push({ verb: r.verb, resource: r.subresource ? `${r.resource}/${r.subresource}` : r.resource, why: r.why, allowed: review.status?.allowed === true, reason: review.status?.reason || undefined });
  }
  return out;
}

export interface ManagedPod {
  name: string;
  phase: string;
  chaincodeId?: string;
  peerId?: string;
  /** `<host> <pid> <start time>` of the run that made it. */
  run?: string;
  created?: string;
}

/** The chaincode pods this builder made in the namespace (every peer's). */
export async function listPods(kube: Kube): Promise<ManagedPod[]> {
  const list = await call(kube, 'list', 'pods', () => kube.core.listNamespacedPod({ namespace: kube.namespace, labelSelector: `${LABEL.managedBy}=${MANAGED_BY}` }));
  return list.items.map((p) => ({
    name: p.metadata?.name ?? '?',
    phase: p.metadata?.deletionTimestamp ? 'Terminating' : p.status?.phase ?? 'Unknown',
    chaincodeId: p.metadata?.annotations?.[ANNOTATION.chaincodeId],
    peerId: p.metadata?.annotations?.[ANNOTATION.peerId],
    run: p.metadata?.annotations?.[ANNOTATION.run],
    created: p.metadata?.creationTimestamp ? new Date(p.metadata.creationTimestamp).toISOString() : undefined,
  }));
}

// The pod and Secret run creates, as plain manifests: names, labels, environment, TLS files, scheduling.
import { createHash } from 'node:crypto';
import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import type { PodRunInputs } from './index.js';

export const CONTAINER = 'chaincode';
/** Where the TLS files are mounted: fabric-builder-k8s's paths, so images made for it run unchanged. */
export const TLS_MOUNT = '/etc/hyperledger/fabric';

const DOMAIN = 'fabric-extbuilder';
export const LABEL = {
  managedBy: 'app.kubernetes.io/managed-by',
  peer: `${DOMAIN}/peer`,
  chaincodeLabel: `${DOMAIN}/chaincode-label`,
  packageHash: `${DOMAIN}/package-hash`,
} as const;
export const ANNOTATION = {
  chaincodeId: `${DOMAIN}/chaincode-id`,
  mspid: `${DOMAIN}/mspid`,
  peerAddress: `${DOMAIN}/peer-address`,
  peerId: `${DOMAIN}/peer-id`,
  /** `<hostname> <pid> <start time in clock ticks>`: which run supervises the pod, for doctor --kubernetes. */
  run: `${DOMAIN}/run`,
} as const;
export const MANAGED_BY = 'fabric-extbuilder';

const NAME_MAX = 63;
const HASH_LEN = 10;

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * A DNS-1123 label (lower-case alphanumerics and -, at most 63) unique per peer and package: the prefix,
 * the chaincode label made legal (any Fabric label works: upper case, _, ., + and a leading digit), and a
 * hash of the peer's ID and the package ID, which keeps two labels that sanitise alike apart.
 */
export function objectName(prefix: string, peerId: string, chaincodeId: string): string {
  const label = chaincodeId.slice(0, chaincodeId.lastIndexOf(':'));
  const readable = label.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
  const head = `${prefix}-${readable}`.slice(0, NAME_MAX - HASH_LEN - 1).replace(/-+$/, '');
  return `${head}-${sha256(`${peerId}\n${chaincodeId}`).slice(0, HASH_LEN)}`;
}

/** A label value (at most 63 of [A-Za-z0-9._-], alphanumeric at both ends); "" when nothing is left. */
export function labelValue(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, NAME_MAX).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

/** The labels that find this builder's pods and one peer's among them. */
export function selectorLabels(peerId: string): Record<string, string> {
  return { [LABEL.managedBy]: MANAGED_BY, [LABEL.peer]: labelValue(peerId) || sha256(peerId).slice(0, 16) };
}

export interface PodObjects {
  name: string;
  pod: V1Pod;
  /** Only with TLS. */
  secret?: V1Secret;
}

/** The environment the chaincode sees: launch mode's variables, both shim conventions for TLS, then the config's extras. */
function containerEnv(i: PodRunInputs, tls: boolean): { name: string; value: string }[] {
  const env: Record<string, string> = {
    CORE_CHAINCODE_ID_NAME: i.chaincode.chaincode_id,
    CORE_PEER_ADDRESS: i.settings.peerAddress,
    CORE_PEER_LOCALMSPID: i.chaincode.mspid,
    CORE_PEER_TLS_ENABLED: String(tls),
  };
  if (tls) {
    Object.assign(env, {
      CORE_PEER_TLS_ROOTCERT_FILE: `${TLS_MOUNT}/peer.crt`,
      CORE_TLS_CLIENT_CERT_FILE: `${TLS_MOUNT}/client_pem.crt`,
      CORE_TLS_CLIENT_KEY_FILE: `${TLS_MOUNT}/client_pem.key`,
      CORE_TLS_CLIENT_CERT_PATH: `${TLS_MOUNT}/client.crt`,
      CORE_TLS_CLIENT_KEY_PATH: `${TLS_MOUNT}/client.key`,
    });
  }
  Object.assign(env, i.settings.env);
  return Object.entries(env).map(([name, value]) => ({ name, value }));
}

/** The TLS Secret's files: PEM for the Go shim (*_FILE), base64 of the PEM for the Node and Java shims (*_PATH). */
function tlsData(i: PodRunInputs): Record<string, string> {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const c = i.chaincode;
  return {
    'peer.crt': b64(c.root_cert),
    'client_pem.crt': b64(c.client_cert),
    'client_pem.key': b64(c.client_key),
    'client.crt': b64(b64(c.client_cert)),
    'client.key': b64(b64(c.client_key)),
  };
}

/** `runStamp`: ANNOTATION.run's value for this run. */
export function podObjects(i: PodRunInputs, runStamp: string): PodObjects {
  const s = i.settings;
  const c = i.chaincode;
  const name = objectName(s.prefix, i.peerId, c.chaincode_id);
  const label = c.chaincode_id.slice(0, c.chaincode_id.lastIndexOf(':'));
  const hash = c.chaincode_id.slice(c.chaincode_id.lastIndexOf(':') + 1);
  const tls = c.client_cert !== '';
  const labels = {
    ...s.labels,
    ...selectorLabels(i.peerId),
    [LABEL.chaincodeLabel]: labelValue(label),
    // A label value holds 63 characters, the hash 64: its first 32 hex digits (128 bits) tell packages apart.
    [LABEL.packageHash]: hash.slice(0, 32),
  };
  const annotations = {
    ...s.annotations,
    [ANNOTATION.chaincodeId]: c.chaincode_id,
    [ANNOTATION.mspid]: c.mspid,
    [ANNOTATION.peerAddress]: s.peerAddress,
    [ANNOTATION.peerId]: i.peerId,
    [ANNOTATION.run]: runStamp,
  };
  const tolerations = [...(s.tolerations ?? [])];
  let affinity = s.affinity;
  if (s.nodeRole) {
    // fabric-builder-k8s's dedicated nodes: labelled and tainted fabric-builder-k8s-role=<role>.
    tolerations.push({ key: 'fabric-builder-k8s-role', operator: 'Equal', value: s.nodeRole, effect: 'NoSchedule' });
    affinity ??= { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'fabric-builder-k8s-role', operator: 'In', values: [s.nodeRole] }] }] } } };
  }
  const pod: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels, annotations },
    spec: {
      restartPolicy: 'Never',
      // The peer restarts a chaincode that exits; Kubernetes restarting it too would race the peer.
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      ...(s.serviceAccount ? { serviceAccountName: s.serviceAccount } : {}),
      ...(s.imagePullSecrets.length ? { imagePullSecrets: s.imagePullSecrets.map((n) => ({ name: n })) } : {}),
      ...(s.nodeSelector ? { nodeSelector: s.nodeSelector } : {}),
      ...(tolerations.length ? { tolerations: tolerations as NonNullable<V1Pod['spec']>['tolerations'] } : {}),
      ...(affinity ? { affinity: affinity as NonNullable<V1Pod['spec']>['affinity'] } : {}),
      ...(s.hostNetwork ? { hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' } : {}),
      containers: [{
        name: CONTAINER,
        image: i.image,
        imagePullPolicy: 'IfNotPresent',
        env: containerEnv(i, tls),
        ...(s.resources ? { resources: s.resources } : {}),
        ...(tls ? { volumeMounts: [{ name: 'tls', mountPath: TLS_MOUNT, readOnly: true }] } : {}),
      }],
      ...(tls ? { volumes: [{ name: 'tls', secret: { secretName: name } }] } : {}),
    },
  };
  const secret: V1Secret | undefined = tls
    ? { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name, labels, annotations: { [ANNOTATION.chaincodeId]: c.chaincode_id } }, data: tlsData(i) }
    : undefined;
  return { name, pod, secret };
}

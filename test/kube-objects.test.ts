// Kubernetes mode without a cluster: image.json and --image checks, object names for any Fabric label,
// the settings from the builder config and fabric-builder-k8s's variables, and the pod run would create.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseImageReference } from '../src/builder/image.js';
import { podSettings } from '../src/builder/kubernetes.js';
import { loadConfig } from '../src/core/config.js';
import { ExtError } from '../src/core/errors.js';
import { labelValue, objectName, podObjects } from '../src/kube/objects.js';
import type { PodRunInputs } from '../src/kube/index.js';
import { createLogger } from '../src/core/log.js';
import type { ChaincodeRun } from '../src/generated/types.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const HASH = 'c'.repeat(64);

function codeOf(f: () => unknown): string {
  try { f(); } catch (err) { return err instanceof ExtError ? err.code : `not an ExtError: ${String(err)}`; }
  return 'no error';
}

test('--image takes NAME@sha256:DIGEST (a tag beside the digest is dropped) and refuses a tag alone or a bad digest', () => {
  assert.deepEqual(parseImageReference(`ghcr.io/org/cc@${DIGEST}`, '--image'), { name: 'ghcr.io/org/cc', digest: DIGEST });
  assert.deepEqual(parseImageReference(`localhost:5000/cc:1.0@${DIGEST}`, '--image'), { name: 'localhost:5000/cc', digest: DIGEST });
  assert.equal(codeOf(() => parseImageReference('ghcr.io/org/cc:1.0', '--image')), 'IMAGE_DIGEST');
  assert.equal(codeOf(() => parseImageReference('ghcr.io/org/cc@sha256:abc', '--image')), 'IMAGE_DIGEST');
  assert.equal(codeOf(() => parseImageReference(`ghcr.io/Org/CC@${DIGEST}`, '--image')), 'IMAGE_INVALID');
});

test('object names are DNS-1123 labels of at most 63 characters for any Fabric label, unique per peer and package', () => {
  const dns1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
  const labels = ['basic_1.0', 'Basic_1.0', '1st.cc+v2', 'A'.repeat(200), 'x', '__a'];
  const names = new Set<string>();
  for (const label of labels) {
    for (const peer of ['peer0.org1', 'peer1.org1']) {
      const name = objectName('hlfcc', peer, `${label}:${HASH}`);
      assert.match(name, dns1123, name);
      assert.ok(name.length <= 63, name);
      names.add(name);
    }
  }
  assert.equal(names.size, labels.length * 2, 'no two (peer, package) pairs share a name');
  assert.equal(objectName('hlfcc', 'p', `basic_1.0:${HASH}`), objectName('hlfcc', 'p', `basic_1.0:${HASH}`));
  assert.notEqual(objectName('hlfcc', 'p', `basic_1.0:${HASH}`), objectName('hlfcc', 'p', `basic_1.0:${'d'.repeat(64)}`), 'an upgrade gets its own pod');
  assert.equal(objectName('hlfcc', 'p', `Basic_1.0:${HASH}`).slice(0, 16), 'hlfcc-basic-1-0-');
  for (const v of ['basic_1.0', '1st.cc+v2', 'peer0.org1.example.com', '-x-', 'a'.repeat(80)]) {
    assert.match(labelValue(v), /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/);
    assert.ok(labelValue(v).length <= 63);
  }
  assert.equal(labelValue('basic_1.0'), 'basic_1.0');
});

const RUN: ChaincodeRun = { chaincode_id: `basic_1.0:${HASH}`, peer_address: 'peer0.org1:7052', mspid: 'Org1MSP', client_cert: '', client_key: '', root_cert: '' };

test('settings: the builder config wins, fabric-builder-k8s\'s variables fill the rest, per-label resources replace global ones', () => {
  const env = {
    FABRIC_K8S_BUILDER_NAMESPACE: 'hlf', FABRIC_K8S_BUILDER_SERVICE_ACCOUNT: 'cc-sa', FABRIC_K8S_BUILDER_OBJECT_NAME_PREFIX: 'org1cc',
    FABRIC_K8S_BUILDER_START_TIMEOUT: '90s', FABRIC_K8S_BUILDER_NODE_ROLE: 'chaincode', KUBECONFIG_PATH: '/etc/kube/config',
  };
  const fromEnv = podSettings(loadConfig({ env: {}, builderDir: '/nonexistent' }), RUN, env);
  assert.equal(fromEnv.namespace, 'hlf');
  assert.equal(fromEnv.serviceAccount, 'cc-sa');
  assert.equal(fromEnv.prefix, 'org1cc');
  assert.equal(fromEnv.startTimeoutMs, 90_000);
  assert.equal(fromEnv.nodeRole, 'chaincode');
  assert.equal(fromEnv.kubeconfig, '/etc/kube/config');
  assert.equal(fromEnv.peerAddress, 'peer0.org1:7052');
  const defaults = podSettings(loadConfig({ env: {}, builderDir: '/nonexistent' }), RUN, {});
  assert.equal(defaults.startTimeoutMs, 180_000);
  assert.equal(defaults.prefix, 'hlfcc');
  assert.equal(defaults.namespace, undefined);

  const config = loadConfig({
    env: {
      EXTBUILDER_CONFIG: JSON.stringify({
        template: { org: 'org1' },
        kubernetes: {
          namespace: 'chaincode', start_timeout: '2m', peer_address: 'peer0-org1.hlf.svc:7052',
          resources: { requests: { cpu: '100m' } }, chaincodes: { 'basic_1.0': { resources: { limits: { memory: '256Mi' } } } },
          env: { ORG: '{{.org}}', CC: '{{.chaincode_id}}' },
        },
      }),
    },
    builderDir: '/nonexistent',
  });
  const s = podSettings(config, RUN, env);
  assert.equal(s.namespace, 'chaincode');
  assert.equal(s.startTimeoutMs, 120_000);
  assert.equal(s.peerAddress, 'peer0-org1.hlf.svc:7052');
  assert.deepEqual(s.resources, { limits: { memory: '256Mi' } });
  assert.deepEqual(s.env, { ORG: 'org1', CC: RUN.chaincode_id });
  assert.deepEqual(podSettings(config, { ...RUN, chaincode_id: `other_1:${HASH}` }, env).resources, { requests: { cpu: '100m' } });
  assert.equal(codeOf(() => podSettings(loadConfig({ env: { EXTBUILDER_CONFIG: '{"kubernetes": {"start_timeout": "3 minutes"}}' }, builderDir: '/x' }), RUN, {})), 'CONFIG_INVALID');
  assert.equal(codeOf(() => podSettings(loadConfig({ env: {}, builderDir: '/x' }), RUN, { FABRIC_K8S_BUILDER_START_TIMEOUT: 'soon' })), 'CONFIG_INVALID');
  assert.equal(codeOf(() => loadConfig({ env: { EXTBUILDER_CONFIG: '{"kubernetes": {"namespce": "x"}}' }, builderDir: '/x' })), 'CONFIG_INVALID');
});

test('the pod: pinned image, Never restarted, scheduling, labels, annotations, no service-account token; the Secret only with TLS', () => {
  const settings = podSettings(loadConfig({
    env: {
      EXTBUILDER_CONFIG: JSON.stringify({
        kubernetes: {
          service_account: 'cc', image_pull_secrets: ['regcred'], node_selector: { pool: 'cc' }, node_role: 'chaincode',
          tolerations: [{ key: 'dedicated', operator: 'Exists' }], labels: { team: 'a' }, annotations: { 'example.com/x': 'y' }, host_network: true,
        },
      }),
    },
    builderDir: '/nonexistent',
  }), RUN, {});
  const inputs: PodRunInputs = { image: `ghcr.io/org/cc@${DIGEST}`, chaincode: RUN, peerId: 'peer0.org1', settings, env: {}, log: createLogger({ phase: 'run' }) };
  const { name, pod, secret } = podObjects(inputs, 'host 1 2');
  assert.equal(secret, undefined);
  assert.equal(pod.metadata!.name, name);
  const spec = pod.spec!;
  assert.equal(spec.restartPolicy, 'Never');
  assert.equal(spec.automountServiceAccountToken, false);
  assert.equal(spec.serviceAccountName, 'cc');
  assert.deepEqual(spec.imagePullSecrets, [{ name: 'regcred' }]);
  assert.deepEqual(spec.nodeSelector, { pool: 'cc' });
  assert.equal(spec.hostNetwork, true);
  assert.deepEqual(spec.tolerations!.map((t) => t.key), ['dedicated', 'fabric-builder-k8s-role']);
  assert.deepEqual(spec.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms[0]!.matchExpressions, [{ key: 'fabric-builder-k8s-role', operator: 'In', values: ['chaincode'] }]);
  assert.equal(spec.containers[0]!.image, `ghcr.io/org/cc@${DIGEST}`);
  assert.equal(spec.volumes, undefined);
  const env = Object.fromEntries(spec.containers[0]!.env!.map((e) => [e.name, e.value]));
  assert.deepEqual(env, { CORE_CHAINCODE_ID_NAME: RUN.chaincode_id, CORE_PEER_ADDRESS: 'peer0.org1:7052', CORE_PEER_LOCALMSPID: 'Org1MSP', CORE_PEER_TLS_ENABLED: 'false' });
  assert.equal(pod.metadata!.labels!.team, 'a');
  assert.equal(pod.metadata!.labels!['fabric-extbuilder/package-hash'], HASH.slice(0, 32));
  assert.equal(pod.metadata!.annotations!['example.com/x'], 'y');
  assert.equal(pod.metadata!.annotations!['fabric-extbuilder/mspid'], 'Org1MSP');

  const tls = podObjects({ ...inputs, chaincode: { ...RUN, client_cert: 'CERT', client_key: 'KEY', root_cert: 'ROOT' } }, 'host 1 2');
  assert.deepEqual(tls.pod.spec!.volumes, [{ name: 'tls', secret: { secretName: tls.name } }]);
  assert.equal(Buffer.from(tls.secret!.data!['client_pem.key']!, 'base64').toString(), 'KEY');
  assert.equal(Buffer.from(tls.secret!.data!['client.key']!, 'base64').toString(), Buffer.from('KEY').toString('base64'));
  assert.equal(Buffer.from(tls.secret!.data!['peer.crt']!, 'base64').toString(), 'ROOT');
});

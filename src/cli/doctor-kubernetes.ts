// doctor --kubernetes: may the configured identity do what run does (SelfSubjectAccessReview against the
// minimal Role in docs/kubernetes.md), and which chaincode pods have lost the run that supervised them.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Config } from '../core/config.js';
import { ExtError } from '../core/errors.js';
import type { Finding } from './report.js';

type Env = Record<string, string | undefined>;

/** Whether the run named by a pod's `<host> <pid> <start time>` stamp still lives, as seen from here. */
export function runState(stamp: string | undefined, here = hostname()): 'alive' | 'gone' | 'elsewhere' | 'unknown' {
  const [host, pid, start] = (stamp ?? '').split(' ');
  if (!host || !pid) return 'unknown';
  if (host !== here) return 'elsewhere';
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // The same PID with another start time is another process: the run is gone.
    return fields[0] !== 'Z' && (start === '?' || fields[19] === start) ? 'alive' : 'gone';
  } catch {
    return 'gone';
  }
}

export async function kubernetesFindings(config: Config, env: Env): Promise<Finding[]> {
  const kube = await import('../kube/index.js');
  const { podSettings } = await import('../builder/kubernetes.js');
  const out: Finding[] = [];
  try {
    // The settings run would use; the chaincode fields only shape the pod, not the connection.
    const settings = podSettings(config, { chaincode_id: 'doctor:0', peer_address: 'doctor:0', mspid: '', client_cert: '', client_key: '', root_cert: '' }, env);
    const k = kube.connect(settings, env);
    const access = await kube.checkAccess(k);
    out.push({ verdict: 'ok', what: `Kubernetes API ${k.server} answers; credentials from the ${k.source}; namespace ${k.namespace}` });
    for (const a of access) {
      out.push(a.allowed
        ? { verdict: 'ok', what: `may ${a.verb} ${a.resource} in ${k.namespace} (${a.why})` }
        : { verdict: 'fail', what: `may not ${a.verb} ${a.resource} in ${k.namespace}, needed to ${a.why}: run fails with K8S_FORBIDDEN${a.reason ? ` (${a.reason})` : ''}`, fix: `grant ${a.verb} on ${a.resource}: the Role in docs/kubernetes.md` });
    }
    if (!access.some((a) => a.verb === 'list' && a.resource === 'pods' && a.allowed)) return out;
    const pods = await kube.listPods(k);
    if (pods.length === 0) out.push({ verdict: 'ok', what: `no chaincode pods of this builder in ${k.namespace}` });
    for (const p of pods) {
      const what = `pod ${p.name} (${p.chaincodeId ?? 'unknown chaincode'}, peer ${p.peerId ?? '?'}, ${p.phase})`;
      let state = runState(p.run);
      const [host, pid] = (p.run ?? '').split(' ');
      // This peer's pod made by a run on another host: the peer has moved (a restarted Deployment pod gets
      // a new name), and the runs of its old host are gone with it.
      const ours = !!env.CORE_PEER_ID && p.peerId === env.CORE_PEER_ID;
      if (state === 'elsewhere' && ours) state = 'gone';
      if (state === 'gone') {
        out.push({ verdict: 'warn', what: `${what}: run gone (${host === hostname() ? `PID ${pid} on this host no longer runs` : `it ran on ${host}, and this peer now runs here`}), so nothing stops this pod`, fix: `kubectl -n ${k.namespace} delete pod ${p.name}; the next run of this package on that peer deletes it too` });
      } else if (state === 'alive') {
        out.push({ verdict: 'ok', what: `${what}: supervised by run PID ${pid}` });
      } else {
        out.push({ verdict: 'ok', what: `${what}: made by a run on ${host ?? 'an unknown host'}, not checked from here (give CORE_PEER_ID to recognise this peer's own pods, or run doctor --kubernetes in that peer)` });
      }
    }
  } catch (err) {
    if (!(err instanceof ExtError)) throw err;
    out.push({ verdict: 'fail', what: `Kubernetes: ${err.code}: ${err.what}`, fix: err.fix });
  }
  return out;
}

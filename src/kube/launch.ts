// run's Kubernetes supervisor: the pod (and its TLS Secret) for one launch, watched until the chaincode
// container runs, its log streamed to stderr, its exit code returned; never a pod left behind by a run
// that ended, and a pod left by a killed run removed by the next.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Writable } from 'node:stream';
import { Log, Watch, type V1ContainerStatus, type V1Pod } from '@kubernetes/client-node';
import { ExtError } from '../core/errors.js';
import { LineCapper, MAX_CHAINCODE_LINE } from '../core/line-capper.js';
import type { Logger } from '../core/log.js';
import { apiError, call, connect, type Kube } from './client.js';
import type { PodRunInputs } from './index.js';
import { CONTAINER, podObjects } from './objects.js';

/** The peer SIGKILLs run 5 s after SIGTERM: deleting and watching the pod go must fit well inside that. */
const STOP_BUDGET_MS = 3500;
/** The chaincode's own grace on SIGTERM: the peer already decided to stop it, and it holds no state. */
const POD_GRACE_S = 1;
/** A pod a killed run left: nobody supervises it, so it goes at once. */
const LEFTOVER_WAIT_MS = 30_000;

/** Waiting reasons after which the container will not start on its own. */
const PULL_FAILURES = new Set(['ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName']);
const START_FAILURES = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError', 'PreCreateHookError', 'PreStartHookError']);
/** Terminated reasons that mean the command never ran (not an exit of the chaincode). */
const NEVER_RAN = new Set(['StartError', 'ContainerCannotRun']);

/** `<host> <pid> <start time>`: enough for doctor --kubernetes to tell whether this run still lives. */
export function runStamp(): string {
  let start = '?';
  try {
    // Field 22 of /proc/self/stat, after the parenthesised command name, which may hold spaces.
    const stat = readFileSync('/proc/self/stat', 'utf8');
    start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '?';
  } catch { /* not Linux: doctor cannot check the PID's identity */ }
  return `${hostname()} ${process.pid} ${start}`;
}

function chaincodeStatus(pod: V1Pod): V1ContainerStatus | undefined {
  return pod.status?.containerStatuses?.find((c) => c.name === CONTAINER);
}

class Stopped extends Error {
  constructor(readonly signal: NodeJS.Signals) { super(signal); }
}

/** What the start watch concludes. */
type Start = { kind: 'running'; pod: V1Pod } | { kind: 'terminated'; pod: V1Pod };

class PodRun {
  private stopSignal?: NodeJS.Signals;
  private onStop: (() => void)[] = [];
  /** The pod exists (or its create was answered): a failure must delete it. */
  created = false;
  private secretCreated = false;
  private readonly handlers: [NodeJS.Signals, () => void][] = [];

  constructor(private readonly kube: Kube, private readonly name: string, private readonly log: Logger, private readonly tls: boolean) {}

  private andSecret(): string {
    return this.tls ? ' and its Secret' : '';
  }

  listen(): void {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      const h = () => {
        if (this.stopSignal) return;
        this.stopSignal = sig;
        this.log.info(`${sig}: deleting pod ${this.where()}${this.andSecret()}${this.created ? '' : ' (if they were created)'}`);
        this.onStop.splice(0).forEach((f) => f());
      };
      process.on(sig, h);
      this.handlers.push([sig, h]);
    }
  }

  unlisten(): void {
    for (const [sig, h] of this.handlers) process.off(sig, h);
  }

  where(): string {
    return `${this.kube.namespace}/${this.name}`;
  }

  /** Throws Stopped once a signal came: called after each step that must not be cut short (creates). */
  checkStop(): void {
    if (this.stopSignal) throw new Stopped(this.stopSignal);
  }

  /** A promise that rejects with Stopped when a signal comes, for racing waits. */
  stopped(): Promise<never> {
    return new Promise((_, reject) => {
      if (this.stopSignal) reject(new Stopped(this.stopSignal));
      else this.onStop.push(() => reject(new Stopped(this.stopSignal!)));
    });
  }

  /** `secret`: delete the Secret too (unless it was never created); it is owned by the pod, so the garbage
   * collector would take it as well, but deleting it now takes the key material at once. */
  async deleteAll(graceSeconds: number, secret = this.secretCreated): Promise<void> {
    const { core, namespace } = this.kube;
    await call(this.kube, 'delete', 'pods', () => core.deleteNamespacedPod({ name: this.name, namespace, gracePeriodSeconds: graceSeconds }), true);
    if (secret) await call(this.kube, 'delete', 'secrets', () => core.deleteNamespacedSecret({ name: this.name, namespace }), true);
  }

  /** Polls until the pod is gone; false if it is still there after `ms`. `stoppable`: a signal ends the wait. */
  async waitGone(ms: number, stoppable = false): Promise<boolean> {
    const until = Date.now() + ms;
    for (;;) {
      if (stoppable) this.checkStop();
      const pod = await call(this.kube, 'get', 'pods', () => this.kube.core.readNamespacedPod({ name: this.name, namespace: this.kube.namespace }), true);
      if (!pod) return true;
      if (Date.now() >= until) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** A pod of this name is one a killed run left (the name is unique per peer and package). */
  async removeLeftover(): Promise<void> {
    const pod = await call(this.kube, 'get', 'pods', () => this.kube.core.readNamespacedPod({ name: this.name, namespace: this.kube.namespace }), true);
    // No pod: any Secret of that name is owned by a deleted pod, and the garbage collector takes it.
    if (!pod) return;
    this.log.info(`deleting pod ${this.where()}, left by an earlier run of this package that did not stop it (${pod.metadata?.annotations?.['fabric-extbuilder/run'] ?? 'unknown run'})`);
    await this.deleteAll(0, pod.spec?.volumes?.some((v) => v.secret?.secretName === this.name) ?? false);
    if (!(await this.waitGone(LEFTOVER_WAIT_MS, true))) {
      throw new ExtError('K8S_API', `pod ${this.where()}, left by an earlier run, was still there ${LEFTOVER_WAIT_MS / 1000} s after it was deleted`, `check it with kubectl -n ${this.kube.namespace} describe pod ${this.name}`);
    }
  }

  async create(pod: V1Pod, secret: PodObjectsSecret): Promise<void> {
    const { core, namespace } = this.kube;
    // The pod first, then the Secret owned by it: the kubelet waits for a missing Secret volume, and the
    // ownerReference needs the pod's UID. No update permission is needed.
    const made = await call(this.kube, 'create', 'pods', () => core.createNamespacedPod({ namespace, body: pod }));
    this.created = true;
    if (secret) {
      secret.metadata!.ownerReferences = [{ apiVersion: 'v1', kind: 'Pod', name: this.name, uid: made.metadata!.uid! }];
      await call(this.kube, 'create', 'secrets', () => core.createNamespacedSecret({ namespace, body: secret }));
      this.secretCreated = true;
    }
  }

  /**
   * Watches the pod until `decide` returns a value. The watch is restarted when the server ends it; a
   * watch with no resourceVersion begins with the pod as it is, so no state change is missed.
   */
  watch<T>(decide: (pod: V1Pod | undefined) => T | undefined, timeoutMs?: number): Promise<T | 'timeout'> {
    const { kube, name } = this;
    return new Promise<T | 'timeout'>((resolve, reject) => {
      let settled = false;
      let ctl: AbortController | undefined;
      let timer: NodeJS.Timeout | undefined;
      const finish = (f: () => void) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        ctl?.abort();
        f();
      };
      if (timeoutMs !== undefined) timer = setTimeout(() => finish(() => resolve('timeout')), timeoutMs);
      this.stopped().catch((err: unknown) => finish(() => reject(err)));
      const start = () => {
        if (settled) return;
        new Watch(kube.kc).watch(`/api/v1/namespaces/${kube.namespace}/pods`, { fieldSelector: `metadata.name=${name}` }, (type, obj: V1Pod) => {
          if (settled || type === 'BOOKMARK' || type === 'ERROR') return;
          let verdict: T | undefined;
          try { verdict = decide(type === 'DELETED' ? undefined : obj); } catch (err) { finish(() => reject(err)); return; }
          if (verdict !== undefined) finish(() => resolve(verdict!));
        }, (err: unknown) => {
          if (settled) return;
          const status = (err as { statusCode?: unknown } | null)?.statusCode;
          if (typeof status === 'number' && status >= 400 && status !== 410) {
            finish(() => reject(apiError(kube, { code: status, body: {} }, 'watch', 'pods')));
            return;
          }
          setTimeout(start, err ? 500 : 0).unref();
        }).then((c) => { ctl = c; if (settled) c.abort(); }, (err: unknown) => finish(() => reject(apiError(kube, err, 'watch', 'pods'))));
      };
      start();
    });
  }

  /** Until the chaincode container runs (or ended already), or a state it cannot leave by itself. */
  async waitStarted(timeoutMs: number): Promise<Start> {
    let last = 'no status yet';
    const r = await this.watch<Start>((pod) => {
      if (!pod) throw new ExtError('K8S_POD_GONE', `pod ${this.where()} was deleted before its chaincode container ran`, 'something else deletes the chaincode pods; check who with kubectl get events');
      const cs = chaincodeStatus(pod);
      const waiting = cs?.state?.waiting;
      if (waiting?.reason) last = `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`;
      if (waiting?.reason && PULL_FAILURES.has(waiting.reason)) {
        throw new ExtError('K8S_IMAGE_PULL', `the node cannot pull the image for pod ${this.where()}: ${last}`,
          'check the image name and digest in the package, that the registry is reachable from the nodes, and kubernetes.image_pull_secrets');
      }
      if (waiting?.reason && START_FAILURES.has(waiting.reason)) {
        throw new ExtError('K8S_CONTAINER_START', `the chaincode container of pod ${this.where()} cannot start: ${last}`, 'check the image\'s entrypoint and the kubernetes settings in the builder config');
      }
      const sched = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
      if (sched?.status === 'False' && sched.reason === 'Unschedulable') {
        throw new ExtError('K8S_UNSCHEDULABLE', `no node can take pod ${this.where()}: ${sched.message ?? 'Unschedulable'}`,
          'lower kubernetes.resources, or fix node_selector, tolerations, affinity or node_role');
      }
      const term = cs?.state?.terminated;
      if (term) {
        if (term.reason && NEVER_RAN.has(term.reason)) {
          throw new ExtError('K8S_CONTAINER_START', `the chaincode container of pod ${this.where()} crashed before it started: ${term.reason}${term.message ? `: ${term.message.trim()}` : ''} (exit code ${term.exitCode})`,
            'check the image\'s entrypoint: the command it names must exist in the image');
        }
        return { kind: 'terminated', pod };
      }
      if (cs?.state?.running) return { kind: 'running', pod };
      if (pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded') return { kind: 'terminated', pod };
      return undefined;
    }, timeoutMs);
    if (r === 'timeout') {
      const limit = timeoutMs < 10_000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`;
      throw new ExtError('K8S_START_TIMEOUT', `the chaincode container of pod ${this.where()} was not running within ${limit} (last: ${last})`,
        'see kubectl describe pod for the cause, or raise kubernetes.start_timeout (FABRIC_K8S_BUILDER_START_TIMEOUT)');
    }
    return r;
  }

  /**
   * The chaincode container's log to stderr, line-capped, until the container ends (or a signal). A stream
   * the API server or a proxy cuts while the container runs is opened again from a second before the cut,
   * so a line may repeat but none is lost.
   */
  async streamLog(): Promise<void> {
    process.stderr.on('error', () => undefined); // a peer that stopped reading must not end the supervision
    let since: number | undefined;
    for (;;) {
      await this.streamLogOnce(since);
      const pod = await call(this.kube, 'get', 'pods', () => this.kube.core.readNamespacedPod({ name: this.name, namespace: this.kube.namespace }), true);
      if (!pod || !chaincodeStatus(pod)?.state?.running) return;
      this.checkStop();
      this.log.info('the chaincode\'s log stream ended while it runs; opening it again');
      await Promise.race([new Promise((r) => setTimeout(r, 1000)), this.stopped()]);
      since = this.lastOutput === undefined ? undefined : Math.ceil((Date.now() - this.lastOutput) / 1000) + 1;
    }
  }

  /** When the last chunk of the chaincode's output arrived. */
  private lastOutput?: number;

  private async streamLogOnce(sinceSeconds?: number): Promise<void> {
    const capper = new LineCapper(MAX_CHAINCODE_LINE, (line) => { process.stderr.write(`${line}\n`); });
    let ctl: AbortController | undefined;
    const ended = new Promise<void>((resolve) => {
      const sink = new Writable({
        decodeStrings: false,
        write: (chunk: Buffer | string, _enc, cb) => { this.lastOutput = Date.now(); capper.push(chunk.toString()); cb(); },
        final(cb) { capper.end(); cb(); resolve(); },
      });
      sink.on('error', () => resolve());
      new Log(this.kube.kc).log(this.kube.namespace, this.name, CONTAINER, sink, { follow: true, ...(sinceSeconds ? { sinceSeconds } : {}) })
        .then((c) => { ctl = c; }, (err: unknown) => {
          this.log.info(`cannot stream the chaincode's log: ${apiError(this.kube, err, 'get', 'pods/log').what}`);
          resolve();
        });
    });
    try {
      await Promise.race([ended, this.stopped()]);
    } finally {
      ctl?.abort();
    }
  }

  /** After the log ends: the container's exit code, once the API shows it terminated. */
  async exitCode(): Promise<{ code: number; why: string }> {
    const r = await this.watch<{ code: number; why: string }>((pod) => {
      if (!pod) throw new ExtError('K8S_POD_GONE', `pod ${this.where()} was deleted while its chaincode ran`, 'something else deletes the chaincode pods; check who with kubectl get events');
      const term = chaincodeStatus(pod)?.state?.terminated;
      if (term) return { code: term.exitCode, why: `${term.reason ?? 'terminated'}, exit code ${term.exitCode}` };
      if (pod.status?.phase === 'Failed' && pod.status.reason) throw new ExtError('K8S_POD_GONE', `pod ${this.where()} failed: ${pod.status.reason}: ${pod.status.message ?? ''}`.trim(), 'the node ended the pod (evicted, or lost); the peer starts the chaincode again');
      return undefined;
    });
    if (r === 'timeout') throw new Error('unreachable');
    return r;
  }
}

type PodObjectsSecret = ReturnType<typeof podObjects>['secret'];

/** Starts the chaincode as a pod and supervises it; returns the container's exit code. */
export async function runPod(i: PodRunInputs): Promise<number> {
  const log = i.log;
  const kube = connect(i.settings, i.env);
  const { name, pod, secret } = podObjects(i, runStamp());
  const run = new PodRun(kube, name, log, secret !== undefined);
  run.listen();
  const t0 = Date.now();
  try {
    await run.removeLeftover();
    run.checkStop();
    await run.create(pod, secret);
    run.checkStop();
    const started = await run.waitStarted(i.settings.startTimeoutMs);
    const node = started.pod.spec?.nodeName ?? '?';
    log.info(`${i.chaincode.chaincode_id} -> ${i.settings.peerAddress} (tls ${secret ? 'on' : 'off'}), pod ${run.where()} on node ${node}, image ${i.image}, running after ${Date.now() - t0} ms`);
    await run.streamLog();
    const { code, why } = await Promise.race([run.exitCode(), run.stopped()]);
    log.info(`chaincode ${i.chaincode.chaincode_id} exited (${why}); deleting pod ${run.where()}`);
    await run.deleteAll(0);
    return code;
  } catch (err) {
    if (err instanceof Stopped) {
      const t = Date.now();
      try {
        await run.deleteAll(POD_GRACE_S);
        const gone = await run.waitGone(Math.max(0, STOP_BUDGET_MS - (Date.now() - t)));
        log.info(gone ? `pod ${run.where()}${secret ? ' and its Secret' : ''} deleted in ${Date.now() - t} ms` : `pod ${run.where()} is still terminating after ${STOP_BUDGET_MS / 1000} s; Kubernetes finishes deleting it${secret ? ' (its Secret is deleted)' : ''}`);
      } catch (e) {
        log.info(`could not delete pod ${run.where()}: ${e instanceof ExtError ? `${e.code}: ${e.what}` : String(e)}; the next run of this package deletes it, and extbuilder doctor --kubernetes lists it`);
      }
      return 128 + (err.signal === 'SIGINT' ? 2 : 15);
    }
    // A failed start leaves nothing: the pod (and with it the Secret) goes before the error is reported.
    if (run.created) try {
      await run.deleteAll(0);
    } catch (e) {
      log.info(`could not delete pod ${run.where()} after the failure: ${e instanceof ExtError ? `${e.code}: ${e.what}` : String(e)}`);
    }
    throw err;
  } finally {
    run.unlisten();
  }
}

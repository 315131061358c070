// extbuilder simulate PACKAGE: does with a package what a peer does, step by step, and says which step
// fails and why: parse, extract, detect/build/release, durable copy and release read, then dial the
// chaincode server (service mode) or run it and wait for it to register (launch mode), then --invoke.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { ExtError, formatError } from '../core/errors.js';
import { extractCode, readPackage } from '../core/pkg/read.js';
import { BUILD_INFO, CopyRefused, durablePaths, MalformedChaincodeInfo, persistBuild, readRelease, type PeerConnection, type PeerVersion } from '../peer/durable.js';
import type { PeerSession } from '../peer/handler.js';
import { createBuildContext, invokePhase, peerEnvironment, writePeerMetadata, type PhaseRun } from '../peer/invoke.js';
import type { PeerListener } from '../peer/listen.js';
import type { CliCommand } from './commands.js';
import { failed } from './fail.js';
import { checkExecutable, findEntry, ownBuilderDir, peerVersionOf, readCoreYaml } from './doctor.js';
import { formatStep, stepError, type Step } from './report.js';

export interface SimulateInputs {
  packageFile: string;
  builderDir: string;
  /** The builder's name in core.yaml: the peer's logger and build-info.json use it. */
  builderName: string;
  /** Variables passed on besides PATH, TMPDIR, LD_LIBRARY_PATH, LIBPATH. */
  propagate: string[];
  version: PeerVersion;
  /** Each: function name, then its arguments. */
  invokes: string[][];
  env: Record<string, string | undefined>;
  /** The peer's fileSystemPath; default a temporary one, removed at the end. */
  fsPath?: string;
  keep?: boolean;
  /** Launch mode: whether the peer's chaincode listener uses TLS (peer.tls.enabled). */
  peerTls?: boolean;
  phaseTimeoutMs?: number;
  registerTimeoutMs?: number;
  /** Called as each step completes, for live output. */
  onStep?: (n: number, step: Step) => void;
  /** Interrupts the step in progress; the cleanup (stop run, remove scratch dirs) still runs. */
  abort?: AbortSignal;
}

export interface SimulateReport {
  package: string;
  packageId?: string;
  mode?: 'service' | 'launch';
  builder: { dir: string; name: string };
  peerVersion: PeerVersion;
  durableDir?: string;
  ok: boolean;
  steps: Step[];
}

/** The peer's log line for one stderr line of a builder phase. */
export function peerLogLine(builderName: string, phase: string, line: string): string {
  return `[chaincode.externalbuilder.${builderName}] waitForExit -> ${line} command=${phase}`;
}

/** The peer's exec.LookPath test for release: an existing non-directory with an execute bit. */
function lookPath(file: string): boolean {
  try {
    const st = statSync(file);
    return !st.isDirectory() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

function durationText(ns: number): string {
  return ns % 1e9 === 0 ? `${ns / 1e9}s` : ns % 1e6 === 0 ? `${ns / 1e6}ms` : `${ns}ns`;
}

function tlsText(c: PeerConnection): string {
  if (!c.tls) return 'tls off';
  const name = c.tls.serverNameOverride ?? c.address.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return `tls ${c.tls.client ? 'mutual' : 'on'}, server name ${name}${c.tls.serverNameOverride ? ' (domain)' : ''}`;
}

class StepFailure extends Error {}

/** The variables the builder's configuration is read from: the peer passes them only if propagated. */
const CONFIG_VARIABLES = ['EXTBUILDER_CONFIG', 'CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG'];

export async function simulate(i: SimulateInputs): Promise<SimulateReport> {
  const report: SimulateReport = { package: i.packageFile, builder: { dir: i.builderDir, name: i.builderName }, peerVersion: i.version, ok: false, steps: [] };
  const tmp = i.env.TMPDIR || tmpdir();
  const phaseEnv = peerEnvironment(i.env, i.propagate);
  // The configuration set in this shell that the peer would not pass to the builder: the real cause of a
  // build that then says, e.g., "set tls.root_cert_file", which the user did, in a variable the builder never got.
  const dropped = CONFIG_VARIABLES.filter((v) => (i.env[v] ?? '') !== '' && phaseEnv[v] === undefined);
  const notPassed = (phaseName: string, r: PhaseRun): ExtError | undefined => {
    if (dropped.length === 0) return undefined;
    const own = r.lines.map((l) => new RegExp(`^extbuilder ${phaseName}: ([A-Z_]+): `).exec(l)?.[1]).find(Boolean);
    const list = dropped.join(' and ');
    return new ExtError('SIM_ENV_NOT_PROPAGATED',
      `${phaseName} exited ${r.code ?? r.signal}${own ? ` with ${own}` : ''}, but ${list} ${dropped.length === 1 ? 'is' : 'are'} set in this shell and not in the propagateEnvironment of builder ${i.builderName} (${i.builderDir}), so the peer does not pass ${dropped.length === 1 ? 'it' : 'them'} on and ${phaseName} ran without ${dropped.length === 1 ? 'it' : 'them'}`,
      `add ${list} to propagateEnvironment of the externalBuilders entry ${i.builderName} in core.yaml (or CORE_CHAINCODE_EXTERNALBUILDERS) and set ${dropped.length === 1 ? 'it' : 'them'} in the peer's environment; for this simulation, --propagate ${dropped.join(',')} or --core-yaml`);
  };
  const fsPath = i.fsPath ?? mkdtempSync(join(tmp, 'extbuilder-simulate-'));
  const cleanups: (() => Promise<void> | void)[] = [];
  if (!i.fsPath && !i.keep) cleanups.push(() => rmSync(fsPath, { recursive: true, force: true }));

  const interrupted = new Promise<never>((_, reject) => {
    const stop = (): void => reject(new ExtError('SIM_INTERRUPTED', 'interrupted by a signal', 'run it again'));
    if (i.abort?.aborted) stop(); else i.abort?.addEventListener('abort', stop, { once: true });
  });
  interrupted.catch(() => undefined);

  /** Runs one step; a throw marks it failed and ends the simulation. */
  const step = async (name: string, body: (s: Step) => Promise<string>): Promise<void> => {
    const s: Step = { name, verdict: 'ok', ms: 0, summary: '', details: [] };
    const started = Date.now();
    try {
      s.summary = await Promise.race([body(s), interrupted]);
    } catch (err) {
      s.verdict = 'fail';
      s.error = stepError(err);
      s.summary = s.summary || s.error.code;
    }
    s.ms = Date.now() - started;
    report.steps.push(s);
    i.onStep?.(report.steps.length, s);
    if (s.verdict === 'fail') throw new StepFailure();
  };

  /** A builder phase as the peer runs it; its stderr lines go into the step's details. */
  const phase = async (s: Step, name: string, args: string[]): Promise<PhaseRun> => {
    const r = await invokePhase(i.builderDir, name, args, {
      env: phaseEnv, timeoutMs: i.phaseTimeoutMs ?? 120_000,
      onLine: (line) => s.details.push(peerLogLine(i.builderName, name, line)),
    });
    if (r.scanFailed) s.details.push(`a stderr line exceeded 64 KiB: the peer stops reading there ("command output scanning failed") and the phase may hang`);
    if (r.execError || r.code !== 0) {
      // The peer's log cannot say why an exec failed; the executable checks can.
      for (const f of checkExecutable(join(i.builderDir, 'bin', name), `bin/${name}`, phaseEnv.PATH)) {
        if (f.verdict !== 'ok') s.details.push(`${f.verdict}: ${f.what} (${f.fix})`);
      }
    }
    const broken = s.details.find((d) => d.startsWith('fail: '))?.slice(6);
    if (r.execError || broken) {
      // Also when it ran: a script with CRLF inside starts, then fails on its first command.
      const how = r.execError ? `cannot execute ${join(i.builderDir, 'bin', name)} (${r.execError})` : `runs ${join(i.builderDir, 'bin', name)} but it exits ${r.code ?? r.signal}`;
      throw new ExtError('SIM_PHASE_EXEC', `the peer ${how}${name === 'detect' ? ', so it counts as "not detected"' : ''}: ${broken ?? r.execError}`,
        'fix the builder installation (extbuilder doctor --builder DIR checks it)');
    }
    return r;
  };

  let session: PeerSession | undefined;
  try {
    // 1. Parse, with the peer's verdicts (the same reader as inspect).
    const pkg = await (async () => {
      let r: Awaited<ReturnType<typeof readPackage>> | undefined;
      await step('package', async (s) => {
        r = await readPackage(i.packageFile);
        s.details.push(...r.peerWarnings.map((w) => `peer warning: ${w}`));
        if (r.installError) throw r.installError;
        report.packageId = r.id;
        const type = (r.metadata as { type?: unknown } | null)?.type;
        const files = r.code?.files;
        const mode = ['connection.json', 'launch.json', 'image.json'].filter((f) => files?.has(f)).join(' and ') || 'none of connection.json, launch.json and image.json';
        return `${r.id} (type ${JSON.stringify(type)}, ${r.code?.entries.length ?? 0} code ${r.code?.entries.length === 1 ? 'entry' : 'entries'}, ${mode})`;
      });
      return r!;
    })();
    const id = pkg.id!;
    const durable = durablePaths(fsPath, id);
    report.durableDir = durable.dir;

    if (existsSync(durable.dir)) {
      // The peer never rebuilds a package whose durable build exists.
      await step('cached', async (s) => {
        let builder: unknown;
        try {
          builder = (JSON.parse(readFileSync(join(durable.dir, BUILD_INFO), 'utf8')) as { builder_name?: unknown }).builder_name;
        } catch (err) {
          throw new ExtError('SIM_DURABLE_BROKEN', `could not read '${join(durable.dir, BUILD_INFO)}' for build info (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): every Build of this package fails`, `delete ${durable.dir} and restart the peer`);
        }
        if (builder !== i.builderName) {
          throw new ExtError('SIM_DURABLE_BROKEN', `chaincode '${id}' was already built with builder ${JSON.stringify(builder)}, but that builder is no longer available (this simulation's builder is ${i.builderName})`,
            `give --name ${String(builder)} if that is this builder, or delete ${durable.dir} and restart the peer`);
        }
        s.verdict = 'warn';
        s.details.push(`the peer reuses ${durable.dir} and runs no detect, build or release; delete it and restart the peer to rebuild`);
        return 'durable build exists: detect, build and release skipped, as the peer skips them';
      });
    } else {
      // 2. Extract into $TMPDIR/fabric-<id><random>/ with Untar's rules.
      const ctx = createBuildContext(tmp, id);
      cleanups.push(() => rmSync(ctx.root, { recursive: true, force: true }));
      await step('extract', async () => {
        writePeerMetadata(ctx, pkg.metadataBytes!);
        await extractCode(i.packageFile, ctx.src, pkg);
        return `into ${ctx.root}/{src,metadata,bld,release} (dirs 0700, metadata.json verbatim)`;
      });

      // 3. detect, build, release.
      await step('detect', async (s) => {
        const r = await phase(s, 'detect', [ctx.src, ctx.metadata]);
        if (r.code !== 0) {
          const env = notPassed('detect', r);
          if (env) throw env;
          throw new ExtError('SIM_DETECT_DECLINED', `detect of ${i.builderName} exited ${r.code ?? r.signal}: it does not claim type ${JSON.stringify((pkg.metadata as { type?: unknown }).type)}`,
            'the peer logs this at DEBUG only, tries the next builder, then Docker ("docker build failed" or "docker build is disabled"): make the builder claim this type (extbuilder: config "types"), or package with a type it claims');
        }
        return `claimed (exit 0, ${r.ms} ms)`;
      });
      await step('build', async (s) => {
        const r = await phase(s, 'build', [ctx.src, ctx.metadata, ctx.bld]);
        if (r.code !== 0) {
          const env = notPassed('build', r);
          if (env) throw env;
          throw new ExtError('SIM_PHASE_FAILED', `build exited ${r.code ?? r.signal}; the peer reports only "external builder '${i.builderName}' failed: exit status ${r.code ?? 1}"`, 'the reason is in the stderr lines above (the peer log shows them at INFO)');
        }
        if (dropped.length > 0) {
          s.verdict = 'warn';
          s.details.push(`${dropped.join(' and ')} set in this shell but not propagated to builder ${i.builderName}: build ran without ${dropped.length === 1 ? 'it' : 'them'}, as on the peer (add to propagateEnvironment if it is meant for the builder)`);
        }
        return `exit 0`;
      });
      await step('release', async (s) => {
        if (!lookPath(join(i.builderDir, 'bin', 'release'))) {
          s.verdict = 'skip';
          s.details.push('bin/release is missing or not executable: the peer skips it without a word (exec.LookPath), so release/ stays empty');
          return 'skipped, as the peer skips it';
        }
        const r = await phase(s, 'release', [ctx.bld, ctx.release]);
        if (r.code !== 0) {
          throw new ExtError('SIM_PHASE_FAILED', `release exited ${r.code ?? r.signal}; the peer reports only "builder '${i.builderName}' release failed: exit status ${r.code ?? 1}"`, 'the reason is in the stderr lines above');
        }
        return 'exit 0';
      });

      // 4. The peer's copy into the durable build dir.
      await step('persist', async () => {
        try {
          persistBuild(fsPath, id, i.builderName, ctx);
        } catch (err) {
          if (!(err instanceof CopyRefused)) throw err;
          throw new ExtError('SIM_DURABLE_COPY', `${err.message}: the install fails, and ${durable.dir} is left holding build-info.json without a complete copy`, 'write only regular files, directories and relative symlinks inside the output dir');
        }
        rmSync(ctx.root, { recursive: true, force: true });
        return `${durable.dir}/{build-info.json,release,bld}; scratch dir removed`;
      });
    }

    let view!: ReturnType<typeof readRelease>;
    await step('read', async (s) => {
      try {
        view = readRelease(durable.release, i.version);
      } catch (err) {
        if (!(err instanceof MalformedChaincodeInfo)) throw err;
        throw new ExtError('SIM_CONNECTION_MALFORMED', `malformed chaincode info at '${join(durable.release, 'chaincode', 'server', 'connection.json')}': ${err.message} (the peer says so only at launch)`,
          'fix connection.json in the package or the builder, then delete the durable build and rebuild');
      }
      for (const f of view.strayIndexFiles) s.details.push(`release/${f} is not at a path the ledger reads: no index from it`);
      const c = view.connection;
      if (c?.ignored.length) s.details.push(`keys the peer does not read: ${c.ignored.join(', ')}${i.version < 3 && c.ignored.some((k) => k.toLowerCase() === 'domain') ? ' (domain needs Fabric 3.0)' : ''}`);
      if (c && c.dialTimeoutNs < 1e6) s.details.push(`dial_timeout is ${c.dialTimeoutNs} ns: the peer's dial fails almost at once`);
      report.mode = c ? 'service' : 'launch';
      const idx = `${view.indexes.length} index(es) for the ledger`;
      return c ? `service: dial ${c.address}, ${tlsText(c)}, dial_timeout ${durationText(c.dialTimeoutNs)}; ${idx}` : `launch: no chaincode/server/connection.json, so the peer calls run; ${idx}`;
    });

    // 5. Connect as the peer.
    if (view.connection) {
      const conn = view.connection;
      await step('connect', async () => {
        // gRPC and the protos load only here: the other CLI commands start without them.
        const { dialChaincode } = await import('../peer/dial.js');
        const d = await dialChaincode(conn, { packageId: id, registerTimeoutMs: i.registerTimeoutMs, signal: i.abort });
        cleanups.unshift(() => d.close());
        session = d.session;
        return `${d.probe.protocol}${d.probe.serverCert ? ` (server certificate ${d.probe.serverCert})` : ''}; REGISTER as ${d.chaincodeId}, answered REGISTERED and READY`;
      });
    } else {
      let listener: PeerListener | undefined;
      let run: ChildProcess;
      let exited: Promise<RunExit>;
      await step('launch', async (s) => {
        const { listenPeer } = await import('../peer/listen.js');
        listener = await listenPeer({ tls: i.peerTls !== false, session: { expectedChaincodeId: id } });
        cleanups.unshift(() => listener!.close());
        const runDir = mkdtempSync(join(tmp, 'fabric-run'));
        chmodSync(runDir, 0o700);
        cleanups.push(() => rmSync(runDir, { recursive: true, force: true }));
        await listener.writeChaincodeJson(runDir, { chaincodeId: id });
        s.details.push(`peer chaincode listener ${listener.address} (${listener.ca ? 'TLS, a fresh CA' : 'no TLS'}); chaincode.json in ${runDir}`);
        ({ run, exited } = startRun(join(i.builderDir, 'bin', 'run'), [durable.bld, runDir], phaseEnv, (line) => s.details.push(peerLogLine(i.builderName, 'run', line))));
        // Reported last, after any invokes: the peer stops run only when the chaincode is no longer needed.
        cleanups.unshift(async () => {
          if (run.pid === undefined) return; // never started: nothing to stop
          const stop: Step = { name: 'stop', verdict: 'ok', ms: 0, summary: '', details: [] };
          const r = await stopRun(run!, exited!);
          stop.ms = r.ms;
          if (r.killed) { stop.verdict = 'warn'; stop.summary = 'run ignored SIGTERM for 5 s and was killed (SIGKILL), as the peer does'; } else stop.summary = r.ms === 0 ? `run had already exited` : `run exited ${r.ms} ms after SIGTERM (${r.how})`;
          report.steps.push(stop);
          i.onStep?.(report.steps.length, stop);
        });
        const timeoutMs = i.registerTimeoutMs ?? 30_000;
        const registered = await Promise.race([
          firstSession(listener, timeoutMs, exited).then(async (sess) => ({ sess, reg: await sess.registered })),
          exited.then((e) => {
            const execError = e.error;
            if (execError) {
              const cause = checkExecutable(join(i.builderDir, 'bin', 'run'), 'bin/run', phaseEnv.PATH).find((f) => f.verdict === 'fail');
              throw new ExtError('SIM_PHASE_EXEC', `the peer cannot execute ${join(i.builderDir, 'bin', 'run')} (${execError})${cause ? `: ${cause.what}` : ''}`, cause?.fix ?? 'install bin/run: launch-mode packages need it');
            }
            throw new ExtError('SIM_LAUNCH', `run exited (${e.code ?? e.signal}) before the chaincode registered; the peer: "container exited with ${e.code ?? -1}"`, 'the reason is in run\'s stderr above');
          }),
        ]).catch((err: Error) => {
          if (err instanceof ExtError) throw err;
          const wrong = /registered as (".*"), expected/.exec(err.message);
          if (wrong) throw new ExtError('REGISTER_WRONG_ID', `the chaincode registered as ${wrong[1]}, not as the package ID ${JSON.stringify(id)}`, 'start the chaincode with chaincode_id from chaincode.json (CORE_CHAINCODE_ID_NAME)');
          if (/no chaincode connected/.test(err.message)) throw new ExtError('REGISTER_TIMEOUT', `no chaincode connected to ${listener!.address} within ${timeoutMs} ms of starting run`, 'the chaincode must dial peer_address from chaincode.json, with TLS when client_cert is set');
          throw new ExtError('REGISTER_FAILED', err.message, 'see run\'s stderr above');
        });
        session = registered.sess;
        return `run started (pid ${run.pid}); REGISTER as ${registered.reg.chaincodeId}, answered REGISTERED and READY`;
      });
    }

    // 6. Transactions.
    for (const [fn, ...args] of i.invokes) {
      await step('invoke', async (s) => {
        const r = await session!.invoke(fn!, args);
        const payload = r.payload.toString('utf8');
        s.details.push(`${fn}(${args.map((a) => JSON.stringify(a)).join(', ')}) -> status ${r.status}${r.message ? `, message ${JSON.stringify(r.message)}` : ''}, payload ${JSON.stringify(payload)}`);
        if (r.status >= 400) throw new ExtError('SIM_INVOKE', `${fn} returned status ${r.status}: ${r.message || payload}`, 'see the chaincode\'s log; the state reads and writes are served from memory');
        return `${fn} -> ${r.status} ${JSON.stringify(payload.length > 60 ? payload.slice(0, 57) + '...' : payload)}`;
      });
    }
    report.ok = true;
  } catch (err) {
    if (!(err instanceof StepFailure)) throw err;
  } finally {
    for (const c of cleanups) {
      try { await c(); } catch { /* cleanup is best effort */ }
    }
  }
  if (report.steps.some((s) => s.verdict === 'fail')) report.ok = false;
  return report;
}

interface RunExit { code: number | null; signal: NodeJS.Signals | null; error?: string }

/** Starts bin/run as the peer does: pruned env, stdout discarded, stderr read line by line. */
function startRun(file: string, args: string[], env: Record<string, string>, onLine: (line: string) => void): { run: ChildProcess; exited: Promise<RunExit> } {
  const run = spawn(file, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let pending = '';
  run.stderr!.setEncoding('utf8');
  run.stderr!.on('data', (c: string) => {
    pending += c;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) { onLine(pending.slice(0, nl)); pending = pending.slice(nl + 1); }
  });
  const exited = new Promise<RunExit>((res) => {
    run.on('error', (e) => res({ code: null, signal: null, error: (e as NodeJS.ErrnoException).code ?? e.message }));
    run.on('exit', (code, signal) => res({ code, signal }));
  });
  return { run, exited };
}

/**
 * The first chaincode stream to reach the listener. Polls listener.sessions rather than using
 * nextSession's timer, which would keep the process alive after a launch that failed early.
 */
async function firstSession(listener: PeerListener, timeoutMs: number, exited: Promise<unknown>): Promise<PeerSession> {
  let gone = false;
  void exited.then(() => { gone = true; });
  for (const until = Date.now() + timeoutMs; Date.now() < until && !gone;) {
    if (listener.sessions.length > 0) return listener.sessions[0]!;
    await new Promise((r) => setTimeout(r, 20));
  }
  if (listener.sessions.length > 0) return listener.sessions[0]!;
  // When run is gone, the race in the launch step reports that instead.
  return new Promise<never>((_, reject) => { if (!gone) reject(new Error(`no chaincode connected to ${listener.address} within ${timeoutMs} ms`)); });
}

/** The peer's Stop: SIGTERM, then SIGKILL after 5 s. Idempotent. */
const stops = new WeakMap<ChildProcess, Promise<{ ms: number; killed: boolean; how: string }>>();
function stopRun(run: ChildProcess, exited: Promise<RunExit>): Promise<{ ms: number; killed: boolean; how: string }> {
  const known = stops.get(run);
  if (known) return known;
  const p = (async () => {
    const started = Date.now();
    if (run.exitCode !== null || run.signalCode !== null) return { ms: 0, killed: false, how: 'it had already exited' };
    run.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([exited, new Promise<undefined>((res) => { timer = setTimeout(() => res(undefined), 5000); })]);
    clearTimeout(timer);
    if (r) return { ms: Date.now() - started, killed: false, how: r.signal ? `signal ${r.signal}` : `exit code ${r.code}` };
    run.kill('SIGKILL');
    await exited;
    return { ms: Date.now() - started, killed: true, how: 'SIGKILL' };
  })();
  stops.set(run, p);
  return p;
}

function invokesOf(v: unknown): string[][] {
  if (!Array.isArray(v) || v.length === 0) return [];
  // yargs gives one flat list for a single --invoke and a list of lists for several.
  return (Array.isArray(v[0]) ? v : [v]).map((x: unknown[]) => x.map(String));
}

export const simulateCommand: CliCommand = {
  builder: (y: Argv) => y
    .parserConfiguration({ 'flatten-duplicate-arrays': false })
    .positional('package', { type: 'string', describe: 'the install package (.tar.gz)', demandOption: true })
    .option('builder', { type: 'string', describe: 'builder dir (parent of bin/); default: this program\'s own' })
    .option('name', { type: 'string', describe: 'the builder\'s name in core.yaml (default: from --core-yaml, else extbuilder)' })
    .option('core-yaml', { type: 'string', describe: 'take name and propagateEnvironment from this core.yaml\'s entry for --builder' })
    .option('propagate', { type: 'string', describe: 'VAR,... passed to the builder besides PATH, TMPDIR, LD_LIBRARY_PATH, LIBPATH' })
    .option('peer-version', { type: 'string', default: '3', describe: 'Fabric version of the peer: 2.x or 3.x (3.x reads domain)' })
    .option('invoke', { type: 'string', array: true, describe: 'FN [ARGS...]: send a transaction after the handshake (repeatable)' })
    .option('fs-path', { type: 'string', describe: 'the peer\'s fileSystemPath (default: a temporary one, removed)' })
    .option('keep', { type: 'boolean', describe: 'keep the temporary fileSystemPath' })
    .option('peer-tls', { type: 'boolean', default: true, describe: 'launch mode: the peer\'s chaincode listener uses TLS' })
    .option('register-timeout', { type: 'number', default: 30, describe: 'seconds to wait for the chaincode\'s REGISTER' })
    .option('json', { type: 'boolean', describe: 'print a machine-readable report' }) as unknown as Argv,
  async handler(argv, env) {
    // grpc-js sets the TLS server name to the dialled IP address, which Node flags on every run; the
    // warning is noise in a report about that very connection.
    process.noDeprecation = true;
    try {
      const builderDir = argv.builder ? resolve(String(argv.builder)) : ownBuilderDir();
      if (!builderDir) throw new ExtError('SIM_USAGE', 'cannot tell where this program\'s builder dir is', 'give --builder DIR (the parent of bin/)');
      const packageFile = resolve(String(argv.package));
      if (!existsSync(packageFile)) throw new ExtError('SIM_USAGE', `package ${packageFile} does not exist`, 'give the path of an install package (.tar.gz)');
      if (!existsSync(join(builderDir, 'bin'))) throw new ExtError('SIM_USAGE', `${builderDir} has no bin/`, '--builder is the parent of bin/');
      let name = argv.name as string | undefined;
      const propagate = String(argv.propagate ?? '').split(',').map((v) => v.trim()).filter(Boolean);
      if (argv['core-yaml']) {
        const core = readCoreYaml(String(argv['core-yaml']));
        const entry = findEntry(core, builderDir, name);
        if (!entry) throw new ExtError('SIM_USAGE', `${String(argv['core-yaml'])} has no externalBuilders entry ${name ? `named ${name}` : `with path ${builderDir}`}`, 'give --builder the entry\'s path, or --name its name');
        name = entry.name;
        propagate.push(...entry.propagateEnvironment);
      }
      const json = argv.json === true;
      const out = (line: string): void => { if (!json) process.stdout.write(line + '\n'); };
      const version = peerVersionOf(argv['peer-version']);
      out(`extbuilder simulate: ${packageFile} as a Fabric ${version}.x peer would handle it, builder ${name ?? 'extbuilder'} at ${builderDir}`);
      // Ctrl-C or a SIGTERM ends the step in progress but still stops run and removes the scratch dirs.
      const abort = new AbortController();
      const onSignal = (): void => abort.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const report = await simulate({
        abort: abort.signal,
        packageFile, builderDir, builderName: name ?? 'extbuilder', propagate, version,
        invokes: invokesOf(argv.invoke), env,
        fsPath: argv['fs-path'] ? resolve(String(argv['fs-path'])) : undefined,
        keep: argv.keep === true,
        peerTls: argv['peer-tls'] !== false,
        registerTimeoutMs: Number(argv['register-timeout']) * 1000,
        onStep: (n, s) => { for (const l of formatStep(n, s)) out(l); },
      });
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      const failed = report.steps.find((s) => s.verdict === 'fail');
      if (json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      else out(failed ? `simulate: FAIL at ${failed.name}` : `simulate: PASS (${report.steps.length} steps${report.durableDir && argv.keep ? `, durable build kept at ${report.durableDir}` : ''})`);
      if (failed?.error) process.stderr.write(formatError('simulate', new ExtError(failed.error.code as never, failed.error.what, failed.error.fix)) + '\n');
      return abort.signal.aborted ? 130 : failed ? 1 : 0;
    } catch (err) {
      return failed('simulate', err, argv, err instanceof ExtError && err.code === 'SIM_USAGE' ? 2 : 1);
    }
  },
};

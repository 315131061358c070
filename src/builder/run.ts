// run's logic (contract section 6): from chaincode.json and the built launch.json to a chaincode process
// that dials the peer, with no supervisor left behind where the runtime can exec, and no orphan anywhere.
// Kubernetes mode is handed to ./kubernetes.ts.
import type { ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Config } from '../core/config.js';
import { templateSourcesHint } from '../core/config.js';
import { nodeChildProcess, nodeOs } from '../core/builtins.js';
import { ExtError } from '../core/errors.js';
import { execTarget, onPath, type ExecTarget } from '../core/exec-check.js';
import { readJsonFile } from '../core/json.js';
import type { Logger } from '../core/log.js';
import { check } from '../core/schema.js';
import { render } from '../core/template.js';
import { parseCertificates, parsePrivateKey } from '../core/tls.js';
import { validateChaincodeRun } from '../generated/validators.js';
import type { ChaincodeRun } from '../generated/types.js';
import { LineCapper, MAX_CHAINCODE_LINE } from '../core/line-capper.js';
import { runInKubernetes } from './kubernetes.js';
import { CODE_DIR, readLaunch } from './launch.js';
import { readBuildOutput } from './output.js';

export interface RunInputs {
  buildDir: string;
  runDir: string;
  /** run's own environment: what the peer propagated. The chaincode inherits it. */
  env: Record<string, string | undefined>;
  config: Config;
  log: Logger;
  /** Override the runtime check (tests force the fallback); default: use process.execve when it exists. */
  useExecve?: boolean;
}

/** What run starts: resolved, rendered, ready for exec. */
export interface LaunchCommand {
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  tls: boolean;
  chaincodeId: string;
  peerAddress: string;
  /** The private directory holding the TLS files, if any (inside RUN_METADATA_DIR). */
  tlsDir?: string;
}

/** The peer SIGKILLs run 5 s after SIGTERM; run must be gone before that, with time to spare on a busy host. */
const TERM_GRACE_MS = 3000;

export function readRunConfig(runDir: string): ChaincodeRun {
  const fix = 'chaincode.json is written by the peer; check that run is called as run BUILD_OUTPUT_DIR RUN_METADATA_DIR';
  const data = readJsonFile(join(runDir, 'chaincode.json'), { where: 'chaincode.json in RUN_METADATA_DIR', readCode: 'RUN_METADATA_READ', parseCode: 'RUN_METADATA_PARSE', fix, maxBytes: 1 << 20 });
  const cfg = check(validateChaincodeRun, data, 'chaincode.json');
  if (cfg.client_cert !== '') {
    for (const k of ['client_key', 'root_cert'] as const) {
      if (cfg[k] === '') throw new ExtError('RUN_METADATA_INVALID', `chaincode.json has a client_cert but an empty ${k}`, fix);
    }
    const wrap = (f: () => unknown) => {
      try { f(); } catch (err) {
        throw new ExtError('RUN_METADATA_INVALID', err instanceof ExtError ? err.what : String(err), 'the peer writes these from its chaincode CA; check the peer\'s TLS setup', { cause: err });
      }
    };
    wrap(() => parseCertificates(cfg.client_cert, 'chaincode.json client_cert'));
    wrap(() => parsePrivateKey(cfg.client_key, 'chaincode.json client_key'));
    wrap(() => parseCertificates(cfg.root_cert, 'chaincode.json root_cert'));
  }
  return cfg;
}

/**
 * The TLS files in a fresh 0700 directory inside RUN_METADATA_DIR (never BUILD_OUTPUT_DIR, which every
 * run of the package shares), in both shim conventions: PEM files (Go shim) and files holding base64 of
 * the PEM (Node and Java shims). Keys 0600.
 */
function writeTlsFiles(runDir: string, cfg: ChaincodeRun): { dir: string; env: Record<string, string> } {
  let dir: string;
  try {
    dir = mkdtempSync(join(runDir, 'tls-'));
    chmodSync(dir, 0o700);
    const put = (name: string, text: string, mode: number) => {
      const p = join(dir, name);
      writeFileSync(p, text, { mode });
      chmodSync(p, mode);
      return p;
    };
    const b64 = (pem: string) => Buffer.from(pem).toString('base64');
    return {
      dir,
      env: {
        CORE_PEER_TLS_ROOTCERT_FILE: put('peer-root.crt', cfg.root_cert, 0o644),
        CORE_TLS_CLIENT_CERT_FILE: put('client.crt', cfg.client_cert, 0o644),
        CORE_TLS_CLIENT_KEY_FILE: put('client.key', cfg.client_key, 0o600),
        CORE_TLS_CLIENT_CERT_PATH: put('client.crt.b64', b64(cfg.client_cert), 0o644),
        CORE_TLS_CLIENT_KEY_PATH: put('client.key.b64', b64(cfg.client_key), 0o600),
      },
    };
  } catch (err) {
    throw new ExtError('OUTPUT_WRITE', `cannot write the TLS files into RUN_METADATA_DIR ${runDir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, 'the peer creates RUN_METADATA_DIR writable; check TMPDIR\'s file system', { cause: err });
  }
}

/** Everything run decides before starting the chaincode. Writes only the TLS files. */
export function prepareLaunch({ buildDir, runDir, env, config, log }: RunInputs): LaunchCommand {
  const built = readBuildOutput(buildDir);
  if (built.mode !== 'launch') {
    throw new ExtError('RUN_NOT_LAUNCH', `BUILD_OUTPUT_DIR holds a ${built.mode}-mode build, which the peer dials instead of calling run`,
      'release puts chaincode/server/connection.json in place for service mode; check that release ran and the peer uses this builder');
  }
  const codeDir = join(buildDir, CODE_DIR);
  const plan = readLaunch(codeDir);
  const cfg = readRunConfig(runDir);

  // The peer's values win over the builder config's, which must not redirect a chaincode elsewhere.
  const data = { ...config.template, chaincode_id: cfg.chaincode_id, peer_address: cfg.peer_address, mspid: cfg.mspid };
  const hint = `chaincode_id, peer_address and mspid come from chaincode.json; ${templateSourcesHint(config)}`;
  const args = (plan.args ?? []).map((a, i) => render(a, data, `launch.json args[${i}]`, hint));
  const launchEnv = Object.fromEntries(Object.entries(plan.env ?? {}).map(([k, v]) => [k, render(v, data, `launch.json env.${k}`, hint)]));

  // The command first: a run that cannot start leaves no key files behind.
  const path = launchEnv.PATH ?? env.PATH;
  let file: string;
  if (plan.program.kind === 'package') {
    file = join(codeDir, plan.program.rel);
  } else if (isAbsolute(plan.program.name)) {
    file = plan.program.name;
    try { accessSync(file, constants.X_OK); } catch {
      throw new ExtError('LAUNCH_COMMAND_MISSING', `launch.json command ${file} is not an executable file on this peer`, 'install it on the peer, or package the program and give its path in the package');
    }
  } else {
    const found = onPath(plan.program.name, path);
    if (!found) {
      throw new ExtError('LAUNCH_COMMAND_MISSING', `launch.json command ${JSON.stringify(plan.program.name)} is not on the PATH run has (${path ?? 'PATH is not set'})`,
        'install it on the peer, set PATH in launch.json env, or package the program and give its path in the package');
    }
    file = found;
  }
  // The kernel's answer for a missing #! interpreter or ELF loader is ENOENT naming the command itself.
  let target: ExecTarget | undefined;
  try {
    target = execTarget(file, `launch.json command ${plan.program.kind === 'package' ? plan.program.rel : file}`, path);
  } catch { /* unreadable (a directory, say): exec itself will say so */ }
  if (target?.kind !== 'other' && target?.problem) throw new ExtError('RUN_START', target.problem.what, target.problem.fix);

  const tls = cfg.client_cert !== '';
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
  Object.assign(childEnv, {
    CORE_CHAINCODE_ID_NAME: cfg.chaincode_id,
    CORE_PEER_ADDRESS: cfg.peer_address,
    CORE_PEER_LOCALMSPID: cfg.mspid,
    CORE_PEER_TLS_ENABLED: String(tls),
  });
  let tlsDir: string | undefined;
  if (tls) {
    const files = writeTlsFiles(runDir, cfg);
    tlsDir = files.dir;
    Object.assign(childEnv, files.env);
  }
  Object.assign(childEnv, launchEnv);

  log.debug(`command ${file}, ${args.length} args, cwd ${plan.workdir}, env ${Object.keys(childEnv).sort().join(',')}`);
  return { file, args, env: childEnv, cwd: join(codeDir, plan.workdir), tls, chaincodeId: cfg.chaincode_id, peerAddress: cfg.peer_address, tlsDir };
}

function startLine(l: LaunchCommand, pid: number | undefined): string {
  return `${l.chaincodeId} -> ${l.peerAddress} (tls ${l.tls ? 'on' : 'off'}), pid ${pid ?? '?'}`;
}

type Execve = (file: string, args: string[], env: Record<string, string>) => never;

/**
 * Node 22.15+ can replace the process: the chaincode then has run's PID, so the peer's SIGTERM and
 * SIGKILL reach it directly and nothing stays resident. /bin/sh does the stdout-to-stderr redirect,
 * since the peer discards stdout.
 */
function execveOf(): Execve | undefined {
  const f = (process as unknown as { execve?: Execve }).execve;
  return typeof f === 'function' ? f.bind(process) : undefined;
}

/**
 * Without execve run stays as a supervisor. The chaincode gets its own process group (so signals reach
 * its children too), its stdout and stderr come through line-capped, and a watchdog ends the group if
 * run itself dies: a /bin/sh blocked reading a pipe whose only writer is run. Run writes the group's ID,
 * then nothing; a SIGKILL of run closes the pipe, the watchdog reads EOF, sends SIGTERM to the group and
 * SIGKILL 4 s later if it lingers. (`kill -TERM -PGID`, not `kill -s TERM -- -PGID`: dash, Debian's
 * /bin/sh, rejects the latter.)
 */
const WATCHDOG = 'read pgid || exit 0; read _ignored; kill -TERM -"$pgid" 2>/dev/null || exit 0; i=0; while [ $i -lt 40 ]; do kill -0 -"$pgid" 2>/dev/null || exit 0; sleep 0.1; i=$((i+1)); done; kill -KILL -"$pgid" 2>/dev/null; exit 0';

/**
 * The group's ID exists only once spawn returns, and spawn blocks until the child has exec'd: on a busy
 * host, milliseconds in which a SIGKILL of run would leave a chaincode no watchdog knows of. So the
 * chaincode starts behind a gate, a /bin/sh that execs it only after reading a line from run, and exits
 * on EOF instead. Run opens the gate once the group's ID is in the watchdog's pipe: a run killed before
 * that leaves a gate and a watchdog that both exit, and one killed after it a watchdog that knows the group.
 */
const GATE = 'read _go || exit 0; exec "$0" "$@" </dev/null';

/** `shell`: /bin/sh exists, for the watchdog and the gate; without it (distroless) run has neither. */
function supervise(l: LaunchCommand, log: Logger, shell: boolean): Promise<number> {
  const { spawn } = nodeChildProcess();
  const { constants: osConstants } = nodeOs();
  return new Promise((resolve, reject) => {
    const unwatched = 'a SIGKILL of run would leave the chaincode running';
    let watchdog: ChildProcess | undefined;
    if (shell) {
      watchdog = spawn('/bin/sh', ['-c', WATCHDOG, 'extbuilder-run-watchdog'], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
      watchdog.on('error', () => log.info(`warning: the orphan watchdog (/bin/sh) could not start: ${unwatched}`));
      watchdog.stdin!.on('error', () => undefined); // a watchdog that died must not take run with it
      watchdog.unref();
    } else {
      log.info(`warning: no /bin/sh on this peer, so no orphan watchdog: ${unwatched}`);
    }

    let pgid: number | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const forward = (sig: NodeJS.Signals) => {
      if (pgid === undefined) return; // handlers run from the event loop, after the spawn below
      log.info(`${sig}: stopping the chaincode (process group ${pgid})`);
      try { process.kill(-pgid, sig); } catch { /* already gone */ }
      killTimer ??= setTimeout(() => {
        log.info(`the chaincode did not stop within ${TERM_GRACE_MS / 1000} s; killing it`);
        try { process.kill(-pgid!, 'SIGKILL'); } catch { /* already gone */ }
      }, TERM_GRACE_MS);
    };
    const onTerm = () => forward('SIGTERM');
    const onInt = () => forward('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    const done = () => {
      if (killTimer) clearTimeout(killTimer);
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      watchdog?.stdin!.destroy();
      if (l.tlsDir) rmSync(l.tlsDir, { recursive: true, force: true });
    };

    const options = { cwd: l.cwd, env: l.env, detached: true };
    const child = shell
      ? spawn('/bin/sh', ['-c', GATE, l.file, ...l.args], { ...options, stdio: ['pipe', 'pipe', 'pipe'] })
      : spawn(l.file, l.args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid === undefined) {
      // exec failed (ENOENT, EACCES, ENOEXEC): 'error' follows, and no 'exit'
      done();
      child.once('error', (err) => reject(new ExtError('RUN_START', `cannot start ${shell ? '/bin/sh' : l.file}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, 'check the command in launch.json and its interpreter line', { cause: err })));
      return;
    }
    pgid = child.pid;
    const openGate = () => { child.stdin?.end('go\n'); };
    child.stdin?.on('error', () => undefined); // a gate already stopped by a signal
    if (watchdog) watchdog.stdin!.write(`${pgid}\n`, openGate);
    else openGate();
    child.on('error', (err) => log.debug(`chaincode process: ${err.message}`));
    log.info(startLine(l, pgid));

    // A peer that stopped reading (its scanner gave up) must not take the chaincode down with run.
    process.stderr.on('error', () => undefined);
    const write = (line: string) => process.stderr.write(line + '\n');
    for (const s of [child.stdout, child.stderr]) {
      const capper = new LineCapper(MAX_CHAINCODE_LINE, write);
      s.setEncoding('utf8');
      s.on('data', (c: string) => capper.push(c));
      s.on('end', () => capper.end());
    }

    child.on('exit', () => {
      // Whatever the chaincode left in its group goes with it (the peer starts a new run when it needs
      // one), which also closes the pipes so that 'close' follows with the last lines read.
      try { process.kill(-pgid!, 'SIGKILL'); } catch { /* nothing left */ }
    });
    child.on('close', (code, signal) => {
      done();
      const status = signal ? 128 + (osConstants.signals[signal] ?? 0) : code ?? 1;
      log.info(`chaincode ${l.chaincodeId} exited with ${signal ? `signal ${signal}` : `status ${code}`}`);
      resolve(status);
    });
  });
}

/** The redirect needs /bin/sh; an image without one (distroless) gets the supervisor instead. */
function hasShell(): boolean {
  try {
    accessSync('/bin/sh', constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Starts the chaincode; returns run's exit status (the chaincode's), or never returns after execve. */
export async function runChaincode(inputs: RunInputs): Promise<number> {
  if (readBuildOutput(inputs.buildDir).mode === 'kubernetes') {
    const { buildDir, runDir, env, config, log } = inputs;
    return runInKubernetes({ buildDir, chaincode: readRunConfig(runDir), env, config, log });
  }
  const l = prepareLaunch(inputs);
  const execve = inputs.useExecve === false ? undefined : execveOf();
  const shell = hasShell();
  if (execve && shell) {
    inputs.log.info(startLine(l, process.pid));
    try {
      process.chdir(l.cwd);
      execve('/bin/sh', ['/bin/sh', '-c', 'exec "$0" "$@" 1>&2', l.file, ...l.args], l.env);
    } catch (err) {
      throw new ExtError('RUN_START', `cannot exec the chaincode ${l.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, 'check that /bin/sh exists on the peer and the command is executable', { cause: err });
    }
  }
  return supervise(l, inputs.log, shell);
}

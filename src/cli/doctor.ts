// extbuilder doctor: checks an installation as the peer will use it (the builder's bin/, core.yaml's
// externalBuilders entry, the builder config and its TLS files, the peer's durable builds), one
// `ok|warn|fail <what> (<fix>)` line per finding. The executable and core.yaml checks are shared with simulate;
// --kubernetes adds ./doctor-kubernetes.ts.
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Argv } from 'yargs';
import { loadConfig, type Config } from '../core/config.js';
import { ExtError, formatError } from '../core/errors.js';
import { execTarget } from '../core/exec-check.js';
import { parseCertificates, parsePrivateKey } from '../core/tls.js';
import { BUILD_INFO, MalformedChaincodeInfo, readRelease, type PeerVersion } from '../peer/durable.js';
import type { CliCommand } from './commands.js';
import { failed } from './fail.js';
import { formatFinding, type Finding } from './report.js';

const ok = (what: string): Finding => ({ verdict: 'ok', what });
const warn = (what: string, fix: string): Finding => ({ verdict: 'warn', what, fix });
const fail = (what: string, fix: string): Finding => ({ verdict: 'fail', what, fix });

// ---- executables ----

/**
 * Why the peer could not exec `file`, or an ok. The peer's exec failures (a missing file, no exec bit,
 * a CRLF shebang, a missing interpreter or loader) all look alike in its log; this names them.
 */
export function checkExecutable(file: string, label: string, pathEnv: string | undefined): Finding[] {
  let st;
  try {
    st = lstatSync(file);
  } catch {
    return [fail(`${label} is missing (${file})`, 'install the builder there, or fix the path in core.yaml')];
  }
  const findings: Finding[] = [];
  let target = file;
  if (st.isSymbolicLink()) {
    const link = readlinkSync(file);
    try {
      target = realpathSync(file);
      st = statSync(target);
    } catch {
      return [fail(`${label} is a link to ${link}, which does not resolve`, 'fix or recreate the link (relative links break when the builder directory is copied)')];
    }
  }
  if (!st.isFile()) return [fail(`${label} is not a regular file`, 'replace it with the builder program')];
  if ((st.mode & 0o111) === 0) {
    return [fail(`${label} is not executable (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')})`, `chmod 755 ${file}; ${EXEC_CONSEQUENCE[label.replace(/^bin\//, '')] ?? 'the peer cannot start it'}`)];
  }
  const t = execTarget(target, label, pathEnv);
  if (t.kind === 'script') {
    if (t.problem) return [fail(t.problem.what, t.problem.fix)];
    const text = st.size <= 1 << 20 ? readFileSync(target, 'latin1') : '';
    if (text.includes('\r\n')) {
      return [fail(`${label} has CRLF line endings: the shell reads every \\r as part of a command`, `convert it to LF line endings (dos2unix ${file})`)];
    }
    if (/^\/bin\/sh$/.test(t.interp) && /set\s+-[a-z]*o\s+pipefail|-o pipefail/.test(text)) {
      findings.push(warn(`${label} is #!/bin/sh but uses "set -o pipefail", which dash rejects`, 'Ubuntu-based peer images (2.5+) have /bin/sh = dash: drop pipefail or use #!/bin/bash where bash exists'));
    }
    findings.push(ok(`${label}: script for ${t.interp}${t.envProgram ? ` ${t.envProgram}` : ''}`));
    return findings;
  }
  if (t.kind === 'elf') {
    if (t.problem) return [fail(t.problem.what, t.problem.fix)];
    return [ok(`${label}: ${t.arch} binary${t.loader ? ` (loader ${t.loader})` : ' (static)'}`)];
  }
  return [fail(`${label} is neither a #! script nor an ELF binary: exec fails with "exec format error"`, 'add a #! line, or install the real binary')];
}

/** What the peer does when it cannot exec each phase: only detect's failure is silent. */
const EXEC_CONSEQUENCE: Record<string, string> = {
  detect: 'the peer treats a detect it cannot exec as "not mine" and logs that at DEBUG only',
  build: 'the peer fails the build with "exec format error" or "permission denied" in its log',
  release: 'the peer finds no executable release and skips it silently, so nothing is released',
  run: 'the peer cannot start a launch-mode chaincode ("permission denied")',
};

function lexists(p: string): boolean {
  try { lstatSync(p); return true; } catch { return false; }
}

/** bin/detect and bin/build must run; release and run are optional to the peer. */
export function checkBuilderDir(dir: string, pathEnv: string | undefined): Finding[] {
  if (!existsSync(join(dir, 'bin'))) return [fail(`${dir} has no bin/ directory`, 'path in core.yaml is the parent of bin/, not bin/ itself')];
  const out: Finding[] = [];
  for (const phase of ['detect', 'build', 'release', 'run']) {
    const file = join(dir, 'bin', phase);
    if (!lexists(file) && (phase === 'release' || phase === 'run')) {
      out.push(phase === 'release'
        ? warn(`bin/release is absent: the peer skips it silently, so nothing is released (no connection.json, no indexes)`, 'install bin/release')
        : warn('bin/run is absent: launch-mode packages cannot start', 'install bin/run if you use launch mode'));
      continue;
    }
    out.push(...checkExecutable(file, `bin/${phase}`, pathEnv));
  }
  return out;
}

// ---- core.yaml ----

export interface BuilderEntry {
  index: number;
  name: string;
  path: string;
  propagateEnvironment: string[];
  /** The v2.0-2.1 key, used when propagateEnvironment is empty. */
  fromWhitelist: boolean;
}

export interface CoreYaml {
  file: string;
  builders: BuilderEntry[];
  /** Entries the peer refuses at start-up. */
  problems: Finding[];
  vmEndpoint: string;
  /** peer.fileSystemPath, where the durable builds live. */
  fileSystemPath: string;
}

/** Viper and mapstructure match keys case-insensitively. */
function key(obj: unknown, name: string): unknown {
  if (!obj || typeof obj !== 'object') return undefined;
  const k = Object.keys(obj).find((x) => x.toLowerCase() === name.toLowerCase());
  return k === undefined ? undefined : (obj as Record<string, unknown>)[k];
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function readCoreYaml(file: string): CoreYaml {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ExtError('SIM_USAGE', `cannot read ${file} as YAML: ${(err as Error).message.split('\n')[0]}`, 'give the peer\'s core.yaml');
  }
  const { builders, problems } = parseBuilders(key(key(doc, 'chaincode'), 'externalBuilders'), 'core.yaml');
  const vm = key(key(doc, 'vm'), 'endpoint');
  const fsPath = key(key(doc, 'peer'), 'fileSystemPath');
  return { file, builders, problems, vmEndpoint: typeof vm === 'string' ? vm : '', fileSystemPath: typeof fsPath === 'string' ? fsPath : '' };
}

/**
 * CORE_CHAINCODE_EXTERNALBUILDERS as the peer reads it (Fabric 2.3.3+): a YAML value, usually flow
 * syntax such as [{name: extbuilder, path: /opt/x, propagateEnvironment: [A]}], that replaces core.yaml's
 * chaincode.externalBuilders. `base` gives the rest (vm.endpoint, fileSystemPath) when core.yaml is known.
 */
export function readBuildersEnv(value: string, base?: CoreYaml): CoreYaml {
  let list: unknown;
  try {
    list = parseYaml(value);
  } catch (err) {
    throw new ExtError('SIM_USAGE', `CORE_CHAINCODE_EXTERNALBUILDERS is not YAML the peer can read: ${(err as Error).message.split('\n')[0]}`, 'write it as [{name: extbuilder, path: /opt/hyperledger/extbuilder, propagateEnvironment: [EXTBUILDER_CONFIG]}]');
  }
  const { builders, problems } = parseBuilders(list, 'CORE_CHAINCODE_EXTERNALBUILDERS');
  if (!Array.isArray(list)) problems.push(fail('CORE_CHAINCODE_EXTERNALBUILDERS is not a list', 'write it as [{name: extbuilder, path: /opt/hyperledger/extbuilder, propagateEnvironment: [EXTBUILDER_CONFIG]}]'));
  return { file: 'CORE_CHAINCODE_EXTERNALBUILDERS', builders, problems, vmEndpoint: base?.vmEndpoint ?? '', fileSystemPath: base?.fileSystemPath ?? '' };
}

function parseBuilders(list: unknown, source: string): { builders: BuilderEntry[]; problems: Finding[] } {
  const problems: Finding[] = [];
  const builders: BuilderEntry[] = [];
  (Array.isArray(list) ? list : []).forEach((e, index) => {
    const name = key(e, 'name');
    const path = key(e, 'path');
    if (typeof path !== 'string' || path === '') {
      problems.push(fail(`${source} externalBuilders entry ${index + 1} has no path: the peer refuses to start ("path attribute missing in one or more builders")`, 'give every entry a path (the parent of bin/)'));
      return;
    }
    if (typeof name !== 'string' || name === '') {
      problems.push(fail(`${source} externalBuilders entry at ${path} has no name: the peer refuses to start`, 'give every entry a name'));
      return;
    }
    let propagate = strings(key(e, 'propagateEnvironment'));
    const whitelist = strings(key(e, 'environmentWhitelist'));
    const fromWhitelist = propagate.length === 0 && whitelist.length > 0;
    if (fromWhitelist) propagate = whitelist;
    builders.push({ index, name, path, propagateEnvironment: propagate, fromWhitelist });
  });
  return { builders, problems };
}

function samePath(a: string, b: string): boolean {
  const real = (p: string): string => { try { return realpathSync(p); } catch { return resolve(p); } };
  return real(a) === real(b);
}

/**
 * The entry for the builder installed at `dir`; with `peerPath`, the path the peer sees it at (inside its
 * container), which need not exist on this host.
 */
export function findEntry(core: CoreYaml, dir: string, name?: string, peerPath?: string): BuilderEntry | undefined {
  const norm = (p: string): string => p.replace(/\/+$/, '') || '/';
  return core.builders.find((b) => (name ? b.name === name : peerPath ? norm(b.path) === norm(peerPath) : samePath(b.path, dir)));
}

function isFabricCcaas(b: BuilderEntry): boolean {
  return b.name === 'ccaas_builder' || /ccaas_builder\/?$|builders\/ccaas\/?$/.test(b.path);
}

/** Variables the builder reads and the peer passes only when listed. */
const CONFIG_VARS = ['EXTBUILDER_CONFIG', 'CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG'];

export function checkCoreYaml(core: CoreYaml, builderDir: string, env: Record<string, string | undefined>, config: Config | undefined, peerPath?: string): Finding[] {
  const out: Finding[] = [...core.problems];
  const fromEnv = core.file === 'CORE_CHAINCODE_EXTERNALBUILDERS';
  const src = fromEnv ? 'CORE_CHAINCODE_EXTERNALBUILDERS' : 'core.yaml';
  const path = peerPath ?? builderDir;
  if (core.builders.length === 0 && core.problems.length === 0) {
    return [fail(`${core.file} lists no chaincode.externalBuilders`, fromEnv ? `set it to [{name: extbuilder, path: ${path}, propagateEnvironment: [EXTBUILDER_CONFIG]}]` : `add - {name: extbuilder, path: ${path}, propagateEnvironment: [EXTBUILDER_CONFIG]} under chaincode.externalBuilders`)];
  }
  if (fromEnv) out.push(ok('externalBuilders read from CORE_CHAINCODE_EXTERNALBUILDERS, which replaces core.yaml\'s list on the peer (Fabric 2.3.3+)'));
  const entry = findEntry(core, builderDir, undefined, peerPath);
  if (!entry) {
    const seen = peerPath ? `${peerPath} (where the peer sees ${builderDir})` : builderDir;
    out.push(fail(`${src} has no externalBuilders entry with path ${seen} (it lists ${core.builders.map((b) => `${b.name}=${b.path}`).join(', ')})`,
      peerPath ? `add - {name: extbuilder, path: ${peerPath}}, or give --peer-path the path the entry names` : `add - {name: extbuilder, path: ${builderDir}} (path is the parent of bin/); if the peer runs in a container and sees this directory elsewhere, give that path with --peer-path`));
    return out;
  }
  out.push(ok(`${src} entry ${entry.index + 1}: name ${entry.name}, path ${entry.path}${peerPath ? ` (${builderDir} on this host)` : ''}`));
  if (!isAbsolute(entry.path)) out.push(warn(`path ${entry.path} is relative: it resolves against the peer's working directory`, 'use an absolute path'));
  if (entry.fromWhitelist) out.push(ok(`propagateEnvironment taken from environmentWhitelist (the v2.0-2.1 key, still read)`));
  for (const v of CONFIG_VARS) {
    const listed = entry.propagateEnvironment.includes(v);
    if (env[v] !== undefined && !listed) {
      out.push(fail(`${v} is set but not in propagateEnvironment of ${entry.name}: the peer does not pass it, so the builder never sees it`, `add ${v} to propagateEnvironment`));
    } else if (listed) {
      out.push(ok(`propagateEnvironment passes ${v}${env[v] === undefined ? ' (not set in this environment)' : ''}`));
    }
  }
  if (env.EXTBUILDER_DEBUG !== undefined && !entry.propagateEnvironment.includes('EXTBUILDER_DEBUG')) {
    out.push(warn('EXTBUILDER_DEBUG is set but not propagated', 'add EXTBUILDER_DEBUG to propagateEnvironment while debugging'));
  }
  // Builders are tried in order: an earlier Fabric ccaas_builder takes every ccaas package.
  const types = config?.types ?? ['external', 'ccaas'];
  const before = core.builders.filter((b) => b.index < entry.index && isFabricCcaas(b));
  if (before.length && types.includes('ccaas')) {
    const all = types.every((t) => t === 'ccaas');
    const f = all ? fail : warn;
    out.push(f(`${before[0]!.name} (Fabric's ccaas_builder) is listed before ${entry.name} and claims type ccaas first${all ? `: ${entry.name} never gets a package` : ': ccaas packages never reach extbuilder'}`,
      `move ${entry.name} above ${before[0]!.name} in chaincode.externalBuilders`));
  } else {
    out.push(ok(`order: no earlier builder claims ${types.join(', ')}`));
  }
  const dup = core.builders.filter((b) => b.name === entry.name);
  if (dup.length > 1) out.push(warn(`builder name ${entry.name} appears ${dup.length} times`, 'give each entry its own name: build-info.json records it'));
  const vm = env.CORE_VM_ENDPOINT ?? core.vmEndpoint;
  if (vm) {
    out.push(warn(`vm.endpoint is ${vm}: a package no builder claims falls back to Docker, and the error then shows is Docker's ("docker build failed ...")`,
      'unset vm.endpoint (and CORE_VM_ENDPOINT) on peers that use only external builders; an unclaimed package then fails with "docker build is disabled"'));
  } else {
    out.push(ok('vm.endpoint is empty: an unclaimed package fails with "docker build is disabled", not a misleading Docker error'));
  }
  return out;
}

// ---- builder config ----

export function checkBuilderConfig(builderDir: string, env: Record<string, string | undefined>): { findings: Finding[]; config?: Config } {
  let config: Config;
  try {
    config = loadConfig({ env, builderDir });
  } catch (err) {
    return { findings: [fail(`builder config: ${formatError('doctor', err).replace(/^extbuilder doctor: /, '')}`, 'fix the builder config')] };
  }
  const out: Finding[] = [ok(`builder config: ${config.sources.length ? config.sources.join(' + ') : 'none (defaults)'}; claims ${config.types.join(', ')}`)];
  const read = (k: keyof Config['tls']): string | undefined => {
    const file = config.tls[k];
    if (!file) return undefined;
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      out.push(fail(`tls.${k} ${file} is not readable (${(err as NodeJS.ErrnoException).code})`, 'the file must exist on the peer and be readable by the peer user'));
      return undefined;
    }
  };
  const now = Date.now();
  /** False when the certificate is not valid now, which is then reported as a failure. */
  const dates = (where: string, c: { validTo: string; validFrom: string }): boolean => {
    const to = new Date(c.validTo).getTime();
    if (now > to || now < new Date(c.validFrom).getTime()) {
      out.push(fail(`${where} is not valid now (valid ${c.validFrom} to ${c.validTo})`, 'issue a new certificate'));
      return false;
    }
    if (to - now < 30 * 24 * 3600 * 1000) out.push(warn(`${where} expires on ${c.validTo}`, 'renew it; a durable build keeps the old copy until deleted'));
    return true;
  };
  try {
    const root = read('root_cert_file');
    if (root !== undefined) {
      const certs = parseCertificates(root, `tls.root_cert_file ${config.tls.root_cert_file}`);
      const current = certs.map((c) => dates(`tls.root_cert_file (${c.subject.replace(/\n/g, ', ')})`, c)).every(Boolean);
      if (certs.some((c) => !c.ca)) out.push(fail(`tls.root_cert_file ${config.tls.root_cert_file} holds a certificate that is not a CA`, 'give the CA that issued the chaincode server\'s certificate'));
      // Not also "ok" for a bundle just reported as not valid now.
      else if (current) out.push(ok(`tls.root_cert_file: ${certs.length} CA certificate(s)`));
    }
    const cert = read('client_cert_file');
    const key = read('client_key_file');
    if ((cert === undefined) !== (key === undefined) && !out.some((f) => f.verdict === 'fail')) {
      out.push(fail('only one of tls.client_cert_file and tls.client_key_file is set', 'set both, or neither'));
    }
    if (cert !== undefined && key !== undefined) {
      const [leaf] = parseCertificates(cert, `tls.client_cert_file ${config.tls.client_cert_file}`);
      dates(`tls.client_cert_file (${leaf!.subject.replace(/\n/g, ', ')})`, leaf!);
      if (!leaf!.checkPrivateKey(parsePrivateKey(key, `tls.client_key_file ${config.tls.client_key_file}`))) {
        out.push(fail('tls.client_key_file does not belong to tls.client_cert_file', 'give the key issued with that certificate'));
      } else {
        out.push(ok('tls.client_cert_file and tls.client_key_file are a matching pair'));
      }
      const mode = statSync(config.tls.client_key_file!).mode & 0o077;
      if (mode) out.push(warn(`tls.client_key_file ${config.tls.client_key_file} is readable by group or others`, `chmod 600 ${config.tls.client_key_file}`));
    }
  } catch (err) {
    out.push(fail(formatError('doctor', err).replace(/^extbuilder doctor: /, ''), 'fix the TLS files named in the builder config'));
  }
  return { findings: out, config };
}

// ---- durable builds ----

export function checkDurableBuilds(fsPath: string, core: CoreYaml | undefined, version: PeerVersion): Finding[] {
  const builds = join(fsPath, 'externalbuilder', 'builds');
  if (!existsSync(builds)) return [warn(`${builds} does not exist`, 'give the peer\'s peer.fileSystemPath (the peer creates this dir at start-up)')];
  const names = readdirSync(builds).sort();
  if (names.length === 0) return [ok(`${builds}: no durable builds`)];
  const out: Finding[] = [];
  for (const id of names) {
    const dir = join(builds, id);
    const where = `build ${id}`;
    let builder: string;
    try {
      const info = JSON.parse(readFileSync(join(dir, BUILD_INFO), 'utf8')) as { builder_name?: unknown };
      if (typeof info.builder_name !== 'string') throw new Error('no builder_name');
      builder = info.builder_name;
    } catch {
      out.push(fail(`${where} is half-written: ${BUILD_INFO} is missing or unreadable, so every later Build of this package fails ("could not read ... build-info.json")`, `delete ${dir} and restart the peer; it rebuilds from the installed package`));
      continue;
    }
    if (core && !core.builders.some((b) => b.name === builder)) {
      out.push(fail(`${where} was built by builder ${builder}, which core.yaml no longer lists: the peer fails with "already built with builder '${builder}', but that builder is no longer available"`,
        `add the builder back under the name ${builder}, or delete ${dir} and restart the peer`));
      continue;
    }
    let mode = 'launch (run)';
    try {
      const view = readRelease(join(dir, 'release'), version);
      if (view.connection) mode = `service ${view.connection.address}, tls ${!view.connection.tls ? 'off' : view.connection.tls.client ? 'mutual' : 'on'}`;
      if (!existsSync(join(dir, 'release')) || !existsSync(join(dir, 'bld'))) {
        out.push(fail(`${where} (builder ${builder}) lacks ${existsSync(join(dir, 'release')) ? 'bld/' : 'release/'}: the copy after release did not finish`, `delete ${dir} and restart the peer`));
        continue;
      }
      out.push(ok(`${where}: builder ${builder}, ${mode}, ${view.indexes.length} index(es)`));
    } catch (err) {
      const why = err instanceof MalformedChaincodeInfo ? `malformed chaincode info: ${err.message}` : (err as Error).message;
      out.push(fail(`${where}: release/chaincode/server/connection.json is refused at launch (${why})`, `fix it in place (the peer re-reads it at every launch), or rebuild: delete ${dir} and restart the peer`));
    }
  }
  return out;
}

// ---- the command ----

/** The builder this program belongs to: the parent of the bin/ it was started from. */
export function ownBuilderDir(): string | undefined {
  const script = process.argv[1];
  if (!script) return undefined;
  try {
    const dir = resolve(realpathSync(script), '..', '..');
    return existsSync(join(dir, 'bin', 'detect')) ? dir : undefined;
  } catch {
    return undefined;
  }
}

export function peerVersionOf(v: unknown): PeerVersion {
  const major = Number(String(v ?? '3').split('.')[0]);
  if (major !== 2 && major !== 3) throw new ExtError('SIM_USAGE', `--peer-version ${String(v)} is not a Fabric 2.x or 3.x version`, 'give 2.5, 3.1 or similar');
  return major;
}

export interface DoctorInputs {
  builderDir: string;
  coreYaml?: string;
  /** The builder dir's path as the peer sees it (inside its container), as install's --peer-path. */
  peerPath?: string;
  fsPath?: string;
  version: PeerVersion;
  env: Record<string, string | undefined>;
}

export function doctor(i: DoctorInputs): Finding[] {
  const out: Finding[] = [];
  out.push(...checkBuilderDir(i.builderDir, i.env.PATH));
  const { findings, config } = checkBuilderConfig(i.builderDir, i.env);
  out.push(...findings);
  let core: CoreYaml | undefined;
  if (i.coreYaml) core = readCoreYaml(i.coreYaml);
  // The peer takes its builders from this variable over core.yaml's, as doctor does.
  const envList = i.env.CORE_CHAINCODE_EXTERNALBUILDERS?.trim();
  const builders = envList ? readBuildersEnv(envList, core) : core;
  if (builders) {
    out.push(...checkCoreYaml(builders, i.builderDir, i.env, config, i.peerPath));
  } else {
    out.push(warn('not checked: the peer\'s externalBuilders entry (its path, name, propagateEnvironment, order before ccaas_builder), vm.endpoint and, without --fs-path, the durable builds',
      'give --core-yaml with the peer\'s core.yaml (and --peer-path when the peer sees the builder dir at another path), or set CORE_CHAINCODE_EXTERNALBUILDERS as the peer has it'));
  }
  // Without --fs-path, the durable builds are looked for where core.yaml says the peer keeps them.
  const fsPath = i.fsPath ?? (i.env.CORE_PEER_FILESYSTEMPATH || core?.fileSystemPath || undefined);
  if (fsPath && (i.fsPath || existsSync(fsPath))) out.push(...checkDurableBuilds(fsPath, builders, i.version));
  return out;
}

export const doctorCommand: CliCommand = {
  builder: (y: Argv) => y
    .option('builder', { type: 'string', describe: 'the builder dir (parent of bin/); default: this program\'s own' })
    .option('core-yaml', { type: 'string', describe: 'the peer\'s core.yaml: checks the externalBuilders entry (CORE_CHAINCODE_EXTERNALBUILDERS, when set, is read instead, as the peer does)' })
    .option('peer-path', { type: 'string', describe: 'the builder dir\'s path as the peer sees it (inside its container), as given to install --peer-path' })
    .option('fs-path', { type: 'string', describe: 'the peer\'s peer.fileSystemPath: checks externalbuilder/builds/* (default: core.yaml\'s, when it exists here)' })
    .option('peer-version', { type: 'string', default: '3', describe: 'Fabric version of the peer (2.x or 3.x)' })
    .option('kubernetes', { type: 'boolean', describe: 'Kubernetes mode: check the configured identity\'s permissions and list chaincode pods whose run is gone' })
    .option('json', { type: 'boolean', describe: 'print the findings as JSON' }) as unknown as Argv,
  async handler(argv, env) {
    try {
      const builderDir = argv.builder ? resolve(String(argv.builder)) : ownBuilderDir();
      const kubernetes = argv.kubernetes === true;
      if (!builderDir && !kubernetes) throw new ExtError('SIM_USAGE', 'cannot tell where this program\'s builder dir is', 'give --builder DIR (the parent of bin/)');
      for (const [opt, p] of [['--builder', builderDir], ['--core-yaml', argv['core-yaml']], ['--fs-path', argv['fs-path']]] as const) {
        if (p !== undefined && !existsSync(String(p))) throw new ExtError('SIM_USAGE', `${opt} ${String(p)} does not exist`, 'check the path');
      }
      const findings = builderDir ? doctor({
        builderDir,
        coreYaml: argv['core-yaml'] as string | undefined,
        peerPath: argv['peer-path'] as string | undefined,
        fsPath: argv['fs-path'] as string | undefined,
        version: peerVersionOf(argv['peer-version']),
        env,
      }) : [];
      if (kubernetes) {
        const { kubernetesFindings } = await import('./doctor-kubernetes.js');
        // Without a builder dir only EXTBUILDER_CONFIG can configure it: no directory's config.json is read.
        findings.push(...await kubernetesFindings(loadConfig({ env, builderDir: builderDir ?? '/nonexistent' }), env));
      }
      const failed = findings.some((f) => f.verdict === 'fail');
      if (argv.json) process.stdout.write(JSON.stringify({ builder: builderDir ?? null, ok: !failed, findings }, null, 2) + '\n');
      else process.stdout.write(findings.map(formatFinding).join('\n') + `\n${failed ? 'doctor: problems found' : 'doctor: no problems found'}\n`);
      return failed ? 1 : 0;
    } catch (err) {
      return failed('doctor', err, argv, err instanceof ExtError && err.code === 'SIM_USAGE' ? 2 : 1);
    }
  },
};

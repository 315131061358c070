// extbuilder inspect PACKAGE: what a package holds, and whether the peer installs it and extbuilder
// builds it (exit 0 only then). Text for people, --json for machines.
import type { Argv } from 'yargs';
import { formatError } from '../core/errors.js';
import { createLogger } from '../core/log.js';
import { inspectPackage, type Inspection } from '../packaging/inspect.js';
import { typeName } from '../core/pkg/peer-rules.js';
import type { CliCommand } from './commands.js';
import { failed } from './fail.js';

const MAX_LISTED = 200;

function modeString(type: string, mode: number): string {
  const bits = ['r', 'w', 'x'];
  let s = type === '5' ? 'd' : type === '0' ? '-' : type === '2' ? 'l' : '?';
  for (let i = 8; i >= 0; i--) s += mode & (1 << i) ? bits[(8 - i) % 3] : '-';
  return s;
}

function textReport(r: Inspection): string[] {
  const p = r.report;
  const lines = [`package   ${p.file} (${p.size} bytes, sha256 ${p.sha256})`];
  if (p.id) lines.push(`id        ${p.id}`);
  lines.push(`entries   ${p.entries.map((e) => `${e.name}${e.type === '0' ? '' : ` (${typeName(e.type)})`} ${e.size} B`).join(', ') || 'none'}`);
  if (p.metadataBytes) lines.push(`metadata  ${(p.metadata !== undefined ? JSON.stringify(p.metadata) : p.metadataBytes.toString('utf8')).slice(0, 300)}`);
  if (r.source) {
    const s = r.source;
    lines.push(`mode      ${s.mode}`);
    if (s.connection) {
      const c = s.connection;
      lines.push(`address   ${c.address}${c.dialTimeout ? `, dial_timeout ${c.dialTimeout}` : ''}, tls ${c.tls}`);
      if (c.templated.length > 0) lines.push(`templated ${c.templated.join(', ')} (rendered from each peer's builder config)`);
      if (c.spliced.length > 0) lines.push(`spliced   ${c.spliced.join(', ')} (from each peer's tls.*_file settings)`);
    }
    if (s.image) lines.push(`image     ${s.image} (run starts it as a Kubernetes pod)`);
    if (s.launch) lines.push(`command   ${[s.launch.command, ...s.launch.args].map((a) => JSON.stringify(a)).join(' ')} (workdir ${s.launch.workdir})`);
    lines.push(`indexes   ${s.indexes.length === 0 ? 'none' : s.indexes.join(', ')}`);
  }
  if (p.code) {
    const n = p.code.entries.length;
    lines.push(`code.tar.gz holds ${n} ${n === 1 ? 'entry' : 'entries'}:`);
    for (const e of p.code.entries.slice(0, MAX_LISTED)) {
      lines.push(`  ${modeString(e.type, e.mode)} ${String(e.size).padStart(10)}  ${e.name}${e.type === '2' || e.type === '1' ? ` -> ${e.linkname}` : ''}`);
    }
    if (n > MAX_LISTED) lines.push(`  ... and ${n - MAX_LISTED} more (--json lists all)`);
  }
  lines.push(r.error ? `verdict   FAIL: ${r.error.code}` : 'verdict   ok: the peer installs it and extbuilder builds it');
  return lines;
}

function jsonReport(r: Inspection, warnings: { code: string; message: string }[]): unknown {
  const p = r.report;
  return {
    ok: !r.error,
    file: p.file, size: p.size, sha256: p.sha256, package_id: p.id ?? null, label: p.label ?? null, type: r.type ?? null,
    entries: p.entries.map((e) => ({ name: e.name, type: typeName(e.type), size: e.size })),
    metadata: p.metadata ?? null,
    mode: r.source?.mode ?? null,
    connection: r.source?.connection ?? null,
    launch: r.source?.launch ?? null,
    image: r.source?.image ?? null,
    indexes: r.source?.indexes ?? [],
    code: p.code ? p.code.entries.map((e) => ({ name: e.name, type: typeName(e.type), size: e.size, mode: (e.mode & 0o7777).toString(8), ...(e.linkname ? { linkname: e.linkname } : {}) })) : null,
    warnings,
    error: r.error ? { code: r.error.code, what: r.error.what, fix: r.error.fix } : null,
  };
}

export const inspectCommand: CliCommand = {
  builder: (y: Argv) => y
    .positional('package', { type: 'string', describe: 'the chaincode package (.tar.gz)', demandOption: true })
    .option('json', { type: 'boolean', default: false, describe: 'print a JSON report on stdout' }),
  async handler(argv, env) {
    const json = argv.json === true;
    // Warnings go to stderr as they happen; with --json they are also in the report.
    const log = createLogger({ phase: 'inspect', debug: env.EXTBUILDER_DEBUG === '1' });
    let result: Inspection;
    try {
      result = await inspectPackage(String(argv.package), log);
    } catch (err) {
      return failed('inspect', err, argv);
    }
    process.stdout.write(json ? `${JSON.stringify(jsonReport(result, log.warnings), null, 2)}\n` : `${textReport(result).join('\n')}\n`);
    if (result.error) {
      process.stderr.write(`${formatError('inspect', result.error)}\n`);
      return 1;
    }
    return 0;
  },
};

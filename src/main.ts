// The single entry: the name the program is invoked as picks a peer phase or the user CLI.
import { basename, dirname, resolve } from 'node:path';
import type { PhaseContext, PhaseSpec } from './phases/common.js';

export const PHASES = ['detect', 'build', 'release', 'run'] as const;
type Phase = (typeof PHASES)[number];

function isPhase(name: string | undefined): name is Phase {
  return (PHASES as readonly string[]).includes(name ?? '');
}

/** Loads only the phase that runs: the phase path never loads yargs or another phase's code. */
async function loadPhase(name: Phase): Promise<PhaseSpec> {
  switch (name) {
    case 'detect': return (await import('./phases/detect.js')).detect;
    case 'build': return (await import('./phases/build.js')).build;
    case 'release': return (await import('./phases/release.js')).release;
    case 'run': return (await import('./phases/run.js')).run;
  }
}

/**
 * `id FILE`, `inspect FILE` and `inspect FILE --json` (--json before FILE too, and for id: both options are
 * the command's own): what yargs would parse into { package: FILE, json }. Anything else (help, --version,
 * another option, a file name yargs reads otherwise: `help`, `-x`, empty) is left to the CLI.
 */
export function quickCommand(args: string[]): { command: 'id' | 'inspect'; file: string; json: boolean } | undefined {
  const [command, ...rest] = args;
  if ((command !== 'id' && command !== 'inspect') || rest.length < 1 || rest.length > 2) return undefined;
  const json = rest.length === 2;
  const files = rest.filter((a) => a !== '--json');
  if (files.length !== 1 || files.length + (json ? 1 : 0) !== rest.length) return undefined;
  const file = files[0]!;
  if (file === '' || file.startsWith('-') || file === 'help') return undefined;
  return { command, file, json };
}

/** The options of `package` that take a value (`-o` is --output), and its boolean flags (src/cli/package.ts). */
const PACKAGE_STRINGS = ['label', 'connection', 'address', 'dial-timeout', 'root-cert', 'domain', 'launch', 'image', 'indexes', 'type', 'output', 'env-out'];
const PACKAGE_FLAGS = ['tls', 'client-auth', 'dereference', 'json'];

/**
 * `package --label L [--opt value | --flag]...`: what yargs would hand the package handler (its defaults
 * included: type external, dereference and json false), when the line is plain: every option is the
 * command's own, spelt `--name value` (or `-o value`) or a bare `--flag`, at most once, each value present,
 * non-empty and not starting with `-`, and --label given. Anything else (help, `--x=y`, `--no-x`, an
 * unknown, repeated or misspelt option, a positional argument, a missing value or --label) is left to the
 * CLI, which says what is wrong as before.
 */
export function quickPackage(args: string[]): Record<string, unknown> | undefined {
  if (args[0] !== 'package') return undefined;
  const argv: Record<string, unknown> = { _: ['package'], $0: 'extbuilder', type: 'external', dereference: false, json: false };
  const given = new Set<string>();
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    const name = a === '-o' ? 'output' : a.startsWith('--') ? a.slice(2) : undefined;
    if (name === undefined || given.has(name)) return undefined;
    given.add(name);
    if (PACKAGE_FLAGS.includes(name)) {
      argv[name] = true;
      continue;
    }
    if (!PACKAGE_STRINGS.includes(name)) return undefined;
    const value = args[++i];
    if (value === undefined || value === '' || value.startsWith('-')) return undefined;
    argv[name] = value;
  }
  return given.has('label') ? argv : undefined;
}

/**
 * `invokedPath` is the path the program was started as (a link such as <builder>/bin/detect);
 * returns the exit code.
 */
export async function main(invokedPath: string, args: string[], env: Record<string, string | undefined>): Promise<number> {
  const name = basename(invokedPath);
  const builderDir = dirname(dirname(resolve(invokedPath)));
  const { runPhase } = await import('./phases/common.js');
  if (isPhase(name)) return runPhase(await loadPhase(name), { args, env, builderDir } satisfies PhaseContext);
  if (isPhase(args[0])) return runPhase(await loadPhase(args[0]), { args: args.slice(1), env, builderDir });
  // --version needs none of the CLI: answered here, it starts as fast as a phase.
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    const { VERSION } = await import('./core/version.js');
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  // id and inspect, the commands scripts run most, start without yargs and the CLI file when the line is plain.
  const quick = quickCommand(args);
  if (quick) {
    const { runQuick } = await import('./cli/quick.js');
    return runQuick(quick.command, quick.file, quick.json, env);
  }
  // package likewise: yargs' parse and help text and the CLI file are most of a small package's time.
  const quickArgv = quickPackage(args);
  if (quickArgv) {
    const { runQuickPackage } = await import('./cli/quick.js');
    return runQuickPackage(quickArgv, env);
  }
  const { cli } = await import('./cli/index.js');
  return cli(args, env);
}

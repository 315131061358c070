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
  const { cli } = await import('./cli/index.js');
  return cli(args, env);
}

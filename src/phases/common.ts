// What every phase entry shares: argument count, logger, and the single place errors become a line.
import { createLogger, type Logger } from '../core/log.js';
import { formatError } from '../core/errors.js';

export interface PhaseContext {
  /** The phase's positional arguments (argv after the program name). */
  args: string[];
  env: Record<string, string | undefined>;
  /** The parent of the bin/ the program was invoked from: where config.json lives. */
  builderDir: string;
}

export interface PhaseSpec {
  name: 'detect' | 'build' | 'release' | 'run';
  params: string[];
  /** The phase body: returns the exit code (0 unless it decides otherwise) or throws. */
  body: (ctx: PhaseContext, log: Logger) => Promise<number>;
}

/** Runs a phase and maps every outcome to an exit code: 2 for usage, 1 for any failure. */
export async function runPhase(spec: PhaseSpec, ctx: PhaseContext): Promise<number> {
  const debug = ctx.env.EXTBUILDER_DEBUG === '1';
  const log = createLogger({ phase: spec.name, debug });
  if (ctx.args.length !== spec.params.length) {
    log.info(`USAGE: expected ${spec.params.length} arguments, got ${ctx.args.length} (usage: ${spec.name} ${spec.params.join(' ')})`);
    return 2;
  }
  try {
    return await spec.body(ctx, log);
  } catch (err) {
    log.info(formatError(spec.name, err).replace(`extbuilder ${spec.name}: `, ''));
    if (debug && err instanceof Error && err.stack) log.debug(err.stack.replace(/\n\s*/g, ' | '));
    return 1;
  }
}

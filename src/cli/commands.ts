// The list of CLI commands; each lives in its own file and exports a CliCommand.
import type { Argv } from 'yargs';

export interface CliCommand {
  command: string;
  describe: string;
  builder: (y: Argv) => Argv;
  /** Returns the exit code; prints its own one-line errors. */
  handler: (argv: Record<string, unknown>, env: Record<string, string | undefined>) => Promise<number>;
}

export const commands: CliCommand[] = [];

// Packages (issue 4): package, id, inspect.
import { packageCommand } from './package.js';
import { idCommand } from './id.js';
import { inspectCommand } from './inspect.js';
commands.push(packageCommand, idCommand, inspectCommand);

// Simulation and checks (issue 5): simulate, doctor.
import { simulateCommand } from './simulate.js';
import { doctorCommand } from './doctor.js';
commands.push(simulateCommand, doctorCommand);

// Standalone binaries (issue 6): install.
import { installCommand } from './install.js';
commands.push(installCommand);

// The user CLI (yargs): every sub-command registers itself from its own file in this folder.
import yargs from 'yargs';
import { VERSION } from '../builder/output.js';
import { commands } from './commands.js';

export async function cli(args: string[], env: Record<string, string | undefined>): Promise<number> {
  let exitCode = 0;
  const parser = yargs(args)
    .scriptName('extbuilder')
    .version(VERSION)
    .strict()
    .demandCommand(1, 'name a command; see extbuilder --help')
    .recommendCommands()
    .fail((msg, err) => {
      if (err) throw err;
      process.stderr.write(`extbuilder: USAGE: ${msg} (see extbuilder --help)\n`);
      exitCode = 2;
    })
    .help();
  for (const command of commands) {
    parser.command(command.command, command.describe, command.builder, async (argv) => {
      exitCode = await command.handler(argv as never, env);
    });
  }
  await parser.parseAsync();
  return exitCode;
}

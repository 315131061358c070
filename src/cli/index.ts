// The user CLI (yargs): every sub-command registers itself from its own file in this folder. A usage error
// is one `extbuilder: USAGE:` line and exit 2, and then nothing runs.
import yargs from 'yargs';
import { VERSION } from '../builder/output.js';
import { didYouMean } from '../core/schema.js';
import { commands, EXAMPLES, type CommandSpec } from './commands.js';
import { errorJson, UsageError } from './fail.js';

const nameOf = (c: CommandSpec): string => c.command.split(' ')[0]!;

/** The `<arg>` names a command's spec requires, in order. */
const required = (c: CommandSpec): string[] => c.command.split(' ').slice(1).filter((t) => !t.startsWith('[')).map((t) => t.replace(/^<|>$/g, ''));

/**
 * Says yargs' validation message the way the rest of this program speaks, naming the command and its
 * --help. yargs reports one problem per call; the first is thrown, so the handler never runs.
 */
export function usageError(msg: string, args: string[], options: string[] = []): UsageError {
  const names = commands.map(nameOf);
  const first = args.find((a) => !a.startsWith('-'));
  const command = commands.find((c) => nameOf(c) === first);
  const help = command ? `see extbuilder ${nameOf(command)} --help` : 'see extbuilder --help';
  if (!command) {
    if (first === undefined) return new UsageError('no command given', `name one of ${names.join(', ')}; see extbuilder --help`);
    const guess = didYouMean(first, names);
    return new UsageError(`unknown command ${first}`, guess ? `did you mean ${guess}? ${help}` : `name one of ${names.join(', ')}`);
  }
  // yargs checks required arguments first, but a misspelt option (which may have eaten the argument) is
  // the cause to name: `id --jsn x` is missing nothing.
  const misspelt = args.slice(args.indexOf(first!) + 1).find((a) => /^--?[^-]/.test(a) && !options.includes(a.replace(/^--?(no-)?/, '').split('=')[0]!));
  const unknown = misspelt ? [misspelt, misspelt.replace(/^--?/, '').split('=')[0]!] : /^Unknown arguments?: (.+)$/.exec(msg);
  if (unknown) {
    const bad = unknown[1]!.split(', ')[0]!;
    const given = misspelt ?? args.find((a) => a.replace(/^-+/, '').split('=')[0] === bad);
    if (given?.startsWith('-')) {
      // --env-file is Node's own option (it reads the file before this program starts), so the spelling
      // that works here is suggested by name rather than by distance.
      const guess = bad === 'env-file' && options.includes('env-out') ? 'env-out' : didYouMean(bad, options.filter((o) => o.length > 1 && o !== '$0'));
      return new UsageError(`extbuilder ${nameOf(command)} has no option ${given.split('=')[0]}`, guess ? `did you mean --${guess}? ${help}` : help);
    }
    return new UsageError(`extbuilder ${nameOf(command)} takes no argument ${bad}`, help);
  }
  const noValue = /^Not enough arguments following: (.+)$/.exec(msg);
  if (noValue) return new UsageError(`--${noValue[1]} needs a value`, help);
  if (/^Not enough non-option arguments/.test(msg) || /^Missing required argument/.test(msg)) {
    const missing = /^Missing required argument: (.+)$/.exec(msg)?.[1];
    const what = missing && !required(command).includes(missing) ? `--${missing.split(', ')[0]}` : `<${required(command)[0] ?? missing}>`;
    return new UsageError(`extbuilder ${nameOf(command)} needs ${what}`, help);
  }
  return new UsageError(msg.replace(/\.$/, ''), help);
}

export async function cli(args: string[], env: Record<string, string | undefined>): Promise<number> {
  let exitCode = 0;
  const parser = yargs(args)
    .scriptName('extbuilder')
    .version(VERSION)
    .strict()
    .demandCommand(1)
    .exitProcess(false)
    .fail((msg, err) => {
      // yargs' own validation errors are usage errors; anything else was thrown by a command.
      if (err && err.name !== 'YError') throw err;
      // getOptions is yargs' own (untyped): the options of the command being parsed, for a did-you-mean.
      const o = (parser as unknown as { getOptions(): { key: Record<string, unknown>; alias: Record<string, string[]> } }).getOptions();
      throw usageError(msg || err?.message || '', args, [...Object.keys(o.key), ...Object.values(o.alias).flat()]);
    })
    .completion('completion', 'print a bash/zsh completion script: source <(extbuilder completion)')
    .alias('h', 'help')
    .alias('V', 'version')
    .help()
    .wrap(Math.min(110, process.stdout.columns || 100));
  // Only the command being run is loaded; yargs calls no other command's builder or handler, and the
  // top-level --help needs only the names and descriptions. Completion names the command third.
  const words = args[0] === '--get-yargs-completions' ? args.slice(2) : args;
  const running = commands.find((c) => nameOf(c) === words.find((a) => !a.startsWith('-')));
  const loaded = running ? await running.load() : undefined;
  for (const command of commands) {
    const impl = command === running ? loaded : undefined;
    parser.command(command.command, command.describe, (y) => {
      if (!impl) return y;
      const built = impl.builder(y);
      // `--target` at the end of a line is a missing value, not an empty string that falls back to a default.
      const o = (built as unknown as { getOptions(): { string: string[] } }).getOptions();
      if (o.string.length > 0) built.requiresArg(o.string);
      for (const [cmd, what] of EXAMPLES[nameOf(command)] ?? []) built.example(cmd, what);
      return built;
    }, async (argv) => {
      if (impl) exitCode = await impl.handler(argv as never, env);
    });
  }
  try {
    await parser.parseAsync();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`extbuilder: USAGE: ${err.what} (${err.fix})\n`);
    if (args.includes('--json')) process.stdout.write(errorJson(err));
    return 2;
  }
  return exitCode;
}

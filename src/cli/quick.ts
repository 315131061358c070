// `extbuilder id PACKAGE` and `extbuilder inspect PACKAGE [--json]` without yargs: a separately bundled chunk
// (dist/quick.cjs, scripts/bundle.ts) that main.ts loads instead of the 4 MB CLI when the command line is
// exactly one of these (quickCommand). The handlers are the CLI's own, given the argv yargs would give them,
// so what they print and return is the same; anything else (help, other options, a usage error) goes to yargs.

/** Each command's modules are loaded (evaluated) only when it runs: id needs no schema validators, for one. */
export async function runQuick(command: 'id' | 'inspect', file: string, json: boolean, env: Record<string, string | undefined>): Promise<number> {
  const impl = command === 'id' ? (await import('./id.js')).idCommand : (await import('./inspect.js')).inspectCommand;
  return impl.handler({ _: [command], $0: 'extbuilder', package: file, json }, env);
}

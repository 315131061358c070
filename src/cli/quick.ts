// `extbuilder id PACKAGE`, `extbuilder inspect PACKAGE [--json]` and a plain `extbuilder package ...` without
// yargs: a separately bundled chunk (dist/quick.cjs, scripts/bundle.ts) that main.ts loads instead of the 4 MB
// CLI when the command line is exactly one of these (quickCommand, quickPackage). The handlers are the CLI's
// own, given the argv yargs would give them, so what they print and return is the same; anything else (help,
// other options, a usage error) goes to yargs. package's packager (the deflate module, its worker threads) is
// in this file but evaluated only when package runs.

/** Each command's modules are loaded (evaluated) only when it runs: id needs no schema validators, for one. */
export async function runQuick(command: 'id' | 'inspect', file: string, json: boolean, env: Record<string, string | undefined>): Promise<number> {
  const impl = command === 'id' ? (await import('./id.js')).idCommand : (await import('./inspect.js')).inspectCommand;
  return impl.handler({ _: [command], $0: 'extbuilder', package: file, json }, env);
}

/** `package` with the argv yargs would give its handler (main.ts quickPackage); the packager is loaded only here. */
export async function runQuickPackage(argv: Record<string, unknown>, env: Record<string, string | undefined>): Promise<number> {
  return (await import('./package.js')).packageCommand.handler(argv, env);
}

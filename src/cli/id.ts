// extbuilder id PACKAGE: the package ID the peer computes (`peer lifecycle chaincode calculatepackageid`),
// offline. Streams the file, so memory stays constant for any size.
import type { Argv } from 'yargs';
import { createLogger } from '../core/log.js';
import { readPackage } from '../core/pkg/read.js';
import type { CliCommand } from './commands.js';
import { failed } from './fail.js';

export const idCommand: CliCommand = {
  builder: (y: Argv) => y
    .positional('package', { type: 'string', describe: 'the chaincode package (.tar.gz)', demandOption: true })
    .option('json', { type: 'boolean', default: false, describe: 'print {"package_id": ...} as the peer CLI does with --output json' })
    .option('output', { type: 'string', choices: ['text', 'json'], describe: 'the peer CLI\'s spelling of --json' }),
  async handler(argv) {
    try {
      // Like calculatepackageid: the peer's parse of the outer package only (code.tar.gz is not opened).
      const report = await readPackage(String(argv.package), { code: false });
      if (report.parseError) throw report.parseError;
      const log = createLogger({ phase: 'id' });
      for (const w of report.peerWarnings) log.warn('PKG_UNEXPECTED_FILE', w, 'the peer ignores it, but it counts in the package ID');
      const json = argv.json === true || argv.output === 'json';
      process.stdout.write(json ? `${JSON.stringify({ package_id: report.id }, null, '\t')}\n` : `${report.id}\n`);
      return 0;
    } catch (err) {
      return failed('id', err, { json: argv.json === true || argv.output === 'json' });
    }
  },
};

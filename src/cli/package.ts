// extbuilder package: a byte-reproducible install package from a connection.json (or its fields), a
// launch tree or an image reference; prints the package ID, and can write it to an env file for the
// chaincode server.
import { readFileSync, writeSync } from 'node:fs';
import type { Argv } from 'yargs';
import { ExtError } from '../core/errors.js';
import { createLogger } from '../core/log.js';
import { createPackage, type ConnectionFields, type PackageOptions } from '../packaging/package.js';
import type { CliCommand } from './commands.js';
import { failed } from './fail.js';

const FLAG_FIELDS = ['address', 'dial-timeout', 'tls', 'client-auth', 'root-cert', 'domain'] as const;

function fromFlags(argv: Record<string, unknown>): ConnectionFields {
  if (typeof argv.address !== 'string') {
    throw new ExtError('PKG_OPTIONS', `${FLAG_FIELDS.filter((f) => argv[f] !== undefined).map((f) => `--${f}`).join(', ')} given without --address`, 'add --address HOST:PORT of the chaincode server');
  }
  if (argv['client-auth'] && !argv.tls) throw new ExtError('PKG_OPTIONS', '--client-auth without --tls', 'client auth is part of TLS: add --tls');
  const fields: ConnectionFields = { address: argv.address };
  if (typeof argv['dial-timeout'] === 'string') fields.dial_timeout = argv['dial-timeout'];
  if (argv.tls) fields.tls_required = true;
  if (argv['client-auth']) fields.client_auth_required = true;
  if (typeof argv['root-cert'] === 'string') {
    if (!argv.tls) throw new ExtError('PKG_OPTIONS', '--root-cert without --tls', 'add --tls, or drop --root-cert');
    try {
      fields.root_cert = readFileSync(argv['root-cert'], 'utf8');
    } catch (err) {
      throw new ExtError('PKG_INPUT', `--root-cert ${argv['root-cert']} cannot be read (${(err as NodeJS.ErrnoException).code})`, 'give the PEM file of the CA that signed the chaincode server\'s certificate', { cause: err });
    }
  }
  if (typeof argv.domain === 'string') fields.domain = argv.domain;
  return fields;
}

function options(argv: Record<string, unknown>): PackageOptions {
  const byFlags = FLAG_FIELDS.some((f) => argv[f] !== undefined);
  if (typeof argv.connection === 'string' && byFlags) {
    throw new ExtError('PKG_OPTIONS', '--connection was given together with connection flags (--address, --tls, ...)', 'use either a connection.json file or the flags');
  }
  const label = String(argv.label);
  return {
    label,
    type: String(argv.type),
    output: typeof argv.output === 'string' ? argv.output : `${label}.tar.gz`,
    connection: typeof argv.connection === 'string' ? { file: argv.connection } : byFlags ? { fields: fromFlags(argv) } : undefined,
    launch: typeof argv.launch === 'string' ? argv.launch : undefined,
    image: typeof argv.image === 'string' ? argv.image : undefined,
    dereference: argv.dereference === true,
    indexes: typeof argv.indexes === 'string' ? argv.indexes : undefined,
    envFile: typeof argv['env-out'] === 'string' ? argv['env-out'] : undefined,
  };
}

/** A progress line on a terminal, redrawn at most every 200 ms; nothing when stderr is not a TTY. */
function progress(enabled: boolean): { onProgress?: PackageOptions['onProgress']; done: () => void } {
  if (!enabled) return { done: () => {} };
  const started = Date.now();
  let last = 0;
  let shown = false;
  const mb = (n: number) => (n / 1e6).toFixed(1);
  return {
    onProgress: (done, total) => {
      const now = Date.now();
      if (now - started < 200 || now - last < 200) return;
      last = now;
      shown = true;
      const pct = total.bytes > 0 ? Math.floor((100 * done.bytes) / total.bytes) : 100;
      writeSync(2, `\rextbuilder package: ${done.files}/${total.files} files, ${mb(done.bytes)}/${mb(total.bytes)} MB (${pct}%)\u001b[K`);
    },
    done: () => { if (shown) writeSync(2, '\r\u001b[K'); },
  };
}

export const packageCommand: CliCommand = {
  builder: (y: Argv) => y
    .option('label', { type: 'string', demandOption: true, describe: 'the package label (letters, digits, . + - _), e.g. mycc_1.0' })
    .option('connection', { type: 'string', describe: 'service mode: a connection.json to package as it is' })
    .option('address', { type: 'string', describe: 'service mode: the chaincode server\'s host:port (writes connection.json)' })
    .option('dial-timeout', { type: 'string', describe: 'with --address: Go duration, e.g. 10s' })
    .option('tls', { type: 'boolean', describe: 'with --address: the peer dials with TLS' })
    .option('client-auth', { type: 'boolean', describe: 'with --tls: the peer presents a client certificate (spliced from each peer\'s builder config)' })
    .option('root-cert', { type: 'string', describe: 'with --tls: PEM file of the CA that signed the server\'s certificate (else spliced at build)' })
    .option('domain', { type: 'string', describe: 'with --client-auth: TLS server name override (Fabric 3.0+)' })
    .option('launch', { type: 'string', describe: 'launch mode: a directory with launch.json at its root' })
    .option('image', { type: 'string', describe: 'Kubernetes mode: the chaincode image as NAME@sha256:DIGEST, which run starts as a pod' })
    .option('dereference', { type: 'boolean', default: false, describe: 'with --launch: package what symlinks point to (the peer refuses symlinks)' })
    .option('indexes', { type: 'string', describe: 'CouchDB indexes: a directory of indexes/*.json and collections/<c>/indexes/*.json, or of *.json' })
    .option('type', { type: 'string', default: 'external', describe: 'metadata.json type' })
    .option('output', { alias: 'o', type: 'string', describe: 'the package file to write (default <label>.tar.gz)' })
    // Not --env-file: Node itself (20 and 24, the standalone binaries too) takes any --env-file in argv,
    // even after the script, and exits if the file does not exist yet.
    .option('env-out', { type: 'string', describe: 'also write CHAINCODE_ID (and CHAINCODE_SERVER_ADDRESS) to this file' })
    .option('json', { type: 'boolean', default: false, describe: 'print a JSON object instead of the package ID' }),
  async handler(argv, env) {
    const log = createLogger({ phase: 'package', debug: env.EXTBUILDER_DEBUG === '1' });
    const show = progress(process.stderr.isTTY === true && argv.json !== true);
    try {
      const outcome = await createPackage({ ...options(argv), onProgress: show.onProgress }, log);
      show.done();
      const { id, ...rest } = outcome;
      process.stdout.write(argv.json === true ? `${JSON.stringify({ package_id: id, ...rest, warnings: log.warnings }, null, 2)}\n` : `${id}\n`);
      return 0;
    } catch (err) {
      show.done();
      return failed('package', err, argv);
    }
  },
};

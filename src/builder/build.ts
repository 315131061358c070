// build's logic: pick service or launch mode from the source, build into BUILD_OUTPUT_DIR atomically.
import { copyFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../core/config.js';
import { ExtError } from '../core/errors.js';
import { fillAtomically, writeFileWithMode } from '../core/fsx.js';
import type { Logger } from '../core/log.js';
import { copyIndexes, findIndexes } from './indexes.js';
import { writeBuildOutput } from './output.js';
import { connectionFile, prepareConnection, readConnection, serverName } from './service.js';
import { buildLaunch } from './launch.js';

export interface BuildInputs {
  sourceDir: string;
  metadataDir: string;
  outputDir: string;
  config: Config;
  log: Logger;
}

export type Mode = 'service' | 'launch';

export function detectMode(sourceDir: string): Mode {
  const hasConn = existsSync(join(sourceDir, 'connection.json'));
  const hasLaunch = existsSync(join(sourceDir, 'launch.json'));
  if (hasConn && hasLaunch) {
    throw new ExtError('SOURCE_BOTH_MODES', 'code.tar.gz holds both connection.json and launch.json', 'keep connection.json for a chaincode server the peer dials, or launch.json for a program the peer starts, not both');
  }
  if (hasConn) return 'service';
  if (hasLaunch) return 'launch';
  let names: string[];
  try {
    names = readdirSync(sourceDir).sort();
  } catch (err) {
    throw new ExtError('SOURCE_READ', `cannot read CHAINCODE_SOURCE_DIR ${sourceDir}: ${(err as NodeJS.ErrnoException).code}`, 'check the arguments the peer passed', { cause: err });
  }
  const found = names.length === 0 ? 'it is empty' : `it holds ${names.slice(0, 8).join(', ')}${names.length > 8 ? `, and ${names.length - 8} more` : ''}`;
  throw new ExtError('SOURCE_NO_ENTRY', `code.tar.gz has neither connection.json nor launch.json at its root; ${found}`,
    'package it with extbuilder package --connection FILE (service mode) or --launch DIR (launch mode)');
}

export async function build(inputs: BuildInputs): Promise<string> {
  const mode = detectMode(inputs.sourceDir);
  if (mode === 'launch') return buildLaunch(inputs);
  return buildService(inputs);
}

async function buildService({ sourceDir, metadataDir, outputDir, config, log }: BuildInputs): Promise<string> {
  const { connection, tls } = prepareConnection(readConnection(join(sourceDir, 'connection.json')), config, log);
  const indexes = findIndexes(sourceDir, log);
  if (tls.mode !== 'off') {
    log.debug(`the chaincode server's certificate must name ${serverName(connection)}; only dialling it checks that (extbuilder simulate)`);
  }
  await fillAtomically(outputDir, (scratch) => {
    const { text, mode } = connectionFile(connection);
    writeFileWithMode(join(scratch, 'connection.json'), text, mode);
    copyFileSync(join(metadataDir, 'metadata.json'), join(scratch, 'metadata.json'));
    writeBuildOutput(scratch, 'service', copyIndexes(indexes, scratch));
  });
  const n = indexes.length;
  return `service ${connection.address}, tls ${tls.mode}, ${n} ${n === 1 ? 'index' : 'indexes'}`;
}

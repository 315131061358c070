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
import { buildImage } from './image.js';
import { buildLaunch } from './launch.js';

export interface BuildInputs {
  sourceDir: string;
  metadataDir: string;
  outputDir: string;
  config: Config;
  log: Logger;
}

export type Mode = 'service' | 'launch' | 'kubernetes';

/** The file at the package root that names each mode. */
const ENTRY: Record<Mode, string> = { service: 'connection.json', launch: 'launch.json', kubernetes: 'image.json' };
const FOR: Record<Mode, string> = { service: 'a chaincode server the peer dials', launch: 'a program the peer starts', kubernetes: 'an image run starts as a pod' };

export function detectMode(sourceDir: string): Mode {
  const found = (Object.keys(ENTRY) as Mode[]).filter((m) => existsSync(join(sourceDir, ENTRY[m])));
  if (found.length > 1) {
    const files = found.map((m) => ENTRY[m]);
    throw new ExtError('SOURCE_BOTH_MODES', `code.tar.gz holds ${files.slice(0, -1).join(', ')} and ${files.at(-1)}`,
      `keep one: ${found.map((m) => `${ENTRY[m]} for ${FOR[m]}`).join(', or ')}`);
  }
  if (found.length === 1) return found[0]!;
  let names: string[];
  try {
    names = readdirSync(sourceDir).sort();
  } catch (err) {
    throw new ExtError('SOURCE_READ', `cannot read CHAINCODE_SOURCE_DIR ${sourceDir}: ${(err as NodeJS.ErrnoException).code}`, 'check the arguments the peer passed', { cause: err });
  }
  const holds = names.length === 0 ? 'it is empty' : `it holds ${names.slice(0, 8).join(', ')}${names.length > 8 ? `, and ${names.length - 8} more` : ''}`;
  throw new ExtError('SOURCE_NO_ENTRY', `code.tar.gz has none of connection.json, launch.json and image.json at its root; ${holds}`,
    'package it with extbuilder package --connection FILE (service mode), --launch DIR (launch mode) or --image NAME@sha256:DIGEST (Kubernetes mode)');
}

export async function build(inputs: BuildInputs): Promise<string> {
  const mode = detectMode(inputs.sourceDir);
  if (mode === 'launch') return buildLaunch(inputs);
  if (mode === 'kubernetes') return buildImage(inputs);
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

// The peer's detect phase: detect CHAINCODE_SOURCE_DIR CHAINCODE_METADATA_DIR.
import { claims, readMetadata } from '../builder/detect.js';
import { loadConfig } from '../core/config.js';
import type { PhaseSpec } from './common.js';

export const detect: PhaseSpec = {
  name: 'detect',
  params: ['CHAINCODE_SOURCE_DIR', 'CHAINCODE_METADATA_DIR'],
  async body({ args, env, builderDir }, log) {
    const metadata = readMetadata(args[1]!);
    const config = loadConfig({ env, builderDir });
    // Silent on a foreign type: several builders are chained and each failed detect is normal.
    if (!claims(metadata, config.types)) return 1;
    log.debug(`claimed type ${metadata.type}`);
    return 0;
  },
};

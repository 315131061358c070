// The peer's build phase: build CHAINCODE_SOURCE_DIR CHAINCODE_METADATA_DIR BUILD_OUTPUT_DIR.
import { build as buildPackage } from '../builder/build.js';
import { loadConfig } from '../core/config.js';
import type { PhaseSpec } from './common.js';

export const build: PhaseSpec = {
  name: 'build',
  params: ['CHAINCODE_SOURCE_DIR', 'CHAINCODE_METADATA_DIR', 'BUILD_OUTPUT_DIR'],
  async body({ args, env, builderDir }, log) {
    const [sourceDir, metadataDir, outputDir] = args as [string, string, string];
    const config = loadConfig({ env, builderDir });
    log.info(await buildPackage({ sourceDir, metadataDir, outputDir, config, log }));
    return 0;
  },
};

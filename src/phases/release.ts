// The peer's release phase: release BUILD_OUTPUT_DIR RELEASE_OUTPUT_DIR.
import { release as releaseBuild } from '../builder/release.js';
import type { PhaseSpec } from './common.js';

export const release: PhaseSpec = {
  name: 'release',
  params: ['BUILD_OUTPUT_DIR', 'RELEASE_OUTPUT_DIR'],
  async body({ args }, log) {
    log.info(await releaseBuild({ buildDir: args[0]!, releaseDir: args[1]! }));
    return 0;
  },
};

// The peer's run phase: run BUILD_OUTPUT_DIR RUN_METADATA_DIR (launch mode). Not built yet.
import { ExtError } from '../core/errors.js';
import type { PhaseSpec } from './common.js';

export const run: PhaseSpec = {
  name: 'run',
  params: ['BUILD_OUTPUT_DIR', 'RUN_METADATA_DIR'],
  async body() {
    throw new ExtError('BUILD_OUTPUT_INVALID', 'launch mode is not supported by this build of extbuilder', 'use service mode');
  },
};

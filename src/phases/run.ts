// The peer's run phase: run BUILD_OUTPUT_DIR RUN_METADATA_DIR (launch and Kubernetes modes), starting the chaincode.
import { runChaincode } from '../builder/run.js';
import { loadConfig } from '../core/config.js';
import type { PhaseSpec } from './common.js';

export const run: PhaseSpec = {
  name: 'run',
  params: ['BUILD_OUTPUT_DIR', 'RUN_METADATA_DIR'],
  async body({ args, env, builderDir }, log) {
    const [buildDir, runDir] = args as [string, string];
    const config = loadConfig({ env, builderDir });
    // EXTBUILDER_RUN_NO_EXECVE=1 keeps run as a supervisor even where it could exec (for tests and debugging).
    return runChaincode({ buildDir, runDir, env, config, log, useExecve: env.EXTBUILDER_RUN_NO_EXECVE === '1' ? false : undefined });
  },
};

// Launch mode: a prebuilt chaincode program started by run (see issue: launch mode). Not built yet.
import { ExtError } from '../core/errors.js';
import type { BuildInputs } from './build.js';

export async function buildLaunch(_inputs: BuildInputs): Promise<string> {
  throw new ExtError('SOURCE_NO_ENTRY', 'launch mode (launch.json) is not supported by this build of extbuilder', 'package the chaincode with a connection.json for service mode');
}

// build.json: how build tells release and run what it built (schemas/build-output.schema.json).
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { validateBuildOutput } from '../generated/validators.js';
import type { BuildOutput } from '../generated/types.js';
import { ExtError } from '../core/errors.js';
import { readJsonFile } from '../core/json.js';
import { check } from '../core/schema.js';
import { writeFileWithMode } from '../core/fsx.js';

export const BUILD_JSON = 'build.json';
export { VERSION } from '../core/version.js';
import { VERSION } from '../core/version.js';

export function writeBuildOutput(dir: string, mode: BuildOutput['mode'], indexes: string[]): void {
  const out: BuildOutput = { builder: 'fabric-extbuilder', format: 1, version: VERSION, mode, indexes };
  writeFileWithMode(join(dir, BUILD_JSON), JSON.stringify(out, null, 2) + '\n', 0o644);
}

export function readBuildOutput(buildDir: string): BuildOutput {
  const file = join(buildDir, BUILD_JSON);
  const fix = 'BUILD_OUTPUT_DIR must come from extbuilder build; delete <fileSystemPath>/externalbuilder/builds/<id> and restart the peer to rebuild';
  if (!existsSync(file)) throw new ExtError('BUILD_OUTPUT_MISSING', `${buildDir} has no ${BUILD_JSON}`, fix);
  const data = readJsonFile(file, { where: `${BUILD_JSON} in BUILD_OUTPUT_DIR`, readCode: 'BUILD_OUTPUT_INVALID', parseCode: 'BUILD_OUTPUT_INVALID', fix, maxBytes: 1 << 22 });
  return check(validateBuildOutput, data, `${BUILD_JSON} in BUILD_OUTPUT_DIR`);
}

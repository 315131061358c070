// detect's logic: does metadata.json name a type this builder claims?
import { join } from 'node:path';
import { validateMetadata } from '../generated/validators.js';
import type { PackageMetadata } from '../generated/types.js';
import { readJsonFile } from '../core/json.js';
import { check } from '../core/schema.js';

const FIX = 'metadata.json comes from the package; repackage it with extbuilder package';

export function readMetadata(metadataDir: string): PackageMetadata {
  const file = join(metadataDir, 'metadata.json');
  const data = readJsonFile(file, { where: 'metadata.json', readCode: 'METADATA_READ', parseCode: 'METADATA_PARSE', fix: FIX, maxBytes: 1 << 20, tooLargeCode: 'METADATA_INVALID' });
  // Only "type" matters here; the peer has already checked the label at install.
  return check(validateMetadata, data, 'metadata.json');
}

/** True when the package's type is one of `types` (lower-case), compared case-insensitively. */
export function claims(metadata: PackageMetadata, types: string[]): boolean {
  return types.includes(metadata.type.toLowerCase());
}

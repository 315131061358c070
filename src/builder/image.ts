// Kubernetes mode: image.json (the image run starts as a pod) checked at build and read again at run,
// and build's output: image.json and the indexes, nothing else of the package.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fillAtomically } from '../core/fsx.js';
import { readJsonFile } from '../core/json.js';
import { check } from '../core/schema.js';
import { ExtError } from '../core/errors.js';
import { validateImage } from '../generated/validators.js';
import type { Image } from '../generated/types.js';
import type { BuildInputs } from './build.js';
import { copyIndexes, findIndexes } from './indexes.js';
import { writeBuildOutput } from './output.js';

export const IMAGE_JSON = 'image.json';
/** Where build keeps image.json inside BUILD_OUTPUT_DIR, apart from what build itself writes. */
export const IMAGE_DIR = 'image';

/** `name@digest`, what the pod runs: pinned, so the image is the one the organisations approved. */
export function imageReference(image: Image): string {
  return `${image.name}@${image.digest}`;
}

/**
 * Splits `NAME@sha256:DIGEST` (package --image). A tag is refused with the reason, since a tag can be
 * moved to another image after the chaincode definition is approved.
 */
export function parseImageReference(ref: string, where: string): Image {
  const at = ref.lastIndexOf('@');
  if (at < 0) {
    throw new ExtError('IMAGE_DIGEST', `${where} ${JSON.stringify(ref)} names no digest; an image by tag can change after the chaincode is approved`,
      'give NAME@sha256:DIGEST, e.g. the digest docker buildx imagetools inspect or crane digest prints');
  }
  let name = ref.slice(0, at);
  // name:tag@digest is a common spelling; the digest alone decides, so the tag is dropped. A colon after
  // the last / is a tag; one before it is a registry's port.
  const colon = name.indexOf(':', name.lastIndexOf('/') + 1);
  if (colon >= 0) name = name.slice(0, colon);
  return checkImage({ name, digest: ref.slice(at + 1) }, where);
}

function checkImage(data: unknown, where: string): Image {
  return check(validateImage, data, where, 'IMAGE_INVALID');
}

/** Reads and checks `<root>/image.json`. */
export function readImage(root: string): Image {
  const data = readJsonFile(join(root, IMAGE_JSON), {
    where: IMAGE_JSON, readCode: 'IMAGE_READ', parseCode: 'IMAGE_PARSE', fix: 'package the image with extbuilder package --image NAME@sha256:DIGEST',
    parseFix: 'write image.json as {"name": "...", "digest": "sha256:..."}, or package with extbuilder package --image', maxBytes: 1 << 16,
  });
  return checkImage(data, IMAGE_JSON);
}

export async function buildImage({ sourceDir, metadataDir, outputDir, log }: BuildInputs): Promise<string> {
  const image = readImage(sourceDir);
  const indexes = findIndexes(sourceDir, log);
  await fillAtomically(outputDir, (scratch) => {
    mkdirSync(join(scratch, IMAGE_DIR), { mode: 0o755 });
    copyFileSync(join(sourceDir, IMAGE_JSON), join(scratch, IMAGE_DIR, IMAGE_JSON));
    copyFileSync(join(metadataDir, 'metadata.json'), join(scratch, 'metadata.json'));
    writeBuildOutput(scratch, 'kubernetes', copyIndexes(indexes, scratch));
  });
  const n = indexes.length;
  return `kubernetes ${imageReference(image)}, ${n} ${n === 1 ? 'index' : 'indexes'}`;
}

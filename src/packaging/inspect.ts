// inspect's logic: the peer's verdict on a package (parse, install) and this builder's (detect, build
// with the peer's config unknown), from one read and one peer-style extraction into a scratch dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claims } from '../builder/detect.js';
import { validateMetadata } from '../generated/validators.js';
import { DEFAULT_TYPES } from '../core/config.js';
import { ExtError, show } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { check, didYouMean } from '../core/schema.js';
import { extractCode, readPackage, type PackageReport } from '../core/pkg/read.js';
import { checkSource, type SourceSummary } from './validate.js';

export interface Inspection {
  report: PackageReport;
  /** metadata.json's type, when it has one. */
  type?: string;
  source?: SourceSummary;
  /** The first reason the peer would not install it or this builder would not build it. */
  error?: ExtError;
}

/** The verdict on a type detect does not claim by default: the claimed types, and a did-you-mean. */
export function unclaimedType(type: string): ExtError {
  const guess = didYouMean(type, DEFAULT_TYPES);
  return new ExtError('PKG_TYPE_NOT_CLAIMED',
    `the peer installs it, but extbuilder will not claim it: metadata.json type ${show(type)} is not one of the types it claims (${DEFAULT_TYPES.join(', ')}), so its detect declines and the peer tries its next builder, or Docker${guess ? `; did you mean ${show(guess)}?` : ''}`,
    `repackage with --type ${guess ?? 'external'}, or list ${show(type.toLowerCase())} in the builder config's types on every peer`);
}

export async function inspectPackage(file: string, log: Logger, scratchParent = tmpdir()): Promise<Inspection> {
  const report = await readPackage(file);
  for (const w of report.peerWarnings) {
    log.warn('PKG_UNEXPECTED_FILE', w, 'the peer ignores it, but it counts in the package ID; leave it out');
  }
  if (report.installError) return { report, error: report.installError };
  let type: string | undefined;
  try {
    // detect's rule: metadata.json must be an object with a string type.
    const metadata = check(validateMetadata, report.metadata, 'metadata.json');
    type = metadata.type;
    // Not claimed: the peer installs it, but this builder's detect declines it, silently as detect must.
    const unclaimed = claims(metadata, DEFAULT_TYPES) ? undefined : unclaimedType(type);
    const scratch = mkdtempSync(join(scratchParent, 'extbuilder-inspect-'));
    try {
      await extractCode(file, scratch, report);
      return { report, type, source: checkSource(scratch, log), ...(unclaimed ? { error: unclaimed } : {}) };
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  } catch (err) {
    if (!(err instanceof ExtError)) throw err;
    return { report, type, error: err };
  }
}

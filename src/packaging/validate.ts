// build's rules applied where build has not run yet (package, inspect): the peer's builder config is
// unknown, so {{.key}} templates are checked for syntax only and TLS material left empty is taken as
// spliced at build. Everything else goes through build's own code (checkPackagedForm, renderAndValidate, readLaunch,
// findIndexes), so the rules live in one place.
import { join } from 'node:path';
import { detectMode, type Mode } from '../builder/build.js';
import { imageReference, readImage } from '../builder/image.js';
import { findIndexes } from '../builder/indexes.js';
import { readLaunch } from '../builder/launch.js';
import { checkPackagedForm, readConnection, renderAndValidate, warnAddress } from '../builder/service.js';
import { validateConnection } from '../generated/validators.js';
import { type Config, DEFAULT_TYPES } from '../core/config.js';
import type { Logger } from '../core/log.js';
import { check } from '../core/schema.js';
import { hasPlaceholder, placeholders } from '../core/template.js';
import { checkConnectionTls, parseCertificates, parsePrivateKey } from '../core/tls.js';

/** A builder config with nothing in it: what build sees on a peer that configures nothing. */
export const EMPTY_CONFIG: Config = { types: DEFAULT_TYPES, template: {}, tls: {}, sources: [] };

/** Values that pass the schema for a field whose real value only the peer's config gives. */
const STAND_INS: Record<string, unknown> = {
  address: 'templated.invalid:1',
  dial_timeout: '1s',
  tls_required: true,
  client_auth_required: true,
  domain: 'templated.invalid',
  root_cert: 'from the peer',
  client_cert: 'from the peer',
  client_key: 'from the peer',
};

export interface ConnectionSummary {
  /** As packaged: a template stays a template. */
  address: string;
  dialTimeout?: string;
  tls: 'off' | 'on' | 'mutual' | 'set at build';
  /** Fields holding {{.key}} templates, rendered from each peer's builder config at build. */
  templated: string[];
  /** TLS fields left empty, spliced at build from each peer's tls.*_file settings. */
  spliced: string[];
}

/**
 * Checks a connection.json to be packaged. With nothing left to the peer it is exactly build with an
 * empty builder config; otherwise the schema runs on stand-ins for the deferred fields and the TLS
 * checks on the PEM material that is in the package.
 */
export function checkPackagedConnection(raw: unknown, log: Logger): ConnectionSummary {
  const conn = checkPackagedForm(raw, log);
  const templated: string[] = [];
  const spliced: string[] = [];
  const standIn: Record<string, unknown> = { ...conn };
  for (const [key, value] of Object.entries(conn)) {
    if (typeof value !== 'string' || !hasPlaceholder(value)) continue;
    placeholders(value, `connection.json field ${key}`);
    templated.push(key);
    if (key in STAND_INS) standIn[key] = STAND_INS[key];
  }
  const tlsOn = standIn.tls_required === true;
  const mutual = tlsOn && standIn.client_auth_required === true;
  for (const field of ['root_cert', 'client_cert', 'client_key']) {
    const needed = field === 'root_cert' ? tlsOn : mutual;
    if (needed && (conn[field] === undefined || conn[field] === '')) {
      spliced.push(field);
      standIn[field] = STAND_INS[field];
    }
  }
  const templatedTls = templated.includes('tls_required') || templated.includes('client_auth_required');
  const summary = (tls: ConnectionSummary['tls']): ConnectionSummary => ({
    address: String(conn.address ?? ''), dialTimeout: typeof conn.dial_timeout === 'string' ? conn.dial_timeout : undefined, tls, templated, spliced,
  });
  if (templated.length === 0 && spliced.length === 0) return summary(renderAndValidate(conn, EMPTY_CONFIG, log, 'package').tls.mode);

  check(validateConnection, standIn, 'connection.json', 'CONN_UNKNOWN_KEY');
  if (!templated.includes('address')) warnAddress(String(conn.address), log, 'package');
  if (tlsOn && typeof conn.root_cert === 'string' && conn.root_cert && !hasPlaceholder(conn.root_cert)) {
    checkConnectionTls({ tls_required: true, root_cert: conn.root_cert }, 'connection.json', log);
  }
  if (mutual && typeof conn.client_cert === 'string' && conn.client_cert && !hasPlaceholder(conn.client_cert)) {
    parseCertificates(conn.client_cert, 'client_cert in connection.json');
  }
  if (typeof conn.client_key === 'string' && conn.client_key.includes('PRIVATE KEY')) parsePrivateKey(conn.client_key, 'client_key in connection.json');
  const left = [templated.length ? `${templated.join(', ')} to its template values` : '', spliced.length ? `${spliced.join(', ')} to its tls.*_file settings` : ''];
  log.warn('PKG_DEFERRED', `connection.json leaves ${left.filter(Boolean).join(' and ')}: each peer's builder config must provide them`,
    'check a peer\'s config with extbuilder simulate --builder DIR before installing');
  return summary(templatedTls ? 'set at build' : mutual ? 'mutual' : tlsOn ? 'on' : 'off');
}

export interface LaunchSummary {
  command: string;
  args: string[];
  workdir: string;
}

export interface SourceSummary {
  mode: Mode;
  connection?: ConnectionSummary;
  launch?: LaunchSummary;
  /** Kubernetes mode: the image as NAME@sha256:DIGEST. */
  image?: string;
  /** Index files as the ledger will see them, e.g. couchdb/indexes/owner.json. */
  indexes: string[];
}

/** build's checks on an unpacked source tree (an extracted code.tar.gz, or a launch tree to package). */
export function checkSource(dir: string, log: Logger): SourceSummary {
  const mode = detectMode(dir);
  const out: SourceSummary = { mode, indexes: [] };
  if (mode === 'service') {
    out.connection = checkPackagedConnection(readConnection(join(dir, 'connection.json')), log);
  } else if (mode === 'kubernetes') {
    out.image = imageReference(readImage(dir));
  } else {
    const plan = readLaunch(dir, log);
    out.launch = { command: plan.command, args: plan.args ?? [], workdir: plan.workdir };
  }
  out.indexes = findIndexes(dir, log).map((ix) => ix.rel);
  return out;
}

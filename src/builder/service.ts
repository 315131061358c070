// Service mode: connection.json rendered, TLS spliced from peer-local files, validated and checked.
import { readFileSync } from 'node:fs';
import { validateConnection } from '../generated/validators.js';
import type { Connection } from '../generated/types.js';
import { type Config, templateSourcesHint } from '../core/config.js';
import { ExtError, show } from '../core/errors.js';
import { readJsonFile } from '../core/json.js';
import type { Logger } from '../core/log.js';
import { check, describe } from '../core/schema.js';
import { render } from '../core/template.js';
import { checkConnectionTls, type TlsSummary } from '../core/tls.js';

export const MAX_CONNECTION_BYTES = 1 << 20;
const BOOLEAN_FIELDS = ['tls_required', 'client_auth_required'] as const;
const SPLICE = [
  ['root_cert', 'root_cert_file'],
  ['client_cert', 'client_cert_file'],
  ['client_key', 'client_key_file'],
] as const;

/**
 * Reads connection.json. `where` and `fix` name the file to edit: the packaged one by default (build,
 * inspect), the user's own file for extbuilder package, where nothing has been packaged yet.
 */
export function readConnection(path: string, where = 'connection.json',
  fix = 'edit connection.json in the chaincode\'s source and package it again (extbuilder inspect PACKAGE shows the packaged one)'): unknown {
  return readJsonFile(path, {
    where, readCode: 'CONN_READ', parseCode: 'CONN_PARSE', maxBytes: MAX_CONNECTION_BYTES, tooLargeCode: 'CONN_TOO_LARGE', fix,
  });
}

/** Renders every string value; a boolean field given as a template must render to true or false. */
export function renderConnection(raw: Record<string, unknown>, config: Config): Record<string, unknown> {
  const hint = templateSourcesHint(config);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== 'string') { out[key] = value; continue; }
    const text = render(value, config.template, `connection.json field ${key}`, hint);
    if ((BOOLEAN_FIELDS as readonly string[]).includes(key) && text !== value) {
      if (text !== 'true' && text !== 'false') {
        throw new ExtError('CONN_BOOLEAN', `connection.json field ${key} rendered to ${show(text)}, not true or false`, 'set the template value to true or false');
      }
      out[key] = text === 'true';
    } else {
      out[key] = text;
    }
  }
  return out;
}

/** Fills TLS fields the package leaves empty from the builder config's files. */
export function spliceTls(conn: Record<string, unknown>, config: Config): Record<string, unknown> {
  if (conn.tls_required !== true) return conn;
  const out = { ...conn };
  for (const [field, fileKey] of SPLICE) {
    const file = config.tls[fileKey];
    if (!file || (typeof out[field] === 'string' && out[field] !== '')) continue;
    if (field !== 'root_cert' && out.client_auth_required !== true) continue;
    try {
      out[field] = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ExtError('TLS_FILE_READ', `cannot read tls.${fileKey} ${file}: ${(err as NodeJS.ErrnoException).code}`,
        'the file must exist inside the peer container and be readable by the peer user', { cause: err });
    }
  }
  return out;
}

export interface ServiceResult {
  connection: Connection;
  tls: TlsSummary;
}

/** The keys of connection.json, the peer's ChaincodeServerInfo fields (schemas/connection.schema.json's properties). */
export const CONNECTION_KEYS = ['address', 'dial_timeout', 'tls_required', 'client_auth_required', 'client_key', 'client_cert', 'root_cert', 'domain'];

/**
 * Keys as the peer reads them. The peer unmarshals connection.json with Go's encoding/json, which takes
 * a key matching a field's name case-insensitively when none matches exactly: "Address" works on a plain
 * builder, so it is accepted here too, renamed to its canonical spelling (released that way) with a
 * warning. Two keys the peer would read as one field ("address" and "Address": Go keeps the last) are
 * refused, since which one the peer uses depends on their order.
 */
export function peerKeys(conn: Record<string, unknown>, log: Logger): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const from: Record<string, string> = {};
  for (const [key, value] of Object.entries(conn)) {
    const canonical = CONNECTION_KEYS.includes(key) ? key : CONNECTION_KEYS.find((k) => k === key.toLowerCase());
    if (canonical === undefined) { out[key] = value; continue; }
    if (from[canonical] !== undefined) {
      throw new ExtError('CONN_DUPLICATE_KEY', `connection.json has both ${show(from[canonical])} and ${show(key)}, which the peer reads as the one field ${show(canonical)} (Go's JSON matches keys case-insensitively and keeps the last)`,
        `keep only ${show(canonical)}`);
    }
    from[canonical] = key;
    if (canonical !== key) {
      log.warn('CONN_KEY_CASE', `connection.json key ${show(key)} is read by the peer as ${show(canonical)} (Go matches keys case-insensitively)`, `write it as ${show(canonical)}; extbuilder releases it so`);
    }
    out[canonical] = value;
  }
  return out;
}

/**
 * Checks on connection.json as packaged, before any template is rendered: shared by build and by
 * package/inspect, which cannot render.
 */
export function checkPackagedForm(raw: unknown, log: Logger): Record<string, unknown> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ExtError('CONN_NOT_OBJECT', `connection.json is ${describe(raw)}, not a JSON object`, 'write {"address": "host:port", "dial_timeout": "10s"}');
  }
  const packaged = peerKeys(raw as Record<string, unknown>, log);
  if (typeof packaged.dial_timeout === 'number') {
    throw new ExtError('CONN_DIAL_TIMEOUT', `connection.json dial_timeout is the number ${packaged.dial_timeout}, which the peer reads as nanoseconds`, 'write a duration string such as "10s"');
  }
  if (typeof packaged.client_key === 'string' && packaged.client_key.includes('PRIVATE KEY')) {
    log.warn('CONN_CLIENT_KEY_IN_PACKAGE', 'connection.json in the package carries a client_key', 'leave client_key empty and set tls.client_key_file in each peer\'s builder config, so no key travels with the package');
  }
  return packaged;
}

/**
 * Addresses that parse but that the peer cannot dial as meant. 0.0.0.0 (or [::]) is where a server
 * listens, never a destination: warned everywhere. Loopback is right for a peer on the host, or a
 * chaincode server in the peer's own network namespace (a Kubernetes sidecar), and wrong for a peer in
 * its own container: package and inspect, run where the package is made, warn; build stays quiet, as it
 * cannot tell which of those the peer is (and simulate dials loopback on purpose). Warnings, not errors.
 */
export function warnAddress(address: string, log: Logger, where: 'package' | 'peer'): void {
  const host = address.replace(/:\d+$/, '').replace(/^\[|\]$/g, '').toLowerCase();
  if (host === '0.0.0.0' || host === '::' || /^0+(\.0+){3}$/.test(host)) {
    log.warn('CONN_ADDRESS_UNDIALABLE', `connection.json address ${show(address)} is the any-address a server listens on, not one the peer can dial`,
      'give the host name or IP the peer reaches the chaincode server at, its container or service name such as basic-cc:9999; 0.0.0.0 belongs in the server\'s own CHAINCODE_SERVER_ADDRESS');
    return;
  }
  const loopback = host === 'localhost' || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1';
  if (loopback && where === 'package') {
    log.warn('CONN_ADDRESS_LOOPBACK', `connection.json address ${show(address)} is loopback: a peer in its own container (Docker, Kubernetes) dials itself there, not the chaincode server`,
      'for containerised peers use the name they reach the server at, its container or service name such as basic-cc:9999; keep loopback only for a peer on this host or a server in the peer\'s own pod');
  }
}

/** From the packaged connection.json to the validated one the peer will read. */
export function prepareConnection(raw: unknown, config: Config, log: Logger): ServiceResult {
  return renderAndValidate(checkPackagedForm(raw, log), config, log);
}

/** The second half of prepareConnection, for callers that ran checkPackagedForm themselves. */
export function renderAndValidate(packaged: Record<string, unknown>, config: Config, log: Logger, where: 'package' | 'peer' = 'peer'): ServiceResult {
  const rendered = spliceTls(renderConnection(packaged, config), config);
  const connection = check(validateConnection, rendered, 'connection.json', 'CONN_UNKNOWN_KEY');
  warnAddress(connection.address, log, where);
  if (connection.domain !== undefined && connection.client_auth_required !== true) {
    log.warn('CONN_DOMAIN_IGNORED', 'connection.json sets domain without client_auth_required', 'the peer reads domain only with client auth on, and only from Fabric 3.0');
  }
  if (connection.tls_required !== true && (connection.root_cert || connection.client_cert || connection.client_key)) {
    log.warn('CONN_TLS_FIELDS_UNUSED', 'connection.json has TLS material but tls_required is not true', 'set "tls_required": true, or drop the TLS fields');
  }
  // A PEM spliced from the builder config's file is named by that file, not as "in connection.json".
  const spliced = (field: 'root_cert' | 'client_cert' | 'client_key'): string => {
    const fileKey = `${field}_file` as const;
    const given = packaged[field];
    return (typeof given !== 'string' || given === '') && config.tls[fileKey]
      ? `${field} spliced from tls.${fileKey} ${config.tls[fileKey]}` : `${field} in connection.json`;
  };
  const tls = checkConnectionTls(connection, spliced, log);
  return { connection, tls };
}

/** The chaincode server's name the peer will check, for the build's note. */
export function serverName(conn: Connection): string {
  if (conn.client_auth_required && conn.domain) return conn.domain;
  return conn.address.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
}

/** connection.json as written for the peer; 0600 when it holds a key. */
export function connectionFile(conn: Connection): { text: string; mode: number } {
  return { text: JSON.stringify(conn, null, 2) + '\n', mode: conn.client_key ? 0o600 : 0o644 };
}

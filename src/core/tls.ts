// PEM checks for connection.json: parseable, key matches cert, dates valid, root is a CA.
import type { KeyObject, X509Certificate } from 'node:crypto';
import { ExtError } from './errors.js';
import type { Logger } from './log.js';
import { quickRootCheck } from './x509-quick.js';
import { nodeCrypto as crypto } from './builtins.js';

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const DAY = 24 * 3600 * 1000;

/** Every certificate in a PEM bundle; at least one. */
export function parseCertificates(pem: string, where: string): X509Certificate[] {
  const blocks = pem.match(CERT_BLOCK) ?? [];
  if (blocks.length === 0) {
    throw new ExtError('TLS_PEM_INVALID', `${where} holds no PEM certificate block`, 'give the whole PEM text, from its BEGIN CERTIFICATE line to its END line, with \\n for line breaks inside JSON');
  }
  return blocks.map((b, i) => {
    try {
      return new (crypto().X509Certificate)(b);
    } catch {
      throw new ExtError('TLS_PEM_INVALID', `${where}: certificate ${i + 1} does not parse`, 'check that the PEM was copied whole, with \\n for line breaks inside JSON');
    }
  });
}

export function parsePrivateKey(pem: string, where: string): KeyObject {
  try {
    return crypto().createPrivateKey(pem);
  } catch {
    // The key text itself is never part of the message.
    throw new ExtError('TLS_PEM_INVALID', `${where} is not a parseable unencrypted PEM private key`, 'give an unencrypted PKCS#8, SEC1 or PKCS#1 PEM key');
  }
}

function checkDates(cert: X509Certificate, where: string, now: Date, log: Logger): void {
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  if (now < from) throw new ExtError('TLS_CERT_EXPIRED', `${where} (${cert.subject.replace(/\n/g, ', ')}) is not valid before ${from.toISOString()}`, 'check the clock, or issue a certificate valid now');
  if (now > to) throw new ExtError('TLS_CERT_EXPIRED', `${where} (${cert.subject.replace(/\n/g, ', ')}) expired on ${to.toISOString()}`, 'issue a new certificate and rebuild');
  if (to.getTime() - now.getTime() < 30 * DAY) {
    log.warn('TLS_CERT_EXPIRING', `${where} expires on ${to.toISOString()}`, 'renew it; the peer keeps this copy until the build is deleted');
  }
}

export interface TlsFields {
  tls_required?: boolean;
  client_auth_required?: boolean;
  root_cert?: string;
  client_cert?: string;
  client_key?: string;
}

export interface TlsSummary {
  mode: 'off' | 'on' | 'mutual';
}

/**
 * Checks the PEM material of a (rendered, spliced) connection.json. `where` names the file, or names
 * each field's origin: a PEM spliced from tls.root_cert_file is not "in connection.json".
 */
export function checkConnectionTls(conn: TlsFields, where: string | ((field: 'root_cert' | 'client_cert' | 'client_key') => string), log: Logger, now = new Date()): TlsSummary {
  if (conn.tls_required !== true) return { mode: 'off' };
  const at = typeof where === 'string' ? (field: string): string => `${field} in ${where}` : where;
  // A root CA that passes is the common case: read without node:crypto when that is certain (x509-quick.ts).
  if (conn.client_auth_required !== true && quickRootCheck((conn.root_cert ?? '').match(CERT_BLOCK) ?? [], now)) return { mode: 'on' };
  for (const cert of parseCertificates(conn.root_cert ?? '', at('root_cert'))) {
    if (!cert.ca) {
      throw new ExtError('TLS_ROOT_NOT_CA', `${at('root_cert')} (${cert.subject.replace(/\n/g, ', ')}) is not a CA certificate`,
        'give the CA certificate that signed the chaincode server\'s certificate, not the server certificate itself');
    }
    checkDates(cert, at('root_cert'), now, log);
  }
  if (conn.client_auth_required !== true) return { mode: 'on' };
  const [leaf] = parseCertificates(conn.client_cert ?? '', at('client_cert'));
  checkDates(leaf!, at('client_cert'), now, log);
  const key = parsePrivateKey(conn.client_key ?? '', at('client_key'));
  if (!leaf!.checkPrivateKey(key)) {
    throw new ExtError('TLS_KEY_MISMATCH', `${at('client_key')} does not belong to client_cert (${leaf!.subject.replace(/\n/g, ', ')})`,
      'give the key pair issued together; check tls.client_cert_file and tls.client_key_file');
  }
  return { mode: 'mutual' };
}

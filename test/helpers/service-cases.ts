// The service-mode fixture cases (fixtures/service/cases) and the PKI their "@pki:" tokens name,
// shared by the tests that run them through node and through the standalone executables.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCA, issue } from '../../src/peer/pki.js';
import { FIXTURES, tempDir } from './repo.js';

export interface ServiceCase {
  name: string;
  description: string;
  metadata?: object;
  metadataRaw?: string;
  connection?: Record<string, unknown>;
  connectionRaw?: string;
  /** A directory under fixtures/service/trees staged into the source. */
  tree?: string;
  /** EXTBUILDER_CONFIG, as JSON or raw text. */
  config?: object;
  configRaw?: string;
  /** <builder dir>/config.json. */
  configFile?: object;
  ccaasConfig?: unknown;
  expect: {
    detect: number;
    detectStderr?: string;
    detectCode?: string;
    build?: string;
    summary?: string;
    stderrIncludes?: string;
    mode?: string;
    warnings?: string[];
    connection?: Record<string, unknown>;
    released?: string[];
  };
}

export function loadServiceCases(): ServiceCase[] {
  const dir = join(FIXTURES, 'service', 'cases');
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
    .map((f) => ({ name: f.replace(/\.json$/, ''), ...JSON.parse(readFileSync(join(dir, f), 'utf8')) }) as ServiceCase);
}

export interface CasePki {
  /** PEM text by file name: ca.crt, server.crt, client.crt, client.key, other.key, expiring.*, expired-ca.crt. */
  pem: Record<string, string>;
  /** The same, written to files (keys 0600). */
  dir: string;
  /** Replaces "@pki:NAME" with PEM text and "@pkifile:NAME" with the file's path, anywhere in a value. */
  fill(value: unknown): unknown;
}

const DAY = 24 * 3600 * 1000;

export async function makeCasePki(): Promise<CasePki> {
  const ca = await createCA('Org1 chaincode CA');
  const server = await issue(ca, { dns: ['localhost'], ips: ['127.0.0.1'], usage: 'server' });
  const client = await issue(ca, { commonName: 'peer0.org1.example.com', usage: 'client' });
  const other = await issue(ca, { commonName: 'other', usage: 'client' });
  const expiring = await issue(ca, { commonName: 'expiring', usage: 'client', notAfter: new Date(Date.now() + 10 * DAY) });
  const expiredCA = await createCA('expired CA', { notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - 30 * DAY) });
  const pem: Record<string, string> = {
    'ca.crt': ca.certPem, 'server.crt': server.certPem, 'client.crt': client.certPem, 'client.key': client.keyPem,
    'other.key': other.keyPem, 'expiring.crt': expiring.certPem, 'expiring.key': expiring.keyPem, 'expired-ca.crt': expiredCA.certPem,
  };
  const dir = tempDir('extbuilder-pki-');
  for (const [name, text] of Object.entries(pem)) writeFileSync(join(dir, name), text, { mode: name.endsWith('.key') ? 0o600 : 0o644 });
  const fill = (value: unknown): unknown => {
    if (typeof value === 'string') {
      if (value.startsWith('@pki:')) return pem[value.slice(5)] ?? assert.fail(`no PEM ${value}`);
      if (value.startsWith('@pkifile:')) return join(dir, value.slice(9));
      return value;
    }
    if (Array.isArray(value)) return value.map(fill);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v)]));
    return value;
  };
  return { pem, dir, fill };
}

// src/core/x509-quick.ts answers "a CA certificate, valid now and for 30 days" without node:crypto, and must
// never say yes where node:crypto (X509Certificate: parses, .ca, validFrom/validTo) would not: checked on
// real CAs (EC and RSA, from the test PKI and openssl), on certificates that must be refused or left to
// node:crypto, and on thousands of corrupted CA certificates (every byte position, fixed-seed fuzzing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import fc from 'fast-check';
import { quickRootCheck } from '../src/core/x509-quick.js';
import { createCA, issue } from '../src/peer/pki.js';
import { fuzzOptions } from './helpers/fuzz.js';
import { tempDir } from './helpers/repo.js';

const DAY = 24 * 3600 * 1000;
const BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const blocks = (pem: string) => pem.match(BLOCK) ?? [];

/** What checkConnectionTls's node:crypto path accepts without an error or a warning. */
function reference(pem: string, now: Date): boolean {
  const bs = blocks(pem);
  if (bs.length === 0) return false;
  return bs.every((b) => {
    let c: X509Certificate;
    try { c = new X509Certificate(b); } catch { return false; }
    const from = new Date(c.validFrom).getTime();
    const to = new Date(c.validTo).getTime();
    return c.ca && now.getTime() >= from && now.getTime() <= to && to - now.getTime() >= 30 * DAY;
  });
}

const toPem = (der: Buffer) => `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
const toDer = (pem: string) => Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');

function openssl(args: string[], dir: string): string {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  return '';
}

test('quickRootCheck says yes for valid CA certificates (EC P-256 from the test PKI, RSA and P-384 from openssl), as node:crypto does', async (t) => {
  const now = new Date();
  const ca = await createCA('quick CA');
  assert.equal(quickRootCheck(blocks(ca.certPem), now), true);
  assert.equal(quickRootCheck(blocks(ca.certPem + ca.certPem), now), true, 'a bundle of two');
  let haveOpenssl = true;
  try { execFileSync('openssl', ['version'], { stdio: 'ignore' }); } catch { haveOpenssl = false; }
  if (!haveOpenssl) { t.diagnostic('openssl is not installed: RSA and P-384 cases skipped'); return; }
  const dir = tempDir('extbuilder-x509-');
  const ext = ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'];
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'rsa.key', '-out', 'rsa.pem', '-days', '365', '-subj', '/CN=rsa CA/O=Org1', ...ext], dir);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-nodes', '-keyout', 'p384.key', '-out', 'p384.pem', '-days', '365', '-subj', '/CN=p384 CA', ...ext], dir);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'pl.key', '-out', 'pathlen.pem', '-days', '365', '-subj', '/CN=pathlen CA',
    '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:1', '-addext', 'keyUsage=keyCertSign', '-addext', 'extendedKeyUsage=serverAuth,clientAuth'], dir);
  // openssl's certificates start at the second they are made: checked a little later.
  const later = new Date(Date.now() + 2000);
  for (const f of ['rsa.pem', 'p384.pem', 'pathlen.pem']) {
    const pem = execFileSync('cat', [join(dir, f)], { encoding: 'utf8' });
    assert.equal(reference(pem, later), true, f);
    assert.equal(quickRootCheck(blocks(pem), later), true, f);
  }
  // Not a CA by keyUsage, by basicConstraints, or at all: never yes.
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ku.key', '-out', 'ku.pem', '-days', '365', '-subj', '/CN=ku',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=digitalSignature'], dir);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'nb.key', '-out', 'nb.pem', '-days', '365', '-subj', '/CN=nb',
    '-addext', 'basicConstraints=critical,CA:FALSE'], dir);
  for (const f of ['ku.pem', 'nb.pem']) {
    const pem = execFileSync('cat', [join(dir, f)], { encoding: 'utf8' });
    assert.equal(reference(pem, later), false, f);
    assert.equal(quickRootCheck(blocks(pem), later), false, f);
  }
});

test('quickRootCheck leaves to node:crypto what it must refuse or warn about: a leaf, dates outside or near the end of validity, no certificate', async () => {
  const now = new Date();
  const ca = await createCA('quick CA');
  const leaf = await issue(ca, { dns: ['cc.example.com'] });
  assert.equal(quickRootCheck(blocks(leaf.certPem), now), false, 'a server certificate is not a CA');
  assert.equal(quickRootCheck(blocks(ca.certPem + leaf.certPem), now), false, 'one of two');
  const expired = await createCA('old CA', { notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - DAY) });
  const future = await createCA('future CA', { notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 400 * DAY) });
  const expiring = await createCA('expiring CA', { notAfter: new Date(Date.now() + 10 * DAY) });
  for (const c of [expired, future, expiring]) assert.equal(quickRootCheck(blocks(c.certPem), now), false);
  assert.equal(quickRootCheck([], now), false);
  assert.equal(quickRootCheck(['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'], now), false);
  // Text between the lines that OpenSSL would read differently (headers, long lines) is left to it too.
  const body = ca.certPem.trim().split('\n');
  assert.equal(quickRootCheck([[body[0], 'Proc-Type: 4,ENCRYPTED', ...body.slice(1)].join('\n')], now), false);
  assert.equal(quickRootCheck([[body[0], body.slice(1, -1).join(''), body.at(-1)].join('\n')], now), false);
});

test('quickRootCheck never says yes where node:crypto would not: corrupted CA certificates, every byte and at random', async () => {
  const now = new Date();
  const ca = await createCA('fuzz CA');
  const der = toDer(ca.certPem);
  const agree = (d: Buffer, what: string) => {
    const pem = toPem(d);
    if (quickRootCheck(blocks(pem), now)) assert.equal(reference(pem, now), true, `${what}: quick says yes, node:crypto no`);
  };
  // Every byte position, flipped three ways.
  for (let i = 0; i < der.length; i++) {
    for (const x of [0x01, 0x80, 0xff]) {
      const d = Buffer.from(der);
      d[i] = d[i]! ^ x;
      agree(d, `byte ${i} ^ ${x}`);
    }
  }
  // Truncations and random edits.
  for (let n = 1; n < der.length; n += 7) agree(der.subarray(0, n), `first ${n} bytes`);
  fc.assert(fc.property(fc.array(fc.tuple(fc.nat(der.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), (edits) => {
    const d = Buffer.from(der);
    for (const [at, v] of edits) d[at] = v;
    agree(d, JSON.stringify(edits));
  }), fuzzOptions(3000));
});

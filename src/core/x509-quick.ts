// The common case of a TLS build's root certificate check without node:crypto, whose load (5-7 ms) was a
// tenth of such a build: a strict DER reading of each PEM certificate that answers only "yes, a CA
// certificate valid now and for 30 more days", which is all checkConnectionTls needs when it passes. It
// accepts only a plain X.509 v3 shape that OpenSSL parses the same way (EC P-256/P-384 or RSA key, the
// usual extensions, PrintableString/UTF8String/IA5String names, DER lengths); for anything else, and for
// every failure, the caller does the node:crypto check, which says what is wrong exactly as before.

const DAY = 24 * 3600 * 1000;

class Unsure extends Error {}
const unsure = (): never => { throw new Unsure(); };

interface Tlv { tag: number; body: number; end: number }

/** One DER TLV at `at`, within `limit`: low tag numbers, minimal definite lengths only. */
function tlv(b: Uint8Array, at: number, limit: number, tag?: number): Tlv {
  if (at + 2 > limit) unsure();
  const t = b[at]!;
  if ((t & 0x1f) === 0x1f || (tag !== undefined && t !== tag)) unsure();
  let len = b[at + 1]!;
  let body = at + 2;
  if (len >= 0x80) {
    const n = len & 0x7f;
    if (n < 1 || n > 3 || body + n > limit || b[body] === 0) unsure();
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[body + i]!;
    if (len < 0x80) unsure();
    body += n;
  }
  const end = body + len;
  if (end > limit) unsure();
  return { tag: t, body, end };
}

function oid(b: Uint8Array, t: Tlv): string {
  if (t.tag !== 0x06 || t.end === t.body || b[t.end - 1]! & 0x80) unsure();
  const parts: number[] = [];
  let v = 0;
  for (let i = t.body; i < t.end; i++) {
    if (v === 0 && b[i] === 0x80) unsure();
    v = v * 128 + (b[i]! & 0x7f);
    if (v > 2 ** 32) unsure();
    if (!(b[i]! & 0x80)) { parts.push(v); v = 0; }
  }
  const first = parts.shift()!;
  return [first < 80 ? Math.floor(first / 40) : 2, first < 80 ? first % 40 : first - 80, ...parts].join('.');
}

/** A positive INTEGER, minimally encoded; its bytes. */
function positive(b: Uint8Array, t: Tlv): Uint8Array {
  if (t.tag !== 0x02 || t.end === t.body || b[t.body]! & 0x80) unsure();
  if (t.end - t.body > 1 && b[t.body] === 0 && !(b[t.body + 1]! & 0x80)) unsure();
  return b.subarray(t.body, t.end);
}

/** AlgorithmIdentifier: SEQUENCE { OID, optional NULL or OID }; returns [algorithm, parameter OID or ''] */
function algorithm(b: Uint8Array, t: Tlv): [string, string] {
  if (t.tag !== 0x30) unsure();
  const id = tlv(b, t.body, t.end);
  const alg = oid(b, id);
  if (id.end === t.end) return [alg, ''];
  const p = tlv(b, id.end, t.end);
  if (p.end !== t.end) unsure();
  if (p.tag === 0x05 && p.body === p.end) return [alg, ''];
  return [alg, oid(b, p)];
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Name: SEQUENCE OF SET OF SEQUENCE { OID, string }, with strings OpenSSL converts without complaint. */
function name(b: Uint8Array, t: Tlv): void {
  if (t.tag !== 0x30) unsure();
  for (let at = t.body; at < t.end;) {
    const set = tlv(b, at, t.end, 0x31);
    if (set.body === set.end) unsure();
    for (let p = set.body; p < set.end;) {
      const atv = tlv(b, p, set.end, 0x30);
      const type = tlv(b, atv.body, atv.end);
      oid(b, type);
      const value = tlv(b, type.end, atv.end);
      if (value.end !== atv.end) unsure();
      const bytes = b.subarray(value.body, value.end);
      if (value.tag === 0x13) { if (!PRINTABLE.test(String.fromCharCode(...bytes))) unsure(); }
      else if (value.tag === 0x16) { if (bytes.some((c) => c >= 0x80)) unsure(); }
      else if (value.tag === 0x0c) { try { utf8.decode(bytes); } catch { unsure(); } }
      else unsure();
      p = atv.end;
    }
    at = set.end;
  }
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ, as an instant. */
function time(b: Uint8Array, t: Tlv): number {
  const s = String.fromCharCode(...b.subarray(t.body, t.end));
  const m = t.tag === 0x17 ? /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s) : t.tag === 0x18 ? /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s) : null;
  if (!m) return unsure();
  const [y2, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const y = t.tag === 0x17 ? (y2 >= 50 ? 1900 + y2 : 2000 + y2) : y2;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  if (y < 1950 || mo < 1 || mo > 12 || d < 1 || d > DAYS[mo - 1]! + (mo === 2 && leap ? 1 : 0) || h > 23 || mi > 59 || se > 59) unsure();
  return Date.UTC(y, mo - 1, d, h, mi, se);
}

const CURVES: Record<string, { p: bigint; a: bigint; b: bigint; bytes: number }> = {
  '1.2.840.10045.3.1.7': { // P-256
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    a: 0xffffffff00000001000000000000000000000000fffffffffffffffffffffffcn,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
    bytes: 32,
  },
  '1.3.132.0.34': { // P-384
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    a: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000fffffffcn,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
    bytes: 48,
  },
};

const big = (bytes: Uint8Array): bigint => BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);

/** SubjectPublicKeyInfo: an RSA key, or an uncompressed point on P-256 or P-384 (as OpenSSL decodes it). */
function publicKey(b: Uint8Array, t: Tlv): void {
  if (t.tag !== 0x30) unsure();
  const alg = tlv(b, t.body, t.end);
  const [id, param] = algorithm(b, alg);
  const bits = tlv(b, alg.end, t.end, 0x03);
  if (bits.end !== t.end || bits.end - bits.body < 2 || b[bits.body] !== 0) unsure();
  const key = b.subarray(bits.body + 1, bits.end);
  if (id === '1.2.840.113549.1.1.1' && param === '') {
    const seq = tlv(key, 0, key.length, 0x30);
    if (seq.end !== key.length) unsure();
    const n = tlv(key, seq.body, seq.end);
    const e = tlv(key, n.end, seq.end);
    if (e.end !== seq.end) unsure();
    positive(key, n); positive(key, e);
    return;
  }
  const curve = id === '1.2.840.10045.2.1' ? CURVES[param] : undefined;
  if (!curve || key.length !== 1 + 2 * curve.bytes || key[0] !== 0x04) return unsure();
  const x = big(key.subarray(1, 1 + curve.bytes));
  const y = big(key.subarray(1 + curve.bytes));
  const { p } = curve;
  if (x >= p || y >= p || (y * y - (x * x * x + curve.a * x + curve.b)) % p !== 0n) unsure();
}

interface Extensions { ca: boolean; keyCertSign: boolean | undefined }

function extensions(b: Uint8Array, t: Tlv): Extensions {
  const seq = tlv(b, t.body, t.end, 0x30);
  if (seq.end !== t.end || seq.body === seq.end) unsure();
  const seen = new Set<string>();
  const out: Extensions = { ca: false, keyCertSign: undefined };
  for (let at = seq.body; at < seq.end;) {
    const ext = tlv(b, at, seq.end, 0x30);
    const idT = tlv(b, ext.body, ext.end);
    const id = oid(b, idT);
    if (seen.has(id)) unsure();
    seen.add(id);
    let p = idT.end;
    const maybeBool = tlv(b, p, ext.end);
    if (maybeBool.tag === 0x01) {
      if (maybeBool.end - maybeBool.body !== 1 || b[maybeBool.body] !== 0xff) unsure();
      p = maybeBool.end;
    }
    const value = tlv(b, p, ext.end, 0x04);
    if (value.end !== ext.end) unsure();
    const v = tlv(b, value.body, value.end);
    if (v.end !== value.end) unsure();
    switch (id) {
      case '2.5.29.19': { // basicConstraints
        if (v.tag !== 0x30) unsure();
        let q = v.body;
        if (q < v.end) {
          const ca = tlv(b, q, v.end);
          if (ca.tag === 0x01) {
            if (ca.end - ca.body !== 1 || b[ca.body] !== 0xff) unsure();
            out.ca = true;
            q = ca.end;
          }
        }
        if (q < v.end) {
          const len = tlv(b, q, v.end);
          if (len.end !== v.end || len.end - len.body > 2) unsure();
          if (b[len.body]! & 0x80) unsure();
          if (len.end - len.body === 2 && b[len.body] === 0 && !(b[len.body + 1]! & 0x80)) unsure();
          if (!out.ca) unsure();
        }
        break;
      }
      case '2.5.29.15': // keyUsage: OpenSSL reads the first two bytes; keyCertSign is bit 5 of the first
        if (v.tag !== 0x03 || v.end - v.body < 2 || b[v.body]! > 7) unsure();
        out.keyCertSign = (b[v.body + 1]! & 0x04) !== 0;
        break;
      case '2.5.29.14': // subjectKeyIdentifier
        if (v.tag !== 0x04 || v.end === v.body) unsure();
        break;
      case '2.5.29.35': { // authorityKeyIdentifier, keyIdentifier only
        if (v.tag !== 0x30) unsure();
        const k = tlv(b, v.body, v.end, 0x80);
        if (k.end !== v.end || k.end === k.body) unsure();
        break;
      }
      case '2.5.29.37': // extKeyUsage
        if (v.tag !== 0x30 || v.body === v.end) unsure();
        for (let q = v.body; q < v.end;) { const o = tlv(b, q, v.end); oid(b, o); q = o.end; }
        break;
      default:
        unsure();
    }
    at = ext.end;
  }
  return out;
}

/** Strict base64 of a PEM certificate block's body: whole lines of at most 76 characters. */
function pemBody(block: string): Uint8Array {
  const m = /^-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n-----END CERTIFICATE-----$/.exec(block);
  if (!m) return unsure();
  const lines = m[1]!.split(/\r?\n/);
  lines.forEach((l, i) => {
    if (l.length === 0 || l.length > 76 || l.length % 4 !== 0) unsure();
    if (!/^[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$/.test(l) || (i < lines.length - 1 && l.includes('='))) unsure();
  });
  return Buffer.from(lines.join(''), 'base64');
}

/** True when the certificate is a CA certificate valid at `now` and 30 days after. */
function quickCa(block: string, now: number): boolean {
  const d = pemBody(block);
  const cert = tlv(d, 0, d.length, 0x30);
  if (cert.end !== d.length) unsure();
  const tbs = tlv(d, cert.body, cert.end, 0x30);
  const sigAlg = tlv(d, tbs.end, cert.end);
  algorithm(d, sigAlg);
  const sig = tlv(d, sigAlg.end, cert.end, 0x03);
  if (sig.end !== cert.end || sig.end - sig.body < 2 || d[sig.body] !== 0) unsure();
  const version = tlv(d, tbs.body, tbs.end, 0xa0);
  const v = tlv(d, version.body, version.end, 0x02);
  if (v.end !== version.end || v.end - v.body !== 1 || d[v.body] !== 2) unsure();
  const serial = tlv(d, version.end, tbs.end);
  if (positive(d, serial).length > 20) unsure();
  const sigInTbs = tlv(d, serial.end, tbs.end);
  algorithm(d, sigInTbs);
  const issuer = tlv(d, sigInTbs.end, tbs.end);
  name(d, issuer);
  const validity = tlv(d, issuer.end, tbs.end, 0x30);
  const nb = tlv(d, validity.body, validity.end);
  const na = tlv(d, nb.end, validity.end);
  if (na.end !== validity.end) unsure();
  const from = time(d, nb);
  const to = time(d, na);
  const subject = tlv(d, validity.end, tbs.end);
  name(d, subject);
  const spki = tlv(d, subject.end, tbs.end);
  publicKey(d, spki);
  const exts = tlv(d, spki.end, tbs.end, 0xa3);
  if (exts.end !== tbs.end) unsure();
  const e = extensions(d, exts);
  // OpenSSL's X509_check_ca() == 1: basicConstraints says CA, and keyUsage, if present, allows cert signing.
  if (!e.ca || e.keyCertSign === false) unsure();
  // Dates are whole seconds, as X509Certificate's validFrom and validTo give them.
  if (now < from || now > to || to - now < 30 * DAY) unsure();
  return true;
}

/**
 * True only if every PEM certificate block in `pem` is a CA certificate, valid at `now` and for 30 days
 * more, read as node:crypto would read it; false whenever that is not certain (then check with node:crypto).
 * `blocks` are the CERTIFICATE blocks parseCertificates finds.
 */
export function quickRootCheck(blocks: string[], now: Date): boolean {
  if (blocks.length === 0) return false;
  try {
    return blocks.every((b) => quickCa(b, now.getTime()));
  } catch (err) {
    if (err instanceof Unsure || err instanceof RangeError) return false;
    throw err;
  }
}

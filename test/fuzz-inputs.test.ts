// Property-based fuzzing, in process, of every small file and variable the phases read: metadata.json,
// connection.json (raw and field by field, with templates and PEM), the builder config and its variables,
// templates, CouchDB indexes and build.json. Invariant: each either gives a valid value or throws an
// ExtError with a stable code that prints as one safe line; nothing else escapes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { claims, readMetadata } from '../src/builder/detect.js';
import { checkIndex } from '../src/builder/indexes.js';
import { readBuildOutput } from '../src/builder/output.js';
import { prepareConnection, readConnection } from '../src/builder/service.js';
import { loadConfig, type Config } from '../src/core/config.js';
import { memoryLogger } from '../src/core/log.js';
import { render } from '../src/core/template.js';
import { assertCoded, fuzzOptions, PEM, makeTestPem } from './helpers/fuzz.js';
import { tempDir } from './helpers/repo.js';

let dir: string;
let caseNo = 0;
const pem: Record<string, string> = {};

before(async () => {
  dir = tempDir('extbuilder-fuzz-inputs-');
  Object.assign(pem, await makeTestPem('fuzz CA', 'fuzz client'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh directory holding `name` with `bytes`. */
function fileIn(name: string, bytes: Uint8Array | string): string {
  const d = join(dir, String(caseNo++));
  mkdirSync(d);
  writeFileSync(join(d, name), bytes);
  return d;
}

/** Outcomes per test, so each test can show it reached both valid values and several error codes. */
let seen = new Map<string, number>();
function outcomes(): Map<string, number> {
  const s = seen;
  seen = new Map();
  return s;
}
function note(outcome: string): void {
  seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
}

/** Runs `f`; an exception must be a coded ExtError. */
function coded<T>(f: () => T, phase = 'build'): T | undefined {
  try {
    const v = f();
    note('ok');
    return v;
  } catch (err) {
    assertCoded(err, phase);
    note(err.code);
    return undefined;
  }
}

/** The fuzzer reached valid inputs and at least `codes` distinct error codes (else it tests nothing). */
function assertReached(codes: number): void {
  const s = outcomes();
  assert.ok(s.has('ok'), `no valid input reached: ${[...s.keys()]}`);
  assert.ok(s.size - 1 >= codes, `only ${[...s.keys()]}`);
}

// Text that looks like what people put in these files, and what they should not.
const nasty = fc.constantFrom(
  '', ' ', '\u0000', '\ufeff', '\ud800', '💥', 'é', '\n', '{{', '}}', '{{.', '{{ .addr }}', '{{.a.b}}', '{{printf "%s" .x}}', '{{.}}',
  '127.0.0.1:9999', 'localhost:0', 'host:65536', '[::1]:7052', 'host', ':9999', 'a:b:c', '10s', '1m30s', '-1s', '10', 'true', 'false', 'null',
  '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
  'x'.repeat(5000), '../../etc/passwd', '%s%n', '\\u0000',
);
const text = fc.oneof(nasty, fc.string(), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 }));
const leaf = fc.oneof(text, fc.boolean(), fc.integer(), fc.double(), fc.constant(null));
const value = fc.oneof({ depthSize: 'small' }, leaf, fc.array(leaf, { maxLength: 3 }), fc.dictionary(text, leaf, { maxKeys: 3 }), fc.jsonValue({ maxDepth: 3 }));
/** Bytes: raw, JSON text, JSON text cut short, and invalid UTF-8 inside strings. */
const jsonBytes = (v: fc.Arbitrary<unknown>) => fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  v.map((x) => JSON.stringify(x) ?? 'undefined'),
  fc.tuple(v, fc.nat()).map(([x, n]) => { const t = JSON.stringify(x) ?? ''; return t.slice(0, n % (t.length + 1)); }),
  fc.tuple(v, fc.uint8Array({ minLength: 1, maxLength: 4 })).map(([x, b]) => Buffer.concat([Buffer.from((JSON.stringify(x) ?? '').slice(0, -1)), Buffer.from(b), Buffer.from('"}')])),
  fc.nat({ max: 200000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
  fc.constant('{"type":"ccaas","type":"golang"}'),
);

test('metadata.json: any bytes give a type or a coded error; claims never throws', () => {
  const metadata = fc.oneof(value, fc.record({ type: fc.oneof(text, value), label: fc.oneof(text, value) }, { requiredKeys: [] }));
  fc.assert(fc.property(jsonBytes(metadata), fc.array(fc.string(), { maxLength: 3 }), (bytes, types) => {
    const md = coded(() => readMetadata(fileIn('metadata.json', bytes)), 'detect');
    if (md) {
      assert.equal(typeof md.type, 'string');
      assert.equal(typeof claims(md, types.map((t) => t.toLowerCase())), 'boolean');
    }
  }), fuzzOptions(400));
  assertReached(3);
});

/**
 * connection.json-shaped objects: a valid plain, TLS or mutual-TLS connection with up to three
 * mutations (a field set to anything, a field dropped, a misspelt or unknown key, PEM anywhere).
 */
function connectionArb(): fc.Arbitrary<Record<string, unknown>> {
  const pemText = fc.constantFrom(pem.ca!, pem.cert!, pem.key!, pem.other!, pem.ca! + pem.cert!, '', 'not pem', pem.key!.slice(0, 60));
  const fields = ['address', 'dial_timeout', 'tls_required', 'client_auth_required', 'root_cert', 'client_cert', 'client_key', 'domain'];
  const good: Record<string, fc.Arbitrary<unknown>> = {
    address: fc.constantFrom('127.0.0.1:9999', 'cc.example.com:7052', '{{.addr}}', '{{.host}}:{{.port}}', 'cc:0', '[::1]:1', 'cc'),
    dial_timeout: fc.constantFrom('10s', '1m', '{{.timeout}}', 10, '', '10'),
    tls_required: fc.constantFrom(true, false, 'true', '{{.tls}}', 1),
    client_auth_required: fc.constantFrom(true, false, '{{.mtls}}', 'yes'),
    root_cert: pemText, client_cert: pemText, client_key: pemText,
    domain: fc.constantFrom('cc.example.com', '', '{{.domain}}'),
  };
  const base = fc.constantFrom(
    { address: 'cc.example.com:9999', dial_timeout: '10s', tls_required: false },
    { address: 'cc.example.com:9999', dial_timeout: '10s', tls_required: true, root_cert: pem.ca },
    { address: '127.0.0.1:9999', tls_required: true, client_auth_required: true, root_cert: pem.ca, client_cert: pem.cert, client_key: pem.key, domain: 'cc.example.com' },
  );
  const mutation = fc.oneof(
    fc.tuple(fc.constantFrom(...fields), fc.oneof(good.address!, good.dial_timeout!, good.tls_required!, good.client_auth_required!, pemText, value)).map(([k, v]) => (c: Record<string, unknown>) => { c[k] = v; }),
    fc.constantFrom(...fields).map((k) => (c: Record<string, unknown>) => { delete c[k]; }),
    fc.tuple(fc.constantFrom('tls-required', 'Address', 'dialTimeout', 'extra', '__proto__', 'constructor'), value).map(([k, v]) => (c: Record<string, unknown>) => { Object.defineProperty(c, k, { value: v, enumerable: true, configurable: true, writable: true }); }),
  );
  return fc.tuple(base, fc.array(mutation, { maxLength: 3 })).map(([b, ms]) => {
    const c: Record<string, unknown> = { ...b };
    for (const m of ms) m(c);
    return c;
  });
}

function configArb(): fc.Arbitrary<Config> {
  return fc.record({
    template: fc.dictionary(fc.constantFrom('addr', 'host', 'port', 'tls', 'mtls', 'timeout', 'domain', 'a'),
      fc.oneof({ weight: 1, arbitrary: value }, { weight: 3, arbitrary: fc.constantFrom('true', 'false', '9999', 'cc.example.com:9999', 'cc', '10s') })),
    tls: fc.record({ root_cert_file: fc.constantFrom('/nonexistent/ca.pem', '/dev/null', '/etc') }, { requiredKeys: [] }),
  }).map((c) => ({ types: ['ccaas'], template: c.template, tls: c.tls, sources: ['fuzz'] }));
}

test('connection.json: any value gives a valid connection or a coded error; no PEM in warnings', () => {
  fc.assert(fc.property(fc.oneof(value, connectionArb()), configArb(), (raw, config) => {
    const log = memoryLogger('build');
    const result = coded(() => prepareConnection(raw, config, log));
    if (result) {
      assert.match(result.connection.address, /:\d+$/);
      assert.ok(['off', 'on', 'mutual'].includes(result.tls.mode));
      if (result.connection.dial_timeout !== undefined) assert.equal(typeof result.connection.dial_timeout, 'string');
    }
    for (const line of log.lines) assert.doesNotMatch(line, PEM);
  }), fuzzOptions(1500));
  assertReached(8);
});

test('connection.json bytes: size limit, encodings and syntax give coded errors', () => {
  fc.assert(fc.property(jsonBytes(connectionArb()), (bytes) => {
    coded(() => readConnection(join(fileIn('connection.json', bytes), 'connection.json')));
  }), fuzzOptions(400));
  // Far larger than any real one: refused before it is read; a directory in its place: unreadable.
  coded(() => readConnection(join(fileIn('connection.json', `{"address": "${'a'.repeat(1 << 20)}:1"}`), 'connection.json')));
  const d = join(dir, String(caseNo++));
  mkdirSync(join(d, 'connection.json'), { recursive: true });
  coded(() => readConnection(join(d, 'connection.json')));
  assertReached(3);
});

test('builder config: EXTBUILDER_CONFIG inline or as a file, and the ccaas variable', () => {
  const valid = fc.record({
    types: fc.array(fc.constantFrom('ccaas', 'External', 'node'), { maxLength: 3 }),
    template: fc.dictionary(fc.constantFrom('peername', 'addr'), fc.oneof(fc.string(), fc.integer(), fc.boolean())),
    tls: fc.record({ root_cert_file: fc.constantFrom('/x/ca.pem', 'tls/ca.pem') }, { requiredKeys: [] }),
  }, { requiredKeys: [] });
  const configValue = fc.oneof(valid, value, fc.record({
    types: fc.oneof(fc.array(text, { maxLength: 3 }), value),
    template: fc.oneof(fc.dictionary(text, value, { maxKeys: 3 }), value),
    tls: fc.oneof(fc.record({ root_cert_file: text, client_cert_file: text, client_key_file: value }, { requiredKeys: [] }), value),
    extra: value,
  }, { requiredKeys: [] }));
  const envText = fc.oneof(jsonBytes(configValue).map((b) => Buffer.from(b).toString('utf8')), text);
  fc.assert(fc.property(envText, fc.option(envText), fc.boolean(), (own, ccaas, asFile) => {
    const env: Record<string, string | undefined> = { CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG: ccaas ?? undefined };
    const builderDir = join(dir, String(caseNo++));
    mkdirSync(builderDir);
    if (asFile) env.EXTBUILDER_CONFIG = join(fileIn('config.json', own), 'config.json');
    else if (own.trim().startsWith('{')) env.EXTBUILDER_CONFIG = own;
    else writeFileSync(join(builderDir, 'config.json'), own);
    const config = coded(() => loadConfig({ env, builderDir }));
    if (config) {
      assert.ok(config.types.every((t) => typeof t === 'string' && t === t.toLowerCase()));
      assert.ok(Object.values(config.tls).every((p) => typeof p === 'string' && p.startsWith('/')));
    }
  }), fuzzOptions(500));
  coded(() => loadConfig({ env: { EXTBUILDER_CONFIG: join(dir, 'no-such-config.json') }, builderDir: dir }));
  assertReached(3);
});

test('templates: any text and values render to a string or a TEMPLATE_ error', () => {
  const piece = fc.constantFrom('{{', '}}', '{', '}', '.', '.a', '.a.b', ' ', 'a', 'b', '|', '"', 'printf', '\n', '-', '$', '(', ')');
  const tmpl = fc.oneof(fc.array(piece, { maxLength: 12 }).map((p) => p.join('')), text);
  fc.assert(fc.property(tmpl, fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.oneof(value, fc.dictionary(fc.constantFrom('a', 'b'), value))), (t, data) => {
    try {
      assert.equal(typeof render(t, data, 'connection.json field address', 'hint'), 'string');
      note('ok');
    } catch (err) {
      assertCoded(err);
      assert.match(err.code, /^TEMPLATE_/);
      note(err.code);
    }
  }), fuzzOptions(1500));
  assertReached(3);
});

test('CouchDB index files: any text is an index or INDEX_INVALID', () => {
  const index = fc.oneof(value, fc.record({ index: fc.oneof(value, fc.record({ fields: value }, { requiredKeys: [] })), ddoc: value, name: value, type: value }, { requiredKeys: [] }));
  fc.assert(fc.property(jsonBytes(index), (bytes) => {
    try {
      checkIndex(Buffer.from(bytes).toString('utf8'), 'META-INF/statedb/couchdb/indexes/x.json');
      note('ok');
    } catch (err) {
      assertCoded(err);
      assert.equal(err.code, 'INDEX_INVALID');
      note(err.code);
    }
  }), fuzzOptions(500));
  assertReached(1);
});

test('build.json in BUILD_OUTPUT_DIR: anything but what build wrote is BUILD_OUTPUT_*', () => {
  const built = fc.oneof(value, fc.record({
    builder: fc.oneof(fc.constant('fabric-extbuilder'), value), format: fc.oneof(fc.constant(1), value), version: fc.oneof(fc.constant('0.1.0'), value),
    mode: fc.oneof(fc.constantFrom('service', 'launch'), value), indexes: fc.oneof(fc.array(fc.constantFrom('statedb/couchdb/indexes/a.json', '../../x', '/etc/passwd'), { maxLength: 2 }), value),
  }, { requiredKeys: [] }));
  fc.assert(fc.property(jsonBytes(built), (bytes) => {
    try {
      readBuildOutput(fileIn('build.json', bytes));
      note('ok');
    } catch (err) {
      assertCoded(err, 'release');
      assert.match(err.code, /^BUILD_OUTPUT_/);
      note(err.code);
    }
  }), fuzzOptions(500));
  assertReached(1);
});

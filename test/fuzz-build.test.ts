// Property-based fuzzing of build and release, in process, over whole source trees: connection.json or
// launch.json (valid, broken, missing, both, a directory, a FIFO, a link), indexes at every path the ledger
// does and does not read, deep nesting, long and non-UTF-8 names. Invariants: a coded error or a
// complete output; after a failure BUILD_OUTPUT_DIR is empty; nothing outside it ever changes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { build } from '../src/builder/build.js';
import { release } from '../src/builder/release.js';
import type { Config } from '../src/core/config.js';
import { memoryLogger } from '../src/core/log.js';
import { createCA } from '../src/peer/pki.js';
import { assertCoded, assertUnchanged, fuzzOptions, PEM, snapshot } from './helpers/fuzz.js';
import { tempDir } from './helpers/repo.js';

let dir: string;
let caFile: string;
let caPem: string;
let caseNo = 0;

before(async () => {
  dir = tempDir('extbuilder-fuzz-build-');
  caPem = (await createCA('fuzz CA')).certPem;
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, caPem);
});
after(() => rmSync(dir, { recursive: true, force: true }));

type Kind = 'file' | 'dir' | 'fifo' | 'link-out' | 'link-loop' | 'exec';
interface Item { path: string | Buffer; kind: Kind; bytes: string | Uint8Array }

const INDEX = '{"index":{"fields":["owner"]},"ddoc":"d","name":"n","type":"json"}';
const paths = fc.constantFrom<string | Buffer>(
  'connection.json', 'launch.json',
  'META-INF/statedb/couchdb/indexes/a.json', 'META-INF/statedb/couchdb/indexes/b.json',
  'META-INF/statedb/couchdb/collections/c1/indexes/x.json', 'META-INF/statedb/couchdb/collections/c1/x.json',
  'META-INF/statedb/couchdb/other.txt', 'META-INF/statedb/x.json', 'META-INF/statedb/couchdb/indexes/deep/a.json',
  'META-INF/statedb/couchdb/indexes/.json', 'bin/cc', 'main.js', `${'d/'.repeat(80)}f`, 'é/💥.js', 'n'.repeat(255),
  Buffer.from([0x66, 0xff, 0xfe, 0x2e, 0x6a, 0x73]),
);
const contents = fc.oneof(
  fc.constantFrom(
    '{"address":"cc.example.com:9999","dial_timeout":"10s","tls_required":false}',
    '{"address":"{{.addr}}","tls_required":true,"root_cert":""}',
    '{"address":"cc:9999","tls_required":true,"client_auth_required":true}',
    '{"address":"cc:9999","tls_required":"{{.tls}}"}',
    INDEX, INDEX, '{"index":{}}', '{"command":"node","args":["main.js"]}', '{"command":"./bin/cc","workdir":"bin/.."}',
    '{"command":"../../bin/sh"}', '{"command":"bin/cc","env":{"A":"{{.chaincode_id}}"}}', '#!/bin/sh\nexit 0\n', '',
  ),
  fc.uint8Array({ maxLength: 64 }),
);
const item: fc.Arbitrary<Item> = fc.record({
  path: paths,
  kind: fc.constantFrom<Kind>('file', 'file', 'file', 'file', 'file', 'file', 'exec', 'dir', 'fifo', 'link-out', 'link-loop'),
  bytes: contents,
});

/** Creates what it can of the tree; an item that collides with an earlier one is dropped. */
function makeTree(root: string, items: Item[]): void {
  for (const it of items) {
    const p = typeof it.path === 'string' ? join(root, it.path) : Buffer.concat([Buffer.from(root + '/'), it.path]);
    try {
      mkdirSync(dirname(p.toString()), { recursive: true });
      switch (it.kind) {
        // 'wx': never open an existing path, which could be a FIFO made by an earlier item.
        case 'file': writeFileSync(p, it.bytes, { flag: 'wx' }); break;
        case 'exec': writeFileSync(p, it.bytes, { flag: 'wx', mode: 0o755 }); break;
        case 'dir': mkdirSync(p, { recursive: true }); break;
        case 'fifo': execFileSync('mkfifo', [p.toString()], { stdio: 'ignore' }); break;
        case 'link-out': symlinkSync(caFile, p); break;
        case 'link-loop': symlinkSync(p.toString(), p); break;
      }
    } catch { /* collides with an earlier item */ }
  }
}

const config: () => Config = () => ({ types: ['ccaas'], template: { addr: 'cc.example.com:9999', tls: 'true' }, tls: { root_cert_file: caFile }, sources: ['fuzz'] });

test('build and release over fuzzed source trees: complete output or a coded error and nothing written', { timeout: 120_000 }, async () => {
  const seen = new Map<string, number>();
  // A valid package of each mode, or none, under up to five fuzzed items (which win where they collide).
  const base = fc.constantFrom<Item[]>(
    [{ path: 'connection.json', kind: 'file', bytes: '{"address":"{{.addr}}","dial_timeout":"10s","tls_required":true}' }],
    [{ path: 'connection.json', kind: 'file', bytes: '{"address":"cc.example.com:9999"}' }],
    [{ path: 'launch.json', kind: 'file', bytes: '{"command":"./bin/cc"}' }, { path: 'bin/cc', kind: 'exec', bytes: '#!/bin/sh\n' }],
    [],
  );
  await fc.assert(fc.asyncProperty(fc.array(item, { maxLength: 5 }), base, fc.oneof(fc.constant(true), fc.constant(true), fc.constant(false)), async (fuzzed, valid, goodMetadata) => {
    const items = [...fuzzed, ...valid];
    const root = join(dir, String(caseNo++));
    const [src, md, bld, rel] = ['src', 'md', 'bld', 'rel'].map((d) => join(root, d)) as [string, string, string, string];
    for (const d of [src, md, bld, rel]) mkdirSync(d, { recursive: true, mode: 0o700 });
    makeTree(src, items);
    writeFileSync(join(md, 'metadata.json'), goodMetadata ? '{"type":"ccaas","label":"fuzz_1"}' : '{"type":');
    const before = snapshot(root);
    const log = memoryLogger('build');
    let ok = false;
    try {
      await build({ sourceDir: src, metadataDir: md, outputDir: bld, config: config(), log });
      ok = true;
    } catch (err) {
      assertCoded(err);
      seen.set(err.code, (seen.get(err.code) ?? 0) + 1);
    }
    for (const line of log.lines) assert.doesNotMatch(line, PEM);
    if (!ok) {
      assert.deepEqual(readdirSync(bld), [], 'BUILD_OUTPUT_DIR is empty after a failure');
      assertUnchanged(before, snapshot(root), []);
      return;
    }
    seen.set('built', (seen.get('built') ?? 0) + 1);
    const out = readdirSync(bld);
    assert.ok(out.includes('build.json'), `build.json in ${out}`);
    assert.ok(!out.some((n) => n.startsWith('.extbuilder-partial-')), 'no scratch left');
    assertUnchanged(before, snapshot(root), ['bld']);
    const beforeRelease = snapshot(root);
    await release({ buildDir: bld, releaseDir: rel });
    await release({ buildDir: bld, releaseDir: rel });
    assertUnchanged(beforeRelease, snapshot(root), ['rel']);
  }), fuzzOptions(300));
  // The fuzzer reached both outcomes and many causes (else it tests nothing).
  assert.ok((seen.get('built') ?? 0) >= 10, `built ${seen.get('built')} times: ${[...seen.keys()]}`);
  assert.ok(seen.size >= 8, `only ${[...seen.keys()]}`);
});

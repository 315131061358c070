// Concurrency: the peer builds different chaincodes in parallel. 32 builds (and then releases) of
// different packages at once, into separate directories, all succeed and produce byte for byte, mode for
// mode, what the same package gives when built alone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createBuildContext, invokePhase, peerEnvironment, writePeerMetadata, type BuildContext } from '../src/peer/invoke.js';
import { createCA } from '../src/peer/pki.js';
import { REPO, listFiles, tempDir } from './helpers/repo.js';

let dir: string;
let env: Record<string, string>;

before(async () => {
  dir = tempDir('extbuilder-concurrency-');
  const ca = await createCA('concurrency CA');
  writeFileSync(join(dir, 'ca.pem'), ca.certPem);
  env = peerEnvironment({ ...process.env, EXTBUILDER_CONFIG: JSON.stringify({ template: { org: 'org1' }, tls: { root_cert_file: join(dir, 'ca.pem') } }) }, ['EXTBUILDER_CONFIG']);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Package i: a distinct address; every third with TLS spliced, every other with indexes, every fourth in launch mode. */
function makePackage(i: number, launch: boolean): BuildContext {
  const ctx = createBuildContext(dir, `cc${i}:1.0`);
  if (launch && i % 4 === 3) {
    writeFileSync(join(ctx.src, 'launch.json'), JSON.stringify({ command: './bin/cc', args: ['--n', String(i)] }));
    mkdirSync(join(ctx.src, 'bin'));
    writeFileSync(join(ctx.src, 'bin', 'cc'), `#!/bin/sh\necho ${i}\n`, { mode: 0o755 });
    for (let f = 0; f < 20; f++) writeFileSync(join(ctx.src, `lib${f}.js`), `module.exports = ${i * 100 + f};\n`);
  } else {
    writeFileSync(join(ctx.src, 'connection.json'), JSON.stringify({
      address: `cc${i}.{{.org}}.example.com:${9000 + i}`, dial_timeout: `${i + 1}s`, tls_required: i % 3 === 0, ...(i % 3 === 0 ? { root_cert: '' } : {}),
    }));
  }
  if (i % 2 === 0) {
    mkdirSync(join(ctx.src, 'META-INF/statedb/couchdb/indexes'), { recursive: true });
    writeFileSync(join(ctx.src, 'META-INF/statedb/couchdb/indexes', `ix${i}.json`), JSON.stringify({ index: { fields: [`f${i}`] }, ddoc: `d${i}`, name: `n${i}`, type: 'json' }));
  }
  writePeerMetadata(ctx, JSON.stringify({ type: 'ccaas', label: `cc${i}_1.0` }));
  return ctx;
}

/** Files with their bytes and modes. */
function tree(d: string): Record<string, string> {
  return Object.fromEntries(listFiles(d).map((f) => [f, `${(statSync(join(d, f)).mode & 0o777).toString(8)} ${readFileSync(join(d, f), 'base64')}`]));
}

async function buildAndRelease(ctx: BuildContext): Promise<{ bld: Record<string, string>; rel: Record<string, string> }> {
  const b = await invokePhase(REPO, 'build', [ctx.src, ctx.metadata, ctx.bld], { env, cwd: dir, timeoutMs: 120_000 });
  assert.equal(b.code, 0, b.lines.join('\n'));
  const r = await invokePhase(REPO, 'release', [ctx.bld, ctx.release], { env, cwd: dir, timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.lines.join('\n'));
  return { bld: tree(ctx.bld), rel: tree(ctx.release) };
}

test('32 builds and releases at once give exactly what each gives alone', { timeout: 300_000 }, async () => {
  // Launch mode joins in when this build has it.
  const probe = makePackage(3, true);
  const launch = (await invokePhase(REPO, 'build', [probe.src, probe.metadata, probe.bld], { env, cwd: dir })).code === 0;

  const alone = [];
  for (let i = 0; i < 32; i++) alone.push(await buildAndRelease(makePackage(i, launch)));
  const together = await Promise.all(Array.from({ length: 32 }, (_, i) => buildAndRelease(makePackage(i, launch))));
  for (let i = 0; i < 32; i++) assert.deepEqual(together[i], alone[i], `package ${i}`);
  // Each output is its own package's: no two alike.
  assert.equal(new Set(together.map((t) => JSON.stringify(t.bld))).size, 32);
});

// npm run demo (after the build that npm test runs first): exit 0, a transcript with every part passing,
// and no process left behind: no chaincode server or chaincode still runs with a package ID it printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './helpers/repo.js';

/** Command lines of every process now running (Linux /proc). */
function commandLines(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try { out.push(readFileSync(join('/proc', pid, 'cmdline'), 'utf8').replace(/\0/g, ' ')); } catch { /* gone */ }
  }
  return out;
}

test('the demo runs every part, passes, and leaves nothing running', { skip: !existsSync('/proc/self/cmdline') && 'needs /proc' }, () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'scripts', 'demo.ts')], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const t = r.stdout;
  for (const heading of ['== 1. Chaincode as a service, plaintext ==', '== 2. Chaincode as a service, mutual TLS', '== 3. A classic mistake', '== 4. Launch mode']) {
    assert.ok(t.includes(heading), `transcript has ${heading}`);
  }
  assert.equal(t.match(/simulate: PASS/g)?.length, 3, 'plaintext, mutual TLS and launch mode pass');
  assert.match(t, /get -> 200 "hello"/);
  assert.match(t, /get -> 200 "hello over mTLS"/);
  assert.match(t, /get -> 200 "hello from run"/);
  assert.match(t, /REGISTER_WRONG_ID/);
  assert.match(t, /stop +ok .*run exited \d+ ms after SIGTERM/);
  const ids = [...new Set(t.match(/putget_1\.0:[0-9a-f]{64}/g) ?? [])];
  assert.equal(ids.length, 3, 'three packages: plaintext, mutual TLS, launch');
  const left = commandLines().filter((c) => ids.some((id) => c.includes(id)));
  assert.deepEqual(left, [], 'no process runs with a demo package ID');
  const work = /Working in (\S+) /.exec(t)?.[1];
  assert.ok(work && !existsSync(work), 'the working directory is removed');
});

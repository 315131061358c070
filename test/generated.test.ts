// The generated validators, types, deflate worker and README code reference must match their sources
// (run `npm run gen`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from '../scripts/gen-schemas.js';
import { readmeWithCodes } from '../scripts/gen-readme.js';
import { generateWorker } from '../scripts/gen-worker.js';
import { REPO } from './helpers/repo.js';

test('src/generated is up to date with schemas/', async () => {
  for (const [file, text] of await generate()) {
    assert.equal(readFileSync(file, 'utf8'), text, `${file} is stale: run npm run gen`);
  }
});

test('src/generated/deflate-worker.ts is up to date with the worker and fflate', async () => {
  const [file, text] = await generateWorker();
  assert.equal(readFileSync(file, 'utf8'), text, `${file} is stale: run npm run gen`);
});

test('the README lists every error and warning code', () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  assert.equal(readme, readmeWithCodes(readme), 'README code reference is stale: run npm run gen');
});

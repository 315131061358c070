// The generated validators, types, deflate worker and the code reference of docs/errors.md must match their sources
// (run `npm run gen`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from '../scripts/gen-schemas.js';
import { ERRORS_PAGE, pageWithCodes } from '../scripts/gen-readme.js';
import { generateWorker } from '../scripts/gen-worker.js';
import { REPO } from './helpers/repo.js';

test('src/generated is up to date with schemas/', async () => {
  for (const [file, text] of await generate()) {
    assert.equal(readFileSync(file, 'utf8'), text, `${file} is stale: run npm run gen`);
  }
});

test('src/generated/deflate-worker.ts is up to date with the worker', async () => {
  const [file, text] = await generateWorker();
  assert.equal(readFileSync(file, 'utf8'), text, `${file} is stale: run npm run gen`);
});

test('docs/errors.md lists every error and warning code, as src/core/codes.ts gives them', () => {
  assert.equal(ERRORS_PAGE, join(REPO, 'docs', 'errors.md'));
  const page = readFileSync(ERRORS_PAGE, 'utf8');
  assert.equal(page, pageWithCodes(page), 'docs/errors.md code reference is stale: run npm run gen');
});

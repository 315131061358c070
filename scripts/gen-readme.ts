// Writes the error-code reference of docs/errors.md (between the codes:start/end markers) from
// src/core/codes.ts. `npm run gen` runs it; test/generated.test.ts fails when the page is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, WARNING_CODES } from '../src/core/codes.js';

export const ERRORS_PAGE = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'errors.md');
const START = '<!-- codes:start -->';
const END = '<!-- codes:end -->';

export function codesTable(): string {
  const rows = (codes: Record<string, string>) => Object.entries(codes).map(([c, d]) => `| \`${c}\` | ${d} |`).join('\n');
  return `${START}\n| error code | cause |\n|---|---|\n${rows(ERROR_CODES)}\n\n| warning code | cause |\n|---|---|\n${rows(WARNING_CODES)}\n${END}`;
}

export function pageWithCodes(page: string): string {
  const a = page.indexOf(START);
  const b = page.indexOf(END);
  if (a < 0 || b < a) throw new Error('docs/errors.md lacks the codes:start/codes:end markers');
  return page.slice(0, a) + codesTable() + page.slice(b + END.length);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(ERRORS_PAGE, pageWithCodes(readFileSync(ERRORS_PAGE, 'utf8')));
}

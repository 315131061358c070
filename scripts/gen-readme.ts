// Writes the README's error-code reference (between the codes:start/end markers) from src/core/codes.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, WARNING_CODES } from '../src/core/codes.js';

const README = join(dirname(fileURLToPath(import.meta.url)), '..', 'README.md');
const START = '<!-- codes:start -->';
const END = '<!-- codes:end -->';

export function codesTable(): string {
  const rows = (codes: Record<string, string>) => Object.entries(codes).map(([c, d]) => `| \`${c}\` | ${d} |`).join('\n');
  return `${START}\n| error code | cause |\n|---|---|\n${rows(ERROR_CODES)}\n\n| warning code | cause |\n|---|---|\n${rows(WARNING_CODES)}\n${END}`;
}

export function readmeWithCodes(readme: string): string {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error('README.md lacks the codes:start/codes:end markers');
  return readme.slice(0, a) + codesTable() + readme.slice(b + END.length);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(README, readmeWithCodes(readFileSync(README, 'utf8')));
}

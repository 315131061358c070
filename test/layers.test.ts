// The arrows point down: each directory of src/ imports only the layers below it (the README's shape).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const SRC = resolve(import.meta.dirname, '..', 'src');

// What each layer may import besides itself. main.ts and entry.ts at the top may import anything.
const ALLOWED: Record<string, string[]> = {
  generated: ['core'], // the validators' types come from core/schema.ts; the two are one bottom layer
  core: ['generated'],
  peer: ['core', 'generated'],
  kube: ['core', 'generated'],
  builder: ['core', 'generated', 'kube'],
  packaging: ['builder', 'core', 'generated'],
  phases: ['builder', 'core', 'generated'],
  cli: ['packaging', 'builder', 'kube', 'peer', 'core', 'generated'],
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
}

const layerOf = (file: string): string => {
  const rel = relative(SRC, file).split('/');
  return rel.length === 1 ? '' : rel[0]!;
};

/** "file imports layer" for every relative import (static, re-export or dynamic) that crosses a forbidden arrow. */
export function violations(files: { file: string; text: string }[]): string[] {
  const out: string[] = [];
  for (const { file, text } of files) {
    const from = layerOf(file);
    if (!(from in ALLOWED)) continue;
    for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)'(\.[^']+)'/gm)) {
      const to = layerOf(resolve(dirname(file), m[1]!));
      if (to !== from && !ALLOWED[from]!.includes(to)) out.push(`${relative(SRC, file)} imports ${to || 'src/'} (${m[1]})`);
    }
  }
  return out;
}

test('no module imports a layer above its own (core/ imports no builder/, builder/ no cli/ or phases/)', () => {
  const files = sources(SRC).map((file) => ({ file, text: readFileSync(file, 'utf8') }));
  assert.ok(files.length > 50, `only ${files.length} sources found under ${SRC}`);
  assert.deepEqual(violations(files), []);
});

test('the layer check sees static, type-only and dynamic imports that point up', () => {
  const f = (path: string, text: string) => ({ file: join(SRC, path), text });
  assert.deepEqual(violations([
    f('core/pkg/x.ts', "import { claims } from '../../builder/detect.js';"),
    f('core/y.ts', "import type { Mode } from '../builder/build.js';\nexport { a } from '../cli/a.js';"),
    f('builder/z.ts', "const m = await import('../phases/run.js');\nimport { x } from '../core/x.js';"),
    f('cli/w.ts', "import { y } from '../packaging/y.js';"),
  ]), [
    'core/pkg/x.ts imports builder (../../builder/detect.js)',
    'core/y.ts imports builder (../builder/build.js)',
    'core/y.ts imports cli (../cli/a.js)',
    'builder/z.ts imports phases (../phases/run.js)',
  ]);
});

// The committed deflate module (src/generated/deflate-wasm.ts) is a checked build of committed source:
// scripts/build-deflate-wasm.ts rebuilds it from native/ (libdeflate 1.14 from Debian's source package,
// native/deflate-wasm.c) into a scratch directory, and the result must be byte for byte the module the
// package format uses. Needs Debian's clang-14, lld-14 (wasm-ld-14), wasi-libc and libclang-rt-14-dev-wasm32
// (.ci/run installs them); without them the test skips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEFLATE_WASM_BASE64, DEFLATE_WASM_SHA256 } from '../src/generated/deflate-wasm.js';
import { REPO, tempDir } from './helpers/repo.js';

const onPath = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const CLANG_LIB = '/usr/lib/llvm-14/lib/clang';
const builtins = existsSync(CLANG_LIB) && readdirSync(CLANG_LIB).some((v) => existsSync(join(CLANG_LIB, v, 'lib', 'wasi', 'libclang_rt.builtins-wasm32.a')));
const missing = [
  ...['clang-14', 'wasm-ld-14'].filter((c) => !onPath(c)),
  ...(existsSync('/usr/lib/wasm32-wasi/libc.a') ? [] : ['wasi-libc']),
  ...(builtins ? [] : ['libclang-rt-14-dev-wasm32']),
];

test('the committed deflate module is what scripts/build-deflate-wasm.ts builds from native/', {
  skip: missing.length ? `no ${missing.join(', ')} (apt-get install clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32)` : false,
  timeout: 120_000,
}, () => {
  const out = join(tempDir('extbuilder-deflate-wasm-'), 'deflate-wasm.ts');
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'scripts', 'build-deflate-wasm.ts'), '--out', out],
    { cwd: REPO, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const built = readFileSync(out, 'utf8');
  const sha = /export const DEFLATE_WASM_SHA256 = '([0-9a-f]{64})';/.exec(built)?.[1];
  assert.equal(sha, DEFLATE_WASM_SHA256, 'the module built from native/ is not the committed one: rebuild it deliberately (scripts/build-deflate-wasm.ts) or restore native/');
  assert.ok(built.includes(`'${DEFLATE_WASM_BASE64}'`), 'same SHA-256, other bytes');
  assert.equal(built, readFileSync(join(REPO, 'src', 'generated', 'deflate-wasm.ts'), 'utf8'));
});

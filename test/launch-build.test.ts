// build and release in launch mode, run as the peer runs them: the program tree copied with its modes,
// launch.json and its command checked, indexes released, nothing half-written on bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { createBuildContext, invokePhase, peerEnvironment, stageSourceDir, writePeerMetadata, type BuildContext } from '../src/peer/invoke.js';
import { REPO, listFiles, tempDir } from './helpers/repo.js';

const PACKAGE_ID = 'kv_1.0:4844d431f1730dbe5f633ec3dbcc02debe09925731a37942eb65bd19150b9ff1';
const env = peerEnvironment(process.env);

/** Modes, sizes and content hashes of every entry below dir: what "kept file modes" is checked against. */
function tree(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const p = join(dir, r);
    const st = lstatSync(p);
    if (st.isDirectory()) {
      out.push(`${r}/ ${(st.mode & 0o7777).toString(8)}`);
      out.push(...tree(dir, r));
    } else {
      out.push(`${r} ${(st.mode & 0o7777).toString(8)} ${createHash('sha256').update(readFileSync(p)).digest('hex').slice(0, 16)}`);
    }
  }
  return out;
}

function context(roots: string[]): BuildContext {
  const ctx = createBuildContext(tmpdir(), PACKAGE_ID);
  roots.push(ctx.root);
  writePeerMetadata(ctx, JSON.stringify({ type: 'external', label: 'kv_1.0' }));
  return ctx;
}

/** A launch package with a packaged executable, a read-only directory, nested files and an index. */
function sampleTree(): string {
  const dir = tempDir('extbuilder-launch-src-');
  writeFileSync(join(dir, 'launch.json'), JSON.stringify({ command: 'bin/chaincode', args: ['--peer', '{{.peer_address}}'], env: { LOG: 'debug' }, workdir: 'app' }));
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'bin', 'chaincode'), '#!/bin/sh\nexec sleep 1000\n', { mode: 0o755 });
  writeFileSync(join(dir, 'bin', 'helper.sh'), '#!/bin/sh\n', { mode: 0o750 });
  mkdirSync(join(dir, 'app', 'deep', 'deeper'), { recursive: true });
  writeFileSync(join(dir, 'app', 'deep', 'deeper', 'data.bin'), Buffer.from([0, 1, 2, 255]));
  writeFileSync(join(dir, 'app', 'secret.txt'), 'only me\n', { mode: 0o600 });
  mkdirSync(join(dir, 'app', 'ro'));
  writeFileSync(join(dir, 'app', 'ro', 'fixed.txt'), 'read-only dir\n', { mode: 0o444 });
  chmodSync(join(dir, 'app', 'ro'), 0o555);
  mkdirSync(join(dir, 'META-INF', 'statedb', 'couchdb', 'indexes'), { recursive: true });
  writeFileSync(join(dir, 'META-INF', 'statedb', 'couchdb', 'indexes', 'owner.json'), '{"index":{"fields":["owner"]},"name":"owner","type":"json"}');
  return dir;
}

test('build copies the whole tree into bld/code with its modes; release gives indexes and no connection.json', async () => {
  const roots: string[] = [];
  const src = sampleTree();
  roots.push(src);
  const ctx = context(roots);
  try {
    // stage as the peer untars: files keep their modes (directories become 0700 in the peer's untar)
    stageSourceDir(src, ctx.src);
    chmodSync(join(ctx.src, 'app', 'ro'), 0o555);
    const b = await invokePhase(REPO, 'build', [ctx.src, ctx.metadata, ctx.bld], { env });
    assert.equal(b.code, 0, b.lines.join('\n'));
    assert.deepEqual(b.lines, ['extbuilder build: launch bin/chaincode, 7 files, 1 index']);
    assert.deepEqual(readdirSync(ctx.bld).sort(), ['build.json', 'code', 'metadata.json', 'statedb']);
    // files keep their modes exactly; directories gain owner rwx, so the peer can copy and delete them
    assert.ok(tree(ctx.src).includes('app/ro/ 555'), 'the sample really has a read-only directory');
    assert.deepEqual(tree(join(ctx.bld, 'code')), tree(ctx.src).map((l) => l.replace(/^app\/ro\/ 555$/, 'app/ro/ 755')));
    assert.equal(lstatSync(join(ctx.bld, 'code', 'bin', 'chaincode')).mode & 0o777, 0o755);
    assert.deepEqual(JSON.parse(readFileSync(join(ctx.bld, 'build.json'), 'utf8')), {
      builder: 'fabric-extbuilder', format: 1, version: '0.1.0', mode: 'launch', indexes: ['statedb/couchdb/indexes/owner.json'],
    });
    assert.equal(readFileSync(join(ctx.bld, 'metadata.json'), 'utf8'), readFileSync(join(ctx.metadata, 'metadata.json'), 'utf8'));

    const r = await invokePhase(REPO, 'release', [ctx.bld, ctx.release], { env });
    assert.equal(r.code, 0, r.lines.join('\n'));
    assert.deepEqual(listFiles(ctx.release), ['statedb/couchdb/indexes/owner.json']);
    assert.match(r.lines.join('\n'), /no connection\.json \(the peer calls run\)/);
  } finally {
    chmodSync(join(ctx.src, 'app', 'ro'), 0o755);
    execFileSync('chmod', ['-R', 'u+w', ctx.root]);
    for (const r of roots) { execFileSync('chmod', ['-R', 'u+w', r]); rmSync(r, { recursive: true, force: true }); }
  }
});

test('a large tree (node_modules-like, thousands of files) is copied byte for byte', async () => {
  const roots: string[] = [];
  const ctx = context(roots);
  try {
    writeFileSync(join(ctx.src, 'launch.json'), JSON.stringify({ command: 'node', args: ['index.js'] }));
    let n = 1;
    for (let a = 0; a < 30; a++) {
      for (let b = 0; b < 10; b++) {
        const d = join(ctx.src, 'node_modules', `pkg${a}`, `lib${b}`);
        mkdirSync(d, { recursive: true });
        for (let c = 0; c < 10; c++) {
          writeFileSync(join(d, `f${c}.js`), `module.exports = ${a * 1000 + b * 10 + c};\n`.repeat(1 + c * 20), { mode: c === 9 ? 0o755 : 0o644 });
          n++;
        }
      }
    }
    const b = await invokePhase(REPO, 'build', [ctx.src, ctx.metadata, ctx.bld], { env });
    assert.equal(b.code, 0, b.lines.join('\n'));
    assert.match(b.lines[0]!, new RegExp(`launch node \\(from PATH at run\\), ${n} files, 0 indexes`));
    assert.deepEqual(tree(join(ctx.bld, 'code')), tree(ctx.src));
  } finally {
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  }
});

test('a bare command that the package also holds at its root gets a warning', async () => {
  const roots: string[] = [];
  const ctx = context(roots);
  try {
    writeFileSync(join(ctx.src, 'launch.json'), JSON.stringify({ command: 'chaincode' }));
    writeFileSync(join(ctx.src, 'chaincode'), '#!/bin/sh\n', { mode: 0o755 });
    const b = await invokePhase(REPO, 'build', [ctx.src, ctx.metadata, ctx.bld], { env });
    assert.equal(b.code, 0, b.lines.join('\n'));
    assert.match(b.lines.join('\n'), /^extbuilder build: warning: LAUNCH_COMMAND_ON_PATH: .*write "\.\/chaincode"/m);
  } finally {
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  }
});

interface BadCase { name: string; code: string; launch?: unknown; launchRaw?: string; files?: Record<string, { text: string; mode?: number }>; setup?: (src: string) => void; includes?: RegExp }

const bad: BadCase[] = [
  { name: 'launch.json is not JSON', code: 'LAUNCH_PARSE', launchRaw: '{"command": "node",' },
  { name: 'launch.json is a list', code: 'LAUNCH_INVALID', launchRaw: '["node"]' },
  { name: 'no command', code: 'LAUNCH_INVALID', launch: { args: [] }, includes: /command/ },
  { name: 'an empty command', code: 'LAUNCH_INVALID', launch: { command: '' } },
  { name: 'args not strings', code: 'LAUNCH_INVALID', launch: { command: 'node', args: ['a', 1] } },
  { name: 'an env value not a string', code: 'LAUNCH_INVALID', launch: { command: 'node', env: { A: true } } },
  { name: 'an env name that is not a variable name', code: 'LAUNCH_INVALID', launch: { command: 'node', env: { 'A-B': 'x' } } },
  { name: 'a misspelt key', code: 'LAUNCH_UNKNOWN_KEY', launch: { command: 'node', arg: [] }, includes: /did you mean "args"/ },
  { name: 'a command escaping the package', code: 'LAUNCH_PATH_ESCAPES', launch: { command: '../../bin/sh' } },
  { name: 'a workdir escaping the package', code: 'LAUNCH_PATH_ESCAPES', launch: { command: 'node', workdir: 'app/../..' } },
  { name: 'an absolute workdir', code: 'LAUNCH_PATH_ESCAPES', launch: { command: 'node', workdir: '/tmp' } },
  { name: 'a workdir the package lacks', code: 'LAUNCH_WORKDIR_MISSING', launch: { command: 'node', workdir: 'nope' } },
  { name: 'a packaged command the package lacks', code: 'LAUNCH_COMMAND_MISSING', launch: { command: 'bin/chaincode' } },
  { name: 'a packaged command without an execute bit', code: 'LAUNCH_COMMAND_NOT_EXECUTABLE', launch: { command: './chaincode' }, files: { chaincode: { text: '#!/bin/sh\n', mode: 0o644 } }, includes: /mode 644/ },
  { name: 'a packaged command that is a directory', code: 'LAUNCH_COMMAND_NOT_EXECUTABLE', launch: { command: './bin' }, setup: (src) => mkdirSync(join(src, 'bin')) },
  { name: 'a malformed placeholder', code: 'TEMPLATE_SYNTAX', launch: { command: 'node', args: ['{{ .peer_address | quote }}'] } },
  { name: 'a symlink in the tree', code: 'SOURCE_FILE_TYPE', launch: { command: 'node' }, setup: (src) => { mkdirSync(join(src, 'node_modules', '.bin'), { recursive: true }); symlinkSync('../x/cli.js', join(src, 'node_modules', '.bin', 'x')); }, includes: /node_modules\/\.bin\/x, a symlink/ },
  { name: 'both launch.json and connection.json', code: 'SOURCE_BOTH_MODES', launch: { command: 'node' }, files: { 'connection.json': { text: '{"address": "cc:9999"}' } } },
];

for (const c of bad) {
  test(`build refuses ${c.name} with ${c.code}, one line, nothing written`, async () => {
    const roots: string[] = [];
    const ctx = context(roots);
    try {
      writeFileSync(join(ctx.src, 'launch.json'), c.launchRaw ?? JSON.stringify(c.launch));
      writeFileSync(join(ctx.src, 'index.js'), '// the program\n');
      for (const [name, f] of Object.entries(c.files ?? {})) writeFileSync(join(ctx.src, name), f.text, { mode: f.mode ?? 0o644 });
      c.setup?.(ctx.src);
      const b = await invokePhase(REPO, 'build', [ctx.src, ctx.metadata, ctx.bld], { env });
      assert.equal(b.code, 1, b.lines.join('\n'));
      assert.equal(b.lines.length, 1, b.lines.join('\n'));
      assert.match(b.lines[0]!, new RegExp(`^extbuilder build: ${c.code}: `));
      if (c.includes) assert.match(b.lines[0]!, c.includes);
      assert.deepEqual(readdirSync(ctx.bld), [], 'BUILD_OUTPUT_DIR stays empty');
    } finally {
      for (const r of roots) rmSync(r, { recursive: true, force: true });
    }
  });
}

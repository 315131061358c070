// Writes the V8 code caches of a standalone executable (scripts/binaries/sea.ts runs it with the target's own
// Node, the executable's flags and --random-seed=1, in a scratch directory holding extbuilder.cjs and the
// chunks): <name>.cache for each <name>.cjs, compiled by the same wrapper the executable compiles it in.
//
// A cache made from a compile alone holds the top-level code only: every function is still compiled when
// first called, and the phases' schema validators alone (41 KB for the builder config) cost each phase
// 3-4 ms that way. So extbuilder.cjs is run here first, on fixed inputs made below (detect, build and
// release of a service and a launch package), and its cache then holds what those runs compiled. The
// inputs (at a fixed path), the environment and the seed are fixed, so the caches are the same bytes at
// every build; nothing of the runs (paths, times, output) is in them, only code.
// quick.cjs is run too, on id and inspect of a small package, which read it in memory, synchronously
// (without the thread pool, whose timing once made its cache differ 1 build in 4). cli.cjs and kube.cjs
// are compiled only.
'use strict';
const { chmodSync, mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { Script } = require('node:vm');
const { gzipSync } = require('node:zlib');

const [wrapperJson, namesJson, warmDir] = process.argv.slice(2);
const [head, tail] = JSON.parse(wrapperJson);
const names = JSON.parse(namesJson);
const here = process.cwd();
// The inputs' own directory, at a fixed path (sea.ts): which lazily compiled functions run, and so what
// the caches hold, can depend on the characters of a path, and a random scratch name made 1 cache in 3 differ.
const warm = warmDir ?? join(here, 'warm');

const compile = (name) => new Script(head + readFileSync(join(here, `${name}.cjs`), 'latin1') + tail, { filename: `${name}.cjs` });

/** Runs a compiled chunk's module once, as the executable's loader does; returns its exports. */
function run(script, name) {
  const m = { exports: {} };
  script.runInThisContext()(m.exports, require, m, join(here, `${name}.cjs`), here);
  return m.exports;
}

function write(file, text, mode) {
  mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
  writeFileSync(file, text);
  if (mode) chmodSync(file, mode);
}

/** A ustar archive of regular files, as `extbuilder package` writes them. */
function tar(files) {
  const blocks = [];
  for (const [name, text] of files) {
    const body = Buffer.from(text);
    const h = Buffer.alloc(512);
    h.write(name, 0);
    h.write('0000644\0', 100); h.write('0000000\0', 108); h.write('0000000\0', 116);
    h.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
    h.write('00000000000\0', 136);
    h.write('        ', 148);
    h.write('0', 156);
    h.write('ustar\0', 257); h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(h, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

const fail = (what, code) => { throw new Error(`${what} exited ${code} while warming the code cache`); };

async function warmPhases(script) {
  const w = warm;
  const index = JSON.stringify({ index: { fields: ['owner'] }, ddoc: 'indexOwnerDoc', name: 'indexOwner', type: 'json' });
  write(join(w, 'service', 'src', 'connection.json'), JSON.stringify({ address: 'cc.org1.example.com:9999', dial_timeout: '10s', tls_required: false }));
  write(join(w, 'service', 'src', 'META-INF', 'statedb', 'couchdb', 'indexes', 'indexOwner.json'), index);
  write(join(w, 'service', 'metadata', 'metadata.json'), JSON.stringify({ type: 'ccaas', label: 'warm' }));
  write(join(w, 'launch', 'src', 'launch.json'), JSON.stringify({ command: 'true' }));
  write(join(w, 'launch', 'metadata', 'metadata.json'), JSON.stringify({ type: 'ccaas', label: 'warm' }));
  write(join(w, 'foreign', 'src', 'main.go'), 'package main\n');
  write(join(w, 'foreign', 'metadata', 'metadata.json'), JSON.stringify({ type: 'golang', label: 'foreign', path: 'example.com/cc' }));
  for (const d of ['service-bld', 'service-rel', 'launch-bld', 'launch-rel']) mkdirSync(join(w, d), { mode: 0o700 });
  const plan = [
    ['detect', ['foreign/src', 'foreign/metadata'], 1],
    ['detect', ['service/src', 'service/metadata'], 0],
    ['build', ['service/src', 'service/metadata', 'service-bld'], 0],
    ['release', ['service-bld', 'service-rel'], 0],
    ['detect', ['launch/src', 'launch/metadata'], 0],
    ['build', ['launch/src', 'launch/metadata', 'launch-bld'], 0],
    ['release', ['launch-bld', 'launch-rel'], 0],
  ];
  for (const [phase, args, want] of plan) {
    process.argv = [process.execPath, join(w, 'bin', phase), ...args.map((a) => join(w, a))];
    const code = await run(script, 'extbuilder').done;
    if (code !== want) fail(phase, code);
  }
}

/** id and inspect (text and --json) of a small service package: all synchronous, in memory, no thread pool. */
async function warmQuick(script) {
  const pkg = join(warm, 'warm.tar.gz');
  const code = gzipSync(tar([['connection.json', JSON.stringify({ address: 'cc.org1.example.com:9999', dial_timeout: '10s' })]]));
  write(pkg, gzipSync(tar([['metadata.json', JSON.stringify({ type: 'ccaas', label: 'warm_1.0' })], ['code.tar.gz', code]])));
  const { runQuick } = run(script, 'quick');
  for (const [command, json] of [['id', false], ['inspect', false], ['inspect', true]]) {
    const exit = await runQuick(command, pkg, json, process.env);
    if (exit !== 0) fail(command, exit);
  }
}

async function main() {
  // The phases read their environment: it is fixed here, whatever the build machine's is.
  for (const k of Object.keys(process.env)) delete process.env[k];
  Object.assign(process.env, { PATH: '/usr/bin:/bin', EXTBUILDER_CONFIG: '{}' });
  for (const name of names) {
    const script = compile(name);
    if (name === 'extbuilder') await warmPhases(script);
    if (name === 'quick') await warmQuick(script);
    writeFileSync(join(here, `${name}.cache`), script.createCachedData());
  }
  process.exitCode = 0;
}

main().catch((err) => { process.stderr.write(`cache-maker: ${err.stack ?? err}\n`); process.exit(1); });

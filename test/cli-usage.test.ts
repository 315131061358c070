// The CLI's own rules, through the built program as a child: a usage error is one USAGE line, exit 2, and
// nothing runs; -h, completion and per-command examples work; --json failures are JSON on stdout too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, tempDir } from './helpers/repo.js';

const EXTBUILDER = join(REPO, 'bin', 'extbuilder');
const COMMANDS = ['package', 'id', 'inspect', 'simulate', 'doctor', 'install'];

function cli(args: string[], cwd?: string) {
  return spawnSync(EXTBUILDER, args, { encoding: 'utf8', cwd, env: { PATH: process.env.PATH } });
}

const USAGE_CASES: [string[], RegExp][] = [
  [[], /^extbuilder: USAGE: no command given \(name one of package, id, inspect, simulate, doctor, install; see extbuilder --help\)$/],
  [['pakage'], /^extbuilder: USAGE: unknown command pakage \(did you mean package\? see extbuilder --help\)$/],
  [['frobnicate'], /^extbuilder: USAGE: unknown command frobnicate \(name one of /],
  [['id'], /^extbuilder: USAGE: extbuilder id needs <package> \(see extbuilder id --help\)$/],
  [['inspect'], /^extbuilder: USAGE: extbuilder inspect needs <package> /],
  [['simulate'], /^extbuilder: USAGE: extbuilder simulate needs <package> /],
  [['install'], /^extbuilder: USAGE: extbuilder install needs <dir> /],
  [['package', '--address', 'cc:7777'], /^extbuilder: USAGE: extbuilder package needs --label \(see extbuilder package --help\)$/],
  [['id', '--jsn', 'x.tar.gz'], /^extbuilder: USAGE: extbuilder id has no option --jsn \(did you mean --json\? see extbuilder id --help\)$/],
  // The misspelt option ate the package argument: name the option, not the missing argument.
  [['id', '--bogus', 'x.tar.gz'], /^extbuilder: USAGE: extbuilder id has no option --bogus \(see extbuilder id --help\)$/],
  [['doctor', '--bulder', '/opt/x'], /^extbuilder: USAGE: extbuilder doctor has no option --bulder \(did you mean --builder\? /],
  [['inspect', 'a.tar.gz', 'b.tar.gz'], /^extbuilder: USAGE: extbuilder inspect takes no argument b\.tar\.gz /],
  [['install', './x', '--target'], /^extbuilder: USAGE: --target needs a value \(see extbuilder install --help\)$/],
];

for (const [args, expected] of USAGE_CASES) {
  test(`usage error: extbuilder ${args.join(' ') || '(nothing)'} prints one USAGE line, exits 2 and runs nothing`, () => {
    const cwd = tempDir('extbuilder-usage-');
    const r = cli(args, cwd);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, '');
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, expected);
    // Nothing ran: no package, no builder dir, nothing else in the working directory.
    assert.equal(existsSync(join(cwd, 'x')), false);
  });
}

test('a misspelt option of package writes no package', () => {
  const cwd = tempDir('extbuilder-usage-');
  const r = cli(['package', '--label', 'mycc_1.0', '--adress', 'cc:7777', '-o', 'p.tar.gz'], cwd);
  assert.equal(r.status, 2);
  assert.equal(r.stderr, 'extbuilder: USAGE: extbuilder package has no option --adress (did you mean --address? see extbuilder package --help)\n');
  assert.equal(existsSync(join(cwd, 'p.tar.gz')), false);
});

test('-h and --help print the commands and exit 0; each command\'s --help shows real examples', () => {
  for (const flag of ['-h', '--help']) {
    const r = cli([flag]);
    assert.equal(r.status, 0, r.stderr);
    for (const c of COMMANDS) assert.match(r.stdout, new RegExp(`extbuilder ${c}\\b`));
  }
  for (const c of COMMANDS) {
    const r = cli([c, '-h']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    const examples = r.stdout.split('Examples:')[1];
    assert.ok(examples, `${c} --help has no Examples`);
    assert.match(examples, new RegExp(`^\\s+extbuilder ${c} \\S`, 'm'));
  }
});

test('the examples in --help parse: each is a valid command line of this CLI', () => {
  for (const c of COMMANDS) {
    const examples = cli([c, '--help']).stdout.split('Examples:')[1]!;
    for (const m of examples.matchAll(/^\s+extbuilder (\S.*?)\s{2,}/gm)) {
      // Parsing only: --help after the example's own arguments stops before anything runs.
      const r = cli([...m[1]!.split(/\s+/), '--help']);
      assert.equal(r.status, 0, `${m[1]}: ${r.stderr}`);
    }
  }
});

test('extbuilder completion prints a shell completion script, and the completions it asks for are the commands', () => {
  const r = cli(['completion']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /--get-yargs-completions/);
  assert.match(r.stdout, /complete -o bashdefault -o default -F _extbuilder_yargs_completions extbuilder/);
  const words = cli(['--get-yargs-completions', 'extbuilder', '']).stdout.split('\n');
  for (const c of COMMANDS) assert.ok(words.includes(c), `completion lacks ${c}: ${words.join(' ')}`);
});

test('with --json a failure is also {"error": {code, message, fix}} on stdout, with the same exit code', () => {
  const cwd = tempDir('extbuilder-usage-');
  const missing = join(cwd, 'missing.tar.gz');
  for (const args of [['id', missing], ['inspect', missing]]) {
    const plain = cli(args);
    const json = cli([...args, '--json']);
    assert.equal(plain.status, 1);
    assert.equal(json.status, plain.status);
    assert.equal(json.stderr, plain.stderr);
    const e = (JSON.parse(json.stdout) as { error: { code: string; message: string; fix: string } }).error;
    assert.equal(e.code, 'PKG_READ');
    assert.match(e.message, /missing\.tar\.gz/);
    assert.ok(e.fix.length > 0);
    assert.equal(plain.stderr, `extbuilder ${args[0]}: ${e.code}: ${e.message} (${e.fix})\n`);
  }
  // id also takes the peer CLI's spelling.
  assert.equal((JSON.parse(cli(['id', missing, '--output', 'json']).stdout) as { error: { code: string } }).error.code, 'PKG_READ');
  const usage = cli(['id', '--json']);
  assert.equal(usage.status, 2);
  assert.deepEqual(JSON.parse(usage.stdout), { error: { code: 'USAGE', message: 'extbuilder id needs <package>', fix: 'see extbuilder id --help' } });
  const pkg = cli(['package', '--label', 'bad label', '--address', 'cc:1', '--json', '-o', join(cwd, 'p.tar.gz')]);
  assert.equal(pkg.status, 1);
  assert.equal((JSON.parse(pkg.stdout) as { error: { code: string } }).error.code, 'PKG_LABEL');
  assert.equal(existsSync(join(cwd, 'p.tar.gz')), false);
});

test('--version and -V print package.json\'s version and nothing else', () => {
  const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
  for (const flag of ['--version', '-V']) {
    const r = cli([flag]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${version}\n`);
    assert.equal(r.stderr, '');
  }
  // With a command, the flag is that command's business (yargs), not the fast path.
  assert.equal(cli(['id', '--version']).stdout, `${version}\n`);
});

// npm run bench: every row measured side by side in one run, printed as a table and written to
// bench/RESULTS.md with the machine it ran on. Options: --quick (fewer runs, smaller trees, for a
// try-out; does not write RESULTS.md), --runs N, --only phases,cli,trees,kubernetes, --no-write.
import { cpus, freemem, loadavg, release as kernel, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, stats, type Sample } from './measure.js';
import { haveJq, makeBuilderDir, memoryLeftByRun, phaseRows, seaBinary, sleepingChaincode, type Builder } from './phases.js';
import { peerEnvironment } from '../src/peer/invoke.js';
import { makeSeaFloor } from './sea-floor.js';
import { kubernetesRows } from './kubernetes.js';
import { treeRows, type TreeRow } from './trees.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');

interface Options {
  runs: number;
  quick: boolean;
  write: boolean;
  only: Set<string>;
}

function options(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const runsAt = argv.indexOf('--runs');
  const onlyAt = argv.findIndex((a) => a.startsWith('--only'));
  const only = onlyAt >= 0 ? (argv[onlyAt]!.includes('=') ? argv[onlyAt]!.split('=')[1]! : argv[onlyAt + 1] ?? '') : 'phases,cli,trees,kubernetes';
  return {
    quick,
    runs: runsAt >= 0 ? Number(argv[runsAt + 1]) : quick ? 8 : 40,
    write: !quick && !argv.includes('--no-write'),
    only: new Set(only.split(',')),
  };
}

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
const mib = (kib?: number) => (kib === undefined ? 'n/a' : `${(kib / 1024).toFixed(0)} MB`);

/** "31.9 ms (28.5-40.1)", or the failure. */
function cell(s: Sample): string {
  if (s.failure) return `failed: ${s.failure}`;
  const t = stats(s.ms);
  return `${ms(t.median)} ms (${ms(t.min)}-${ms(t.max)})`;
}

function ratio(s: Sample, floor: Sample | undefined): string {
  if (!floor || s.failure || floor.failure || s === floor) return '';
  return `${(stats(s.ms).median / stats(floor.ms).median).toFixed(2)}x`;
}

/** Ratio of the fastest runs: what the program costs when nothing else competes for the CPU. */
function minRatio(s: Sample, floor: Sample | undefined): string {
  if (!floor || s.failure || floor.failure || s === floor) return '';
  return `${(stats(s.ms).min / stats(floor.ms).min).toFixed(2)}x`;
}

function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown';
  return [
    `- CPU: ${cpu}, ${cpus().length} cores (nproc), shared with other work while measuring`,
    `- Memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB (${(freemem() / 2 ** 30).toFixed(1)} GiB free at start)`,
    `- Node ${process.version} (the Node builds and the node floor), Linux ${kernel()}`,
    `- Load average at start: ${loadavg().map((l) => l.toFixed(1)).join(', ')} (1, 5, 15 min; other engineers' work was running)`,
    `- Date: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`,
  ].join('\n');
}

/**
 * Interactive start-up: `extbuilder --version`, `id` and `inspect` of a small package, the standalone
 * executable against the standalone floor (the same Node with an empty entry), and the npm entry against
 * the node floor. Goal: within 2x of the floor.
 */
async function cliRows(root: string, o: Options, say: (l?: string) => void, notes: string[]): Promise<void> {
  const sea = seaBinary(repo);
  const floor = sea ? await makeSeaFloor(repo, join(root, 'cli-sea-floor')) : undefined;
  const node = join(repo, 'bin', 'extbuilder');
  const pkg = join(root, 'cli-bench.tar.gz');
  execFileSync(node, ['package', '--label', 'bench_1.0', '--address', 'cc.org1.example.com:9999', '-o', pkg], { stdio: 'ignore' });
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  const contender = (label: string, file: string, args: string[]) => ({ label, prepare: () => ({ file, args, env }) });
  const floors = [contender('node floor', process.execPath, ['-e', '0'])];
  if (typeof floor === 'string') floors.push(contender('standalone floor', floor, []));
  else if (sea) notes.push(`No standalone floor for the CLI rows: ${floor?.reason ?? 'unknown'}.`);
  say('## CLI start-up');
  say();
  say(`Each command ${o.runs} times, interleaved with the floors: \`node -e 0\` (node floor) and the standalone floor. Goal: within 2x.`);
  say();
  let last: Map<string, Sample> | undefined;
  say('| command | extbuilder (node) | extbuilder (standalone) |');
  say('|---|---|---|');
  for (const [name, args] of [['--version', ['--version']], ['id', ['id', pkg]], ['inspect', ['inspect', pkg]]] as const) {
    const ours = [contender('node', node, [...args]), ...(sea ? [contender('standalone', sea, [...args])] : [])];
    const samples = await measure([...ours, ...floors], { runs: o.runs, warmup: 2, rssRuns: 1 });
    const by = new Map(samples.map((x) => [x.label, x]));
    const show = (x: Sample | undefined, f: Sample | undefined) => (x ? `${cell(x)} **${ratio(x, f)}** (min ${minRatio(x, f)}), ${mib(x.rssKiB)}` : 'n/a');
    say(`| ${name} | ${show(by.get('node'), by.get('node floor'))} | ${show(by.get('standalone'), by.get('standalone floor'))} |`);
    last = by;
  }
  const floorCell = (l: string) => { const x = last?.get(l); return x ? cell(x) : 'n/a'; };
  say(`| (floor, last row) | ${floorCell('node floor')} | ${floorCell('standalone floor')} |`);
  say();
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const root = mkdtempSync(join(process.env.TMPDIR ?? '/tmp', 'extbuilder-bench-'));
  const out: string[] = [];
  const notes: string[] = [];
  const say = (line = '') => { out.push(line); console.log(line); };
  try {
    say('# Benchmark results');
    say();
    say('Written by `npm run bench` (bench/run.ts). Machine:');
    say();
    say(machine());
    say();

    if (o.only.has('phases')) {
      const builders: Builder[] = [
        { label: 'extbuilder (node)', dir: repo, floor: 'node floor' },
      ];
      const sea = seaBinary(repo);
      if (sea) {
        builders.push({ label: 'extbuilder (standalone)', dir: makeBuilderDir(root, 'sea', { link: sea }), floor: 'standalone floor' });
      } else {
        notes.push('No standalone binary (dist-binaries/linux-x64-glibc/bin/extbuilder is missing; `npm run binaries` makes it): its rows are left out.');
      }
      if (haveJq()) {
        builders.push({ label: 'shell + jq', dir: join(repo, 'bench', 'reference-builder'), floor: 'node floor' });
      } else {
        notes.push('jq is not installed (`apt-get install -y jq`): the shell + jq reference builder is left out.');
      }
      builders.push({ label: 'node floor', dir: makeBuilderDir(root, 'node-floor', { script: '#!/usr/bin/env node\n' }), isFloor: true });
      if (sea) {
        const floor = await makeSeaFloor(repo, join(root, 'sea-floor'));
        if (typeof floor === 'string') builders.push({ label: 'standalone floor', dir: makeBuilderDir(root, 'sea-floor-bin', { link: floor }), isFloor: true });
        else notes.push(`No standalone floor: ${floor.reason}.`);
      }

      say(`## Peer phases`);
      say();
      say(`Each phase is run as the peer runs it (\`<builder>/bin/<phase>\` exec'd with a pruned environment, 0700 scratch`);
      say(`directories, stdout discarded, stderr read), ${o.runs} times per builder, interleaved. Cells: median wall time from`);
      say('spawn to exit (min-max), ratio of medians to the floor in bold, ratio of the fastest runs (the least disturbed by');
      say('other load on the machine), peak RSS (GNU time, max of 3 runs). The floors run an empty');
      say('program the same way: `#!/usr/bin/env node` with no code (node floor) and a standalone executable built from the same');
      say('Node runtime with an empty entry (standalone floor). The shell + jq builder (bench/reference-builder) is compared');
      say('with the node floor. Goal: every extbuilder phase within 1.3x of its floor.');
      say();
      const rows = await phaseRows(root, builders);
      say(`| phase | ${builders.map((b) => b.label).join(' | ')} |`);
      say(`|---|${builders.map(() => '---').join('|')}|`);
      const headline: string[] = [];
      for (const row of rows) {
        const samples = await measure(row.contenders, { runs: o.runs, warmup: 2, rssRuns: 3 });
        const byLabel = new Map(samples.map((s) => [s.label, s]));
        const cells = samples.map((s, i) => {
          const b = row.builders[i]!;
          const floor = b.floor ? byLabel.get(b.floor) : undefined;
          const r = ratio(s, floor);
          const m = minRatio(s, floor);
          if (b.label === 'extbuilder (node)' && r) headline.push(`${row.name} ${r} (fastest runs ${m})`);
          return `${cell(s)}${r ? ` **${r}** (min ${m})` : ''}, ${mib(s.rssKiB)}`;
        });
        say(`| ${row.name} | ${cells.join(' | ')} |`);
      }
      say();
      say(`Headline (extbuilder by Node against the node floor): ${headline.join('; ')}.`);
      say();

      const sleeper = sleepingChaincode(join(root, 'runs'), builders[0]!, peerEnvironment(process.env));
      if (sleeper) {
        say('### Memory run leaves while the chaincode runs');
        say();
        say('RSS of every process started for the run except the chaincode itself (a `sleep`), measured once the');
        say('chaincode is up. Goal: none beyond the chaincode\'s own.');
        say();
        say('| builder | resident memory besides the chaincode |');
        say('|---|---|');
        for (const b of builders.filter((x) => !x.isFloor)) {
          const kib = await memoryLeftByRun(b, sleeper.bld, sleeper.runDir, peerEnvironment(process.env));
          say(`| ${b.label} | ${typeof kib === 'string' ? kib : kib === 0 ? 'none (run replaced itself with the chaincode)' : `${(kib / 1024).toFixed(1)} MB (a supervisor stays)`} |`);
        }
        say();
      } else {
        notes.push('Launch mode does not work in this build: the run rows are left out.');
      }
    }

    if (o.only.has('cli')) await cliRows(root, o, say, notes);

    if (o.only.has('kubernetes')) await kubernetesRows(repo, root, o.quick ? 2 : 5, say, notes);

    if (o.only.has('trees')) {
      const rows: TreeRow[] = await treeRows(repo, root, { quick: o.quick, notes });
      if (rows.length) {
        say('## Packages, ids and copies');
        say();
        say(`Each row is run ${o.quick ? 2 : 3} times per contender, interleaved, after one untimed warm-up (page cache warm);`);
        say('median (min-max), ratio of medians to the reference tool, peak RSS.');
        say();
        say('| task | extbuilder | reference | ratio | extbuilder peak RSS | reference peak RSS |');
        say('|---|---|---|---|---|---|');
        for (const row of rows) {
          const [ours, ref] = await measure(row.contenders, { runs: o.quick ? 2 : 3, warmup: 1, rssRuns: 1 });
          say(`| ${row.name} | ${cell(ours!)} | ${row.contenders[1]!.label}: ${cell(ref!)} | ${ratio(ours!, ref)} (min ${minRatio(ours!, ref)}) | ${mib(ours!.rssKiB)} | ${mib(ref!.rssKiB)} |`);
        }
        say();
      }
    }

    say(`Load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(', ')}.`);
    say();
    if (notes.length) {
      say('## Left out');
      say();
      for (const n of notes) say(`- ${n}`);
      say();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  if (o.write) writeFileSync(join(repo, 'bench', 'RESULTS.md'), out.join('\n'));
}

await main();

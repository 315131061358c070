// Lays out one target directory: bin/ (the executable and its phase links), lib/ for musl, README, SHA256SUMS.
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUNTIME_LIBS, type Target } from './targets.js';

export const PHASE_LINKS = ['detect', 'build', 'release', 'run'];

/**
 * musl images have no glibc, so the musl targets run the glibc executable through the glibc loader
 * shipped in lib/. A wrapper, rather than an interpreter path patched into the ELF, works wherever the
 * directory is mounted, and --argv0 "$0" hands the phase name (the link the peer called) to the program.
 * Plain POSIX sh: Alpine's is busybox, Ubuntu's is dash.
 */
export function muslWrapper(loader: string): string {
  return [
    '#!/bin/sh',
    '# extbuilder for musl systems: the glibc build, started through its own glibc loader in ../lib.',
    'case "$0" in */*) d="${0%/*}/..";; *) d=..;; esac',
    `exec "$d/lib/${loader}" --library-path "$d/lib" --argv0 "$0" "$d/lib/extbuilder" "$@"`,
    '',
  ].join('\n');
}

export interface LayoutInput {
  target: Target;
  /** The finished single executable for the target's architecture. */
  executable: string;
  /** Directory holding the glibc runtime libraries (musl targets only). */
  libDir?: string;
  /** Lines for the README: where each input came from. */
  provenance: string[];
  version: string;
}

function readme(i: LayoutInput): string {
  const t = i.target;
  return [
    `fabric-extbuilder ${i.version} for ${t.name}`,
    '',
    `Suits: ${t.images}.`,
    '',
    'Point the peer at this directory (the parent of bin/): core.yaml chaincode.externalBuilders',
    '[{name: extbuilder, path: <this directory>}], or lay it out with `bin/extbuilder install DIR`.',
    'bin/detect, bin/build, bin/release and bin/run are relative links to bin/extbuilder: copy the',
    'directory with cp -a or tar, which keep links. SHA256SUMS covers every file (sha256sum -c SHA256SUMS).',
    t.libc === 'musl'
      ? `bin/extbuilder is a /bin/sh wrapper that starts lib/extbuilder with the glibc runtime in lib/ (${t.loader}).`
      : 'bin/extbuilder is a single executable (Node.js single-executable application); it needs glibc 2.28+.',
    '',
    'Made from:',
    ...i.provenance.map((p) => `  ${p}`),
    '',
  ].join('\n');
}

function sha256sums(dir: string, prefix = ''): string[] {
  const lines: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const rel = prefix ? `${prefix}/${name}` : name;
    const st = lstatSync(path);
    if (st.isDirectory()) lines.push(...sha256sums(path, rel));
    else if (st.isFile() && rel !== 'SHA256SUMS') lines.push(`${createHash('sha256').update(readFileSync(path)).digest('hex')}  ${rel}`);
  }
  return lines;
}

/** Fills the empty directory `out` with the target's files. */
export function layoutTarget(out: string, i: LayoutInput): void {
  const bin = join(out, 'bin');
  mkdirSync(bin, { recursive: true });
  if (i.target.libc === 'musl') {
    const lib = join(out, 'lib');
    mkdirSync(lib);
    // Copied by name from the packages: cp follows libstdc++'s version link, so lib/ holds plain files.
    for (const name of [i.target.loader, ...RUNTIME_LIBS]) {
      copyFileSync(join(i.libDir!, name), join(lib, name));
      chmodSync(join(lib, name), 0o755);
    }
    copyFileSync(i.executable, join(lib, 'extbuilder'));
    chmodSync(join(lib, 'extbuilder'), 0o755);
    writeFileSync(join(bin, 'extbuilder'), muslWrapper(i.target.loader), { mode: 0o755 });
  } else {
    copyFileSync(i.executable, join(bin, 'extbuilder'));
  }
  chmodSync(join(bin, 'extbuilder'), 0o755);
  for (const phase of PHASE_LINKS) symlinkSync('extbuilder', join(bin, phase));
  writeFileSync(join(out, 'TARGET'), `${i.target.name}\n`, { mode: 0o644 });
  writeFileSync(join(out, 'README'), readme(i), { mode: 0o644 });
  writeFileSync(join(out, 'SHA256SUMS'), `${sha256sums(out).join('\n')}\n`, { mode: 0o644 });
}

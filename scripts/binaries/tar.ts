// A byte-reproducible tar.gz of a directory: sorted entries, mtime 0, uid/gid 0, no user names.
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

function header(name: string, type: '0' | '2' | '5', mode: number, size: number, link = ''): Buffer {
  if (Buffer.byteLength(name) > 100 || Buffer.byteLength(link) > 100) throw new Error(`tar: path too long for ustar: ${name}`);
  const h = Buffer.alloc(512);
  const put = (off: number, len: number, s: string) => h.write(s, off, len, 'utf8');
  const oct = (off: number, len: number, n: number) => put(off, len, n.toString(8).padStart(len - 1, '0') + '\0');
  put(0, 100, name);
  oct(100, 8, mode);
  oct(108, 8, 0);
  oct(116, 8, 0);
  oct(124, 12, size);
  oct(136, 12, 0);
  put(148, 8, '        ');
  put(156, 1, type);
  put(157, 100, link);
  put(257, 8, 'ustar\u000000');
  let sum = 0;
  for (const b of h) sum += b;
  put(148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

/** Entries of `dir` under `prefix/`, depth first in byte order of their names, directories before contents. */
function entries(dir: string, prefix: string, out: Buffer[]): void {
  const names = readdirSync(dir).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const name of names) {
    const path = join(dir, name);
    const rel = `${prefix}/${name}`;
    const st = lstatSync(path);
    if (st.isSymbolicLink()) {
      out.push(header(rel, '2', 0o777, 0, readlinkSync(path)));
    } else if (st.isDirectory()) {
      out.push(header(`${rel}/`, '5', 0o755, 0));
      entries(path, rel, out);
    } else if (st.isFile()) {
      const data = readFileSync(path);
      // Only the executable bit is carried over: the build machine's umask must not reach the archive.
      out.push(header(rel, '0', st.mode & 0o100 ? 0o755 : 0o644, data.length), data);
      const pad = (512 - (data.length % 512)) % 512;
      if (pad) out.push(Buffer.alloc(pad));
    } else {
      throw new Error(`tar: ${path} is neither a file, a directory nor a link`);
    }
  }
}

/** The gzip bytes of `dir` archived as `name/...`. */
export function tarGzDir(dir: string, name: string): Buffer {
  const out: Buffer[] = [header(`${name}/`, '5', 0o755, 0)];
  entries(dir, name, out);
  out.push(Buffer.alloc(1024));
  // Level 9 takes ~60% longer for 0.1 MiB less on a 108 MiB executable.
  return gzipSync(Buffer.concat(out), { level: 6 });
}

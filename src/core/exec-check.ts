// What exec of a program needs from this system (a #! interpreter, an ELF loader and architecture), and
// what is missing: the kernel says only ENOENT or ENOEXEC and names the program, not what it lacked.
import { accessSync, closeSync, constants, existsSync, openSync, readSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface ExecProblem {
  what: string;
  fix: string;
}

export type ExecTarget =
  | { kind: 'script'; interp: string; /** the program env runs, for #!/usr/bin/env X */ envProgram?: string; problem?: ExecProblem }
  | { kind: 'elf'; arch: string; loader?: string; problem?: ExecProblem }
  | { kind: 'other' };

const ELF_MACHINES: Record<number, string> = { 3: 'ia32', 40: 'arm', 62: 'x64', 183: 'arm64', 21: 'ppc64', 22: 's390x', 243: 'riscv64' };

function readAt(fd: number, pos: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  const n = readSync(fd, b, 0, len, pos);
  return b.subarray(0, n);
}

/** The ELF machine and PT_INTERP (the dynamic loader; none for a static binary). */
function elfInfo(fd: number): { machine: number; loader?: string } {
  const h = readAt(fd, 0, 64);
  const is64 = h[4] === 2;
  const le = h[5] === 1;
  const u16 = (b: Buffer, o: number): number => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (b: Buffer, o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const uN = (b: Buffer, o: number): number => (is64 ? Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o)) : u32(b, o));
  const machine = u16(h, 18);
  const phoff = uN(h, is64 ? 0x20 : 0x1c);
  const phentsize = u16(h, is64 ? 0x36 : 0x2a);
  const phnum = u16(h, is64 ? 0x38 : 0x2c);
  for (let i = 0; i < phnum && i < 256; i++) {
    const ph = readAt(fd, phoff + i * phentsize, phentsize);
    if (ph.length < phentsize || u32(ph, 0) !== 3) continue;
    const off = uN(ph, is64 ? 8 : 4);
    const size = uN(ph, is64 ? 0x20 : 0x10);
    return { machine, loader: readAt(fd, off, Math.min(size, 4096)).toString('latin1').replace(/\0.*$/s, '') };
  }
  return { machine };
}

/**
 * The #! line of `file` when it ends in CR (a script saved with CRLF line endings): the kernel then looks
 * for an interpreter whose name ends in \r, and exec fails with ENOENT naming the script. Independent of
 * the system it runs on, so packaging can refuse it too.
 */
export function crlfShebang(file: string): string | undefined {
  let head: Buffer;
  const fd = openSync(file, 'r');
  try { head = readAt(fd, 0, 4096); } finally { closeSync(fd); }
  if (head.subarray(0, 2).toString('latin1') !== '#!') return undefined;
  const firstLine = head.toString('latin1').split('\n')[0]!;
  return firstLine.endsWith('\r') ? firstLine.slice(0, -1) : undefined;
}

/** An executable regular file named `name` in one of PATH's directories. */
export function onPath(name: string, pathEnv: string | undefined): string | undefined {
  for (const dir of (pathEnv ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      if (statSync(p).isFile()) { accessSync(p, constants.X_OK); return p; }
    } catch { /* next */ }
  }
  return undefined;
}

/**
 * Reads the head of `file` (a regular, executable file) and says what exec needs from this system.
 * `label` names the file in messages; `pathEnv` is the PATH the program will get, for #!/usr/bin/env.
 */
export function execTarget(file: string, label: string, pathEnv: string | undefined): ExecTarget {
  const fd = openSync(file, 'r');
  try {
    const head = readAt(fd, 0, 4096);
    if (head.subarray(0, 2).toString('latin1') === '#!') {
      const firstLine = head.toString('latin1').split('\n')[0]!;
      const parts = firstLine.slice(2).trim().split(/\s+/);
      const interp = parts[0] ?? '';
      const envProgram = interp.endsWith('/env') ? (parts[1] === '-S' ? parts[2] : parts[1]) : undefined; // env -S splits the rest
      if (firstLine.endsWith('\r')) {
        return { kind: 'script', interp, envProgram, problem: { what: `${label} has CRLF line endings: the kernel looks for the interpreter ${JSON.stringify(firstLine.slice(2).trim() + '\r')}`, fix: `convert it to LF line endings (dos2unix ${file}; in git: * text eol=lf)` } };
      }
      if (!interp || !existsSync(interp)) {
        return { kind: 'script', interp, envProgram, problem: { what: `${label} needs the interpreter ${interp || '(none)'}, which this system lacks`, fix: interp.endsWith('bash') ? 'use #!/bin/sh with POSIX syntax (Alpine-based peer images up to 2.4 have no bash), or install bash' : 'install it, or change the #! line' } };
      }
      if (envProgram && !onPath(envProgram, pathEnv)) {
        return { kind: 'script', interp, envProgram, problem: { what: `${label} runs "${envProgram}" through env, but ${envProgram} is not on the PATH it gets (${pathEnv ?? 'unset'})`, fix: `install ${envProgram}, or use a program that needs no interpreter` } };
      }
      return { kind: 'script', interp, envProgram };
    }
    if (head.subarray(0, 4).toString('latin1') === '\x7fELF') {
      const { machine, loader } = elfInfo(fd);
      const arch = ELF_MACHINES[machine] ?? `machine ${machine}`;
      if (arch !== process.arch) {
        return { kind: 'elf', arch, loader, problem: { what: `${label} is built for ${arch}, this system is ${process.arch}`, fix: `install the ${process.arch} build` } };
      }
      if (loader && !existsSync(loader)) {
        const libc = /musl/.test(loader) ? 'musl (Alpine)' : 'glibc';
        return { kind: 'elf', arch, loader, problem: { what: `${label} needs the loader ${loader} (${libc}), which this system lacks: exec fails with "no such file or directory"`, fix: 'install the build for this system\'s libc (musl for Alpine-based peers up to 2.4, glibc for 2.5+)' } };
      }
      return { kind: 'elf', arch, loader };
    }
    return { kind: 'other' };
  } finally {
    closeSync(fd);
  }
}

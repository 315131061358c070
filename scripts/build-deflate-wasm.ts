// Builds src/generated/deflate-wasm.ts: native/deflate-wasm.c with libdeflate 1.14's compressor
// (native/libdeflate: files taken unchanged from Debian bookworm's source package libdeflate 1.14-1,
// libdeflate_1.14.orig.tar.gz, sha256 ORIG_SHA256 below) compiled to WebAssembly, as base64. Not part of
// `npm run gen`: the output is committed, and package IDs depend on it, so it is rebuilt only deliberately
// (test/pkg-*.test.ts's golden hashes then say whether the bytes moved; test/deflate-wasm.test.ts rebuilds
// it and checks it is the committed module). Needs Debian's clang-14, lld-14, wasi-libc and
// libclang-rt-14-dev-wasm32:
//   apt-get install -y clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 && npx tsx scripts/build-deflate-wasm.ts
// Options:
//   --out FILE        write the generated module there instead of src/generated/deflate-wasm.ts
//   --orig TARBALL    (or EXTB_LIBDEFLATE_ORIG=TARBALL) build from the sources in Debian's orig tarball
//                     (`apt-get source --download-only libdeflate`, needs a deb-src line) instead of
//                     native/libdeflate: the tarball's sha256 must be ORIG_SHA256, and the files taken
//                     from it must equal native/libdeflate's byte for byte (so the committed copy is
//                     shown to be Debian's), unless
//   --update-native   which writes them into native/libdeflate (replacing it) instead of comparing.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const NATIVE = join(root, 'native', 'libdeflate');

/** Debian bookworm's libdeflate_1.14.orig.tar.gz (Checksums-Sha256 of libdeflate_1.14-1.dsc). */
export const ORIG_SHA256 = '89e7df898c37c3427b0f39aadcf733731321a278771d20fc553f92da8d4808ac';
const ORIG_PREFIX = 'libdeflate-1.14/';
/** The files of libdeflate the build uses (the compressor and what it includes), and the licence. */
export const SUBSET = [
  'COPYING', 'common_defs.h', 'libdeflate.h',
  'lib/bt_matchfinder.h', 'lib/cpu_features_common.h', 'lib/deflate_compress.c', 'lib/deflate_compress.h',
  'lib/deflate_constants.h', 'lib/hc_matchfinder.h', 'lib/ht_matchfinder.h', 'lib/lib_common.h',
  'lib/matchfinder_common.h', 'lib/utils.c',
];

function parseArgs(argv: string[]): { out: string; orig?: string; updateNative: boolean } {
  let out = join(root, 'src', 'generated', 'deflate-wasm.ts');
  let orig = process.env.EXTB_LIBDEFLATE_ORIG || undefined;
  let updateNative = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--out' && argv[i + 1]) out = resolve(argv[++i]!);
    else if (a === '--orig' && argv[i + 1]) orig = resolve(argv[++i]!);
    else if (a === '--update-native') updateNative = true;
    else throw new Error(`build-deflate-wasm: unknown argument ${a} (--out FILE, --orig TARBALL, --update-native)`);
  }
  if (updateNative && !orig) throw new Error('build-deflate-wasm: --update-native needs --orig TARBALL (or EXTB_LIBDEFLATE_ORIG)');
  return { out, orig, updateNative };
}

/** Extracts SUBSET from the orig tarball (its sha256 checked first) into dir. */
function extractOrig(tarball: string, dir: string): void {
  const sha = createHash('sha256').update(readFileSync(tarball)).digest('hex');
  if (sha !== ORIG_SHA256) throw new Error(`${tarball}: sha256 ${sha}, not Debian's libdeflate_1.14.orig.tar.gz (${ORIG_SHA256})`);
  const unpack = join(dir, 'orig');
  mkdirSync(unpack);
  execFileSync('tar', ['-xzf', tarball, '-C', unpack, ...SUBSET.map((f) => ORIG_PREFIX + f)], { stdio: 'inherit' });
  for (const f of SUBSET) cpSync(join(unpack, ORIG_PREFIX, f), join(dir, 'libdeflate', f));
  rmSync(unpack, { recursive: true, force: true });
}

function listTree(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listTree(dir, join(prefix, e.name)) : [join(prefix, e.name)]).sort();
}

/** The one change to libdeflate: BFINAL only when the chunk is the stream's last (deflate-wasm.c). */
function patch(source: string): string {
  // libdeflate 1.14's deflate_flush_block writes BFINAL in three places: the dynamic and the static
  // Huffman block headers (ADD_BITS), and the last of the stored blocks a long uncompressed "block" is
  // split into (bfinal, shifted into the byte that aligns the stream). deflate_compress_none's own
  // `bfinal = 1` is not patched: extb_deflate calls it only for a stream's last chunk.
  const edits: [string, string, number][] = [
    ['ADD_BITS(is_final_block, 1);', 'ADD_BITS(is_final_block && extb_final, 1);', 2],
    ['bfinal = is_final_block;', 'bfinal = is_final_block && extb_final;', 1],
  ];
  for (const [from, to, count] of edits) {
    const found = source.split(from).length - 1;
    if (found !== count) throw new Error(`deflate_compress.c: expected ${count} of ${JSON.stringify(from)}, found ${found}`);
    source = source.split(from).join(to);
  }
  // Nothing else may put is_final_block into the output.
  const rest = source.split('\n').filter((l) => /is_final_block/.test(l) && /ADD_BITS|bfinal|out_next/.test(l) && !/extb_final/.test(l));
  if (rest.length) throw new Error(`deflate_compress.c: unpatched BFINAL writes: ${rest.join(' | ')}`);
  return source;
}

function leb128(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return Buffer.from(out);
}

function customSection(name: string, text: string): Buffer {
  const body = Buffer.concat([leb128(Buffer.byteLength(name)), Buffer.from(name), Buffer.from(text, 'utf8')]);
  return Buffer.concat([Buffer.of(0), leb128(body.length), body]);
}

const { out: OUT, orig, updateNative } = parseArgs(process.argv.slice(2));
const work = mkdtempSync(join(tmpdir(), 'deflate-wasm-'));
try {
  const src = join(work, 'libdeflate');
  if (orig) {
    extractOrig(orig, work);
    if (updateNative) {
      rmSync(NATIVE, { recursive: true, force: true });
      cpSync(src, NATIVE, { recursive: true });
      console.log(`${NATIVE}: ${SUBSET.length} files from ${orig}`);
    } else {
      const differ = [...new Set([...SUBSET, ...(existsSync(NATIVE) ? listTree(NATIVE) : [])])].filter((f) =>
        !existsSync(join(NATIVE, f)) || !SUBSET.includes(f) || !readFileSync(join(NATIVE, f)).equals(readFileSync(join(src, f))));
      if (differ.length) throw new Error(`native/libdeflate is not the orig tarball's files (differ: ${differ.join(', ')}); --update-native replaces it`);
    }
  } else {
    cpSync(NATIVE, src, { recursive: true });
  }
  const dc = join(src, 'lib', 'deflate_compress.c');
  writeFileSync(dc, patch(readFileSync(dc, 'utf8')));
  // deflate-wasm.c is compiled from the scratch directory too, so no path of this machine's can enter the module.
  cpSync(join(root, 'native', 'deflate-wasm.c'), join(work, 'deflate-wasm.c'));
  const wasm = join(work, 'deflate.wasm');
  const cflags = ['--target=wasm32-wasi', '-O2', '-DNDEBUG', '-ffile-prefix-map=' + work + '=.', '-fno-ident',
    '-mbulk-memory', '-mno-simd128', '-I', join(src, 'lib'), '-I', src];
  execFileSync('clang-14', [...cflags, '-nostartfiles', '-fuse-ld=lld', '-Wl,--no-entry', '-Wl,--strip-all', '-Wl,--gc-sections',
    '-Wl,-z,stack-size=262144', '-Wl,--initial-memory=4194304',
    '-o', wasm, join(work, 'deflate-wasm.c'), join(src, 'lib', 'utils.c')], { stdio: 'inherit', cwd: work });
  // libdeflate's licence travels inside the module (a custom section, which does not execute), so every
  // bundle and executable that carries the module carries the notice.
  const bytes = Buffer.concat([readFileSync(wasm), customSection('license',
    `libdeflate 1.14 (https://github.com/ebiggers/libdeflate; the sources of Debian's source package libdeflate 1.14-1), compressor only, built by fabric-extbuilder's scripts/build-deflate-wasm.ts\n\n${readFileSync(join(src, 'COPYING'), 'utf8')}`)]);
  const mod = new WebAssembly.Module(bytes);
  const imports = WebAssembly.Module.imports(mod);
  if (imports.length) throw new Error(`the module imports ${imports.map((i) => `${i.module}.${i.name}`).join(', ')}: it must be self-contained`);
  const sha = createHash('sha256').update(bytes).digest('hex');
  writeFileSync(OUT, [
    '// Generated by scripts/build-deflate-wasm.ts from native/deflate-wasm.c and libdeflate 1.14 (Debian\'s source package libdeflate 1.14-1; MIT, native/libdeflate/COPYING): do not edit.',
    `// ${bytes.length} bytes, sha256 ${sha}. Package IDs depend on this module: rebuild it only deliberately.`,
    `export const DEFLATE_WASM_SHA256 = '${sha}';`,
    `export const DEFLATE_WASM_BASE64 = '${bytes.toString('base64')}';`,
    '',
  ].join('\n'));
  console.log(`${OUT}: ${bytes.length} bytes, sha256 ${sha}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

/*
 * The deflate of code.tar.gz: libdeflate 1.14's compressor (native/libdeflate: the files of Debian's
 * source package libdeflate 1.14-1, unchanged; MIT), built to WebAssembly by
 * scripts/build-deflate-wasm.ts. The package's bytes are a function of this code and the input only: no
 * CPU dispatch (no SIMD, no architecture-specific code in the build), no floating point anywhere in it,
 * and the .wasm is committed, so the runtime's own zlib and the machine's CPU play no part.
 *
 * One addition to libdeflate (the build script patches deflate_flush_block's three BFINAL writes, in the
 * dynamic and static Huffman block headers and in the last stored block, to `is_final_block &&
 * extb_final`): a chunk that is not the stream's last ends without BFINAL and with an empty stored block
 * (zlib's Z_SYNC_FLUSH), so chunks compressed apart join into one deflate stream.
 */
#include <stdbool.h>
#include <stdlib.h>
static bool extb_final = true;
#include "deflate_compress.c"

#define LEVELS 13
static struct libdeflate_compressor *compressors[LEVELS];

__attribute__((export_name("extb_alloc")))
void *extb_alloc(size_t n) { return malloc(n); }

__attribute__((export_name("extb_free")))
void extb_free(void *p) { free(p); }

/* The output room extb_deflate needs for `n` input bytes. */
__attribute__((export_name("extb_bound")))
size_t extb_bound(size_t n) { return libdeflate_deflate_compress_bound(NULL, n) + 6; }

/*
 * Deflates in[0..n) at `level` (1-12) into out; `final`: the stream's last chunk (BFINAL set), else the
 * output ends in a sync flush. Returns the bytes written, 0 if `avail` was too small or the level bad.
 */
__attribute__((export_name("extb_deflate")))
size_t extb_deflate(int level, const u8 *in, size_t n, u8 *out, size_t avail, int final)
{
	struct libdeflate_compressor *c;
	struct deflate_output_bitstream os;

	if (level < 1 || level >= LEVELS)
		return 0;
	if (!compressors[level])
		compressors[level] = libdeflate_alloc_compressor(level);
	c = compressors[level];
	if (!c)
		return 0;
	if (final && n <= c->max_passthrough_size)
		return deflate_compress_none(in, n, out, avail);
	if (!final && n < 2 * MIN_BLOCK_LENGTH)
		return 0;
	extb_final = final != 0;
	os.bitbuf = 0;
	os.bitcount = 0;
	/*
	 * As libdeflate_deflate_compress: 'end' is OUTPUT_END_PADDING below the room, and reaching it means
	 * the output did not fit (extb_bound leaves that room); 6 bytes more are kept for the sync flush.
	 */
	if (avail <= OUTPUT_END_PADDING + 6)
		return 0;
	os.next = out;
	os.end = os.next + (avail - 6 - OUTPUT_END_PADDING);
	(*c->impl)(c, in, n, &os);
	extb_final = true;
	if (os.next >= os.end)
		return 0;
	if (final) {
		if (os.bitcount)
			*os.next++ = os.bitbuf;
	} else {
		/* An empty non-final stored block: 3 zero bits, zero padding to the byte, LEN 0, NLEN 0xffff. */
		*os.next++ = os.bitbuf;
		if (os.bitcount > 5)
			*os.next++ = 0;
		*os.next++ = 0;
		*os.next++ = 0;
		*os.next++ = 0xff;
		*os.next++ = 0xff;
	}
	return os.next - out;
}

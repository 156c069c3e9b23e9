/* Blob records: compressing a document into a segment and reading it back with
 * every check (record CRC, zstd frame checksum, SHA-256). See blob.h for the body
 * layout. Reading never trusts the index alone: the blob's own tail must agree. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zstd.h>

#include "archive/blob.h"
#include "common/endian.h"
#include "common/hash.h"

#define CODEC_ZSTD 1
/* A document that arrives in pieces this large is compressed by zstd's worker
 * threads (one fewer than the machine has cores, at most 3) in jobs of JOB_SIZE
 * while this thread hashes and writes; memory stays bounded by a few jobs per
 * worker. Smaller ones are compressed here, where handing them to a thread would
 * cost more than it saves. The frames are the same format either way. */
#define PARALLEL_FROM (1u << 20)
#define MAX_WORKERS 3
#define JOB_SIZE (2u << 20)

struct kura_blob_writer {
	ZSTD_CCtx *cctx;
	unsigned char *out;
	size_t outsz;
	kura_segment_writer *w;
	kura_record_writer rec;
	int started; /* has the current frame seen bytes? */
	int workers;
};

int kura_blob_writer_new(kura_blob_writer **out, int level, kura_error *err)
{
	kura_blob_writer *bw = calloc(1, sizeof *bw);
	if (!bw)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	bw->cctx = ZSTD_createCCtx();
	bw->outsz = ZSTD_CStreamOutSize();
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	bw->workers = cores < 2 ? 0 : cores - 1 > MAX_WORKERS ? MAX_WORKERS : (int)cores - 1;
	bw->out = malloc(bw->outsz);
	if (!bw->cctx || !bw->out || ZSTD_isError(ZSTD_CCtx_setParameter(bw->cctx, ZSTD_c_compressionLevel, level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(bw->cctx, ZSTD_c_checksumFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(bw->cctx, ZSTD_c_jobSize, JOB_SIZE))) {
		kura_blob_writer_free(bw);
		return kura_error_set(err, KURA_EINTERNAL, "cannot set up zstd compression (level %d)", level);
	}
	*out = bw;
	return 0;
}

void kura_blob_writer_free(kura_blob_writer *bw)
{
	if (!bw)
		return;
	ZSTD_freeCCtx(bw->cctx);
	free(bw->out);
	free(bw);
}


int kura_blob_begin(kura_blob_writer *bw, kura_segment_writer *w, kura_error *err)
{
	unsigned char prefix[KURA_BLOB_PREFIX] = {CODEC_ZSTD};
	bw->w = w;
	bw->started = 0;
	ZSTD_CCtx_reset(bw->cctx, ZSTD_reset_session_only);
	int rc = kura_record_begin(w, &bw->rec, KURA_RECORD_BLOB, err);
	if (rc == 0)
		rc = kura_record_append(w, &bw->rec, prefix, sizeof prefix, err);
	return rc;
}

static int compress(kura_blob_writer *bw, const void *p, size_t n, ZSTD_EndDirective mode, kura_error *err)
{
	ZSTD_inBuffer in = {p, n, 0};
	for (;;) {
		ZSTD_outBuffer o = {bw->out, bw->outsz, 0};
		size_t left = ZSTD_compressStream2(bw->cctx, &o, &in, mode);
		if (ZSTD_isError(left))
			return kura_error_set(err, KURA_EINTERNAL, "zstd: %s", ZSTD_getErrorName(left));
		if (o.pos && kura_record_append(bw->w, &bw->rec, bw->out, o.pos, err) != 0)
			return err ? err->code : KURA_EIO;
		if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size)
			return 0;
	}
}

int kura_blob_update(kura_blob_writer *bw, const void *p, size_t n, kura_error *err)
{
	if (!bw->started) {
		/* a build of zstd without threads refuses workers: then this thread compresses */
		ZSTD_CCtx_setParameter(bw->cctx, ZSTD_c_nbWorkers, n >= PARALLEL_FROM ? bw->workers : 0);
		bw->started = 1;
	}
	return compress(bw, p, n, ZSTD_e_continue, err);
}

int kura_blob_finish(kura_blob_writer *bw, uint64_t size, const unsigned char sha256[32], kura_error *err)
{
	if (!bw->started) /* an empty document */
		ZSTD_CCtx_setParameter(bw->cctx, ZSTD_c_nbWorkers, 0);
	unsigned char tail[KURA_BLOB_TAIL];
	kura_le64_put(tail, size);
	memcpy(tail + 8, sha256, 32);
	int rc = compress(bw, NULL, 0, ZSTD_e_end, err);
	if (rc == 0)
		rc = kura_record_append(bw->w, &bw->rec, tail, sizeof tail, err);
	if (rc == 0)
		rc = kura_record_finish(bw->w, &bw->rec, err);
	return rc;
}

size_t kura_blob_pack_bound(size_t n) { return KURA_BLOB_PREFIX + ZSTD_compressBound(n) + KURA_BLOB_TAIL; }

int kura_blob_pack(kura_blob_writer *bw, unsigned char *b, size_t cap, size_t *len, const void *p, size_t n,
		   const unsigned char sha256[32], kura_error *err)
{
	if (cap < kura_blob_pack_bound(n))
		return kura_error_set(err, KURA_EINTERNAL, "blob buffer too small");
	memset(b, 0, KURA_BLOB_PREFIX);
	b[0] = CODEC_ZSTD;
	ZSTD_CCtx_reset(bw->cctx, ZSTD_reset_session_only);
	ZSTD_CCtx_setParameter(bw->cctx, ZSTD_c_nbWorkers, 0);
	/* the bytes go in first and the frame is ended by a second call, as when
	 * streaming: ending it in the first call makes zstd size its tables to the
	 * document, which measured slower for small ones (and changes the frame) */
	ZSTD_inBuffer in = {p, n, 0};
	ZSTD_outBuffer o = {b + KURA_BLOB_PREFIX, cap - KURA_BLOB_PREFIX - KURA_BLOB_TAIL, 0};
	size_t left = ZSTD_compressStream2(bw->cctx, &o, &in, ZSTD_e_continue);
	if (!ZSTD_isError(left))
		left = ZSTD_compressStream2(bw->cctx, &o, &in, ZSTD_e_end);
	if (ZSTD_isError(left) || left != 0)
		return kura_error_set(err, KURA_EINTERNAL, "zstd: %s",
				      ZSTD_isError(left) ? ZSTD_getErrorName(left) : "frame larger than its bound");
	unsigned char *tail = b + KURA_BLOB_PREFIX + o.pos;
	kura_le64_put(tail, (uint64_t)n);
	memcpy(tail + 8, sha256, 32);
	*len = KURA_BLOB_PREFIX + o.pos + KURA_BLOB_TAIL;
	return 0;
}

int kura_blob_put(kura_segment_writer *w, const unsigned char *body, size_t len, uint32_t crc, kura_error *err)
{
	return kura_record_put(w, KURA_RECORD_BLOB, body, len, crc, err);
}

/* ---------------------------------------------------------------- checking */

struct kura_blob_checker {
	ZSTD_DCtx *dctx;
	EVP_MD_CTX *md;
	unsigned char *out;
	size_t outsz;
	uint64_t body_len;
	uint64_t produced;
	unsigned char prefix[KURA_BLOB_PREFIX];
	unsigned char tail[KURA_BLOB_TAIL];
	size_t frame_left; /* 0 once a frame ended exactly */
	kura_blob_out_fn sink;
	void *sink_ud;
};

int kura_blob_checker_new(kura_blob_checker **out, kura_error *err)
{
	kura_blob_checker *c = calloc(1, sizeof *c);
	if (!c)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	c->dctx = ZSTD_createDCtx();
	c->md = EVP_MD_CTX_new();
	c->outsz = ZSTD_DStreamOutSize();
	c->out = malloc(c->outsz);
	if (!c->dctx || !c->md || !c->out) {
		kura_blob_checker_free(c);
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	*out = c;
	return 0;
}

void kura_blob_checker_free(kura_blob_checker *c)
{
	if (!c)
		return;
	ZSTD_freeDCtx(c->dctx);
	EVP_MD_CTX_free(c->md);
	free(c->out);
	free(c);
}

void kura_blob_checker_reset(kura_blob_checker *c, uint64_t body_len, kura_blob_out_fn out, void *ud)
{
	ZSTD_DCtx_reset(c->dctx, ZSTD_reset_session_only);
	EVP_DigestInit_ex(c->md, kura_hash_impl(EVP_sha256()), NULL);
	c->body_len = body_len;
	c->produced = 0;
	c->frame_left = 1;
	c->sink = out;
	c->sink_ud = ud;
	memset(c->prefix, 0xff, sizeof c->prefix);
	memset(c->tail, 0, sizeof c->tail);
}

static int decompress(kura_blob_checker *c, const unsigned char *p, size_t n, kura_error *err)
{
	ZSTD_inBuffer in = {p, n, 0};
	while (in.pos < in.size) {
		ZSTD_outBuffer o = {c->out, c->outsz, 0};
		size_t left = ZSTD_decompressStream(c->dctx, &o, &in);
		if (ZSTD_isError(left))
			return kura_error_set(err, KURA_EVERIFY, "compressed data damaged (zstd: %s)",
					      ZSTD_getErrorName(left));
		c->frame_left = left;
		if (o.pos) {
			EVP_DigestUpdate(c->md, c->out, o.pos);
			c->produced += o.pos;
			if (c->sink) {
				int rc = c->sink(c->sink_ud, c->out, o.pos, err);
				if (rc != 0)
					return rc;
			}
		}
		if (left == 0 && in.pos < in.size)
			return kura_error_set(err, KURA_EVERIFY, "compressed data damaged (bytes after the frame)");
	}
	return 0;
}

int kura_blob_checker_feed(kura_blob_checker *c, uint64_t off, const unsigned char *p, size_t n, kura_error *err)
{
	if (c->body_len < KURA_BLOB_PREFIX + KURA_BLOB_TAIL)
		return kura_error_set(err, KURA_EVERIFY, "blob record too short");
	uint64_t data_end = c->body_len - KURA_BLOB_TAIL;
	for (size_t i = 0; i < n;) {
		uint64_t at = off + i;
		if (at < KURA_BLOB_PREFIX) {
			c->prefix[at] = p[i++];
		} else if (at < data_end) {
			size_t take = (size_t)(data_end - at) < n - i ? (size_t)(data_end - at) : n - i;
			int rc = decompress(c, p + i, take, err);
			if (rc != 0)
				return rc;
			i += take;
		} else {
			c->tail[at - data_end] = p[i++];
		}
	}
	return 0;
}

int kura_blob_checker_done(kura_blob_checker *c, uint64_t *size, unsigned char sha256[32], kura_error *err)
{
	unsigned char got[32];
	unsigned int n;
	uint64_t stated = kura_le64_get(c->tail);
	*size = stated;
	memcpy(sha256, c->tail + 8, 32);
	if (c->prefix[0] != CODEC_ZSTD)
		return kura_error_set(err, KURA_EVERIFY, "unknown blob codec %u", c->prefix[0]);
	if (c->frame_left != 0)
		return kura_error_set(err, KURA_EVERIFY, "compressed data cut short");
	EVP_DigestFinal_ex(c->md, got, &n);
	if (c->produced != stated || memcmp(got, c->tail + 8, 32) != 0)
		return kura_error_set(err, KURA_EVERIFY, "content does not match its SHA-256 (stored bytes damaged)");
	return 0;
}

/* Blobs read one after another mostly lie one after another in a segment (in
 * ingest order): a reader keeps a window of the segment, from its second read on
 * (one read alone gains nothing from it), and checks records that lie wholly in
 * it from memory, one read for many small documents. A window
 * can hold bytes that are stale (past the end a writer had committed when they
 * were read, and rewritten since): a record that fails its checks there is read
 * again from the file before anything is reported, and one that passes them
 * holds the content whose SHA-256 was asked for. */
#define WINDOW (256u << 10)

struct kura_blob_reader {
	kura_backend *be;
	kura_blob_checker *c;
	kura_seg *seg; /* segment segno, or NULL */
	uint32_t segno;
	unsigned char *win; /* WINDOW bytes of segment segno from win_off, win_len of them valid */
	uint64_t win_off;
	size_t win_len;
	int used;           /* has it read a blob before? */
};

int kura_blob_reader_new(kura_blob_reader **out, kura_backend *be, kura_error *err)
{
	kura_blob_reader *r = calloc(1, sizeof *r);
	int rc = r ? kura_blob_checker_new(&r->c, err) : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (r)
		r->be = be;
	if (rc != 0) {
		kura_blob_reader_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void kura_blob_reader_free(kura_blob_reader *r)
{
	if (!r)
		return;
	if (r->seg)
		r->be->close(r->seg);
	kura_blob_checker_free(r->c);
	free(r->win);
	free(r);
}

static int feed(void *ud, uint64_t off, const unsigned char *p, size_t n, kura_error *err)
{
	return kura_blob_checker_feed(ud, off, p, n, err);
}

/* Does the window hold [off, off + n)? */
static int in_window(const kura_blob_reader *r, uint64_t off, uint64_t n)
{
	return off >= r->win_off && off - r->win_off <= r->win_len && n <= r->win_len - (off - r->win_off);
}

#define NOT_WINDOWED 1

/* Reads the window from offset on (a failed read leaves it empty: the record is
 * then read outside it, where a failure is reported). */
static void fill_window(kura_blob_reader *r, uint64_t offset)
{
	size_t got;
	r->win_off = offset;
	r->win_len = r->be->read(r->seg, offset, r->win, WINDOW, &got) == 0 ? got : 0;
}

/* The blob record at offset checked from the window (filled from there when it
 * does not hold the record), then streamed to out. NOT_WINDOWED when it is not
 * in a window or did not pass every check there: read it from the file. out
 * hears only bytes that passed (they are decompressed twice: small ones). */
static int read_windowed(kura_blob_reader *r, uint64_t offset, const unsigned char expected[32], kura_blob_out_fn out,
			 void *ud, kura_error *err)
{
	if (!r->win && !(r->win = malloc(WINDOW)))
		return NOT_WINDOWED;
	if (!in_window(r, offset, KURA_RECORD_HEADER))
		fill_window(r, offset);
	kura_record_info info;
	if (!in_window(r, offset, KURA_RECORD_HEADER) ||
	    kura_record_parse_header(&info, r->win + (offset - r->win_off), r->segno, offset, UINT64_MAX, NULL) != 0 ||
	    info.type != KURA_RECORD_BLOB || info.body_len > WINDOW - KURA_RECORD_OVERHEAD)
		return NOT_WINDOWED;
	if (!in_window(r, offset, KURA_RECORD_OVERHEAD + info.body_len)) {
		fill_window(r, offset);
		if (!in_window(r, offset, KURA_RECORD_OVERHEAD + info.body_len))
			return NOT_WINDOWED;
	}
	const unsigned char *body = r->win + (offset - r->win_off) + KURA_RECORD_HEADER;
	uint64_t size;
	unsigned char sha[32];
	kura_blob_checker_reset(r->c, info.body_len, NULL, NULL);
	if (kura_blob_checker_feed(r->c, 0, body, (size_t)info.body_len, NULL) != 0 ||
	    kura_record_check_body(body, body + info.body_len, &info, NULL, NULL, NULL) != 0 ||
	    kura_blob_checker_done(r->c, &size, sha, NULL) != 0 || memcmp(sha, expected, 32) != 0)
		return NOT_WINDOWED;
	if (!out)
		return 0;
	kura_blob_checker_reset(r->c, info.body_len, out, ud);
	int rc = kura_blob_checker_feed(r->c, 0, body, (size_t)info.body_len, err);
	return rc != 0 ? rc : kura_blob_checker_done(r->c, &size, sha, err);
}

/* Makes r->seg the segment segno; path gets its name for messages. */
static int use_segment(kura_blob_reader *r, uint32_t segno, char *path, size_t pathsz, kura_error *err)
{
	r->be->name(r->be, segno, path, pathsz);
	if (!r->seg || r->segno != segno) {
		if (r->seg)
			r->be->close(r->seg);
		r->seg = NULL;
		r->segno = segno;
		r->win_len = 0;
		return kura_segment_open_read(r->be, &r->seg, segno, path, err);
	}
	return 0;
}

int kura_blob_reader_check_record(kura_blob_reader *r, uint32_t segno, uint64_t offset, uint8_t type,
				  const void *body, size_t len, kura_error *err)
{
	char path[4096];
	int rc = use_segment(r, segno, path, sizeof path, err);
	if (rc != 0)
		goto out;
	size_t n = KURA_RECORD_OVERHEAD + len, got = 0;
	unsigned char *buf = NULL;
	const unsigned char *p = r->win && in_window(r, offset, n) ? r->win + (offset - r->win_off) : NULL;
	kura_record_info info;
	if (!p && !(p = buf = malloc(n)))
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (buf && r->be->read(r->seg, offset, buf, n, &got) != 0)
		rc = kura_segment_io_error(r->be, err, "reading %s", path);
	else if (buf && got < n)
		rc = kura_error_set(err, KURA_EVERIFY, "the record is cut short");
	else if ((rc = kura_record_parse_header(&info, p, segno, offset, UINT64_MAX, err)) != 0)
		;
	else if (info.type != type || info.body_len != len)
		rc = kura_error_set(err, KURA_EVERIFY, "the record is not the one the index describes");
	else if ((rc = kura_record_check_body(p + KURA_RECORD_HEADER, p + KURA_RECORD_HEADER + len, &info, NULL, NULL,
					      err)) == 0 && memcmp(p + KURA_RECORD_HEADER, body, len) != 0)
		rc = kura_error_set(err, KURA_EVERIFY, "the record differs from the index's copy");
	free(buf);
out:
	if (rc == KURA_EVERIFY)
		kura_error_wrap(err, "record at segment %08u offset %llu", segno, (unsigned long long)offset);
	return rc;
}

int kura_blob_reader_read(kura_blob_reader *r, uint32_t segno, uint64_t offset, const unsigned char expected[32],
			  kura_blob_out_fn out, void *ud, kura_error *err)
{
	char path[4096];
	kura_blob_checker *c = r->c;
	kura_record_info info;
	uint64_t segsize;
	int rc = use_segment(r, segno, path, sizeof path, err);
	if (rc != 0)
		goto out;
	rc = r->used ? read_windowed(r, offset, expected, out, ud, err) : NOT_WINDOWED;
	r->used = 1;
	if (rc != NOT_WINDOWED)
		goto out;
	rc = r->be->size(r->seg, &segsize) != 0 ? kura_segment_io_error(r->be, err, "stat %s", path) : 0;
	if (rc == 0)
		rc = kura_record_read_header(&info, r->seg, offset, segsize, err);
	if (rc == 0 && info.type != KURA_RECORD_BLOB)
		rc = kura_error_set(err, KURA_EVERIFY, "the index points at a record that is not a blob");
	if (rc == 0) {
		kura_blob_checker_reset(c, info.body_len, out, ud);
		rc = kura_record_read_body(r->seg, &info, feed, c, err);
	}
	if (rc == 0) {
		uint64_t size;
		unsigned char sha[32];
		rc = kura_blob_checker_done(c, &size, sha, err);
		if (rc == 0 && memcmp(sha, expected, 32) != 0)
			rc = kura_error_set(err, KURA_EVERIFY, "the blob holds other content than the object's SHA-256");
	}
out:
	if (rc == KURA_EVERIFY)
		kura_error_wrap(err, "segment %08u offset %llu", segno, (unsigned long long)offset);
	return rc;
}

int kura_blob_read(kura_backend *be, uint32_t segno, uint64_t offset, const unsigned char expected[32],
		   kura_blob_out_fn out, void *ud, kura_error *err)
{
	kura_blob_reader *r = NULL;
	int rc = kura_blob_reader_new(&r, be, err);
	if (rc == 0)
		rc = kura_blob_reader_read(r, segno, offset, expected, out, ud, err);
	kura_blob_reader_free(r);
	return rc;
}

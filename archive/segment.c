/* Segment files: append-only, never rewritten, the source of truth of a store.
 *
 * FORMAT (all integers little-endian)
 *   file header, 16 bytes:  "KURA-SEG" | u32 format version (1) | u32 segment number
 *   then records, back to back:
 *     header, 20 bytes:     "KRec" | u8 type | u8 version (1) | u16 flags (0)
 *                           | u64 body length | u32 CRC-32 of the 16 bytes before it
 *     body:                 body length bytes (meaning depends on type)
 *     trailer, 8 bytes:     u32 CRC-32 of the body | "KEnd"
 *
 * INVARIANTS
 * - Bytes before the committed end (a segment number and offset kept in the index,
 *   advanced only after the segment's sync, archive/backend.h) are never modified. A writer only ever appends
 *   after it, patches the header of the record it is still writing, or truncates
 *   back to it.
 * - A record is written header-with-length-0, body, then the real header and the
 *   trailer. Until the header is patched its CRC does not match, so a record cut
 *   short by a crash can never pass for a complete one; a hole in its body fails
 *   the body CRC. So a scan that verifies header, body CRC and trailer finds the
 *   exact end of what was written completely: the torn tail, if any, follows it.
 * - Segments roll at a size limit (checked between records only) and the old one
 *   is synced before the new one is created; a torn tail can only be in the last.
 * - Writes reach the backend in pieces of at most WRITE_BUFFER, in order, each
 *   ending on a BLOCK boundary except before a sync (a partly written block costs
 *   BlueStore a read and a deferred write). A record put whole (kura_record_put)
 *   that fits in the buffer goes after a flush when it would not fit in what is
 *   left: its header is patched in memory, and the backend only ever sees it
 *   appended, never a write over bytes written before.
 *
 * RESYNC RULE (reading past damage: scrub, reindex)
 * A record body may hold any bytes, including a perfect record with a made-up ID
 * and date (a stored document can be one). A scan therefore only ever reads a
 * record at a proven record boundary: the first record after the file header,
 * the end of a record whose header checks (its header CRC vouches for its
 * length, even when its body is damaged), or a record start that the store's
 * index knows (ops->boundary: the index was written by kura from its own write
 * positions, which no document's bytes can change). It never searches for
 * records. When a header does not check and no later boundary is known, the
 * rest of the segment is reported as one damaged range and nothing in it is
 * read. Recovery at open reports nothing and stops at the first bad record: what
 * follows is past the committed end and was never acknowledged.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <isa-l/crc.h>

#include "archive/segment.h"
#include "common/endian.h"

#define FILE_MAGIC "KURA-SEG"
#define FORMAT_VERSION 1
#define REC_MAGIC "KRec"
#define END_MAGIC "KEnd"
#define RECORD_VERSION 1
#define WRITE_BUFFER (4u << 20) /* the RADOS backend's largest write: a record up to this size is written whole */
#define BLOCK 4096 /* a storage block (BlueStore's, the page cache's): writes end on one */

/* CRC-32 as zlib's crc32 computes it (ISA-L's is the same function, with the
 * processor's carry-less multiply: ten times faster, and every byte of every
 * document passes through it on the way in and out). */
static uint32_t crc(uint32_t c, const void *p, size_t n) { return crc32_gzip_refl(c, p, n); }

uint32_t kura_record_crc(const void *p, size_t n) { return crc(0, p, n); }

int kura_segment_io_error(kura_backend *be, kura_error *err, const char *fmt, ...)
{
	int saved = errno;
	char what[4200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	errno = saved;
	int rc = kura_error_sys(err, KURA_EIO, "%s", what);
	if (be->explain)
		be->explain(be, err);
	return rc;
}

int kura_segment_open_read(kura_backend *be, kura_seg **seg, uint32_t segno, const char *name, kura_error *err)
{
	if (be->open(be, seg, segno, 0) == 0)
		return 0;
	if (errno == ENOENT)
		return kura_error_set(err, KURA_EVERIFY, "segment %s is missing (removed behind kura's back; restore it "
				      "from a copy, kura scrub names every document it held)", name);
	return kura_segment_io_error(be, err, "opening segment %s", name);
}

/* ---------------------------------------------------------------- writer */

struct kura_segment_writer {
	kura_backend *be;
	kura_seg *seg;
	uint32_t segno;
	uint64_t flushed; /* bytes of the segment that were written out */
	unsigned char *buf;
	size_t blen;
	int replacement; /* writes the replacement of segment segno (backend stage) */
};

/* Makes segment segno (end 0: a new one with its file header, synced) or opens
 * it at end, cutting off what follows; *out is the open segment. */
static int open_segment(kura_segment_writer *w, kura_seg **out, uint32_t segno, uint64_t *end, kura_error *err)
{
	kura_backend *be = w->be;
	char name[4096];
	be->name(be, segno, name, sizeof name);
	kura_seg *seg;
	if (*end == 0) {
		if ((w->replacement ? be->stage(be, &seg, segno) : be->create(be, &seg, segno)) != 0)
			return kura_segment_io_error(be, err, "creating %s %s", w->replacement ? "the replacement of" : "segment",
					      name);
		unsigned char hdr[KURA_SEGMENT_FILE_HEADER];
		memcpy(hdr, FILE_MAGIC, 8);
		kura_le32_put(hdr + 8, FORMAT_VERSION);
		kura_le32_put(hdr + 12, segno);
		if (be->write(seg, 0, hdr, sizeof hdr) != 0 || be->sync(seg) != 0) {
			kura_segment_io_error(be, err, "writing segment header %s", name);
			be->close(seg);
			return err ? err->code : KURA_EIO;
		}
		*end = KURA_SEGMENT_FILE_HEADER;
	} else {
		if (be->open(be, &seg, segno, 1) != 0)
			return kura_segment_io_error(be, err, "opening segment %s", name);
		uint64_t size;
		if (be->size(seg, &size) != 0) {
			kura_segment_io_error(be, err, "stat %s", name);
			be->close(seg);
			return err ? err->code : KURA_EIO;
		}
		if (size < *end) {
			be->close(seg);
			return kura_error_set(err, KURA_EIO,
					      "segment %s is shorter (%lld bytes) than its committed end (%llu): the store "
					      "is damaged; restore the segment from a copy, or see what is lost with kura "
					      "scrub and accept the loss with kura reindex",
					      name, (long long)size, (unsigned long long)*end);
		}
		if (size > *end && (be->truncate(seg, *end) != 0 || be->sync(seg) != 0)) {
			kura_segment_io_error(be, err, "discarding the uncommitted tail of %s", name);
			be->close(seg);
			return err ? err->code : KURA_EIO;
		}
	}
	*out = seg;
	return 0;
}

static int writer_open(kura_segment_writer **out, kura_backend *be, uint32_t segno, uint64_t end, int replacement,
		       kura_error *err)
{
	kura_segment_writer *w = calloc(1, sizeof *w);
	if (!w || !(w->buf = malloc(WRITE_BUFFER))) {
		free(w);
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	w->be = be;
	w->replacement = replacement;
	int rc = open_segment(w, &w->seg, segno, &end, err);
	if (rc != 0) {
		kura_segment_writer_close(w);
		return rc;
	}
	w->segno = segno;
	w->flushed = end;
	*out = w;
	return 0;
}

int kura_segment_writer_open(kura_segment_writer **out, kura_backend *be, uint32_t segno, uint64_t end,
			     kura_error *err)
{
	return writer_open(out, be, segno, end, 0, err);
}

int kura_segment_writer_replacement(kura_segment_writer **out, kura_backend *be, uint32_t segno, kura_error *err)
{
	return writer_open(out, be, segno, 0, 1, err);
}

void kura_segment_writer_close(kura_segment_writer *w)
{
	if (!w)
		return;
	if (w->seg)
		w->be->close(w->seg);
	free(w->buf);
	free(w);
}

uint32_t kura_segment_writer_segno(const kura_segment_writer *w) { return w->segno; }
uint64_t kura_segment_writer_tell(const kura_segment_writer *w) { return w->flushed + w->blen; }

/* Writes n bytes at off of the segment, refusing to grow it past the backend's limit. */
static int put(kura_segment_writer *w, uint64_t off, const void *p, size_t n, kura_error *err)
{
	uint64_t max = w->be->max_segment_size;
	if (max && off + n > max) {
		errno = EFBIG;
		return kura_error_sys(err, KURA_EIO, "writing segment %08u (the storage keeps segments of at most %llu "
				      "bytes)", w->segno, (unsigned long long)max);
	}
	if (w->be->write(w->seg, off, p, n) != 0)
		return kura_segment_io_error(w->be, err, "writing segment %08u", w->segno);
	return 0;
}

/* Writes the buffer out: all of it when whole, else up to the last BLOCK boundary
 * (the rest stays for the next write, so that writes do not share a block). */
static int flush(kura_segment_writer *w, int whole, kura_error *err)
{
	size_t n = whole ? w->blen : w->blen - (size_t)((w->flushed + w->blen) % BLOCK);
	if (n == 0)
		return 0;
	if (put(w, w->flushed, w->buf, n, err) != 0)
		return err ? err->code : KURA_EIO;
	/* start writing it out now, so that the sync of a large document
	 * waits for its last megabytes only, not for all of them (best effort) */
	if (w->be->writeback)
		w->be->writeback(w->seg, w->flushed, n);
	w->flushed += n;
	w->blen -= n;
	memmove(w->buf, w->buf + n, w->blen);
	return 0;
}

static int append(kura_segment_writer *w, const void *p, size_t n, kura_error *err)
{
	const unsigned char *b = p;
	while (n > 0) {
		size_t room = WRITE_BUFFER - w->blen;
		size_t take = n < room ? n : room;
		memcpy(w->buf + w->blen, b, take);
		w->blen += take;
		b += take;
		n -= take;
		if (w->blen == WRITE_BUFFER && flush(w, 0, err) != 0)
			return err ? err->code : KURA_EIO;
	}
	return 0;
}

/* Overwrites bytes at off that belong to the record still being written. */
static int patch(kura_segment_writer *w, uint64_t off, const void *p, size_t n, kura_error *err)
{
	const unsigned char *b = p;
	if (off < w->flushed) {
		size_t on_disk = (size_t)(w->flushed - off) < n ? (size_t)(w->flushed - off) : n;
		if (put(w, off, b, on_disk, err) != 0)
			return err ? err->code : KURA_EIO;
		b += on_disk;
		off += on_disk;
		n -= on_disk;
	}
	if (n > 0)
		memcpy(w->buf + (off - w->flushed), b, n);
	return 0;
}

int kura_segment_writer_sync(kura_segment_writer *w, kura_error *err)
{
	if (flush(w, 1, err) != 0)
		return err ? err->code : KURA_EIO;
	if (w->be->sync(w->seg) != 0)
		return kura_segment_io_error(w->be, err, "syncing segment %08u", w->segno);
	return 0;
}

int kura_segment_writer_truncate(kura_segment_writer *w, uint64_t off, kura_error *err)
{
	uint64_t size;
	if (off >= w->flushed) {
		w->blen = (size_t)(off - w->flushed);
		/* a write that failed half-way (disk full) may have left bytes behind */
		if (w->be->size(w->seg, &size) == 0 && size > w->flushed && w->be->truncate(w->seg, w->flushed) != 0)
			return kura_segment_io_error(w->be, err, "truncating segment %08u", w->segno);
		return 0;
	}
	w->blen = 0;
	if (w->be->truncate(w->seg, off) != 0)
		return kura_segment_io_error(w->be, err, "truncating segment %08u", w->segno);
	w->flushed = off;
	return 0;
}

int kura_segment_writer_roll(kura_segment_writer *w, kura_error *err)
{
	if (w->replacement)
		return kura_error_set(err, KURA_EINTERNAL, "a replacement of segment %08u cannot roll", w->segno);
	int rc = kura_segment_writer_sync(w, err);
	if (rc != 0)
		return rc;
	/* the new segment first: if it cannot be made, the writer stays usable */
	kura_seg *next;
	uint64_t end = 0;
	if ((rc = open_segment(w, &next, w->segno + 1, &end, err)) != 0)
		return rc;
	w->be->close(w->seg);
	w->seg = next;
	w->segno++;
	w->flushed = end;
	w->blen = 0;
	return 0;
}

static void make_header(unsigned char h[KURA_RECORD_HEADER], uint8_t type, uint64_t body_len, int valid)
{
	memcpy(h, REC_MAGIC, 4);
	h[4] = type;
	h[5] = RECORD_VERSION;
	kura_le16_put(h + 6, 0);
	kura_le64_put(h + 8, body_len);
	/* the placeholder carries a CRC that cannot match, see INVARIANTS */
	kura_le32_put(h + 16, valid ? crc(0, h, 16) : ~crc(0, h, 16));
}

int kura_record_begin(kura_segment_writer *w, kura_record_writer *r, uint8_t type, kura_error *err)
{
	unsigned char h[KURA_RECORD_HEADER];
	r->start = kura_segment_writer_tell(w);
	r->body_len = 0;
	r->crc = 0;
	r->type = type;
	make_header(h, type, 0, 0);
	return append(w, h, sizeof h, err);
}

int kura_record_append(kura_segment_writer *w, kura_record_writer *r, const void *p, size_t n,
		       kura_error *err)
{
	r->crc = crc(r->crc, p, n);
	r->body_len += n;
	return append(w, p, n, err);
}

int kura_record_append_copy(kura_segment_writer *w, kura_record_writer *r, const void *p, size_t n,
			    kura_error *err)
{
	r->body_len += n;
	return append(w, p, n, err);
}

int kura_record_finish(kura_segment_writer *w, kura_record_writer *r, kura_error *err)
{
	unsigned char h[KURA_RECORD_HEADER], t[KURA_RECORD_TRAILER];
	make_header(h, r->type, r->body_len, 1);
	kura_le32_put(t, r->crc);
	memcpy(t + 4, END_MAGIC, 4);
	if (patch(w, r->start, h, sizeof h, err) != 0)
		return err ? err->code : KURA_EIO;
	return append(w, t, sizeof t, err);
}

int kura_record_put(kura_segment_writer *w, uint8_t type, const void *body, size_t len, uint32_t body_crc,
		    kura_error *err)
{
	kura_record_writer r;
	if (len <= WRITE_BUFFER - BLOCK - KURA_RECORD_OVERHEAD && w->blen + KURA_RECORD_OVERHEAD + len > WRITE_BUFFER &&
	    flush(w, 0, err) != 0)
		return err ? err->code : KURA_EIO;
	int rc = kura_record_begin(w, &r, type, err);
	if (rc == 0)
		rc = kura_record_append_copy(w, &r, body, len, err);
	if (rc == 0) {
		r.crc = body_crc;
		rc = kura_record_finish(w, &r, err);
	}
	return rc;
}

/* ---------------------------------------------------------------- reader */

/* Reads up to n bytes at off of segment s; *got < n only at its end. */
static int seg_read(kura_seg *s, void *buf, size_t n, uint64_t off, size_t *got)
{
	return s->be->read(s, off, buf, n, got);
}

int kura_record_read_header(kura_record_info *info, kura_seg *s, uint64_t off, uint64_t file_size, kura_error *err)
{
	unsigned char h[KURA_RECORD_HEADER];
	uint32_t segno = s->segno;
	size_t got;
	if (seg_read(s, h, sizeof h, off, &got) != 0)
		return kura_error_sys(err, KURA_EIO, "reading segment %08u at %llu", segno, (unsigned long long)off);
	if (got < sizeof h)
		return kura_error_set(err, KURA_EVERIFY, "record header cut short at end of segment");
	return kura_record_parse_header(info, h, segno, off, file_size, err);
}

int kura_record_parse_header(kura_record_info *info, const unsigned char *h, uint32_t segno, uint64_t off,
			     uint64_t file_size, kura_error *err)
{
	if (memcmp(h, REC_MAGIC, 4) != 0)
		return kura_error_set(err, KURA_EVERIFY, "no record header (bad magic)");
	if (kura_le32_get(h + 16) != crc(0, h, 16))
		return kura_error_set(err, KURA_EVERIFY, "record header checksum mismatch");
	if (h[5] != RECORD_VERSION)
		return kura_error_set(err, KURA_EVERIFY, "record version %u is not one this kura reads", h[5]);
	uint64_t len = kura_le64_get(h + 8);
	if (len > file_size || off + KURA_RECORD_OVERHEAD + len > file_size)
		return kura_error_set(err, KURA_EVERIFY, "record cut short at end of segment");
	info->segno = segno;
	info->offset = off;
	info->type = h[4];
	info->body_len = len;
	return 0;
}

int kura_record_read_body(kura_seg *s, const kura_record_info *info, kura_record_body_fn fn, void *ud,
			  kura_error *err)
{
	size_t bufsz = info->body_len < WRITE_BUFFER ? (size_t)info->body_len + 1 : WRITE_BUFFER;
	unsigned char *buf = malloc(bufsz);
	if (!buf)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	uint32_t c = 0;
	uint64_t pos = 0, base = info->offset + KURA_RECORD_HEADER;
	int rc = 0;
	while (pos < info->body_len) {
		size_t want = info->body_len - pos < bufsz ? (size_t)(info->body_len - pos) : bufsz, got;
		if (seg_read(s, buf, want, base + pos, &got) != 0) {
			rc = kura_error_sys(err, KURA_EIO, "reading segment %08u", info->segno);
			goto out;
		}
		if (got < want) {
			rc = kura_error_set(err, KURA_EVERIFY, "record body cut short");
			goto out;
		}
		c = crc(c, buf, got);
		if (fn && (rc = fn(ud, pos, buf, got, err)) != 0)
			goto out;
		pos += got;
	}
	unsigned char t[KURA_RECORD_TRAILER];
	size_t got;
	if (seg_read(s, t, sizeof t, base + info->body_len, &got) != 0) {
		rc = kura_error_sys(err, KURA_EIO, "reading segment %08u", info->segno);
	} else if (got < sizeof t || memcmp(t + 4, END_MAGIC, 4) != 0) {
		rc = kura_error_set(err, KURA_EVERIFY, "record trailer missing");
	} else if (kura_le32_get(t) != c) {
		rc = kura_error_set(err, KURA_EVERIFY, "record body checksum mismatch (stored bytes damaged)");
	}
out:
	free(buf);
	return rc;
}

int kura_record_read_at(kura_backend *be, uint32_t segno, uint64_t offset, kura_record_check_fn check,
			kura_record_body_fn fn, void *ud, kura_error *err)
{
	char name[4096];
	kura_seg *seg;
	uint64_t size;
	kura_record_info info;
	be->name(be, segno, name, sizeof name);
	int rc = kura_segment_open_read(be, &seg, segno, name, err);
	if (rc == 0) {
		rc = be->size(seg, &size) != 0 ? kura_segment_io_error(be, err, "stat %s", name)
					       : kura_record_read_header(&info, seg, offset, size, err);
		if (rc == 0)
			rc = check(ud, &info, err);
		if (rc == 0)
			rc = kura_record_read_body(seg, &info, fn, ud, err);
		be->close(seg);
	}
	if (rc == KURA_EVERIFY)
		kura_error_wrap(err, "segment %08u offset %llu", segno, (unsigned long long)offset);
	return rc;
}

int kura_record_check_body(const unsigned char *body, const unsigned char *trailer, const kura_record_info *info,
			   kura_record_body_fn fn, void *ud, kura_error *err)
{
	int rc = fn ? fn(ud, 0, body, (size_t)info->body_len, err) : 0; /* in kura_record_read_body's order */
	if (rc != 0)
		return rc;
	if (memcmp(trailer + 4, END_MAGIC, 4) != 0)
		return kura_error_set(err, KURA_EVERIFY, "record trailer missing");
	if (kura_le32_get(trailer) != crc(0, body, (size_t)info->body_len))
		return kura_error_set(err, KURA_EVERIFY, "record body checksum mismatch (stored bytes damaged)");
	return 0;
}

struct body_relay {
	const kura_scan_ops *ops;
	void *ud;
	const kura_record_info *info;
};

static int relay_body(void *ud, uint64_t off, const unsigned char *p, size_t n, kura_error *err)
{
	struct body_relay *r = ud;
	return r->ops->body(r->ud, r->info, off, p, n, err);
}

enum header_kind { HEADER_BAD, HEADER_UNFINISHED, HEADER_SIZED };

/* What a header that failed its checks still says: a placeholder or a record cut
 * off by the end of the file is an unfinished write; a good header with a body
 * that does not check gives at least the record's length; anything else (bad
 * magic, bad header CRC) gives nothing: its length is unknown (RESYNC RULE). */
static enum header_kind classify(kura_seg *s, uint64_t off, uint64_t size, uint64_t *len)
{
	unsigned char h[KURA_RECORD_HEADER];
	size_t got;
	if (seg_read(s, h, sizeof h, off, &got) != 0)
		return HEADER_BAD;
	if (got < sizeof h)
		return HEADER_UNFINISHED;
	if (memcmp(h, REC_MAGIC, 4) != 0)
		return HEADER_BAD;
	uint32_t c = crc(0, h, 16);
	if (kura_le32_get(h + 16) == ~c)
		return HEADER_UNFINISHED;
	if (kura_le32_get(h + 16) != c)
		return HEADER_BAD;
	*len = kura_le64_get(h + 8);
	if (*len > size || off + KURA_RECORD_OVERHEAD + *len > size)
		return HEADER_UNFINISHED;
	return HEADER_SIZED;
}

/* A bad record at off (why) told to ops->damage; *next is where the walk goes
 * on, 0 when it ends (RESYNC RULE). */
static int on_bad_record(kura_seg *s, uint32_t segno, uint64_t off, uint64_t size, const char *why,
			 const kura_scan_ops *ops, void *ud, uint64_t *next, kura_error *err)
{
	uint64_t len = 0, known = 0;
	enum header_kind kind = classify(s, off, size, &len);
	char text[512];
	if (kind == HEADER_SIZED) {
		*next = off + KURA_RECORD_OVERHEAD + len;
		return ops->damage(ud, segno, off, *next, why, 0, err);
	}
	/* the length is unknown: only a record start the index knows is a boundary */
	int proven = ops->boundary && ops->boundary(ud, segno, off, &known) == 1 && known > off && known < size;
	*next = proven ? known : 0;
	if (proven)
		snprintf(text, sizeof text, "%s; skipped up to the next record the index knows", why);
	else if (kind == HEADER_UNFINISHED)
		snprintf(text, sizeof text, "%s", why);
	else
		snprintf(text, sizeof text, "%s; the record's length is unknown, and no record after it in this segment "
			 "can be told apart from bytes of a document, so none is read", why);
	return ops->damage(ud, segno, off, proven ? known : size, text, kind == HEADER_UNFINISHED && !proven, err);
}

/* Checks a segment's file header. With damage reporting, a damaged header is
 * reported and the records after it are read all the same (they prove
 * themselves); a good header of another format version is refused either way. */
static int check_file_header(kura_seg *s, uint32_t segno, uint64_t size, const kura_scan_ops *ops, void *ud,
			     kura_error *err)
{
	unsigned char fh[KURA_SEGMENT_FILE_HEADER];
	size_t got;
	kura_record_info info;
	if (seg_read(s, fh, sizeof fh, 0, &got) != 0)
		return kura_error_sys(err, KURA_EIO, "reading segment %08u", segno);
	if (got < sizeof fh)
		return kura_error_set(err, KURA_EVERIFY, "segment %08u is shorter than its file header", segno);
	int magic = memcmp(fh, FILE_MAGIC, 8) == 0, number = kura_le32_get(fh + 12) == segno;
	int version = kura_le32_get(fh + 8) == FORMAT_VERSION;
	if (magic && number && version)
		return 0;
	if (magic && number && size > KURA_SEGMENT_FILE_HEADER &&
	    kura_record_read_header(&info, s, KURA_SEGMENT_FILE_HEADER, size, NULL) != 0)
		return kura_error_set(err, KURA_EUNSUPPORTED, "segment %08u has segment format %u; this kura reads format %u",
				      segno, kura_le32_get(fh + 8), FORMAT_VERSION);
	if (!ops->damage)
		return kura_error_set(err, KURA_EVERIFY, "segment %08u is not kura segment %u (bad file header)", segno, segno);
	return ops->damage(ud, segno, 0, KURA_SEGMENT_FILE_HEADER,
			   "segment file header damaged (its records are read all the same)", 0, err);
}

/* The walk of kura_segment_scan over open segment s. */
static int scan_open(kura_seg *s, uint32_t segno, uint64_t from, uint64_t to, const kura_scan_ops *ops, void *ud,
		     uint64_t *valid_end, kura_error *err)
{
	uint64_t size;
	if (s->be->size(s, &size) != 0)
		return kura_error_sys(err, KURA_EIO, "stat of segment %08u", segno);
	if (to && to < size)
		size = to;
	uint64_t off = from < KURA_SEGMENT_FILE_HEADER ? KURA_SEGMENT_FILE_HEADER : from;
	*valid_end = off;
	/* recovery reads only past the committed end: the file header before it is scrub's business */
	int rc = ops->damage || from <= KURA_SEGMENT_FILE_HEADER ? check_file_header(s, segno, size, ops, ud, err) : 0;
	while (rc == 0 && off < size) {
		kura_record_info info;
		kura_error why;
		int bad = kura_record_read_header(&info, s, off, size, &why);
		if (bad == 0) {
			struct body_relay relay = {ops, ud, &info};
			bad = kura_record_read_body(s, &info, ops->body ? relay_body : NULL, &relay, &why);
		}
		if (bad == KURA_EVERIFY) {
			if (!ops->damage)
				break; /* recovery: the torn tail starts here */
			if ((rc = on_bad_record(s, segno, off, size, why.message, ops, ud, &off, err)) != 0 || off == 0)
				break;
			continue;
		}
		if (bad != 0) {
			if (err)
				*err = why;
			return bad;
		}
		if (ops->record && (rc = ops->record(ud, &info, err)) != 0)
			break;
		off += KURA_RECORD_OVERHEAD + info.body_len;
		*valid_end = off;
		if (ops->progress)
			ops->progress(ud, off);
	}
	return rc;
}

int kura_segment_scan(kura_backend *be, uint32_t segno, uint64_t from, uint64_t to, const kura_scan_ops *ops,
		      void *ud, uint64_t *valid_end, kura_error *err)
{
	kura_seg *s;
	if (be->open(be, &s, segno, 0) != 0) {
		char name[4096];
		be->name(be, segno, name, sizeof name);
		return kura_segment_io_error(be, err, "opening segment %s", name);
	}
	int rc = scan_open(s, segno, from, to, ops, ud, valid_end, err);
	be->close(s);
	return rc;
}

int kura_segment_list(uint32_t **out, size_t *count, kura_backend *be, kura_error *err)
{
	if (be->list(be, out, count) == 0)
		return 0;
	char name[4096];
	be->name(be, 0, name, sizeof name);
	return errno == ENOMEM ? kura_error_set(err, KURA_EINTERNAL, "out of memory")
			       : kura_segment_io_error(be, err, "listing the segments of %s", name);
}

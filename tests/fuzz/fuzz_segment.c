/* Harness: the segment record reader that recovery, reindex and scrub use
 * (archive/segment.c through segment.h), and what rebuilding the index reads from
 * each record body (archive/rebuild.c: object and audit JSON with their IDs, the
 * evidence frame and its index entries, the blob's zstd data and tail).
 *
 * Input: a flags byte, then a segment file. Flag 1: the file header of segment
 * 1 is put in front. Flag 2: the records from the first one on get correct
 * header CRCs and trailers (as far as their lengths fit), so that the fuzzer
 * reaches the bodies rather than the checksums. The file is written to the
 * harness's folder (segments/00000001.seg) and walked twice: in recovery mode (stop at the first bad
 * record) and in scrub mode (report damage and go on). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <zlib.h>

#include "archive/blob.h"
#include "archive/evidence_frame.h"
#include "archive/store_impl.h"
#include "common/endian.h"
#include "common/id.h"
#include "tests/fuzz/fuzz_common.h"

struct reader {
	kura_blob_checker *blob;
	kura_index_batch *batch;
	unsigned char *body; /* the record's body, whole (never longer than the file) */
	size_t len;
};

/* Gives the records from the first one on valid checksums and trailers. */
static void frame(unsigned char *seg, size_t size)
{
	for (size_t off = KURA_SEGMENT_FILE_HEADER; off + KURA_RECORD_OVERHEAD <= size;) {
		unsigned char *h = seg + off;
		uint64_t len = kura_le64_get(h + 8);
		if (memcmp(h, "KRec", 4) != 0 || len > size - off - KURA_RECORD_OVERHEAD)
			return;
		kura_le32_put(h + 16, (uint32_t)crc32(0, h, 16));
		kura_le32_put(h + KURA_RECORD_HEADER + len, (uint32_t)crc32(0, h + KURA_RECORD_HEADER, (uInt)len));
		memcpy(h + KURA_RECORD_HEADER + len + 4, "KEnd", 4);
		off += KURA_RECORD_OVERHEAD + len;
	}
}

static int body(void *ud, const kura_record_info *info, uint64_t off, const unsigned char *p, size_t n, kura_error *err)
{
	struct reader *r = ud;
	if (off == 0) {
		r->len = 0;
		if (info->type == KURA_RECORD_BLOB)
			kura_blob_checker_reset(r->blob, info->body_len, NULL, NULL);
	}
	if (info->type == KURA_RECORD_BLOB)
		return kura_blob_checker_feed(r->blob, off, p, n, err);
	memcpy(r->body + r->len, p, n);
	r->len += n;
	return 0;
}

static void json_id(const struct reader *r)
{
	json_t *j = json_loadb((const char *)r->body, r->len, 0, NULL);
	const char *id = json_string_value(json_object_get(j, "id"));
	char canon[KURA_ID_LEN + 1];
	if (id)
		kura_id_parse(canon, id, NULL);
	unsigned char digests[KURA_PENDING_MAX];
	if (j)
		kura_pending_digests(digests, j);
	json_decref(j);
}

static int record(void *ud, const kura_record_info *info, kura_error *err)
{
	struct reader *r = ud;
	if (info->type == KURA_RECORD_BLOB) {
		uint64_t size;
		unsigned char sha[32];
		kura_blob_checker_done(r->blob, &size, sha, err);
	} else if (info->body_len == 0) {
		return 0;
	} else if (info->type == KURA_RECORD_OBJECT || info->type == KURA_RECORD_AUDIT) {
		json_id(r);
	} else if (info->type == KURA_RECORD_EVIDENCE && kura_evidence_frame_check(r->body, r->len) == 0) {
		kura_evidence_index(r->batch, r->body, (const char *)r->body + KURA_EVIDENCE_FRAME_HEAD, info->segno,
				    info->offset);
		kura_index_batch_clear(r->batch);
	}
	return 0;
}

static int damage(void *ud, uint32_t segno, uint64_t offset, uint64_t end, const char *why, int unfinished,
		  kura_error *err)
{
	(void)ud, (void)segno, (void)offset, (void)end, (void)why, (void)unfinished, (void)err;
	return 0;
}

int fuzz_one(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t head = data[0] & 1 ? KURA_SEGMENT_FILE_HEADER : 0, n = head + size - 1;
	unsigned char *seg = malloc(n + 1);
	memcpy(seg, "KURA-SEG\1\0\0\0\1\0\0\0", head);
	memcpy(seg + head, data + 1, size - 1);
	if (data[0] & 2)
		frame(seg, n);
	/* The segment file stays open for writing (kept until exit): opening and
	 * truncating it per input cost more than walking most inputs. kura opens it
	 * through the local-file backend, as reindex does. */
	static kura_backend *be;
	static int fd = -1;
	if (fd < 0) {
		char segdir[4096], path[4096];
		snprintf(segdir, sizeof segdir, "%s/segments", fuzz_dir());
		snprintf(path, sizeof path, "%s/00000001.seg", segdir);
		if ((mkdir(segdir, 0700) != 0 && errno != EEXIST) ||
		    (fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
		    kura_backend_file_open(&be, fuzz_dir(), NULL) != 0)
			abort();
	}
	if ((n && pwrite(fd, seg, n, 0) != (ssize_t)n) || ftruncate(fd, (off_t)n) != 0)
		abort();
	free(seg);

	/* The zstd context and the index batch are made once (kept until exit): making a
	 * zstd context costs more than most inputs. Each record resets what it uses. */
	static kura_blob_checker *blob;
	static kura_index_batch *batch;
	if ((!blob && kura_blob_checker_new(&blob, NULL) != 0) || (!batch && kura_index_batch_new(&batch, NULL) != 0))
		abort();
	struct reader r = {.blob = blob, .batch = batch, .body = malloc(n + 1)};
	if (!r.body)
		abort();
	kura_scan_ops recovery = {.body = body, .record = record}, scrub = {.body = body, .record = record, .damage = damage};
	uint64_t end;
	kura_segment_scan(be, 1, 0, 0, &recovery, &r, &end, NULL);
	kura_segment_scan(be, 1, 0, 0, &scrub, &r, &end, NULL);
	free(r.body);
	return 0;
}

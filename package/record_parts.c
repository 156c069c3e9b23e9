/* Evidence records stored in parts (docs/FORMAT.md, "Export packages"): a
 * package keeps each time-stamp token once, as data/tokens/<SHA-256>.tsr, and
 * each object's RFC 4998 record as NAME.erp: one text line naming the whole
 * record (size, SHA-256) and where each token goes, then the record's DER with
 * the tokens cut out. Concatenating the pieces in order gives NAME.ers again,
 * byte for byte (the package's verify.sh does it with head, tail and cat).
 *
 *   kura-ers-parts 1 SIZE SHA256 OFFSET TOKEN [OFFSET TOKEN]...\n
 *   <the record's bytes without the tokens>
 *
 * OFFSET: where the token starts in the whole record, in ascending order;
 * TOKEN: the SHA-256 (64 lower-case hex digits) that names its file.
 *
 * INVARIANTS
 * - A .erp is outside input: every number and name in it is checked before use
 *   (offsets in range and ascending, each token named once and present as a
 *   file whose SHA-256 is its name), and the rebuilt record must have exactly
 *   the size and SHA-256 the first line gives, or nothing is returned.
 * - Token files are read from data/tokens/ of the package only: their names are
 *   hex digits, so no reference can point anywhere else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/fsutil.h"
#include "common/hex.h"
#include "package/package.h"

#define MAGIC "kura-ers-parts 1 "
#define MAX_RECORD (256u << 20)
#define MAX_TOKEN (1u << 20)
#define MAX_HEADER 65536

static int sha256_hex(char out[65], const unsigned char *p, size_t n)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	if (!EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return -1;
	kura_hex_encode(out, md, 32);
	return 0;
}

/* ---------------------------------------------------------------- writing */

int kura_parts_header(char **out, size_t *len, const unsigned char *der, size_t dlen, const size_t *offsets,
		      const char (*tokens)[65], size_t n, kura_error *err)
{
	char sum[65];
	if (sha256_hex(sum, der, dlen) != 0)
		return kura_error_set(err, KURA_EINTERNAL, "SHA-256 failed");
	size_t cap = 128 + n * 96;
	char *h = malloc(cap);
	if (!h)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	size_t used = (size_t)snprintf(h, cap, MAGIC "%zu %s", dlen, sum);
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(h + used, cap - used, " %zu %s", offsets[i], tokens[i]);
	used += (size_t)snprintf(h + used, cap - used, "\n");
	*out = h;
	*len = used;
	return 0;
}

/* ---------------------------------------------------------------- reading */

static int refuse(kura_error *err, const char *file, const char *what)
{
	return kura_error_set(err, KURA_EINPUT, "%s: %s (the package was altered after export, or not made by kura; "
						"check it with kura verify-export)", file, what);
}

/* A decimal number of at most 10 digits (records are at most 256 MiB). */
static int number(const char *s, size_t n, size_t *out)
{
	if (n == 0 || n > 10 || (n > 1 && s[0] == '0'))
		return -1;
	size_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (size_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* 64 lower-case hex digits (s need not end in NUL: a fuzzer's bytes). */
static int hex64(const char *s, size_t n)
{
	for (size_t i = 0; n == 64 && i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return n == 64;
}

/* The next space-separated word of the header: [*pos, end). */
static int word(const char *h, size_t end, size_t *pos, const char **w, size_t *n)
{
	if (*pos >= end)
		return -1;
	size_t k = *pos;
	while (k < end && h[k] != ' ')
		k++;
	*w = h + *pos;
	*n = k - *pos;
	*pos = k < end ? k + 1 : k;
	return *n ? 0 : -1;
}

/* The record being rebuilt: grown as pieces come (never beyond max, the size
 * the first line gives), so that a size claimed is never allocated up front. */
struct piece_buf {
	unsigned char *p;
	size_t len, cap, max;
};

/* 1 when the n bytes at src do not fit (the pieces are longer than the record),
 * -1 when out of memory. */
static int put(struct piece_buf *b, const void *src, size_t n)
{
	if (n > b->max - b->len)
		return 1;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		unsigned char *g = realloc(b->p, cap);
		if (!g)
			return -1;
		b->p = g;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, src, n);
	b->len += n;
	return 0;
}

static int put_or_refuse(struct piece_buf *b, const void *src, size_t n, const char *file, kura_error *err)
{
	int r = put(b, src, n);
	if (r < 0)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	return r ? refuse(err, file, "its pieces are longer than the record it names") : 0;
}

/* Appends token hex's file (root/data/tokens/HEX.tsr). */
static int append_token(struct piece_buf *b, const char *root, const char *hex, const char *file, kura_error *err)
{
	char path[4400], *tok = NULL, sum[65], shown[200];
	size_t tlen = 0;
	snprintf(path, sizeof path, "%s/data/tokens/%.64s.tsr", root, hex);
	snprintf(shown, sizeof shown, "the token data/tokens/%.64s.tsr", hex);
	if (kura_fs_read_file(path, MAX_TOKEN, &tok, &tlen) != 0)
		return refuse(err, file, "names a token file that is missing or unreadable");
	int rc = 0;
	if (sha256_hex(sum, (unsigned char *)tok, tlen) != 0 || memcmp(sum, hex, 64) != 0)
		rc = refuse(err, shown, "does not have the SHA-256 its name says");
	else
		rc = put_or_refuse(b, tok, tlen, file, err);
	free(tok);
	return rc;
}

/* The next token reference (OFFSET SHA256) of the header at *pos, checked
 * against what was rebuilt so far (used bytes, taken of the clen cut ones)
 * and the names before it. */
static int next_reference(size_t *off, const char **tok, const char *h, size_t hlen, size_t *pos, size_t used,
			  size_t taken, size_t clen, const char **names, size_t nnames, const char *file, kura_error *err)
{
	const char *w;
	size_t n;
	if (word(h, hlen, pos, &w, &n) != 0 || number(w, n, off) != 0 || word(h, hlen, pos, tok, &n) != 0 ||
	    !hex64(*tok, n))
		return refuse(err, file, "has a malformed token reference (OFFSET SHA256)");
	if (*off < used || *off - used > clen - taken)
		return refuse(err, file, "has a token offset out of range");
	for (size_t i = 0; i < nnames; i++)
		if (memcmp(names[i], *tok, 64) == 0)
			return refuse(err, file, "names the same token twice");
	return 0;
}

/* Rebuilds from the header h[0, hlen) and the cut bytes. */
static int rebuild(unsigned char **out, size_t *olen, const char *root, const char *file, const char *h, size_t hlen,
		   const unsigned char *cut, size_t clen, kura_error *err)
{
	size_t pos = strlen(MAGIC), size, n, taken = 0;
	const char *w, *sum;
	if (word(h, hlen, &pos, &w, &n) != 0 || number(w, n, &size) != 0 || size > MAX_RECORD)
		return refuse(err, file, "does not give the record's size");
	if (word(h, hlen, &pos, &sum, &n) != 0 || !hex64(sum, n))
		return refuse(err, file, "does not give the record's SHA-256");
	struct piece_buf b = {NULL, 0, 0, size};
	const char *names[MAX_HEADER / 66];
	size_t nnames = 0;
	int rc = 0;
	while (rc == 0 && pos < hlen) {
		size_t off = 0;
		const char *tok = NULL;
		rc = next_reference(&off, &tok, h, hlen, &pos, b.len, taken, clen, names, nnames, file, err);
		if (rc == 0 && nnames == sizeof names / sizeof *names)
			rc = refuse(err, file, "names too many tokens");
		size_t gap = rc == 0 ? off - b.len : 0; /* the cut bytes before the token */
		if (rc == 0)
			rc = put_or_refuse(&b, cut + taken, gap, file, err);
		if (rc != 0)
			break;
		taken += gap;
		names[nnames++] = tok;
		rc = append_token(&b, root, tok, file, err);
	}
	char got[65];
	if (rc == 0)
		rc = put_or_refuse(&b, cut + taken, clen - taken, file, err);
	if (rc == 0 && b.len != size)
		rc = refuse(err, file, "its pieces do not add up to the record's size");
	if (rc == 0 && (sha256_hex(got, b.p, b.len) != 0 || memcmp(got, sum, 64) != 0))
		rc = refuse(err, file, "the record rebuilt from its pieces does not have the SHA-256 its first line gives");
	if (rc != 0) {
		free(b.p);
		return rc;
	}
	*out = b.p ? b.p : malloc(1);
	*olen = size;
	return *out ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
}

int kura_parts_rebuild(unsigned char **out, size_t *len, const char *root, const char *file, const char *text,
		       size_t tlen, kura_error *err)
{
	const char *nl = memchr(text, '\n', tlen < MAX_HEADER ? tlen : MAX_HEADER);
	if (tlen < strlen(MAGIC) || memcmp(text, MAGIC, strlen(MAGIC)) != 0 || !nl)
		return refuse(err, file, "is not an evidence record in parts (its first line is not \"kura-ers-parts 1 ...\")");
	size_t hlen = (size_t)(nl - text);
	return rebuild((unsigned char **)out, len, root, file, text, hlen, (const unsigned char *)nl + 1,
		       tlen - hlen - 1, err);
}

int kura_parts_load(unsigned char **out, size_t *len, const char *root, const char *file, kura_error *err)
{
	char path[8400], *text = NULL;
	size_t tlen = 0;
	snprintf(path, sizeof path, "%s/%s", root, file);
	if (kura_fs_read_file(path, MAX_RECORD + MAX_HEADER, &text, &tlen) != 0)
		return kura_error_sys(err, KURA_EINPUT, "%s cannot be read", file);
	int rc = kura_parts_rebuild(out, len, root, file, text, tlen, err);
	free(text);
	return rc;
}

int kura_package_read_record(unsigned char **out, size_t *len, const char *root, const char *record, kura_error *err)
{
	size_t n = strlen(record);
	if (n > 4 && strcmp(record + n - 4, ".erp") == 0)
		return kura_parts_load(out, len, root, record, err);
	char path[8400], *der = NULL;
	snprintf(path, sizeof path, "%s/%s", root, record);
	if (kura_fs_read_file(path, MAX_RECORD, &der, len) != 0)
		return kura_error_sys(err, KURA_EINPUT, "%s cannot be read", record);
	*out = (unsigned char *)der;
	return 0;
}

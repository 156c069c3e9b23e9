/* Object ID generation and parsing (ULID layout, see id.h). Within one process the
 * random part is incremented when the millisecond repeats (KURA_NOW fixes the
 * clock, so this is the common case in tests), keeping IDs unique and ordered.
 * Threads may make IDs at once: the last one made is kept under a lock. */
#include <ctype.h>
#include <pthread.h>
#include <string.h>

#include <openssl/rand.h>

#include "common/id.h"

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static int64_t last_ms = -1;
static unsigned char last_rand[10];
static pthread_mutex_t last_lock = PTHREAD_MUTEX_INITIALIZER;

static void encode(char out[KURA_ID_LEN + 1], const unsigned char bytes[16])
{
	/* 128 bits as 26 base32 digits: the first digit holds the top 3 bits. */
	int bit = -2; /* 26*5 = 130 bits: two leading zero bits */
	for (int i = 0; i < KURA_ID_LEN; i++) {
		int v = 0;
		for (int k = 0; k < 5; k++, bit++) {
			v <<= 1;
			if (bit >= 0)
				v |= (bytes[bit / 8] >> (7 - bit % 8)) & 1;
		}
		out[i] = alphabet[v];
	}
	out[KURA_ID_LEN] = '\0';
}

static int next_bytes(unsigned char bytes[16], int64_t ms);

int kura_id_new(char out[KURA_ID_LEN + 1], int64_t ms, kura_error *err)
{
	if (ms < 0 || ms >= (int64_t)1 << 48)
		return kura_error_set(err, KURA_EINPUT, "time out of range for an object ID");
	unsigned char bytes[16];
	pthread_mutex_lock(&last_lock);
	int rc = next_bytes(bytes, ms);
	pthread_mutex_unlock(&last_lock);
	if (rc != 0)
		return kura_error_set(err, KURA_EINTERNAL, "no random bytes for an object ID");
	encode(out, bytes);
	return 0;
}

/* The bytes of the next ID at ms (under last_lock): 0, or -1 without random bytes. */
static int next_bytes(unsigned char bytes[16], int64_t ms)
{
	int i = 9;
	if (ms <= last_ms) {
		/* same (or an earlier, fixed) millisecond: keep the order by counting up */
		ms = last_ms;
		while (i >= 0 && ++last_rand[i] == 0)
			i--;
	}
	if (ms <= last_ms && i < 0) /* this millisecond is used up: take the next one */
		ms = last_ms + 1;
	if (ms > last_ms) {
		if (RAND_bytes(last_rand, sizeof last_rand) != 1)
			return -1;
		last_rand[0] &= 0x7f; /* leave room to count up */
		last_ms = ms;
	}
	for (int k = 0; k < 6; k++)
		bytes[k] = (unsigned char)(ms >> (8 * (5 - k)));
	memcpy(bytes + 6, last_rand, 10);
	return 0;
}

void kura_id_first(char out[KURA_ID_LEN + 1], int64_t ms)
{
	unsigned char bytes[16] = {0};
	for (int k = 0; k < 6; k++)
		bytes[k] = (unsigned char)(ms >> (8 * (5 - k)));
	encode(out, bytes);
}

void kura_id_floor(const char *id)
{
	unsigned char bytes[16] = {0};
	int bit = -2;
	for (int i = 0; i < KURA_ID_LEN; i++) {
		const char *at = strchr(alphabet, id[i]);
		if (!at || !id[i])
			return;
		int v = (int)(at - alphabet);
		for (int k = 4; k >= 0; k--, bit++)
			if (bit >= 0 && (v >> k & 1))
				bytes[bit / 8] |= (unsigned char)(0x80 >> (bit % 8));
	}
	int64_t ms = 0;
	for (int i = 0; i < 6; i++)
		ms = ms << 8 | bytes[i];
	if (ms > last_ms || (ms == last_ms && memcmp(bytes + 6, last_rand, 10) > 0)) {
		last_ms = ms;
		memcpy(last_rand, bytes + 6, 10);
	}
}

int kura_id_parse(char out[KURA_ID_LEN + 1], const char *text, kura_error *err)
{
	size_t n = strlen(text);
	if (n != KURA_ID_LEN)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		char c = (char)toupper((unsigned char)text[i]);
		if (!strchr(alphabet, c) || c == '\0')
			goto bad;
		out[i] = c;
	}
	if (out[0] > '7') /* more than 128 bits */
		goto bad;
	out[KURA_ID_LEN] = '\0';
	return 0;
bad:
	return kura_error_set(err, KURA_EINPUT,
			      "'%s' is not an object ID (26 characters, as printed by kura ingest or kura ls)", text);
}

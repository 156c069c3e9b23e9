/* Shared by the libFuzzer harnesses of tests/fuzz (docs/FUZZING.md): one private
 * temporary folder per process (removed at exit), the trust anchors every harness
 * verifies against, a fixed "now", and the split of one input into parts.
 *
 * Harnesses are deterministic (no clock, no network, no randomness of their own),
 * write only inside fuzz_dir() and free everything they allocate per input. */
#ifndef KURA_FUZZ_COMMON_H
#define KURA_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "kura/store.h"

/* Each harness's test of one input (LLVMFuzzerTestOneInput is in fuzz_common.c). */
int fuzz_one(const uint8_t *data, size_t size);

/* The time every verification is made at: within the validity of the TSA and
 * signer certificates seeds.sh made the committed seeds with. */
#define FUZZ_NOW_MS 1803859200000LL
#define FUZZ_NOW_TEXT "2027-03-01T00:00:00Z"

/* The harness's own temporary folder (created on first use, removed at exit).
 * LLVMFuzzerInitialize (here) makes it kura's TMPDIR and sets KURA_NOW. */
const char *fuzz_dir(void);

/* Writes data to fuzz_dir()/name (replacing it) and puts its path in path. */
void fuzz_write(char *path, size_t cap, const char *name, const uint8_t *data, size_t size);

/* Every certificate in tests/fuzz/anchors and the shared vectors' certs folders,
 * loaded once (owned here): the roots tokens and signatures are checked against. */
STACK_OF(X509) *fuzz_anchors(void);

/* A store in the harness's folder, made and opened for writing at the first
 * call and open until exit. It trusts no TSA. */
kura_store *fuzz_store(void);

/* Splits an input into n parts: each part but the last is a little-endian u16
 * length followed by that many bytes (cut at the end of the input); the last part
 * is the rest. Parts that are not there are empty. */
void fuzz_split(const uint8_t *data, size_t size, size_t n, const uint8_t **part, size_t *len);

#endif

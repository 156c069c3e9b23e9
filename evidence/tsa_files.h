/* The files of an embedded TSA's folder (see tsa.h for the layout): read and
 * written relative to the folder, never through a link, and changed as a whole
 * by a rollover through a small journal (tsa_files.c states the protocol). */
#ifndef KURA_TSA_FILES_H
#define KURA_TSA_FILES_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "kura/error.h"

/* Opens the TSA folder dir (made, mode 0700, when create), locked (flock
 * LOCK_EX) until the descriptor is closed, after finishing or undoing a rollover
 * a crash interrupted. Returns the descriptor, or a negative KURA_E* code. */
int kura_tsa_files_open(const char *dir, int create, kura_error *err);

/* NAME in the folder, never through a link; NULL when absent or unreadable (a
 * text is malloc'd, the caller's; at most 1 MiB). */
char *kura_tsa_files_read_text(int d, const char *name);
EVP_PKEY *kura_tsa_files_read_key(int d, const char *name);
int kura_tsa_files_read_certs(STACK_OF(X509) *out, int d, const char *name, kura_error *err);
/* Creates NAME (mode 0600, exclusively, fsync'd); with prefix, its bytes come first. */
int kura_tsa_files_write_key(int d, const char *name, EVP_PKEY *key);
int kura_tsa_files_write_certs(int d, const char *name, const char *prefix, size_t plen, X509 *const *certs, int n);
int kura_tsa_files_write(int d, const char *name, const void *buf, size_t n);
/* Links NAME into old/STAMP-NAME (kept for ever). */
int kura_tsa_files_keep_old(int d, const char *name, const char *stamp);

/* A rollover's switch: NAME.next is to replace NAME for each of names (the .next
 * files written and fsync'd before). Commits with one rename, then applies. */
int kura_tsa_files_switch(int d, const char *const *names, size_t n, kura_error *err);

#endif

/* Big arrays (a seal's million leaves, a tree's levels, a seal record read
 * back): backed by huge pages where the kernel offers them, and grown without
 * copying. */
#ifndef KURA_BIGMEM_H
#define KURA_BIGMEM_H

#include <stddef.h>

/* A hint for the n bytes at p (malloc'd; any alignment): first-touch page
 * faults cost a large part of sealing a million objects on a virtual machine,
 * and a 2 MiB page takes one fault instead of 512. Does nothing for arrays
 * under 4 MiB or where transparent huge pages are off. */
void kura_bigmem_advise(void *p, size_t n);

/* An array that grows in a mapping of its own: realloc copies an array under
 * glibc's mmap threshold (up to 32 MiB) at every growth -- a fifth of a seal of
 * a million objects -- while growing a mapping moves no bytes. *p (NULL at
 * first) holds *cap bytes; afterwards at least need. -1 when out of memory (*p
 * is then unchanged). Free with kura_bigmem_free(*p, *cap). */
int kura_bigmem_grow(void **p, size_t *cap, size_t need);
void kura_bigmem_free(void *p, size_t cap);

#endif

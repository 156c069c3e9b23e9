/* Big arrays (a seal's million leaves, a tree's levels, a seal record read
 * back): asked to be backed by huge pages where the kernel offers them. */
#ifndef KURA_BIGMEM_H
#define KURA_BIGMEM_H

#include <stddef.h>

/* A hint for the n bytes at p (malloc'd; any alignment): first-touch page
 * faults cost a large part of sealing a million objects on a virtual machine,
 * and a 2 MiB page takes one fault instead of 512. Does nothing for arrays
 * under 4 MiB or where transparent huge pages are off. */
void kura_bigmem_advise(void *p, size_t n);

#endif

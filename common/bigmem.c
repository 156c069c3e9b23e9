/* Big arrays: huge-page hints, and arrays that grow without copying (see bigmem.h). */
#include <stdint.h>
#include <sys/mman.h>

#include "common/bigmem.h"

#define HUGE_PAGE ((uintptr_t)2 << 20)

void kura_bigmem_advise(void *p, size_t n)
{
	if (n < 2 * HUGE_PAGE)
		return;
	/* whole huge pages inside the array: malloc serves arrays this big from
	 * their own mapping, so the hint touches no one else's memory */
	uintptr_t from = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1), to = ((uintptr_t)p + n) & ~(HUGE_PAGE - 1);
	if (to > from)
		(void)madvise((void *)from, to - from, MADV_HUGEPAGE);
}

int kura_bigmem_grow(void **p, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	size_t want = *cap * 2 > need ? *cap * 2 : need;
	want = (want + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
	void *q = *p ? mremap(*p, *cap, want, MREMAP_MAYMOVE)
		     : mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (q == MAP_FAILED)
		return -1;
	(void)madvise(q, want, MADV_HUGEPAGE);
	*p = q;
	*cap = want;
	return 0;
}

void kura_bigmem_free(void *p, size_t cap)
{
	if (p)
		munmap(p, cap);
}

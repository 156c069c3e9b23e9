/* Huge-page hints for big arrays (see bigmem.h). */
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

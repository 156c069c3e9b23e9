/* Progress of long operations on a terminal: public (kura/progress.h), for the
 * library's long operations and for programs that show their own. */
#ifndef KURA_COMMON_PROGRESS_H
#define KURA_COMMON_PROGRESS_H

#include "kura/progress.h"

#endif

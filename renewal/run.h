/* One renewal run: what `kura renew` and each round of `kura daemon` do
 * (renewal/run.c). All of it is public: kura/renew.h. */
#ifndef KURA_RUN_H
#define KURA_RUN_H

#include "kura/renew.h"

#endif

/* Names and other outside text made safe to print and to keep as JSON: the
 * whole of it is public (kura/escape.h), for every program that prints what
 * kura returns. */
#ifndef KURA_COMMON_ESCAPE_H
#define KURA_COMMON_ESCAPE_H

#include "kura/escape.h"

#endif

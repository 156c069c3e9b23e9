/* Verifying the objects of a store (proof/verify_store.c). All of it is
 * public: kura/verify.h. */
#ifndef KURA_VERIFY_STORE_H
#define KURA_VERIFY_STORE_H

#include "kura/verify.h"

#endif

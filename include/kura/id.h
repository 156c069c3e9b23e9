/* Object IDs, as a library user holds them: KURA_ID_LEN characters (Crockford
 * base32, time-ordered; made and parsed by common/id.c), in a buffer of
 * KURA_ID_LEN + 1 bytes with the NUL. Every object and evidence record has one. */
#ifndef KURA_ID_H
#define KURA_ID_H

#define KURA_ID_LEN 26

#endif

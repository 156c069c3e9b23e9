/* Who acts: the name every audit record and object record gives as its actor. */
#ifndef KURA_COMMON_ACTOR_H
#define KURA_COMMON_ACTOR_H

#include <stddef.h>

#include "kura/error.h"

#define KURA_ACTOR_MAX 128

/* A name of 1 to KURA_ACTOR_MAX bytes of UTF-8 without what kura escapes in
 * output (control characters, line separators, bidirectional overrides);
 * KURA_EINPUT, saying why, otherwise. */
int kura_actor_check(const char *actor, kura_error *err);
/* 1 when a and b may name the same person: the same text after NFKC, case
 * folding and dropping every character drawn blank or not at all, spaces
 * included ("José", "JOSE\u0301", "ｊｏｓé ", "jo\u200bsé", "jo\u2800sé"), or
 * either cannot be read. Four eyes (kura dispose --approve) needs two actors
 * that are not. Look-alike letters of other scripts (Cyrillic "о") are told
 * apart: a CLI actor is a claim anyone can type, and the service's actors are
 * accounts an administrator made. */
int kura_actor_same(const char *a, const char *b);
/* The default actor: $KURA_ACTOR when it is a good name, else the operating
 * system's name of the effective user, else "uid N". */
void kura_actor_default(char *buf, size_t n);
/* The operating system's name of the effective user (else "uid N"): what every
 * audit record also notes, whoever the actor says it is. */
void kura_actor_system_user(char *buf, size_t n);

#endif

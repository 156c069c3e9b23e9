/* Reading kura's YAML files (renewal policies: policy.c; retention classes:
 * retention.c) with libyaml. kura_yaml_load refuses, before loading, text
 * nested more than 32 deep, anchors and aliases, and a second document (each
 * costs libyaml time quadratic in its size, or would be dropped unread); every
 * message names the file (origin) and line and ends "nothing was changed". */
#ifndef KURA_YAML_DOC_H
#define KURA_YAML_DOC_H

#include <stddef.h>

#include <yaml.h>

#include "kura/error.h"

/* The loaded YAML, with what every message needs. */
struct kura_yaml {
	yaml_document_t doc;
	const char *origin;
	kura_error *err;
	int loaded;
};

/* Loads text (len bytes; origin names it in messages): KURA_EINPUT for bad YAML.
 * On success free it with kura_yaml_free (harmless after a failure too). */
int kura_yaml_load(struct kura_yaml *y, const char *text, size_t len, const char *origin, kura_error *err);
void kura_yaml_free(struct kura_yaml *y);

/* KURA_EINPUT with "ORIGIN line N: " + fmt (one %s: what) + "; nothing was changed". */
int kura_yaml_bad(struct kura_yaml *y, yaml_node_t *n, const char *fmt, const char *what);
/* A scalar node's text, else NULL. */
const char *kura_yaml_scalar(yaml_node_t *n);
/* YAML's null written out (null, Null, NULL or ~, unquoted); nothing at all is not null. */
int kura_yaml_is_null(yaml_node_t *n);
/* *out: the value of key in mapping map (NULL when absent); a key given twice is an error. */
int kura_yaml_lookup(yaml_node_t **out, struct kura_yaml *y, yaml_node_t *map, const char *key);
/* The value of key as a one-line scalar (NULL when absent); anything else is an error. */
int kura_yaml_lookup_scalar(const char **out, yaml_node_t **node, struct kura_yaml *y, yaml_node_t *map, const char *key);

#endif

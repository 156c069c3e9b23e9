/* Which backend a store's segments go through, as its config.json says:
 *
 *   "backend": {"type": "rados", "ceph_conf": "/etc/ceph/ceph.conf", "pool": "archive",
 *               "namespace": "trial-17", "user": "kura", "lease_seconds": 30,
 *               "op_timeout_seconds": 30, "data_pool": "archive-ec"}
 *
 * No "backend" (every store made before there was a choice): the local-file
 * backend, STORE/segments/. An unknown type is refused, never guessed.
 * "reader": true (a store folder made by kura attach on another machine): the
 * pool is only read (archive/backend_reader.c). */
#include <string.h>

#include "archive/backend.h"

json_t *kura_backend_config_json(const kura_rados_options *o)
{
	json_t *b = json_pack("{s:s, s:s, s:s}", "type", "rados", "ceph_conf", o->ceph_conf, "pool", o->pool);
	if (b && o->ns && *o->ns)
		json_object_set_new(b, "namespace", json_string(o->ns));
	if (b && o->data_pool && *o->data_pool && strcmp(o->data_pool, o->pool) != 0)
		json_object_set_new(b, "data_pool", json_string(o->data_pool));
	if (b && o->user && *o->user)
		json_object_set_new(b, "user", json_string(o->user));
	if (b && o->lease_seconds > 0)
		json_object_set_new(b, "lease_seconds", json_integer(o->lease_seconds));
	if (b && o->op_timeout_seconds > 0)
		json_object_set_new(b, "op_timeout_seconds", json_integer(o->op_timeout_seconds));
	return b;
}

int kura_backend_from_config(kura_backend **out, const char *store, const json_t *cfg, kura_error *err)
{
	if (!cfg)
		return kura_backend_file_open(out, store, err);
	kura_rados_options o = {0};
	const char *type = NULL;
	json_int_t lease = 0, timeout = 0;
	if (!json_is_object(cfg) || json_unpack((json_t *)cfg, "{s:s}", "type", &type) != 0)
		return kura_error_set(err, KURA_EIO, "%s/config.json has a bad \"backend\"; the store's configuration is "
						     "damaged", store);
	if (strcmp(type, "file") == 0)
		return kura_backend_file_open(out, store, err);
	if (strcmp(type, "rados") != 0)
		return kura_error_set(err, KURA_EUNSUPPORTED, "%s keeps its segments in a \"%s\" backend, which this kura "
							      "does not know", store, type);
	if (json_unpack((json_t *)cfg, "{s:s, s:s, s?s, s?s, s?s, s?I, s?I}", "ceph_conf", &o.ceph_conf, "pool", &o.pool,
			"data_pool", &o.data_pool, "namespace", &o.ns, "user", &o.user, "lease_seconds", &lease,
			"op_timeout_seconds", &timeout) != 0 ||
	    lease < 0 || lease > 3600 || timeout < 0 || timeout > 3600)
		return kura_error_set(err, KURA_EIO, "%s/config.json has bad RADOS settings (\"ceph_conf\", \"pool\", "
						     "\"data_pool\", \"namespace\", \"user\", \"lease_seconds\", \"op_timeout_seconds\" "
						     "(1 to 3600)); the store's configuration is damaged", store);
	o.lease_seconds = (int)lease;
	o.op_timeout_seconds = (int)timeout;
	int rc = kura_backend_rados_open(out, &o, err);
	if (rc == 0 && kura_backend_config_reader(cfg))
		rc = kura_backend_reader_new(out, *out, store, err);
	return rc;
}

int kura_backend_config_reader(const json_t *cfg)
{
	return json_is_true(json_object_get(cfg, "reader"));
}

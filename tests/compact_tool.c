/* A test-only driver of compaction (not a kura subcommand): until the records
 * layer's `kura dispose --approve` writes disposal records, shell tests mark
 * objects disposed of with this and compact (tests/cli/test_compact_kill.sh).
 *
 *   kura_compact_tool STORE --mark ID...   writes the index key 'D' of each ID
 *                                          (disposed of by a stand-in audit ID)
 *   kura_compact_tool STORE                compacts: prints "compacted SEGMENTS
 *                                          BLOBS BYTES-BEFORE BYTES-AFTER"
 * Exit 0, or 3 with a "kura: " message as kura's (the fault sweeps check its form). */
#include <stdio.h>
#include <string.h>

#include "archive/store_impl.h"
#include "common/id.h"
#include "index/index.h"

#define STAND_IN_AUDIT "01JZZZZZZZZZZZZZZZZZZZZZZZ"

static int mark(kura_store *st, char **ids, int n, kura_error *err)
{
	kura_index_batch *b = NULL;
	int rc = kura_index_batch_new(&b, err);
	for (int i = 0; rc == 0 && i < n; i++) {
		char id[KURA_ID_LEN + 1];
		if ((rc = kura_id_parse(id, ids[i], err)) == 0)
			kura_index_batch_put_disposed(b, id, STAND_IN_AUDIT);
	}
	if (rc == 0)
		rc = kura_index_write(kura_store_index(st), b, 1, err);
	kura_index_batch_free(b);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2 || (argc > 2 && strcmp(argv[2], "--mark") != 0)) {
		fprintf(stderr, "usage: kura_compact_tool STORE [--mark ID...]\n");
		return 2;
	}
	kura_store *st = NULL;
	kura_error err = {0};
	kura_compact_result res;
	int rc = kura_store_open(&st, argv[1], KURA_STORE_WRITE, &err);
	if (rc == 0 && argc > 2)
		rc = mark(st, argv + 3, argc - 3, &err);
	else if (rc == 0 && (rc = kura_store_compact(st, &res, &err)) == 0)
		printf("compacted %llu %llu %llu %llu\n", (unsigned long long)res.segments, (unsigned long long)res.blobs,
		       (unsigned long long)res.bytes_before, (unsigned long long)res.bytes_after);
	kura_store_close(st);
	if (rc != 0) {
		fprintf(stderr, "kura: %s\n", err.message);
		return 3;
	}
	return 0;
}

/* kura scrub STORE: re-read every stored byte; one line per damaged place:
 *   DAMAGED <TAB> ID (or -) <TAB> segment N offset X <TAB> reason
 * Exit 1 if anything is damaged. */
#include <stdio.h>

#include "cli.h"
#include "kura/escape.h"
#include "kura/store.h"

static const char usage[] = "kura scrub STORE";
const char *const kura_usage_scrub = usage; /* kura help, --help (cli/help.c) */

static void report(void *ud, const char *id, uint32_t segno, uint64_t offset, const char *why)
{
	(void)ud;
	fputs("DAMAGED\t", stdout);
	kura_escape_print(stdout, id ? id : "-");
	printf("\tsegment %u offset %llu\t", segno, (unsigned long long)offset);
	kura_escape_print(stdout, why);
	putchar('\n');
}

static int count(void *ud, json_t *o, kura_error *err)
{
	(void)o;
	(void)err;
	(*(uint64_t *)ud)++;
	return 0;
}

int kura_cmd_scrub(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-')
		return kura_cli_usage(usage, "scrub takes one STORE");
	kura_error err = {0};
	kura_store *st = NULL;
	uint64_t damaged = 0, objects = 0;
	int rc = kura_store_open(&st, argv[1], KURA_STORE_READ, &err);
	if (rc == 0)
		rc = kura_store_scrub(st, report, NULL, &damaged, &err);
	if (rc == 0)
		rc = kura_store_each_object(st, count, &objects, &err);
	kura_store_close(st);
	if (rc != 0)
		return kura_cli_fail(&err);
	fflush(stdout);
	if (damaged) {
		fprintf(stderr, "kura: scrub found %llu damaged place(s) among %llu objects; restore them from a copy "
				"(kura get shows which objects can no longer be read)\n",
			(unsigned long long)damaged, (unsigned long long)objects);
		return 1;
	}
	fprintf(stderr, "kura: scrub ok: %llu objects verified\n", (unsigned long long)objects);
	return 0;
}

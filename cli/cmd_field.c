/* kura field add STORE NAME TYPE [--required-for CLASS]... [--actor NAME]
 * kura field ls STORE [--json]
 *
 * Search fields (kura/search.h): a metadata key given a type (date, datetime,
 * amount, integer, text, keyword), its values checked at ingest and kept in a
 * secondary index for `kura ls --where`. ls: one line per field,
 *   NAME <TAB> TYPE <TAB> required for CLASS,... (or -) [<TAB> index incomplete] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kura/escape.h"
#include "kura/search.h"

static const char usage[] = "kura field add STORE NAME TYPE [--required-for CLASS]... [--actor NAME]\n"
			    "       kura field ls STORE [--json]\n"
			    "  TYPE: date, datetime, amount, integer, text or keyword";
const char *const kura_usage_field = usage; /* kura help, --help (cli/help.c) */

static int add(int argc, char **argv)
{
	static const struct option opts[] = {
		{"required-for", required_argument, NULL, 'r'},
		{"actor", required_argument, NULL, 'a'},
		{0},
	};
	const char **req = calloc((size_t)argc, sizeof *req), *actor = NULL;
	size_t nreq = 0;
	int c;
	optind = 1;
	opterr = 0;
	while (req && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'r')
			req[nreq++] = optarg;
		else if (c == 'a')
			actor = optarg;
		else {
			free(req);
			return kura_cli_usage(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	kura_error err = {0};
	kura_field_type t;
	int rc;
	if (!req)
		rc = kura_error_set(&err, KURA_EINTERNAL, "out of memory");
	else if (argc - optind != 3)
		rc = kura_cli_usage(usage, "field add takes STORE NAME TYPE");
	else if ((rc = kura_field_type_parse(&t, argv[optind + 2], &err)) == 0)
		rc = kura_field_add(argv[optind], argv[optind + 1], t, req, nreq, actor, &err);
	free(req);
	return rc < 0 ? kura_cli_fail(&err) : rc;
}

static int list(int argc, char **argv)
{
	int json = 0, status = kura_cli_json_option(argc, argv, usage, &json);
	if (status != 0)
		return status;
	if (argc - optind != 1)
		return kura_cli_usage(usage, "field ls takes one STORE");
	kura_error err = {0};
	kura_store *st = NULL;
	kura_fields fs = {0};
	int rc = kura_store_open(&st, argv[optind], KURA_STORE_READ, &err);
	if (rc == 0)
		rc = kura_fields_load(&fs, st, &err);
	json_t *all = json_array();
	for (size_t i = 0; rc == 0 && i < fs.n; i++) {
		const kura_field *f = &fs.v[i];
		json_t *req = json_array();
		for (size_t j = 0; j < f->nrequired; j++)
			json_array_append_new(req, json_string(f->required_for[j]));
		json_array_append_new(all, json_pack("{s:s, s:s, s:o, s:b}", "name", f->name, "type",
						     kura_field_type_name(f->type), "required_for", req, "built", f->built));
		if (json)
			continue;
		kura_escape_print(stdout, f->name);
		printf("\t%s\t", kura_field_type_name(f->type));
		for (size_t j = 0; j < f->nrequired; j++) {
			printf("%s", j ? "," : "required for ");
			kura_escape_print(stdout, f->required_for[j]);
		}
		printf("%s%s\n", f->nrequired ? "" : "-", f->built ? "" : "\tindex incomplete: run kura field add again");
	}
	if (rc == 0 && json)
		rc = kura_cli_print_json(json_incref(all)) ? KURA_EIO : 0;
	json_decref(all);
	kura_fields_clear(&fs);
	kura_store_close(st);
	return rc ? kura_cli_fail(&err) : 0;
}

int kura_cmd_field(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return add(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "ls") == 0)
		return list(argc - 1, argv + 1);
	return kura_cli_usage(usage, "field takes add or ls");
}

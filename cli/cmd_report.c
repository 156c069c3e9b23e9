/* kura report STORE [ID... | --where 'FIELD OP VALUE'...] -o REPORT.html|REPORT.pdf:
 * a report people read of the chosen objects (all when none are named): a
 * summary, then each object's identity, metadata, versions, verdict and
 * evidence timeline (kura/report.h). The format is the output's extension.
 * The file appears whole or not at all (written beside it, then renamed).
 * Exit 0 when the report was written, whatever its verdicts say. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "kura/report.h"

static const char usage[] = "kura report STORE [ID... | --where 'FIELD OP VALUE'...] -o REPORT.html|REPORT.pdf";
const char *const kura_usage_report = usage; /* kura help, --help (cli/help.c) */

/* 'h' for .html or .htm, 'p' for .pdf, 0 for anything else. */
static int format_of(const char *path)
{
	const char *dot = strrchr(path, '.');
	if (dot && (strcasecmp(dot, ".html") == 0 || strcasecmp(dot, ".htm") == 0))
		return 'h';
	return dot && strcasecmp(dot, ".pdf") == 0 ? 'p' : 0;
}

/* What chose the objects, for the summary: "--where A --where B" as the
 * options came, "all objects" when nothing was named, NULL for IDs. */
static char *selection_of(int argc, char **argv, size_t nwhere, size_t nids)
{
	if (nwhere == 0)
		return nids ? NULL : strdup("all objects");
	size_t len = 1;
	for (int i = 1; i < argc; i++)
		len += strlen(argv[i]) + 10;
	char *s = calloc(1, len);
	for (int i = 1; s && i < argc; i++) {
		const char *cond = strncmp(argv[i], "--where=", 8) == 0 ? argv[i] + 8
				   : strcmp(argv[i], "--where") == 0 && i + 1 < argc ? argv[++i]
										: NULL;
		if (cond)
			strcat(strcat(strcat(s, s[0] ? " " : ""), "--where "), cond);
	}
	return s;
}

/* Writes the report to out: to out.part, then renamed over out. */
static int write_report(const char *out, int format, const json_t *report, kura_error *err)
{
	char *part = NULL;
	if (asprintf(&part, "%s.part", out) < 0)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	FILE *f = fopen(part, "wb");
	int rc = f ? 0
		     : kura_error_sys(err, KURA_EINPUT, "cannot write the report to %s (give -o a file in a folder you may write)", part);
	if (rc == 0)
		rc = format == 'h' ? kura_report_html(f, report, err) : kura_report_pdf(f, report, err);
	if (f && fclose(f) != 0 && rc == 0)
		rc = kura_error_sys(err, KURA_EIO, "cannot write the report to %s", part);
	if (rc == 0 && rename(part, out) != 0)
		rc = kura_error_sys(err, KURA_EIO, "cannot rename %s to %s", part, out);
	if (rc != 0 && f)
		remove(part);
	free(part);
	return rc;
}

static int parse(int argc, char **argv, const char **out, struct kura_cli_where *where, kura_error *err)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'}, {"where", required_argument, NULL, 'w'}, {0}};
	int c, rc = 0;
	optind = 0;
	opterr = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (c == 'o')
			*out = optarg;
		else if (c == 'w')
			rc = kura_cli_where_add(where, optarg, err);
		else
			rc = kura_cli_usage(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
	}
	if (rc == 0 && argc - optind < 1)
		rc = kura_cli_usage(usage, "report takes a STORE and optionally IDs or --where");
	else if (rc == 0 && !*out)
		rc = kura_cli_usage(usage, "say where the report goes: -o REPORT.html or -o REPORT.pdf");
	else if (rc == 0 && !format_of(*out))
		rc = kura_cli_usage(usage, "the report's format is its extension: .html or .pdf, not '%s'", *out);
	else if (rc == 0 && where->n && argc - optind > 1)
		rc = kura_cli_usage(usage, "give IDs or --where, not both");
	return rc;
}

int kura_cmd_report(int argc, char **argv)
{
	const char *out = NULL;
	struct kura_cli_where where = {0};
	kura_error err = {0};
	char **ids = NULL, *selection = NULL;
	int rc = parse(argc, argv, &out, &where, &err);
	size_t n = rc == 0 ? (size_t)(argc - optind - 1) : 0;
	if (rc == 0)
		selection = selection_of(argc, argv, where.n, n);
	if (rc == 0 && where.n)
		rc = kura_cli_where_ids(&ids, &n, argv[optind], &where, &err);
	kura_cli_where_clear(&where);
	if (rc > 0) {
		free(selection);
		return rc;
	}
	kura_store *st = NULL;
	json_t *report = NULL;
	kura_report_options o = {.kura_version = kura_cli_version, .store = argv[optind], .selection = selection};
	if (rc == 0)
		rc = kura_store_open(&st, argv[optind], KURA_STORE_READ, &err);
	if (rc == 0)
		rc = kura_report_build(&report, st, (const char *const *)(ids ? ids : argv + optind + 1), n, &o, &err);
	kura_store_close(st);
	if (rc == 0)
		rc = write_report(out, format_of(out), report, &err);
	if (rc == 0)
		kura_cli_warn("report of %zu object(s) written to %s", json_array_size(json_object_get(report, "objects")), out);
	json_decref(report);
	free(ids);
	free(selection);
	return rc != 0 ? kura_cli_fail(&err) : 0;
}

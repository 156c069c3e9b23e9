/* kura ingest STORE [--meta KEY=VALUE]... [--no-seal] [--signature SIG] [--crl FILE]...
 *                   [--accept-invalid] [--allow-no-revocation]
 *                   [--supersedes ID | --versions-by-path] [--class CLASS] [--event NAME=DATE]...
 *                   [--reason TEXT] [--actor NAME] (PATH... | --manifest FILES.csv)
 *
 * --name NAME: the name of the document read from standard input (PATH "-");
 * without it, "stdin".
 *
 * --manifest: the files and each one's metadata from a CSV file (kura/ingest.h),
 * read and checked whole before anything is written, ingested in one commit.
 *
 * Ingests as kura/ingest.h says, in proof/ingest_files.c (every PATH checked before anything is
 * written; folders walked in byte order of the names; signed documents kept
 * with their signatures). One line "ID<TAB>SHA256<TAB>PATH" is printed per
 * object, only once it is durable. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "kura/escape.h"
#include "kura/ingest.h"
#include "kura/progress.h"
#include "kura/records.h"
#include "kura/trust.h"

static const char usage[] = "kura ingest STORE [--meta KEY=VALUE]... [--no-seal] [--signature SIG] [--crl FILE]...\n"
			    "                   [--accept-invalid] [--allow-no-revocation]\n"
			    "                   [--supersedes ID | --versions-by-path] [--class CLASS] [--event NAME=DATE]...\n"
			    "                   [--reason TEXT] [--actor NAME] PATH...   (PATH: file, folder or -)\n"
			    "       kura ingest STORE [OPTION]... - --name NAME   (standard input, stored as NAME)\n"
			    "       kura ingest STORE [OPTION]... --manifest FILES.csv\n"
			    "                   FILES.csv (UTF-8, as Excel's \"CSV UTF-8\"): a first row path,KEY,KEY...; then one\n"
			    "                   row per file: its path (relative to the folder of FILES.csv, or absolute),\n"
			    "                   then its values (an empty cell: no such key); a --meta KEY is not also a column";
const char *const kura_usage_ingest = usage; /* kura help, --help (cli/help.c) */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* What the ingest says: the lines of a batch go out together, as stdout is
 * flushed after every document and only a commit, which makes them durable
 * first, prints any. */
struct printer {
	kura_progress *progress;
};

static void print_done(void *ud, const char *id, const char *sha256_hex, const char *path)
{
	(void)ud;
	printf("%s\t%s\t", id, sha256_hex);
	kura_escape_print(stdout, path); /* a name with a tab or newline still makes one line */
	putchar('\n');
}

static void warn(void *ud, const char *message)
{
	(void)ud;
	kura_cli_warn("%s", message);
}

/* Ctrl-C or SIGTERM from the first document on: finish the document in hand, commit, report, stop. */
static void start(void *ud, uint64_t total_bytes)
{
	struct printer *p = ud;
	p->progress = kura_progress_new("ingest", total_bytes);
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void progress(void *ud, uint64_t done_bytes, uint64_t done_items)
{
	struct printer *p = ud;
	fflush(stdout);
	kura_progress_update(p->progress, done_bytes, done_items);
}

static void end(void *ud)
{
	struct printer *p = ud;
	kura_progress_free(p->progress);
	p->progress = NULL;
}

static void committed(void *ud, uint64_t objects, int failed)
{
	(void)ud;
	fflush(stdout);
	if (!failed && isatty(STDERR_FILENO))
		fprintf(stderr, "kura: %llu objects ingested\n", (unsigned long long)objects);
}

static int parse_meta(kura_meta *m, char *arg)
{
	if (kura_cli_split(arg, &m->key, &m->value) != 0)
		return kura_cli_usage(usage, "--meta takes KEY=VALUE, not '%s'", arg);
	kura_error err = {0};
	if (kura_ingest_check_meta(m, &err) != 0)
		return kura_cli_fail(&err);
	return 0;
}

static int parse_event(kura_event *e, char *arg)
{
	if (kura_cli_split(arg, &e->name, &e->date) != 0)
		return kura_cli_usage(usage, "--event takes NAME=DATE (e.g. handover=2026-03-31), not '%s'", arg);
	return 0;
}

/* --supersedes, --versions-by-path, --class, --event, --reason, --actor */
static int records_option(kura_records_ingest *r, kura_event *events, int c, char *arg)
{
	if (c == 'S')
		r->supersedes = arg;
	else if (c == 'V')
		r->versions_by_path = 1;
	else if (c == 'C')
		r->class_name = arg;
	else if (c == 'E')
		return parse_event(&events[r->nevents++], arg);
	else if (c == 'R')
		r->reason = arg;
	else
		r->actor = arg;
	return 0;
}

/* The ingest of the PATHs paths[0..n), or of the files of manifest (not NULL). */
static int run(const char *store, const char *const *paths, size_t n, const char *manifest, kura_ingest_options *o,
	       const kura_records_ingest *r)
{
	kura_error err = {0};
	kura_manifest *m = NULL;
	if (manifest && kura_manifest_load(&m, manifest, o->meta, o->nmeta, &err) != 0)
		return kura_cli_fail(&err);
	struct printer printer = {0};
	kura_ingest_events ev = {.done = print_done, .warn = warn, .start = start, .progress = progress, .end = end,
				 .committed = committed, .seal = &kura_cli_seal_events, .ud = &printer};
	o->manifest = m;
	int rc = m ? kura_records_ingest_paths(store, kura_manifest_paths(m), kura_manifest_count(m), o, r, &ev, &err)
		   : kura_records_ingest_paths(store, paths, n, o, r, &ev, &err);
	kura_manifest_free(m);
	kura_progress_free(printer.progress);
	return rc != 0 ? kura_cli_fail(&err) : 0;
}

/* Whether "-" (standard input) is among the n PATHs. */
static int stdin_given(int n, char **paths)
{
	for (int i = 0; i < n; i++)
		if (strcmp(paths[i], "-") == 0)
			return 1;
	return 0;
}

int kura_cmd_ingest(int argc, char **argv)
{
	static const struct option opts[] = {
		{"meta", required_argument, NULL, 'm'},
		{"no-seal", no_argument, NULL, 'n'},
		{"signature", required_argument, NULL, 's'},
		{"crl", required_argument, NULL, 'c'},
		{"accept-invalid", no_argument, NULL, 'a'},
		{"allow-no-revocation", no_argument, NULL, 'r'},
		{"supersedes", required_argument, NULL, 'S'},
		{"versions-by-path", no_argument, NULL, 'V'},
		{"class", required_argument, NULL, 'C'},
		{"event", required_argument, NULL, 'E'},
		{"reason", required_argument, NULL, 'R'},
		{"actor", required_argument, NULL, 'A'},
		{"manifest", required_argument, NULL, 'M'},
		{"name", required_argument, NULL, 'N'},
		{0},
	};
	kura_event *events = calloc((size_t)argc, sizeof *events);
	kura_records_ingest r = {.events = events};
	kura_meta *meta = calloc((size_t)argc, sizeof *meta);
	size_t nmeta = 0;
	int c, status = 0, no_seal = 0;
	const char *sig_path = NULL, *manifest = NULL, *name = NULL;
	kura_signed_options so = {.crls = sk_X509_CRL_new_null()};
	kura_error err = {0};
	if (!meta || !so.crls || !events)
		return 3;
	optind = 0;
	opterr = 0;
	while (status == 0 && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'm')
			status = parse_meta(&meta[nmeta++], optarg);
		else if (c == 'n')
			no_seal = 1;
		else if (c == 's')
			sig_path = optarg;
		else if (c == 'M')
			manifest = optarg;
		else if (c == 'N')
			name = optarg;
		else if (c == 'c')
			status = kura_revocation_load_crls(so.crls, optarg, &err) ? kura_cli_fail(&err) : 0;
		else if (c == 'a')
			so.accept_invalid = 1;
		else if (c == 'r')
			so.allow_no_revocation = 1;
		else if (c > 0 && strchr("SVCERA", c))
			status = records_option(&r, events, c, optarg);
		else
			status = kura_cli_usage(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
	}
	if (status == 0 && manifest && (argc - optind != 1 || sig_path))
		status = kura_cli_usage(usage, "--manifest FILES.csv names the files: give only the STORE besides (and no --signature)");
	if (status == 0 && !manifest && argc - optind < 2)
		status = kura_cli_usage(usage, "ingest needs a STORE and at least one PATH (or --manifest FILES.csv)");
	if (status == 0 && name && !stdin_given(argc - optind - 1, argv + optind + 1))
		status = kura_cli_usage(usage, "--name NAME names the document read from standard input: give - as a PATH");
	if (status == 0 && name && (!*name || strchr(name, '/')))
		status = kura_cli_usage(usage, "--name takes a file name (not empty, no '/'), not '%s'", name);
	struct stat sb;
	if (status == 0 && sig_path && (argc - optind != 2 || stat(argv[optind + 1], &sb) != 0 || !S_ISREG(sb.st_mode)))
		status = kura_cli_usage(usage, "--signature SIG goes with exactly one document, a regular file");
	if (status == 0) {
		kura_ingest_options o = {.meta = meta, .nmeta = nmeta, .signature = sig_path, .signed_opts = so,
					 .no_seal = no_seal, .stdin_name = name, .sizes = isatty(STDERR_FILENO), .stop = &interrupted};
		status = run(argv[optind], (const char *const *)argv + optind + 1, (size_t)(argc - optind - 1), manifest,
			     &o, &r);
	}
	free(meta);
	free(events);
	sk_X509_CRL_pop_free(so.crls, X509_CRL_free);
	return status;
}

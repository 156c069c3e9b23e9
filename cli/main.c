/* The `kura` command: dispatches to one file per subcommand (cmd_*.c). */
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "kura/escape.h"
#include "kura/log.h"
#include "kura/version.h"


const char kura_cli_version[] = KURA_VERSION;

static const struct {
	const char *name;
	int (*run)(int, char **);
	const char *summary;
} commands[] = {
	{"init", kura_cmd_init, "create a store"},
	{"ingest", kura_cmd_ingest, "add files, folders, stdin or the files of a CSV manifest to a store"},
	{"ls", kura_cmd_ls, "list the records of a store (their current versions)"},
	{"field", kura_cmd_field, "search fields: give a metadata key a type and an index (add), list them (ls)"},
	{"history", kura_cmd_history, "every version of a record and every change to it: who, when, why"},
	{"log", kura_cmd_log, "the audit trail: who changed what, when and why (--verify: check it and its evidence)"},
	{"meta", kura_cmd_meta, "change a record's metadata (set): a new version, the old values kept"},
	{"retention", kura_cmd_retention, "retention classes (show, set) and retention events of records (event)"},
	{"hold", kura_cmd_hold, "legal holds: add, release, ls"},
	{"dispose", kura_cmd_dispose, "disposal: --plan, --request, --approve (by another actor), --refuse"},
	{"timeliness", kura_cmd_timeliness, "電子帳簿保存法: was each document time-stamped in time after it was received?"},
	{"get", kura_cmd_get, "write an object's bytes out, verified"},
	{"show", kura_cmd_show, "describe one object"},
	{"scrub", kura_cmd_scrub, "re-read and verify every stored byte"},
	{"reindex", kura_cmd_reindex, "rebuild the index from the segments alone"},
	{"migrate", kura_cmd_migrate, "move a store's segments to a Ceph pool or back (split when larger than its objects)"},
	{"attach", kura_cmd_attach, "make a folder on this machine a reader of a store kept in a Ceph pool"},
	{"seal", kura_cmd_seal, "time-stamp every pending object (one tree, one time-stamp)"},
	{"evidence", kura_cmd_evidence, "write an object's RFC 4998 evidence record"},
	{"verify", kura_cmd_verify, "verify objects against their evidence records"},
	{"report", kura_cmd_report, "a report people read (HTML or PDF): verdicts, metadata, versions, evidence timelines"},
	{"verify-er", kura_cmd_verify_er, "verify an evidence record and its data, no store needed"},
	{"export", kura_cmd_export, "write objects and their evidence as a package others verify without kura"},
	{"import", kura_cmd_import, "adopt documents with evidence records: a kura export or FILE + FILE.ers pairs"},
	{"verify-export", kura_cmd_verify_export, "check a package made by export: manifests and every record"},
	{"renew", kura_cmd_renew, "renew the evidence that is due (--plan: show what is due when)"},
	{"status", kura_cmd_status, "the store at a glance: evidence health, TSAs, daemon, scrub, space; what to do"},
	{"daemon", kura_cmd_daemon, "the renewal scheduler: seal and renew, then sleep until the next due time"},
	{"policy", kura_cmd_policy, "show or change the renewal policy (algorithm ends, margins)"},
	{"trust", kura_cmd_trust, "add trust anchors for foreign TSAs or document signers"},
	{"user", kura_cmd_user, "accounts of the preservation service: add (prints its token once), ls, remove, cert (client certificates)"},
	{"serve", kura_cmd_serve, "the preservation service: the store over HTTP to the accounts of kura user"},
	{"tsa", kura_cmd_tsa, "the TSAs: the embedded one's roots (ca), which to use (urls), which are certified (certify, uncertify, certified), serve RFC 3161 over HTTP (serve)"},
};

int kura_cli_fail(const kura_error *err)
{
	fputs("kura: ", stderr); /* escaped: a name in the message may hold any byte */
	kura_escape_print(stderr, err->message[0] ? err->message : "failed");
	fputc('\n', stderr);
	return kura_cli_exit_status(err->code);
}

void kura_cli_warn(const char *fmt, ...)
{
	char msg[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fputs("kura: ", stderr);
	kura_escape_print(stderr, msg);
	fputc('\n', stderr);
}

/* The message names what the user typed (an option, a value): escaped like
 * every other message, so that it cannot move the cursor or forge a line. */
int kura_cli_usage(const char *usage, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fputs("kura: ", stderr);
	kura_escape_print(stderr, msg);
	fprintf(stderr, "\nusage: %s\n", usage);
	return 2;
}

int kura_cli_json_option(int argc, char **argv, const char *usage, int *json)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {0}};
	int c;
	optind = 0;
	opterr = 0;
	*json = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'j')
			return kura_cli_usage(usage, "unknown option '%s'", argv[optind - 1]);
		*json = 1;
	}
	return 0;
}

int kura_cli_split(char *arg, const char **key, const char **value)
{
	char *eq = strchr(arg, '=');
	if (!eq || eq == arg)
		return -1;
	*eq = '\0';
	*key = arg;
	*value = eq + 1;
	return 0;
}

int kura_cli_number(unsigned long long *out, const char *text, unsigned long long min, unsigned long long max)
{
	unsigned long long v = 0;
	if (!*text)
		return -1;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9' || v > (ULLONG_MAX - (unsigned)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int kura_cli_output_option(int argc, char **argv, const char *usage, const char **out)
{
	static const struct option opts[] = {{"output", required_argument, NULL, 'o'}, {0}};
	int c;
	optind = 0;
	opterr = 0;
	*out = NULL;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (c != 'o')
			return kura_cli_usage(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
		*out = optarg;
	}
	return 0;
}

/* The library's messages: "kura: " and the text, escaped as every line kura
 * prints (kura/escape.h): a name in a message may hold any byte, and one
 * message stays one line. */
static void print_message(void *ud, int level, const char *text)
{
	(void)ud;
	fprintf(stderr, "kura: %s", level == KURA_LOG_WARNING ? "warning: " : level == KURA_LOG_LOST ? "  lost: " : "");
	kura_escape_print(stderr, text);
	fputc('\n', stderr);
}

/* One progress line, rewritten in place on the terminal; cleared when done. */
static void print_progress(void *ud, const char *label, uint64_t done_bytes, uint64_t total_bytes, uint64_t items)
{
	(void)ud;
	double mib = (double)done_bytes / (1 << 20);
	if (!label)
		fprintf(stderr, "\r\033[K");
	else if (total_bytes)
		fprintf(stderr, "\r%s: %.1f / %.1f MiB (%3.0f%%), %llu items ", label, mib, (double)total_bytes / (1 << 20),
			100.0 * (double)done_bytes / (double)total_bytes, (unsigned long long)items);
	else
		fprintf(stderr, "\r%s: %.1f MiB, %llu items ", label, mib, (unsigned long long)items);
	fflush(stderr);
}

static void help(FILE *out)
{
	fprintf(out, "kura %s: a long-term archive with evidence records\n\nusage: kura COMMAND [ARGS]\n"
		     "       kura help COMMAND (or kura COMMAND --help): one command's usage\n\n", KURA_VERSION);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-13s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nExit status: 0 success, 1 verification failed or not found, 2 bad usage or input,\n"
		     "3 I/O or internal failure. KURA_NOW=2031-05-01T00:00:00Z sets the clock.\n");
}

/* kura help [CMD]: every command, or one command's usage (cli/help.c). */
static int help_on(const char *name)
{
	if (!name) {
		help(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(name, commands[i].name) == 0)
			return kura_cli_help_command(commands[i].name, commands[i].summary);
	kura_cli_warn("'%s' is not a kura command; kura help lists them", name);
	return 2;
}

int main(int argc, char **argv)
{
	/* progress only on a terminal; the library reports it at most five times a second */
	kura_log_set(&(kura_log){print_message, isatty(STDERR_FILENO) ? print_progress : NULL, NULL});
	if (argc < 2) {
		help(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0)
		return help_on(argc > 2 ? argv[2] : NULL);
	if (strcmp(argv[1], "--version") == 0) {
		printf("kura %s\n", KURA_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return kura_cli_wants_help(argc - 1, argv + 1) ? kura_cli_help_command(commands[i].name, commands[i].summary)
								      : commands[i].run(argc - 1, argv + 1);
	kura_cli_warn("'%s' is not a kura command; kura help lists them", argv[1]);
	return 2;
}

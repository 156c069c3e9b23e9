/* What the subcommands of the `kura` command share: their entry points, and how
 * they report a failure (message on stderr, exit status from DESIGN.md). */
#ifndef KURA_CLI_H
#define KURA_CLI_H

#include <jansson.h>

#include "kura/error.h"

int kura_cmd_init(int argc, char **argv);
int kura_cmd_ingest(int argc, char **argv);
int kura_cmd_ls(int argc, char **argv);
int kura_cmd_get(int argc, char **argv);
int kura_cmd_show(int argc, char **argv);
int kura_cmd_scrub(int argc, char **argv);
int kura_cmd_reindex(int argc, char **argv);
int kura_cmd_verify_er(int argc, char **argv);
int kura_cmd_seal(int argc, char **argv);
int kura_cmd_evidence(int argc, char **argv);
int kura_cmd_verify(int argc, char **argv);
int kura_cmd_tsa(int argc, char **argv);
/* kura tsa certify | uncertify | certified (cli/cmd_tsa_certify.c): argv[0] is the subcommand. */
int kura_cmd_tsa_certify(int argc, char **argv);
int kura_cmd_trust(int argc, char **argv);
int kura_cmd_policy(int argc, char **argv);
int kura_cmd_renew(int argc, char **argv);
int kura_cmd_daemon(int argc, char **argv);
int kura_cmd_export(int argc, char **argv);
int kura_cmd_verify_export(int argc, char **argv);
int kura_cmd_import(int argc, char **argv);
int kura_cmd_history(int argc, char **argv);
int kura_cmd_meta(int argc, char **argv);
int kura_cmd_retention(int argc, char **argv);
int kura_cmd_hold(int argc, char **argv);
int kura_cmd_dispose(int argc, char **argv);
int kura_cmd_field(int argc, char **argv);
int kura_cmd_user(int argc, char **argv);
int kura_cmd_serve(int argc, char **argv);
int kura_cmd_timeliness(int argc, char **argv);
int kura_cmd_report(int argc, char **argv);
int kura_cmd_migrate(int argc, char **argv);
int kura_cmd_attach(int argc, char **argv);

/* This kura's version ("0.1.0"), for what it writes about itself. */
extern const char kura_cli_version[];
int kura_cmd_status(int argc, char **argv);

/* --where conditions (cli/where.c): added as the options come; the IDs of the
 * current versions they hold for (*ids one block, the caller's: free();
 * KURA_ENOTFOUND when none). */
struct kura_where;
struct kura_cli_where {
	struct kura_where *v;
	size_t n;
};
int kura_cli_where_add(struct kura_cli_where *w, const char *text, kura_error *err);
void kura_cli_where_clear(struct kura_cli_where *w);
int kura_cli_where_ids(char ***ids, size_t *n, const char *store, const struct kura_cli_where *w, kura_error *err);
/* n IDs back to back (KURA_ID_LEN characters each) as strings: *ids one block, the caller's (free()). */
int kura_cli_id_list(char ***ids, const char *flat, size_t n, kura_error *err);

/* Retention, holds and disposal (cmd_retention.c): the options they share. */
struct kura_store;
struct kura_cli_change {
	const char *reason, *actor, *all_of_class, *request;
	int json;
	int mode; /* dispose: 'p' --plan, 'q' --request, 'a' --approve, 'f' --refuse, 'r' --resume, 'c' --compact */
};
/* Parses --reason, --actor, --all-of-class, --plan, --request, --approve,
 * --refuse and (json_ok) --json; optind is left at the first operand. 0 or the usage status. */
int kura_cli_changes(struct kura_cli_change *o, int argc, char **argv, const char *usage, int json_ok);
/* Opens a store (for writing when write) acting as actor (NULL: the default). */
int kura_cli_open(struct kura_store **st, const char *path, int write, const char *actor, kura_error *err);
/* Prints j indented and drops it; 0, or 3 if it cannot. */
int kura_cli_print_json(json_t *j);
int kura_cmd_log(int argc, char **argv);

struct kura_run_report;
struct kura_seal_events;
/* Prints what a renewal run did on store; returns its exit status (1 if a chain was refused or is
 * still overdue: the message names the commands that help). */
int kura_cli_report_run(const struct kura_run_report *r, int json, const char *store);
/* What a seal says on stderr (cmd_seal.c): for every command that seals. */
extern const struct kura_seal_events kura_cli_seal_events;

/* Parses the options of a command whose only option is --json: sets *json and
 * leaves optind at the first operand. Returns 0, or the exit status of a usage error. */
int kura_cli_json_option(int argc, char **argv, const char *usage, int *json);

/* The same for a command whose only option is -o/--output FILE (*out NULL if absent). */
int kura_cli_output_option(int argc, char **argv, const char *usage, const char **out);

/* A whole number from an option: decimal digits only (no sign, space or
 * trailing text), no overflow, min..max. 0 and *out, or -1. */
/* --listen HOST:PORT (an IPv4 address or localhost; port 0: any free one) as an
 * address, and HOST (at most 255 bytes) for messages: 0, else the usage status. */
struct sockaddr_in;
int kura_cli_listen(struct sockaddr_in *sa, char host[256], const char *listen, const char *usage);
int kura_cli_number(unsigned long long *out, const char *text, unsigned long long min, unsigned long long max);

/* Splits "KEY=VALUE" in place (arg's '=' becomes a NUL): 0, or -1 when there is
 * no '=' or the key is empty. */
int kura_cli_split(char *arg, const char **key, const char **value);

/* Help (cli/help.c): whether a command's arguments (argv[0]: the command)
 * ask for its usage (--help or -h before any "--"), and the usage of command
 * name printed on stdout, with its summary (may be NULL); returns 0. */
int kura_cli_wants_help(int argc, char **argv);
int kura_cli_help_command(const char *name, const char *summary);

/* The exit status (0-3) for an error's kind (cli/exit_status.c). */
int kura_cli_exit_status(int code);
/* Prints "kura: <message>" and returns the exit status for err's code. */
int kura_cli_fail(const kura_error *err);
/* Prints "kura: <message>" on stderr, escaped (common/escape.h): for messages that name files. */
void kura_cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "kura <cmd>: <message>" and the command's usage line; returns 2. */
int kura_cli_usage(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

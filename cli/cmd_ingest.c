/* kura ingest STORE [--meta KEY=VALUE]... [--no-seal] [--signature SIG] [--crl FILE]...
 *                   [--accept-invalid] [--allow-no-revocation] PATH...
 *
 * Every PATH is checked before anything is written (a missing path leaves the
 * store untouched); folders are walked recursively in byte order of the names.
 * One line "ID<TAB>SHA256<TAB>PATH" is printed per object, only once it is durable.
 * A document with --signature (detached CMS), and every file named *.p7m
 * (attached CMS), is stored with its signature and validation data as one
 * data object group (proof/signed.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/escape.h"
#include "common/fsutil.h"
#include "common/progress.h"
#include "evidence/revocation.h"
#include "kura/ingest.h"
#include "proof/signed.h"

#include <jansson.h>

static const char usage[] = "kura ingest STORE [--meta KEY=VALUE]... [--no-seal] [--signature SIG] [--crl FILE]...\n"
			    "                   [--accept-invalid] [--allow-no-revocation] PATH...   (PATH: file, folder or -)";

struct file_list {
	char **paths;
	uint64_t *sizes; /* as the walk saw them, for the progress line */
	size_t n, cap;
	uint64_t bytes;
	int sizes_shown; /* is there a progress line? (else a folder's plain files need no stat) */
	dev_t store_dev; /* the store's own folder is never ingested into itself */
	ino_t store_ino;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int add_path(struct file_list *l, const char *path, uint64_t size)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char **g = realloc(l->paths, cap * sizeof *g);
		if (g)
			l->paths = g;
		uint64_t *s = g ? realloc(l->sizes, cap * sizeof *s) : NULL;
		if (!s)
			return -1;
		l->sizes = s;
		l->cap = cap;
	}
	if (!(l->paths[l->n] = strdup(path)))
		return -1;
	l->sizes[l->n++] = size;
	l->bytes += size;
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* add_path for a file found in a folder */
static int add_walked(struct file_list *l, const char *path, uint64_t size, kura_error *err)
{
	return add_path(l, path, size) ? kura_error_set(err, KURA_EINTERNAL, "out of memory") : 0;
}

static int walk(struct file_list *l, const char *dir, kura_error *err)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, by_name);
	if (n < 0)
		return kura_error_sys(err, KURA_EINPUT, "cannot read folder %s", dir);
	int rc = 0;
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		char path[4096];
		struct stat st, lst;
		if (rc != 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (snprintf(path, sizeof path, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name) >= (int)sizeof path) {
			rc = kura_error_set(err, KURA_EINPUT, "path too long under %s", dir);
		} else if (names[i]->d_type == DT_REG && !l->sizes_shown) {
			rc = add_walked(l, path, 0, err);
		} else if (lstat(path, &lst) != 0 || (S_ISLNK(lst.st_mode) ? stat(path, &st) : (st = lst, 0)) != 0) {
			if (S_ISLNK(lst.st_mode))
				kura_cli_warn("skipping %s: a link to nothing", path);
			else
				rc = kura_error_sys(err, KURA_EINPUT, "cannot read %s", path);
		} else if (S_ISDIR(st.st_mode)) {
			if (S_ISLNK(lst.st_mode))
				kura_cli_warn("skipping %s: a link to a folder (not followed)", path);
			else if (st.st_dev == l->store_dev && st.st_ino == l->store_ino)
				kura_cli_warn("skipping %s: it is the store itself", path);
			else
				rc = walk(l, path, err);
		} else if (S_ISREG(st.st_mode)) {
			rc = add_walked(l, path, (uint64_t)st.st_size, err);
		} else {
			kura_cli_warn("skipping %s: not a regular file", path);
		}
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

/* Resolves the command line's PATHs into the files to ingest, in order. */
static int collect(struct file_list *l, char **paths, int n, kura_error *err)
{
	int stdin_seen = 0;
	for (int i = 0; i < n; i++) {
		struct stat st;
		if (strcmp(paths[i], "-") == 0) {
			if (stdin_seen++)
				return kura_error_set(err, KURA_EINPUT, "'-' (standard input) can be given only once");
			if (add_path(l, "-", 0) != 0)
				return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		} else if (stat(paths[i], &st) != 0) {
			return kura_error_sys(err, KURA_EINPUT, "cannot ingest %s", paths[i]);
		} else if (S_ISDIR(st.st_mode)) {
			if (st.st_dev == l->store_dev && st.st_ino == l->store_ino)
				return kura_error_set(err, KURA_EINPUT, "%s is the store itself", paths[i]);
			int rc = walk(l, paths[i], err);
			if (rc != 0)
				return rc;
		} else if (S_ISREG(st.st_mode)) {
			if (access(paths[i], R_OK) != 0)
				return kura_error_sys(err, KURA_EINPUT, "cannot read %s", paths[i]);
			if (add_path(l, paths[i], (uint64_t)st.st_size) != 0)
				return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		} else {
			return kura_error_set(err, KURA_EINPUT, "%s is not a regular file or folder", paths[i]);
		}
	}
	return 0;
}

struct printer {
	uint64_t count;
};

/* The lines of a batch go out together: the loop flushes stdout after every
 * document, and only a commit, which makes them durable first, prints any. */
static void print_done(void *ud, const char *id, const char *sha256_hex, const char *path)
{
	struct printer *p = ud;
	p->count++;
	printf("%s\t%s\t", id, sha256_hex);
	kura_escape_print(stdout, path); /* a name with a tab or newline still makes one line */
	putchar('\n');
}

static int parse_meta(kura_meta *m, char *arg)
{
	char *eq = strchr(arg, '=');
	if (!eq || eq == arg)
		return kura_cli_usage(usage, "--meta takes KEY=VALUE, not '%s'", arg);
	*eq = '\0';
	m->key = arg;
	m->value = eq + 1;
	kura_error err = {0};
	if (kura_ingest_check_meta(m, &err) != 0)
		return kura_cli_fail(&err);
	return 0;
}

static int is_p7m(const char *path)
{
	size_t n = strlen(path);
	return n > 4 && strcasecmp(path + n - 4, ".p7m") == 0;
}

/* One document with its signature: the signature checked and its validation
 * data collected before anything is written. */
static int add_signed(kura_ingest *in, kura_store *st, int fd, const char *path, const char *name, const kura_meta *meta,
		      size_t nmeta, const char *sig_path, const kura_signed_options *so, kura_error *err)
{
	char *sig = NULL;
	size_t siglen = 0;
	kura_signed prepared;
	int rc = 0;
	if (sig_path && kura_fs_read_file(sig_path, 64u << 20, &sig, &siglen) != 0)
		rc = kura_error_sys(err, KURA_EINPUT, "cannot read signature %s", sig_path);
	if (rc == 0)
		rc = kura_signed_prepare(&prepared, st, path, (unsigned char *)sig, siglen, sig_path, so, err);
	if (rc == 0) {
		rc = kura_ingest_add_group(in, fd, path, name, meta, nmeta, prepared.members, prepared.nmembers,
					   prepared.report, err);
		const char *verdict = json_string_value(json_object_get(prepared.report, "signature"));
		if (rc == 0 && strcmp(verdict, "valid") != 0)
			kura_cli_warn("%s: signature %s: %s (stored as asked)", path, verdict,
				json_string_value(json_object_get(prepared.report, "reason")));
		kura_signed_clear(&prepared);
	}
	free(sig);
	return rc;
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
		{0},
	};
	kura_meta *meta = calloc((size_t)argc, sizeof *meta);
	size_t nmeta = 0;
	int c, status = 0, no_seal = 0;
	const char *sig_path = NULL;
	kura_signed_options so = {.crls = sk_X509_CRL_new_null()};
	kura_error err = {0};
	if (!meta || !so.crls)
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
		else if (c == 'c')
			status = kura_revocation_load_crls(so.crls, optarg, &err) ? kura_cli_fail(&err) : 0;
		else if (c == 'a')
			so.accept_invalid = 1;
		else if (c == 'r')
			so.allow_no_revocation = 1;
		else
			status = kura_cli_usage(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
	}
	if (status == 0 && argc - optind < 2)
		status = kura_cli_usage(usage, "ingest needs a STORE and at least one PATH");
	struct stat sb;
	if (status == 0 && sig_path && (argc - optind != 2 || stat(argv[optind + 1], &sb) != 0 || !S_ISREG(sb.st_mode)))
		status = kura_cli_usage(usage, "--signature SIG goes with exactly one document, a regular file");
	if (status != 0) {
		free(meta);
		sk_X509_CRL_pop_free(so.crls, X509_CRL_free);
		return status;
	}
	char **pos = argv + optind;
	int npos = argc - optind;

	struct file_list files = {0};
	kura_store *st = NULL;
	kura_ingest *in = NULL;
	kura_prefetch *pf = NULL;
	const char **ahead = NULL;
	struct printer printer = {0};
	kura_progress *progress = NULL;
	files.sizes_shown = isatty(STDERR_FILENO);
	if (stat(pos[0], &sb) == 0) {
		files.store_dev = sb.st_dev;
		files.store_ino = sb.st_ino;
	}
	int rc = collect(&files, pos + 1, npos - 1, &err);
	if (rc == 0)
		rc = kura_store_open(&st, pos[0], KURA_STORE_WRITE, &err);
	if (rc == 0)
		rc = kura_ingest_new(&in, st, print_done, &printer, &err);
	/* plain files are read, hashed and compressed ahead by worker threads; standard
	 * input and signed documents are read here */
	if (rc == 0 && !(ahead = calloc(files.n + 1, sizeof *ahead)))
		rc = kura_error_set(&err, KURA_EINTERNAL, "out of memory");
	for (size_t i = 0; rc == 0 && i < files.n; i++)
		if (!sig_path && strcmp(files.paths[i], "-") != 0 && !is_p7m(files.paths[i]))
			ahead[i] = files.paths[i];
	if (rc == 0)
		rc = kura_prefetch_new(&pf, st, ahead, files.n, &err);
	if (rc == 0)
		progress = kura_progress_new("ingest", files.bytes);
	/* Ctrl-C or SIGTERM: finish the document in hand, commit, report, stop. */
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	uint64_t done_bytes = 0;
	for (size_t i = 0; rc == 0 && i < files.n; i++) {
		if (interrupted) {
			rc = kura_error_set(&err, KURA_EIO, "interrupted: the objects printed above are stored, "
							    "%zu of %zu paths were not ingested", files.n - i, files.n);
			break;
		}
		const char *path = files.paths[i];
		int is_stdin = strcmp(path, "-") == 0;
		const char *slash = strrchr(path, '/');
		const char *name = is_stdin ? "stdin" : slash ? slash + 1 : path;
		if (ahead[i]) {
			rc = kura_ingest_add_prefetched(in, pf, i, name, meta, nmeta, &err);
		} else {
			kura_prefetch_skip(pf, i);
			int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				rc = kura_error_sys(&err, errno == EIO ? KURA_EIO : KURA_EINPUT, "cannot read %s", path);
				break;
			}
			if (sig_path || !is_stdin)
				rc = add_signed(in, st, fd, path, name, meta, nmeta, sig_path, &so, &err);
			else
				rc = kura_ingest_add(in, fd, path, name, meta, nmeta, &err);
			if (!is_stdin)
				close(fd);
		}
		if (rc != 0)
			kura_error_wrap(&err, "ingesting %s", path);
		fflush(stdout);
		done_bytes += files.sizes[i];
		kura_progress_update(progress, done_bytes, i + 1);
	}
	kura_prefetch_free(pf);
	kura_progress_free(progress);
	/* what was added before a failure is still made durable and reported */
	kura_error cerr = {0};
	if (in && kura_ingest_commit(in, &cerr) != 0 && rc == 0) {
		rc = cerr.code;
		err = cerr;
	}
	fflush(stdout);
	if (rc == 0 && isatty(STDERR_FILENO))
		fprintf(stderr, "kura: %llu objects ingested\n", (unsigned long long)printer.count);
	/* seal what is pending, also after a failure: what was printed is stored */
	if (in && !no_seal && (rc == 0 || printer.count > 0)) {
		kura_error serr = {0};
		if (kura_cli_seal(st, &serr) != 0) {
			kura_error_wrap(&serr, "the objects are stored but not time-stamped; run kura seal %s later", pos[0]);
			if (rc == 0) {
				rc = serr.code;
				err = serr;
			} else {
				kura_cli_warn("%s", serr.message);
			}
		}
	}
	if (rc != 0)
		status = kura_cli_fail(&err);
	kura_ingest_free(in);
	kura_store_close(st);
	for (size_t i = 0; i < files.n; i++)
		free(files.paths[i]);
	free(files.paths);
	free(files.sizes);
	free(ahead);
	free(meta);
	sk_X509_CRL_pop_free(so.crls, X509_CRL_free);
	return status;
}

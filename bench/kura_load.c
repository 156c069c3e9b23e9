/* kura_load: the load client of `make bench`'s service rows (bench/run.sh): CONNS
 * connections to `kura serve` on loopback, each on a thread of its own with one kept-alive
 * HTTP/1.1 connection (plain sockets), sending COUNT requests in all, then printing
 * "seconds p50-ms p99-ms requests" on standard output. Every answer must be the expected
 * status, else it stops with a message (a load test that counts errors as successes
 * measures nothing).
 *
 *   kura_load submit PORT TOKEN CONNS COUNT IDS-OUT FILE...   PreservePO of the FILEs in turn (201);
 *                                                           the IDs answered go to IDS-OUT
 *   kura_load get PORT TOKEN CONNS COUNT IDS-IN               GET po/ID for the IDs in turn (200)
 *   kura_load validate PORT TOKEN CONNS COUNT BODY            POST ValidateEvidence BODY (200)
 *   kura_load idle PORT CONNS SECONDS                         CONNS connections opened and held
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { SUBMIT, GET, VALIDATE };

struct blob {
	char *p;
	size_t n;
};

static struct {
	int mode, port, conns;
	const char *token;
	long count;
	struct blob *items; /* documents (submit), IDs (get), the one body (validate) */
	size_t nitems;
	FILE *ids_out;
	pthread_mutex_t lock;
	long next;      /* the next request's number */
	double *lat_ms; /* each request's latency */
} L = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void die(const char *fmt, const char *what)
{
	fprintf(stderr, "kura_load: ");
	fprintf(stderr, fmt, what);
	fprintf(stderr, "\n");
	exit(1);
}

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int connect_to(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
		die("cannot connect: %s", strerror(errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		if (k <= 0)
			die("send: %s", strerror(errno));
		p += k;
		n -= (size_t)k;
	}
}

/* Reads one answer on fd into *buf (headers and body): its status, the body in *body. */
static int receive(int fd, struct blob *buf, size_t *cap, char **body, size_t *body_len)
{
	size_t have = 0, need = 0, head = 0;
	for (;;) {
		if (have + 65536 > *cap && !(buf->p = realloc(buf->p, *cap = 2 * (have + 65536))))
			die("%s", "out of memory");
		ssize_t k = recv(fd, buf->p + have, *cap - have - 1, 0);
		if (k <= 0)
			die("the server closed the connection or failed: %s", k < 0 ? strerror(errno) : "closed");
		have += (size_t)k;
		buf->p[have] = '\0';
		if (!head) {
			char *end = strstr(buf->p, "\r\n\r\n");
			if (!end)
				continue;
			head = (size_t)(end - buf->p) + 4;
			const char *cl = strcasestr(buf->p, "\r\ncontent-length:");
			if (!cl || cl > end)
				die("%s", "an answer without Content-Length");
			need = head + strtoul(cl + 17, NULL, 10);
		}
		if (have >= need)
			break;
	}
	if (have != need)
		die("%s", "more bytes than the answer (pipelining is not used)");
	*body = buf->p + head;
	*body_len = need - head;
	return atoi(buf->p + 9); /* "HTTP/1.1 201 ..." */
}

static void *worker(void *arg)
{
	(void)arg;
	int fd = connect_to(L.port);
	struct blob in = {0}, req = {0};
	size_t cap = 0;
	for (;;) {
		pthread_mutex_lock(&L.lock);
		long i = L.next < L.count ? L.next++ : -1;
		pthread_mutex_unlock(&L.lock);
		if (i < 0)
			break;
		const struct blob *it = &L.items[(size_t)i % L.nitems];
		int expect = L.mode == SUBMIT ? 201 : 200;
		free(req.p);
		req.p = malloc(1024 + it->n);
		if (!req.p)
			die("%s", "out of memory");
		if (L.mode == GET)
			req.n = (size_t)sprintf(req.p, "GET /api/v1/po/%.*s HTTP/1.1\r\nHost: kura\r\nAuthorization: Bearer %s\r\n\r\n",
						(int)it->n, it->p, L.token);
		else {
			req.n = (size_t)sprintf(req.p, "POST /api/v1/%s%ld HTTP/1.1\r\nHost: kura\r\nAuthorization: Bearer %s\r\n"
						       "Content-Length: %zu\r\n\r\n",
						L.mode == SUBMIT ? "PreservePO?name=load" : "ValidateEvidence?n=", i, L.token, it->n);
			memcpy(req.p + req.n, it->p, it->n);
			req.n += it->n;
		}
		double t0 = now_ms();
		send_all(fd, req.p, req.n);
		char *body;
		size_t blen;
		int status = receive(fd, &in, &cap, &body, &blen);
		L.lat_ms[i] = now_ms() - t0;
		if (status != expect) {
			fprintf(stderr, "kura_load: request %ld: HTTP %d, expected %d: %.*s\n", i, status, expect,
				(int)(blen < 300 ? blen : 300), body);
			exit(1);
		}
		if (L.mode == SUBMIT) { /* {"result":"ok","poId":["ID"]} */
			const char *id = strstr(body, "\"poId\":[\"");
			if (!id)
				die("an answer without poId: %s", body);
			pthread_mutex_lock(&L.lock);
			fprintf(L.ids_out, "%.26s\n", id + 9);
			pthread_mutex_unlock(&L.lock);
		}
	}
	close(fd);
	free(in.p);
	free(req.p);
	return NULL;
}

static struct blob read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct blob b = {0};
	if (!f)
		die("cannot read %s", path);
	fseek(f, 0, SEEK_END);
	b.n = (size_t)ftell(f);
	rewind(f);
	if (!(b.p = malloc(b.n + 1)) || fread(b.p, 1, b.n, f) != b.n)
		die("cannot read %s", path);
	fclose(f);
	return b;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void idle(int port, int conns, int seconds)
{
	int *fds = malloc(sizeof *fds * (size_t)conns);
	for (int i = 0; fds && i < conns; i++)
		fds[i] = connect_to(port);
	printf("open %d\n", conns);
	fflush(stdout);
	sleep((unsigned)seconds);
	for (int i = 0; fds && i < conns; i++)
		close(fds[i]);
	free(fds);
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "idle") == 0) {
		idle(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
		return 0;
	}
	if (argc < 7)
		die("%s", "usage: see bench/kura_load.c");
	L.mode = strcmp(argv[1], "submit") == 0 ? SUBMIT : strcmp(argv[1], "get") == 0 ? GET : VALIDATE;
	L.port = atoi(argv[2]);
	L.token = argv[3];
	L.conns = atoi(argv[4]);
	L.count = atol(argv[5]);
	if (L.mode == SUBMIT) {
		if (argc < 8 || !(L.ids_out = fopen(argv[6], "w")))
			die("cannot write %s", argv[6]);
		L.nitems = (size_t)(argc - 7);
		L.items = calloc(L.nitems, sizeof *L.items);
		for (size_t i = 0; L.items && i < L.nitems; i++)
			L.items[i] = read_file(argv[7 + i]);
	} else if (L.mode == GET) {
		struct blob all = read_file(argv[6]);
		L.items = calloc(all.n / 27 + 1, sizeof *L.items);
		for (char *p = all.p; L.items && p + 26 <= all.p + all.n; p += 27)
			L.items[L.nitems++] = (struct blob){p, 26};
	} else {
		L.items = calloc(1, sizeof *L.items);
		if (L.items)
			L.items[L.nitems++] = read_file(argv[6]);
	}
	L.lat_ms = calloc((size_t)L.count + 1, sizeof *L.lat_ms);
	if (!L.items || !L.nitems || !L.lat_ms || L.conns < 1)
		die("%s", "nothing to send");
	pthread_t *t = calloc((size_t)L.conns, sizeof *t);
	double t0 = now_ms();
	for (int i = 0; i < L.conns; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < L.conns; i++)
		pthread_join(t[i], NULL);
	double secs = (now_ms() - t0) / 1e3;
	if (L.ids_out)
		fclose(L.ids_out);
	qsort(L.lat_ms, (size_t)L.count, sizeof *L.lat_ms, cmp_double);
	printf("%.6f %.3f %.3f %ld\n", secs, L.lat_ms[L.count / 2], L.lat_ms[L.count * 99 / 100], L.count);
	free(t);
	return 0;
}

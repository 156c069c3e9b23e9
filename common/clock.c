/* The clock (KURA_NOW or the system clock) and RFC 3339 parsing/formatting.
 * Everything time-dependent asks this file, never time() directly, so that a test
 * can set KURA_NOW and every component agrees on what "now" is. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kura/clock.h"

int kura_clock_now(int64_t *out_ms, kura_error *err)
{
	const char *fixed = getenv("KURA_NOW");
	if (fixed && *fixed) {
		if (kura_time_parse(out_ms, fixed, err) != 0)
			return kura_error_wrap(err, "KURA_NOW");
		return 0;
	}
	struct timespec ts;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return kura_error_sys(err, KURA_EINTERNAL, "reading the system clock");
	*out_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	return 0;
}

static int digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

int kura_time_parse(int64_t *out_ms, const char *text, kura_error *err)
{
	const char *p = text;
	int Y, M, D, h = 0, m = 0, s = 0, ms = 0, offset_min = 0;
	if (digits(&p, 4, &Y) || *p++ != '-' || digits(&p, 2, &M) || *p++ != '-' || digits(&p, 2, &D))
		goto bad;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &m) || *p++ != ':' || digits(&p, 2, &s))
			goto bad;
		if (*p == '.') {
			p++;
			int scale = 100, any = 0;
			while (isdigit((unsigned char)*p)) {
				ms += (*p - '0') * scale;
				scale /= 10;
				p++;
				any = 1;
			}
			if (!any)
				goto bad;
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, oh, om;
			if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || oh > 23 || om > 59)
				goto bad;
			offset_min = sign * (oh * 60 + om);
		} else {
			goto bad;
		}
	}
	if (*p != '\0' || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || s > 60)
		goto bad;
	struct tm tm = {0};
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = s;
	time_t t = timegm(&tm);
	if (tm.tm_mday != D) /* timegm normalised an impossible date such as 02-30 */
		goto bad;
	*out_ms = ((int64_t)t - (int64_t)offset_min * 60) * 1000 + ms;
	return 0;
bad:
	return kura_error_set(err, KURA_EINPUT,
			      "'%s' is not an RFC 3339 time (write it as 2031-05-01T00:00:00Z)", text);
}

void kura_time_format(char buf[KURA_TIME_BUFSZ], int64_t ms)
{
	int64_t secs = ms / 1000, frac = ms % 1000;
	if (frac < 0) {
		frac += 1000;
		secs -= 1;
	}
	time_t t = (time_t)secs;
	struct tm tm;
	gmtime_r(&t, &tm);
	size_t n = strftime(buf, KURA_TIME_BUFSZ, "%Y-%m-%dT%H:%M:%S", &tm);
	if (frac)
		snprintf(buf + n, KURA_TIME_BUFSZ - n, ".%03dZ", (int)frac);
	else
		snprintf(buf + n, KURA_TIME_BUFSZ - n, "Z");
}

void kura_time_put_json(json_t *o, const char *key, int64_t ms)
{
	char buf[KURA_TIME_BUFSZ];
	kura_time_format(buf, ms);
	json_object_set_new(o, key, json_string(buf));
}

/* The web page for auditors, inspectors and tax officers (docs/SERVICE.md, "The
 * web page"): server/web/ built into kura (kura_embed in CMakeLists.txt) and
 * served at / and /web/... by `kura serve`, so that nothing is needed beside the
 * binary and nothing is fetched from elsewhere.
 *
 * INVARIANTS
 * - The page, its script and its style are public and hold no data: every
 *   record the page shows comes from the API (service.c), with the token the
 *   person typed. Serving them reads no store and writes no audit record.
 * - Every file goes out with a Content-Security-Policy that allows only this
 *   origin's script, style, images and API (no inline script or style, no
 *   other site, no frames) and with nosniff, so a document's name or metadata
 *   can never become script even if the page had a fault. */
#include <string.h>

#include "server/service.h"

/* server/web/, built in (kura_embed in CMakeLists.txt) */
extern const char kura_web_index[], kura_web_js[], kura_web_css[], kura_web_icon[];

static const struct web_file {
	const char *path, *type, *bytes;
} files[] = {
	{"/", "text/html; charset=utf-8", kura_web_index},
	{"/web/app.js", "text/javascript; charset=utf-8", kura_web_js},
	{"/web/app.css", "text/css; charset=utf-8", kura_web_css},
	{"/web/icon.svg", "image/svg+xml", kura_web_icon},
};

#define CSP                                                                                                         \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "            \
	"form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

int kura_web_is_page(const char *url)
{
	return strcmp(url, "/") == 0 || strncmp(url, "/web/", 5) == 0;
}

static enum MHD_Result send_page(struct MHD_Connection *c, unsigned status, const char *type, const char *bytes,
				 size_t n)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(n, (void *)bytes, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, "Content-Security-Policy", CSP);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache"); /* a new kura: its page at once */
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result ok = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ok;
}

enum MHD_Result kura_web_answer(struct MHD_Connection *c, const char *method, const char *url)
{
	static const char not_found[] = "no such page: the web page is at /\n",
			  not_allowed[] = "the web page is read with GET\n";
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return send_page(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", not_allowed,
				 sizeof not_allowed - 1);
	for (size_t i = 0; i < sizeof files / sizeof *files; i++)
		if (strcmp(url, files[i].path) == 0)
			return send_page(c, MHD_HTTP_OK, files[i].type, files[i].bytes, strlen(files[i].bytes));
	return send_page(c, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", not_found, sizeof not_found - 1);
}

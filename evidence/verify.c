/* RFC 4998 section 5.3 verification walk (see verify.h). The record is decoded
 * once; hashes over earlier parts (previous tokens, earlier chains) are taken
 * over the bytes exactly as the record holds them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "evidence/ers_asn1.h"
#include "evidence/hashtree.h"
#include "evidence/tst.h"
#include "evidence/verify.h"
#include "kura/clock.h"

#define CACHE_SLOTS 64
#define TOKEN_SLOTS 64

struct kura_trust_cache {
	struct {
		unsigned char key[32];
		int64_t at;
		int used;
		int rc;
		char reason[512];
	} slot[CACHE_SLOTS];
	unsigned next;
	/* parsed tokens (a CMS parse costs more than the rest of a record's walk),
	 * each lent to its current users and replaced only when it has none */
	struct {
		unsigned char key[32];
		kura_tst *tok;
		int users;
	} token[TOKEN_SLOTS];
	unsigned next_token;
};

int kura_trust_cache_new(kura_trust_cache **out, kura_error *err)
{
	*out = calloc(1, sizeof **out);
	return *out ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
}

void kura_trust_cache_free(kura_trust_cache *c)
{
	for (unsigned i = 0; c && i < TOKEN_SLOTS; i++)
		kura_tst_free(c->token[i].tok);
	free(c);
}

/* kura_tst_parse through the cache: give the token back with token_put. */
static int token_get(kura_tst **out, kura_trust_cache *c, const unsigned char *tb, size_t tlen, kura_error *err)
{
	unsigned char key[32];
	if (!c || EVP_Digest(tb, tlen, key, NULL, EVP_sha256(), NULL) != 1)
		return kura_tst_parse(out, tb, tlen, err);
	for (unsigned i = 0; i < TOKEN_SLOTS; i++)
		if (c->token[i].tok && memcmp(c->token[i].key, key, 32) == 0) {
			c->token[i].users++;
			*out = c->token[i].tok;
			return 0;
		}
	int rc = kura_tst_parse(out, tb, tlen, err);
	for (unsigned k = 0; rc == 0 && k < TOKEN_SLOTS; k++) {
		unsigned i = c->next_token++ % TOKEN_SLOTS;
		if (c->token[i].users == 0) {
			kura_tst_free(c->token[i].tok);
			memcpy(c->token[i].key, key, 32);
			c->token[i].tok = *out;
			c->token[i].users = 1;
			break;
		}
	}
	return rc; /* every slot busy: the token stays the caller's alone */
}

static void token_put(kura_trust_cache *c, kura_tst *t)
{
	for (unsigned i = 0; c && t && i < TOKEN_SLOTS; i++)
		if (c->token[i].tok == t) {
			c->token[i].users--;
			return;
		}
	kura_tst_free(t);
}

/* kura_tst_verify of the token whose bytes are tb, through the cache. */
static int verify_token(kura_trust_cache *c, const kura_tst *tok, const unsigned char *tb, size_t tlen,
			STACK_OF(X509) *anchors, int64_t at, kura_error *err)
{
	unsigned char key[32];
	if (!c || EVP_Digest(tb, tlen, key, NULL, EVP_sha256(), NULL) != 1)
		return kura_tst_verify(tok, anchors, NULL, at, err);
	for (unsigned i = 0; i < CACHE_SLOTS; i++)
		if (c->slot[i].used && c->slot[i].at == at && memcmp(c->slot[i].key, key, 32) == 0) {
			if (c->slot[i].rc != 0)
				kura_error_set(err, c->slot[i].rc, "%s", c->slot[i].reason);
			return c->slot[i].rc;
		}
	kura_error e = {0};
	int rc = kura_tst_verify(tok, anchors, NULL, at, &e);
	unsigned i = c->next++ % CACHE_SLOTS;
	memcpy(c->slot[i].key, key, 32);
	c->slot[i].at = at;
	c->slot[i].used = 1;
	c->slot[i].rc = rc;
	snprintf(c->slot[i].reason, sizeof c->slot[i].reason, "%s", e.message);
	if (rc != 0 && err)
		*err = e;
	return rc;
}

struct walk {
	const kura_er_verify_opts *o;
	int integrity_bad;
	int trust_bad;
	int trust_unknown;
	int integrity_unknown; /* a hash kura cannot compute */
	char first_reason[512];
	/* where the walk is (walk_chains) */
	KURA_ER *er;
	int64_t prev_time;  /* genTime of the ATS before */
	kura_tst *pending;  /* the token whose trust is checked at the next genTime */
	json_t *pending_j;  /* its report */
	const unsigned char *pending_b;
	size_t pending_len;
	json_t *prev_cj;    /* the chain before, whose hash must last until the next */
};

/* One chain being walked: its ATSs share md (the first readable one's). */
struct chain_walk {
	KURA_ATS_CHAIN *chain;
	json_t *cj, *atsj; /* its report and its ATSs' */
	const EVP_MD *md;
	int c; /* its place in the sequence, from 0 */
};

static void fail(struct walk *w, json_t *where, int integrity, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void fail(struct walk *w, json_t *where, int integrity, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (integrity)
		w->integrity_bad = 1;
	else
		w->trust_bad = 1;
	if (!w->first_reason[0])
		snprintf(w->first_reason, sizeof w->first_reason, "%s", msg);
	if (where) {
		json_object_set_new(where, integrity ? "integrity" : "trust", json_string("invalid"));
		if (!json_object_get(where, "reason"))
			json_object_set_new(where, "reason", json_string(msg));
	}
}

/* Neither confirmed nor refuted: indeterminate, with the reason. */
static void undecided(struct walk *w, json_t *where, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void undecided(struct walk *w, json_t *where, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	w->integrity_unknown = w->trust_unknown = 1;
	if (!w->first_reason[0])
		snprintf(w->first_reason, sizeof w->first_reason, "%s", msg);
	json_object_set_new(where, "integrity", json_string("indeterminate"));
	json_object_set_new(where, "reason", json_string(msg));
}

static int token_bytes(const KURA_ATS *ats, const unsigned char **p, size_t *len)
{
	if (!ats->timeStamp || ats->timeStamp->type != V_ASN1_SEQUENCE)
		return -1;
	*p = ASN1_STRING_get0_data(ats->timeStamp->value.sequence);
	*len = (size_t)ASN1_STRING_length(ats->timeStamp->value.sequence);
	return 0;
}

/* Does the first list of the reduced tree hold value? */
static int first_list_has(const KURA_ATS *ats, const unsigned char *value, size_t hlen)
{
	const KURA_PHT *first = sk_KURA_PHT_value(ats->reducedHashtree, 0);
	for (int i = 0; i < sk_ASN1_OCTET_STRING_num(first); i++) {
		const ASN1_OCTET_STRING *v = sk_ASN1_OCTET_STRING_value(first, i);
		if ((size_t)ASN1_STRING_length(v) == hlen && memcmp(ASN1_STRING_get0_data(v), value, hlen) == 0)
			return 1;
	}
	return 0;
}

/* Does ats cover every value in leaves (n of them), with a tree that leads to the
 * token's imprint? 0 and the rule that matched, or -1 and why not. */
static int covers(const KURA_ATS *ats, const kura_tst *tok, const EVP_MD *md, const unsigned char *leaves, size_t n,
		  const char **rule, char *why, size_t whylen)
{
	size_t hlen = (size_t)EVP_MD_get_size(md), ilen;
	const unsigned char *imprint = kura_tst_imprint(tok, &ilen);
	if (ilen != hlen) {
		snprintf(why, whylen, "the token's imprint is %zu bytes, not a %s digest", ilen, EVP_MD_get0_name(md));
		return -1;
	}
	if (!ats->reducedHashtree || sk_KURA_PHT_num(ats->reducedHashtree) == 0) {
		*rule = "no reduced tree: the imprint is the hash";
		if (n == 1 && memcmp(imprint, leaves, hlen) == 0)
			return 0;
		snprintf(why, whylen, "no reduced tree, and the imprint is not the hash");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!first_list_has(ats, leaves + i * hlen, hlen)) {
			snprintf(why, whylen, "its hash is not in the first list of the reduced hash tree");
			return -1;
		}
	unsigned char root[EVP_MAX_MD_SIZE];
	kura_error e;
	if (kura_hashtree_reduce(root, md, ats->reducedHashtree, KURA_REDUCE_PASS, &e) != 0) {
		snprintf(why, whylen, "%s", e.message);
		return -1;
	}
	*rule = "rfc4998 (one-value lists pass through)";
	if (memcmp(root, imprint, hlen) == 0)
		return 0;
	*rule = "double hash (one-value lists hashed again; tolerated)";
	if (kura_hashtree_reduce(root, md, ats->reducedHashtree, KURA_REDUCE_DOUBLE, &e) == 0 &&
	    memcmp(root, imprint, hlen) == 0)
		return 0;
	snprintf(why, whylen, "the reduced hash tree does not lead to the token's imprint");
	return -1;
}

/* covers(), reported into j. */
static void check_cover(struct walk *w, json_t *j, const KURA_ATS *ats, const kura_tst *tok, const EVP_MD *md,
			const unsigned char *leaves, size_t n, const char *what)
{
	const char *rule = NULL;
	char why[256];
	if (covers(ats, tok, md, leaves, n, &rule, why, sizeof why) == 0)
		json_object_set_new(j, "rule", json_string(rule));
	else
		fail(w, j, 1, "%s: %s", what, why);
}

/* An algorithm that no longer sufficed at t by the policy: why, else NULL. */
static const char *unsuitable(const kura_er_verify_opts *o, const char *name, int64_t t, char *why, size_t n)
{
	int64_t end = o->algorithm_end && name ? o->algorithm_end(o->algorithm_ud, name) : INT64_MAX;
	if (end == INT64_MAX || end > t)
		return NULL;
	char at[KURA_TIME_BUFSZ], until[KURA_TIME_BUFSZ];
	kura_time_format(at, t);
	kura_time_format(until, end - 1);
	until[10] = '\0';
	snprintf(why, n, "%s no longer sufficed at %s (the policy: until %s)", name, at, until);
	return why;
}

/* Rule 4: a token was valid when the next time-stamp covered it (or now):
 * signature, path, revocation, and its key and signature hash still sufficed. */
static void judge_token(struct walk *w, const kura_tst *tok, json_t *j, const unsigned char *b, size_t len, int64_t t)
{
	if (w->trust_unknown)
		return;
	kura_error ve;
	char key[32], why[300];
	kura_time_put_json(j, "checked_at", t);
	kura_tst_key_alg(tok, key, sizeof key);
	if (verify_token(w->o->cache, tok, b, len, w->o->anchors, t, &ve) != 0)
		fail(w, j, 0, "%s", ve.message);
	else if (unsuitable(w->o, key, t, why, sizeof why) || unsuitable(w->o, kura_tst_signature_hash(tok), t, why, sizeof why))
		fail(w, j, 0, "time-stamp token: its %s", why);
	else
		json_object_set_new(j, "trust", json_string("valid"));
}

/* A chain's hash trees protect it only while its hash suffices: until the next
 * chain (a hash-tree renewal) starts, or now for the last. */
static void judge_chain_hash(struct walk *w, json_t *cj, int chain, int64_t t)
{
	char why[300];
	const char *hash = json_string_value(json_object_get(cj, "hash"));
	if (!w->trust_unknown && unsuitable(w->o, hash, t, why, sizeof why))
		fail(w, cj, 0, "chain %d: its hash %s; a hash-tree renewal was due before", chain, why);
}

static json_t *describe_token(const kura_tst *tok)
{
	json_t *j = json_object();
	char buf[512];
	kura_time_put_json(j, "genTime", kura_tst_gentime(tok));
	kura_tst_tsa_name(tok, buf, sizeof buf);
	json_object_set_new(j, "tsa", json_string(buf));
	kura_tst_sig_alg(tok, buf, sizeof buf);
	json_object_set_new(j, "signature_algorithm", json_string(buf));
	kura_tst_key_alg(tok, buf, sizeof buf);
	json_object_set_new(j, "key", json_string(buf));
	return j;
}

static int chain_md(const KURA_ATS *ats, const kura_tst *tok, const EVP_MD **md, char *why, size_t n)
{
	int nid = kura_tst_imprint_nid(tok);
	char imprint_oid[80];
	kura_tst_imprint_oid(tok, imprint_oid, sizeof imprint_oid);
	if (ats->digestAlgorithm) {
		const ASN1_OBJECT *obj;
		char a[80];
		X509_ALGOR_get0(&obj, NULL, NULL, ats->digestAlgorithm);
		OBJ_obj2txt(a, sizeof a, obj, 1);
		if (strcmp(a, imprint_oid) != 0) {
			snprintf(why, n, "the ATS digestAlgorithm (%s) differs from its token's imprint algorithm (%s)", a,
				 imprint_oid);
			return -1;
		}
	}
	*md = nid == NID_undef ? NULL : kura_hash_by_nid(nid);
	if (!*md) { /* not wrong, only beyond kura: indeterminate */
		snprintf(why, n, "kura cannot compute the hash algorithm %s (OID %s): the record can be neither confirmed "
				 "nor refuted here", nid == NID_undef ? "?" : OBJ_nid2ln(nid), imprint_oid);
		return -2;
	}
	return 0;
}

static int lists_algorithm(const KURA_ER *er, int nid)
{
	for (int i = 0; i < sk_X509_ALGOR_num(er->digestAlgorithms); i++) {
		const ASN1_OBJECT *obj;
		X509_ALGOR_get0(&obj, NULL, NULL, sk_X509_ALGOR_value(er->digestAlgorithms, i));
		if (OBJ_obj2nid(obj) == nid)
			return 1;
	}
	return 0;
}

static json_t *verdict_report(struct walk *w, json_t *chains)
{
	const char *integrity = w->integrity_bad ? "invalid" : w->integrity_unknown ? "indeterminate" : "valid";
	const char *trust = w->trust_bad ? "invalid" : w->trust_unknown ? "indeterminate" : "valid";
	const char *verdict = w->integrity_bad || w->trust_bad ? "invalid" : w->trust_unknown ? "indeterminate" : "valid";
	json_t *r = json_pack("{s:s, s:s, s:s, s:o}", "verdict", verdict, "integrity", integrity, "trust", trust,
			      "chains", chains ? chains : json_array());
	if (w->first_reason[0])
		json_object_set_new(r, "reason", json_string(w->first_reason));
	else if (w->trust_unknown)
		json_object_set_new(r, "reason", json_string("no trust anchors given: the time-stamps' signers were not checked"));
	return r;
}

/* Decodes der: NULL, the reason failed into w, unless it is exactly one
 * version-1 EvidenceRecord holding at least one chain. */
static KURA_ER *decode_record(struct walk *w, const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	KURA_ER *er = d2i_KURA_ER(NULL, &p, (long)len);
	if (!er || p != der + len || ASN1_INTEGER_get(er->version) != 1)
		w->trust_unknown = 1; /* no token is looked at */
	if (!er) {
		fail(w, NULL, 1, "not an RFC 4998 EvidenceRecord (garbage or truncated DER)");
		return NULL;
	}
	if (p != der + len) {
		fail(w, NULL, 1, "%zu bytes follow the EvidenceRecord", (size_t)(der + len - p));
	} else if (ASN1_INTEGER_get(er->version) != 1) {
		fail(w, NULL, 1, "EvidenceRecord version %ld; only version 1 exists", ASN1_INTEGER_get(er->version));
	} else if (sk_KURA_ATS_CHAIN_num(er->archiveTimeStampSequence) == 0) {
		w->trust_unknown = 1;
		fail(w, NULL, 1, "the record holds no archive time-stamp chain");
	} else {
		return er;
	}
	KURA_ER_free(er);
	return NULL;
}

/* Checks the hash algorithm of ATS a (its token tok, its report j): 1 if the
 * walk goes on with this token, 0 if it is done with it (said into j). The
 * first ATS of a chain sets the chain's hash. */
static int ats_hash(struct walk *w, struct chain_walk *ch, int a, const KURA_ATS *ats, const kura_tst *tok,
		    const unsigned char *tb, size_t tlen, json_t *j)
{
	const kura_er_verify_opts *o = w->o;
	int c = ch->c;
	char why[256];
	const EVP_MD *this_md;
	int known = chain_md(ats, tok, &this_md, why, sizeof why);
	if (known == -2) { /* the token may still be refuted on its own */
		kura_error ve;
		if (!w->trust_unknown && verify_token(o->cache, tok, tb, tlen, o->anchors, kura_tst_gentime(tok), &ve) != 0) {
			kura_time_put_json(j, "checked_at", kura_tst_gentime(tok));
			fail(w, j, 0, "chain %d ATS %d: %s", c + 1, a + 1, ve.message);
			w->integrity_unknown = 1;
			json_object_set_new(j, "integrity", json_string("indeterminate"));
		} else {
			undecided(w, j, "chain %d ATS %d: %s", c + 1, a + 1, why);
		}
		return 0;
	}
	if (known != 0) {
		fail(w, j, 1, "chain %d ATS %d: %s", c + 1, a + 1, why);
		w->trust_unknown = 1;
		return 0;
	}
	if (a == 0 && w->prev_cj) /* the previous chain's hash had to last until this renewal */
		judge_chain_hash(w, w->prev_cj, c, kura_tst_gentime(tok));
	if (a == 0)
		w->prev_cj = ch->cj;
	if (a == 0 || !ch->md) {
		ch->md = this_md;
		json_object_set_new(ch->cj, "hash", json_string(kura_hash_name_by_nid(EVP_MD_get_type(ch->md))));
		if (!lists_algorithm(w->er, EVP_MD_get_type(ch->md)))
			fail(w, ch->cj, 1, "digestAlgorithms does not list %s, the algorithm of chain %d",
			     kura_hash_name_by_nid(EVP_MD_get_type(ch->md)), c + 1);
	} else if (this_md != ch->md) {
		fail(w, j, 1, "chain %d ATS %d uses another hash algorithm than its chain", c + 1, a + 1);
	}
	return 1;
}

/* A time-stamp renewal (ATS a > 0) covers the previous token, as stored. */
static void cover_previous(struct walk *w, const struct chain_walk *ch, int a, const KURA_ATS *ats,
			   const kura_tst *tok, json_t *j)
{
	unsigned char leaves[EVP_MAX_MD_SIZE];
	const unsigned char *pb;
	size_t plen;
	KURA_ATS *prev = sk_KURA_ATS_value(ch->chain, a - 1);
	json_object_set_new(j, "covers", json_string("previous time-stamp"));
	if (token_bytes(prev, &pb, &plen) == 0 && EVP_Digest(pb, plen, leaves, NULL, ch->md, NULL) == 1)
		check_cover(w, j, ats, tok, ch->md, leaves, 1, "the previous time-stamp");
	else
		fail(w, j, 1, "chain %d ATS %d: the previous time-stamp it should cover cannot be read", ch->c + 1,
		     a + 1);
}

/* A hash-tree renewal (the first ATS of a later chain) covers the data's n
 * digests and the earlier chains: h' = H(H(d) || H(DER of the earlier chains)). */
static int cover_renewal(struct walk *w, const struct chain_walk *ch, const KURA_ATS *ats, const kura_tst *tok,
			 json_t *j, const unsigned char *data, size_t n, kura_error *err)
{
	const EVP_MD *md = ch->md;
	size_t hlen = (size_t)EVP_MD_get_size(md);
	unsigned char leaves[KURA_ER_MAX_MEMBERS * EVP_MAX_MD_SIZE];
	KURA_ATS_SEQ *seq = w->er->archiveTimeStampSequence;
	KURA_ATS_SEQ *earlier = sk_KURA_ATS_CHAIN_new_null();
	for (int k = 0; k < ch->c; k++)
		sk_KURA_ATS_CHAIN_push(earlier, sk_KURA_ATS_CHAIN_value(seq, k));
	unsigned char *enc = NULL, ha[EVP_MAX_MD_SIZE];
	int elen = i2d_KURA_ATS_SEQ(earlier, &enc);
	sk_KURA_ATS_CHAIN_free(earlier);
	if (elen <= 0 || EVP_Digest(enc, (size_t)elen, ha, NULL, md, NULL) != 1) {
		OPENSSL_free(enc);
		return kura_error_set(err, KURA_EINTERNAL, "encoding the earlier chains failed");
	}
	OPENSSL_free(enc);
	json_object_set_new(j, "covers", json_string("data and the earlier chains (hash-tree renewal)"));
	for (size_t i = 0; i < n; i++)
		kura_hash_pair(leaves + i * hlen, md, data + i * hlen, ha, hlen, 0);
	const char *rule = NULL;
	char why[256];
	if (covers(ats, tok, md, leaves, n, &rule, why, sizeof why) == 0) {
		json_object_set_new(j, "rule", json_pack("s++", "h' = H(h || ha); ", rule, ""));
	} else {
		/* tolerated: the sorted form H(sort(h, ha)) of one known producer */
		for (size_t i = 0; i < n; i++)
			kura_hash_pair(leaves + i * hlen, md, data + i * hlen, ha, hlen, 1);
		if (covers(ats, tok, md, leaves, n, &rule, why, sizeof why) == 0)
			json_object_set_new(j, "rule", json_pack("s++", "h' = H(sort(h, ha)) (tolerated); ", rule, ""));
		else
			fail(w, j, 1, "chain %d: the data and earlier chains: %s", ch->c + 1, why);
	}
	return 0;
}

/* The first ATS of a chain covers the data (the first chain) or the data and
 * the earlier chains (a hash-tree renewal). */
static int cover_data(struct walk *w, const struct chain_walk *ch, const KURA_ATS *ats, const kura_tst *tok,
		      json_t *j, kura_error *err)
{
	const kura_er_verify_opts *o = w->o;
	size_t hlen = (size_t)EVP_MD_get_size(ch->md), n = 0;
	unsigned char data[KURA_ER_MAX_MEMBERS * EVP_MAX_MD_SIZE];
	int rc = o->digest(o->digest_ud, ch->md, data, &n, err);
	if (rc != 0)
		return rc;
	if (ch->c > 0)
		return cover_renewal(w, ch, ats, tok, j, data, n, err);
	unsigned char leaves[KURA_ER_MAX_MEMBERS * EVP_MAX_MD_SIZE];
	json_object_set_new(j, "covers", json_string("data"));
	memcpy(leaves, data, n * hlen);
	check_cover(w, j, ats, tok, ch->md, leaves, n, "the data object");
	return 0;
}

/* ATS a of the chain: its token read, its hash checked, what it covers
 * checked; the token before it is judged at this one's time, and this one
 * waits for the next. */
static int walk_ats(struct walk *w, struct chain_walk *ch, int a, kura_error *err)
{
	const kura_er_verify_opts *o = w->o;
	int c = ch->c;
	KURA_ATS *ats = sk_KURA_ATS_value(ch->chain, a);
	const unsigned char *tb;
	size_t tlen;
	kura_tst *tok = NULL;
	kura_error te;
	if (token_bytes(ats, &tb, &tlen) != 0 || token_get(&tok, o->cache, tb, tlen, &te) != 0) {
		json_t *j = json_object();
		json_array_append_new(ch->atsj, j);
		fail(w, j, 1, "chain %d ATS %d: %s", c + 1, a + 1,
		     token_bytes(ats, &tb, &tlen) != 0 ? "the time-stamp is not a ContentInfo" : te.message);
		w->trust_unknown = 1; /* a token that cannot be read cannot be trusted either */
		return 0;
	}
	json_t *j = describe_token(tok);
	json_array_append_new(ch->atsj, j);
	if (ats->attributes)
		json_object_set_new(j, "attributes", json_true());
	if (!ats_hash(w, ch, a, ats, tok, tb, tlen, j)) {
		token_put(o->cache, tok);
		return 0;
	}
	if (kura_tst_gentime(tok) < w->prev_time)
		fail(w, j, 1, "chain %d ATS %d is older than the time-stamp before it", c + 1, a + 1);
	w->prev_time = kura_tst_gentime(tok);
	if (a > 0) {
		cover_previous(w, ch, a, ats, tok, j);
	} else {
		int rc = cover_data(w, ch, ats, tok, j, err);
		if (rc != 0) {
			token_put(o->cache, tok);
			return rc;
		}
	}
	/* the previous token must have been valid when this one covered it */
	if (w->pending) {
		judge_token(w, w->pending, w->pending_j, w->pending_b, w->pending_len, kura_tst_gentime(tok));
		token_put(o->cache, w->pending);
	}
	w->pending = tok;
	w->pending_j = j;
	w->pending_b = tb;
	w->pending_len = tlen;
	if (!json_object_get(j, "integrity"))
		json_object_set_new(j, "integrity", json_string("valid"));
	return 0;
}

/* Walks every ATS of every chain of w->er into chains; remembers each token to
 * check its trust at the next covering time (the last one: now). */
static int walk_chains(struct walk *w, json_t *chains, kura_error *err)
{
	KURA_ATS_SEQ *seq = w->er->archiveTimeStampSequence;
	int nchains = sk_KURA_ATS_CHAIN_num(seq);
	int rc = 0;
	w->prev_time = INT64_MIN;
	for (int c = 0; c < nchains && rc == 0; c++) {
		struct chain_walk ch = {.chain = sk_KURA_ATS_CHAIN_value(seq, c), .c = c};
		ch.cj = json_object();
		ch.atsj = json_array();
		json_array_append_new(chains, ch.cj);
		json_object_set_new(ch.cj, "ats", ch.atsj);
		if (sk_KURA_ATS_num(ch.chain) == 0) {
			fail(w, ch.cj, 1, "chain %d is empty", c + 1);
			continue;
		}
		for (int a = 0; a < sk_KURA_ATS_num(ch.chain) && rc == 0; a++)
			rc = walk_ats(w, &ch, a, err);
	}
	if (w->pending) {
		judge_token(w, w->pending, w->pending_j, w->pending_b, w->pending_len, w->o->at_ms);
		token_put(w->o->cache, w->pending);
	}
	if (w->prev_cj)
		judge_chain_hash(w, w->prev_cj, nchains, w->o->at_ms);
	return rc;
}

int kura_er_verify(json_t **report, const unsigned char *der, size_t len, const kura_er_verify_opts *o,
		   kura_error *err)
{
	struct walk w = {.o = o};
	int has_crypto = 0, has_enc = 0;
	json_t *chains = json_array();
	int rc = 0;
	w.er = decode_record(&w, der, len);
	if (w.er) {
		if (!o->anchors || sk_X509_num(o->anchors) == 0)
			w.trust_unknown = 1;
		has_crypto = w.er->cryptoInfos != NULL;
		has_enc = w.er->encryptionInfo != NULL;
		rc = walk_chains(&w, chains, err);
		KURA_ER_free(w.er);
	}
	if (rc != 0) {
		json_decref(chains);
		return rc;
	}
	*report = verdict_report(&w, chains);
	if (has_crypto) /* accepted, not interpreted (ERS-RULES): said, so a reader knows */
		json_object_set_new(*report, "cryptoInfos", json_true());
	if (has_enc)
		json_object_set_new(*report, "encryptionInfo", json_true());
	return 0;
}

int kura_er_report_proven(int64_t *ms, json_t *report)
{
	json_t *first = json_array_get(json_object_get(json_array_get(json_object_get(report, "chains"), 0), "ats"), 0);
	const char *t = json_string_value(json_object_get(first, "genTime"));
	return t && kura_time_parse(ms, t, NULL) == 0 ? 0 : KURA_ENOTFOUND;
}

void kura_er_report_signature(json_t *report, json_t *sig)
{
	const char *verdict = json_string_value(json_object_get(report, "verdict"));
	const char *s = json_string_value(json_object_get(sig, "signature"));
	const char *why = json_string_value(json_object_get(sig, "reason"));
	if (!s)
		s = "indeterminate";
	json_object_set_new(report, "signature", json_string(s));
	json_object_set(report, "signature_at", json_object_get(sig, "proven_at"));
	int worse = (strcmp(s, "invalid") == 0 && strcmp(verdict, "invalid") != 0) ||
		    (strcmp(s, "indeterminate") == 0 && strcmp(verdict, "valid") == 0);
	if (worse) {
		json_object_set_new(report, "verdict", json_string(s));
		json_object_set_new(report, "reason", json_pack("s+", "signature: ", why ? why : s));
	}
	json_object_set_new(report, "signature_details", sig);
}

int kura_er_digest_file(void *ud, const EVP_MD *md, unsigned char *out, size_t *count, kura_error *err)
{
	kura_er_file *d = ud;
	int nid = EVP_MD_get_type(md);
	*count = 1;
	for (int i = 0; i < d->ncached; i++)
		if (d->cached_nid[i] == nid) {
			memcpy(out, d->cached[i], (size_t)EVP_MD_get_size(md));
			return 0;
		}
	int rc = kura_hash_file(out, md, d->path, err);
	if (rc == KURA_ENOTFOUND) /* the data named for verification: bad input */
		rc = err ? (err->code = KURA_EINPUT) : KURA_EINPUT;
	if (rc == 0 && d->ncached < 8) {
		d->cached_nid[d->ncached] = nid;
		memcpy(d->cached[d->ncached++], out, (size_t)EVP_MD_get_size(md));
	}
	return rc;
}

int kura_er_digest_group(void *ud, const EVP_MD *md, unsigned char *out, size_t *count, kura_error *err)
{
	kura_er_group *g = ud;
	size_t one;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < g->n; i++)
		rc = kura_er_digest_file(&g->member[i], md, out + i * (size_t)EVP_MD_get_size(md), &one, err);
	*count = g->n;
	return rc;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ha_config.c - the strict YAML configuration loader.
 *
 * Two stages:
 *  1. libyaml's event parser builds a small tree of our own (struct ynode),
 *     rejecting anchors, aliases, tags, several documents and deep nesting,
 *     and remembering the 1-based line and column of every node;
 *  2. a hand-written schema walk (ha_config_schema.c) fills struct ha_config,
 *     keeping the key path so that every error names file, line, column, key.
 * The tree is freed before returning; on error the config is freed too.
 */
#include "ha_config_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* ------------------------------------------------------------------ */
/* errors and key paths                                                 */

int cfg_failv(struct cfg_ctx *c, unsigned line, unsigned col, const char *fmt, va_list ap)
{
	char *msg;
	size_t sz, off;

	if (c->failed)
		return -1; /* keep the first error */
	c->failed = true;
	if (!c->err)
		return -1;
	msg = c->err->msg;
	sz = sizeof(c->err->msg);
	int r = snprintf(msg, sz, "%s:%u:%u: %s: ", c->name, line, col, c->path[0] ? c->path : "(root)");
	off = r < 0 ? 0 : (size_t)r;
	if (off < sz) {
		r = vsnprintf(msg + off, sz - off, fmt, ap);
		(void)r;
	}
	return -1;
}

int cfg_fail_at(struct cfg_ctx *c, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = cfg_failv(c, line, col, fmt, ap);
	va_end(ap);
	return r;
}

int cfg_fail(struct cfg_ctx *c, const struct ynode *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = cfg_failv(c, n ? n->line : 1, n ? n->col : 1, fmt, ap);
	va_end(ap);
	return r;
}

size_t cfg_push_key(struct cfg_ctx *c, const char *key)
{
	size_t old = strlen(c->path);
	int r = snprintf(c->path + old, sizeof(c->path) - old, "%s%s", old ? "." : "", key);
	(void)r;
	return old;
}

size_t cfg_push_index(struct cfg_ctx *c, size_t i)
{
	size_t old = strlen(c->path);
	int r = snprintf(c->path + old, sizeof(c->path) - old, "[%zu]", i);
	(void)r;
	return old;
}

void cfg_pop(struct cfg_ctx *c, size_t old)
{
	c->path[old] = '\0';
}

void cfg_set_path(struct cfg_ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(c->path, sizeof(c->path), fmt, ap);
	(void)r;
	va_end(ap);
}

/* Copy user text for a message: printable ASCII kept, the rest as \xNN,
 * at most max input bytes (then "..."). */
void cfg_sanitize(char *dst, size_t dsz, const char *s, size_t len, size_t max)
{
	size_t o = 0;
	bool cut = len > max;

	if (dsz == 0)
		return;
	if (cut)
		len = max;
	for (size_t i = 0; i < len && o + 5 < dsz; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch >= 0x20 && ch < 0x7f) {
			dst[o++] = (char)ch;
		} else {
			int r = snprintf(dst + o, dsz - o, "\\x%02x", ch);
			(void)r;
			o += 4;
		}
	}
	if (cut && o + 4 < dsz) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

/* ------------------------------------------------------------------ */
/* stage 1: YAML events -> tree                                          */

void ynode_free(struct ynode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		ynode_free(n->kids[i]);
	free(n->kids);
	free(n->s);
	free(n);
}

static int ynode_append(struct ynode *parent, struct ynode *kid)
{
	if (parent->n == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 4;
		struct ynode **k = realloc(parent->kids, cap * sizeof(*k));
		if (!k)
			return -1;
		parent->kids = k;
		parent->cap = cap;
	}
	parent->kids[parent->n++] = kid;
	return 0;
}

static void offset_to_linecol(const char *buf, size_t len, size_t off, unsigned *line, unsigned *col)
{
	unsigned l = 1, cl = 1;
	if (off > len)
		off = len;
	for (size_t i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			l++;
			cl = 1;
		} else {
			cl++;
		}
	}
	*line = l;
	*col = cl;
}

static int syntax_error(struct cfg_ctx *c, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "unknown problem";
	unsigned line, col;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return cfg_fail_at(c, 1, 1, "out of memory");
	case YAML_READER_ERROR:
		offset_to_linecol(c->buf, c->len, p->problem_offset, &line, &col);
		return cfg_fail_at(c, line, col, "YAML syntax error: %s", problem);
	default:
		return cfg_fail_at(c, (unsigned)p->problem_mark.line + 1,
				   (unsigned)p->problem_mark.column + 1, "YAML syntax error: %s", problem);
	}
}

/* The key path of the node about to be added under stack[depth - 1]. */
static void tree_path(struct cfg_ctx *c, struct ynode *const *stack, size_t depth)
{
	c->path[0] = '\0';
	for (size_t i = 0; i < depth; i++) {
		const struct ynode *n = stack[i];
		bool inner = i + 1 < depth; /* its child stack[i + 1] is already appended */
		if (n->kind == Y_SEQ) {
			cfg_push_index(c, inner ? n->n - 1 : n->n);
		} else {
			size_t k = inner ? n->n - 2 : n->n - 1;
			if ((inner || n->n % 2 == 1) && k < n->n && n->kids[k]->kind == Y_SCALAR) {
				char kb[80];
				cfg_sanitize(kb, sizeof(kb), n->kids[k]->s, n->kids[k]->len, 40);
				cfg_push_key(c, kb);
			}
		}
	}
}

int cfg_build_tree(struct cfg_ctx *c, struct ynode **rootp)
{
	yaml_parser_t p;
	yaml_event_t ev;
	struct ynode *stack[HA_CFG_MAX_DEPTH];
	size_t depth = 0, nodes = 0;
	struct ynode *root = NULL;
	unsigned docs = 0;
	int rc = -1;

	*rootp = NULL;
	if (!yaml_parser_initialize(&p))
		return cfg_fail_at(c, 1, 1, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)c->buf, c->len);

	for (;;) {
		if (!yaml_parser_parse(&p, &ev)) {
			syntax_error(c, &p);
			goto out;
		}
		unsigned line = (unsigned)ev.start_mark.line + 1;
		unsigned col = (unsigned)ev.start_mark.column + 1;
		const yaml_char_t *anchor = NULL, *tag = NULL;
		struct ynode *node = NULL;
		bool stop = false, bad = false;

		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			stop = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (docs++) {
				c->path[0] = '\0';
				cfg_fail_at(c, line, col, "multiple documents are not supported");
				bad = true;
			}
			break;
		case YAML_ALIAS_EVENT:
			tree_path(c, stack, depth);
			cfg_fail_at(c, line, col, "anchors and aliases are not supported");
			bad = true;
			break;
		case YAML_SCALAR_EVENT:
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (ev.type == YAML_SCALAR_EVENT) {
				anchor = ev.data.scalar.anchor;
				tag = ev.data.scalar.tag;
			} else if (ev.type == YAML_SEQUENCE_START_EVENT) {
				anchor = ev.data.sequence_start.anchor;
				tag = ev.data.sequence_start.tag;
			} else {
				anchor = ev.data.mapping_start.anchor;
				tag = ev.data.mapping_start.tag;
			}
			tree_path(c, stack, depth);
			if (anchor) {
				cfg_fail_at(c, line, col, "anchors and aliases are not supported");
				bad = true;
				break;
			}
			if (tag) {
				cfg_fail_at(c, line, col, "tags are not supported");
				bad = true;
				break;
			}
			if (++nodes > HA_CFG_MAX_NODES) {
				cfg_fail_at(c, line, col, "too many YAML nodes (at most %u)",
					    (unsigned)HA_CFG_MAX_NODES);
				bad = true;
				break;
			}
			node = calloc(1, sizeof(*node));
			if (!node) {
				cfg_fail_at(c, line, col, "out of memory");
				bad = true;
				break;
			}
			node->line = line;
			node->col = col;
			if (ev.type == YAML_SCALAR_EVENT) {
				node->kind = Y_SCALAR;
				node->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
				node->len = ev.data.scalar.length;
				node->s = malloc(node->len + 1);
				if (!node->s) {
					free(node);
					cfg_fail_at(c, line, col, "out of memory");
					bad = true;
					break;
				}
				memcpy(node->s, ev.data.scalar.value, node->len);
				node->s[node->len] = '\0';
			} else {
				node->kind = ev.type == YAML_SEQUENCE_START_EVENT ? Y_SEQ : Y_MAP;
			}
			if (depth == 0) {
				root = node; /* one document only, checked above */
			} else if (ynode_append(stack[depth - 1], node) < 0) {
				ynode_free(node);
				cfg_fail_at(c, line, col, "out of memory");
				bad = true;
				break;
			}
			if (node->kind != Y_SCALAR) {
				if (depth == HA_CFG_MAX_DEPTH) {
					cfg_fail_at(c, line, col, "nesting too deep (at most %u levels)",
						    (unsigned)HA_CFG_MAX_DEPTH);
					bad = true;
					break;
				}
				stack[depth++] = node;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth > 0)
				depth--;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (bad)
			goto out;
		if (stop)
			break;
	}
	*rootp = root;
	root = NULL;
	c->path[0] = '\0';
	rc = 0;
out:
	ynode_free(root);
	yaml_parser_delete(&p);
	return rc;
}

/* ------------------------------------------------------------------ */
/* scalar helpers                                                       */

bool ynode_is_null(const struct ynode *n)
{
	if (n->kind != Y_SCALAR || !n->plain)
		return false;
	return n->len == 0 || strcmp(n->s, "~") == 0 || strcmp(n->s, "null") == 0 ||
	       strcmp(n->s, "Null") == 0 || strcmp(n->s, "NULL") == 0;
}

const char *ynode_kind_name(const struct ynode *n)
{
	switch (n->kind) {
	case Y_SEQ:
		return "a sequence";
	case Y_MAP:
		return "a mapping";
	default:
		return ynode_is_null(n) ? "null" : "a scalar";
	}
}

const struct ynode *ynode_map_get(const struct ynode *map, const char *key)
{
	if (!map || map->kind != Y_MAP)
		return NULL;
	size_t kl = strlen(key);
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct ynode *k = map->kids[i];
		if (k->kind == Y_SCALAR && k->len == kl && memcmp(k->s, key, kl) == 0)
			return map->kids[i + 1];
	}
	return NULL;
}

void cfg_join(char *dst, size_t dsz, const char *const *names, size_t n)
{
	size_t o = 0;
	if (dsz == 0)
		return;
	dst[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(names[i]);
		if (o + l + 2 + 5 >= dsz) {
			if (o + 4 < dsz)
				memcpy(dst + o, ", ...", 5), o += 5;
			break;
		}
		if (i) {
			memcpy(dst + o, ", ", 2);
			o += 2;
		}
		memcpy(dst + o, names[i], l);
		o += l;
	}
	dst[o < dsz ? o : dsz - 1] = '\0';
}

int cfg_map(struct cfg_ctx *c, const struct ynode *n, const char *const *keys, size_t nkeys,
	    struct cfg_mapv *m)
{
	memset(m, 0, sizeof(*m));
	m->node = n;
	m->keys = keys;
	m->nkeys = nkeys;
	if (c->on_keys)
		c->on_keys(c->on_keys_arg, c->path, keys, nkeys);
	if (n->kind != Y_MAP)
		return cfg_fail(c, n, "expected a mapping, got %s", ynode_kind_name(n));
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const struct ynode *k = n->kids[i];
		char kb[80];
		size_t j;

		if (k->kind != Y_SCALAR)
			return cfg_fail(c, k, "expected a string key, got %s", ynode_kind_name(k));
		for (j = 0; j < nkeys; j++)
			if (strlen(keys[j]) == k->len && memcmp(keys[j], k->s, k->len) == 0)
				break;
		cfg_sanitize(kb, sizeof(kb), k->s, k->len, 40);
		if (j == nkeys) {
			char list[300];
			cfg_join(list, sizeof(list), keys, nkeys);
			cfg_push_key(c, kb);
			return cfg_fail(c, k, "unknown key '%s' (expected one of: %s)", kb, list);
		}
		if (m->v[j]) {
			cfg_push_key(c, kb);
			return cfg_fail(c, k, "duplicate key '%s'", kb);
		}
		m->v[j] = n->kids[i + 1];
	}
	return 0;
}

int cfg_missing(struct cfg_ctx *c, const struct cfg_mapv *m, size_t i)
{
	return cfg_fail(c, m->node, "missing required key '%s'", m->keys[i]);
}

int cfg_scalar_str(struct cfg_ctx *c, const struct ynode *n, const char *what)
{
	if (n->kind != Y_SCALAR)
		return cfg_fail(c, n, "expected %s, got %s", what, ynode_kind_name(n));
	if (ynode_is_null(n))
		return cfg_fail(c, n, "expected %s, got null", what);
	if (n->plain && (strcmp(n->s, "true") == 0 || strcmp(n->s, "false") == 0))
		return cfg_fail(c, n, "expected %s, got a boolean (quote it)", what);
	if (strlen(n->s) != n->len)
		return cfg_fail(c, n, "%s must not contain a NUL character", what);
	return 0;
}

int cfg_scalar_int(struct cfg_ctx *c, const struct ynode *n, int64_t lo, int64_t hi, int64_t *out)
{
	char t[80];
	const char *s;
	bool neg = false, hex = false;
	uint64_t v = 0;
	size_t i = 0, digits = 0;

	if (n->kind != Y_SCALAR)
		return cfg_fail(c, n, "expected an integer, got %s", ynode_kind_name(n));
	if (ynode_is_null(n))
		return cfg_fail(c, n, "expected an integer, got null");
	cfg_sanitize(t, sizeof(t), n->s, n->len, 40);
	if (!n->plain)
		return cfg_fail(c, n, "expected an integer, got a quoted string");
	s = n->s;
	if (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-';
		i = 1;
	}
	if (s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
		hex = true;
		i += 2;
	}
	bool overflow = false;
	for (; i < n->len; i++, digits++) {
		unsigned d;
		unsigned char ch = (unsigned char)s[i];
		if (ch >= '0' && ch <= '9')
			d = ch - '0';
		else if (hex && isxdigit(ch))
			d = (unsigned)(tolower(ch) - 'a' + 10);
		else
			return cfg_fail(c, n, "expected an integer, got '%s'", t);
		uint64_t base = hex ? 16 : 10;
		if (v > (UINT64_MAX - d) / base)
			overflow = true;
		else
			v = v * base + d;
	}
	if (digits == 0)
		return cfg_fail(c, n, "expected an integer, got '%s'", t);
	if (!hex && digits > 1 && s[neg || s[0] == '+' ? 1 : 0] == '0')
		return cfg_fail(c, n, "expected an integer, got '%s' (leading zeros are not allowed)", t);
	if (overflow || v > (uint64_t)INT64_MAX)
		return cfg_fail(c, n, "value %s out of range [%lld, %lld]", t, (long long)lo, (long long)hi);
	int64_t sv = neg ? -(int64_t)v : (int64_t)v;
	if (sv < lo || sv > hi)
		return cfg_fail(c, n, "value %s out of range [%lld, %lld]", t, (long long)lo, (long long)hi);
	*out = sv;
	return 0;
}

int cfg_scalar_bool(struct cfg_ctx *c, const struct ynode *n, bool *out)
{
	if (n->kind != Y_SCALAR)
		return cfg_fail(c, n, "expected true or false, got %s", ynode_kind_name(n));
	if (n->plain && strcmp(n->s, "true") == 0)
		*out = true;
	else if (n->plain && strcmp(n->s, "false") == 0)
		*out = false;
	else {
		char t[80];
		cfg_sanitize(t, sizeof(t), n->s, n->len, 40);
		return cfg_fail(c, n, "expected true or false, got '%s'", t);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* addresses                                                            */

void ha_cfg_prefix_mask6(struct in6_addr *a, unsigned len)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = len > i * 8 ? len - i * 8 : 0;
		if (bits >= 8)
			continue;
		a->s6_addr[i] &= (uint8_t)(0xff00u >> bits);
	}
}

void ha_cfg_prefix_mask4(struct in_addr *a, unsigned len)
{
	uint32_t m = len == 0 ? 0 : (len >= 32 ? 0xffffffffu : ~(0xffffffffu >> len));
	a->s_addr = htonl(ntohl(a->s_addr) & m);
}

bool ha_cfg_prefix_contains6(const struct in6_addr *p, unsigned len, const struct in6_addr *a)
{
	struct in6_addr x = *a, y = *p;
	ha_cfg_prefix_mask6(&x, len);
	ha_cfg_prefix_mask6(&y, len);
	return memcmp(&x, &y, sizeof(x)) == 0;
}

bool ha_cfg_prefix_contains4(const struct in_addr *p, unsigned len, const struct in_addr *a)
{
	struct in_addr x = *a, y = *p;
	ha_cfg_prefix_mask4(&x, len);
	ha_cfg_prefix_mask4(&y, len);
	return x.s_addr == y.s_addr;
}

bool ha_cfg_prefix_overlaps6(const struct in6_addr *a, unsigned alen, const struct in6_addr *b,
			     unsigned blen)
{
	return ha_cfg_prefix_contains6(a, alen < blen ? alen : blen, b);
}

bool ha_cfg_prefix_overlaps4(const struct in_addr *a, unsigned alen, const struct in_addr *b,
			     unsigned blen)
{
	return ha_cfg_prefix_contains4(a, alen < blen ? alen : blen, b);
}

static const char *fam_name(int fam)
{
	return fam == AF_INET ? "IPv4" : "IPv6";
}

static bool addr_is_unicast(const struct ha_cfg_addr *a)
{
	if (a->family == AF_INET6)
		return !IN6_IS_ADDR_UNSPECIFIED(&a->v6) && !IN6_IS_ADDR_MULTICAST(&a->v6);
	uint32_t v = ntohl(a->v4.s_addr);
	return v != 0 && (v >> 28) != 0xe && v != 0xffffffffu;
}

/* Parse the text of an address; 0 ok, -1 not an address. */
static int parse_addr_text(const char *s, struct ha_cfg_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET6, s, &out->v6) == 1) {
		out->family = AF_INET6;
		return 0;
	}
	if (inet_pton(AF_INET, s, &out->v4) == 1) {
		out->family = AF_INET;
		return 0;
	}
	return -1;
}

int cfg_scalar_addr(struct cfg_ctx *c, const struct ynode *n, int fam, struct ha_cfg_addr *out)
{
	const char *what = fam == AF_INET ? "an IPv4 address"
			   : fam == AF_INET6 ? "an IPv6 address" : "an IPv4 or IPv6 address";
	char t[80];

	if (cfg_scalar_str(c, n, what) < 0)
		return -1;
	cfg_sanitize(t, sizeof(t), n->s, n->len, 60);
	if (strchr(n->s, '/'))
		return cfg_fail(c, n, "expected %s, got a prefix", what);
	if (n->len > 64 || parse_addr_text(n->s, out) < 0)
		return cfg_fail(c, n, "expected %s, got '%s'", what, t);
	if (fam && out->family != fam)
		return cfg_fail(c, n, "expected %s, got an %s one", what, fam_name(out->family));
	if (out->family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&out->v6))
		return cfg_fail(c, n, "IPv4-mapped IPv6 addresses are not allowed, write the IPv4 address");
	if (!addr_is_unicast(out))
		return cfg_fail(c, n, "expected a unicast address, got '%s'", t);
	return 0;
}

int cfg_scalar_prefix(struct cfg_ctx *c, const struct ynode *n, int fam, struct ha_cfg_addr *out,
		      unsigned *plen)
{
	const char *what = fam == AF_INET ? "an IPv4 prefix" : fam == AF_INET6 ? "an IPv6 prefix"
								: "an IP prefix";
	char t[80], a[80];

	if (cfg_scalar_str(c, n, what) < 0)
		return -1;
	cfg_sanitize(t, sizeof(t), n->s, n->len, 60);
	const char *slash = strchr(n->s, '/');
	size_t al = slash ? (size_t)(slash - n->s) : n->len;
	if (al >= sizeof(a))
		return cfg_fail(c, n, "expected %s (address/length), got '%s'", what, t);
	memcpy(a, n->s, al);
	a[al] = '\0';
	if (parse_addr_text(a, out) < 0)
		return cfg_fail(c, n, "expected %s (address/length), got '%s'", what, t);
	if (fam && out->family != fam)
		return cfg_fail(c, n, "expected %s, got an %s one", what, fam_name(out->family));
	fam = out->family; /* 0 asked for either family */
	if (!slash)
		return cfg_fail(c, n, "expected %s (address/length), got an address", what);
	unsigned max = fam == AF_INET ? 32 : 128, len = 0;
	const char *l = slash + 1;
	size_t ll = strlen(l);
	if (ll == 0 || ll > 3 || (ll > 1 && l[0] == '0'))
		return cfg_fail(c, n, "expected %s (address/length), got '%s'", what, t);
	for (size_t i = 0; i < ll; i++) {
		if (l[i] < '0' || l[i] > '9')
			return cfg_fail(c, n, "expected %s (address/length), got '%s'", what, t);
		len = len * 10 + (unsigned)(l[i] - '0');
	}
	if (len > max)
		return cfg_fail(c, n, "prefix length %u out of range [0, %u]", len, max);
	struct ha_cfg_addr m = *out;
	if (fam == AF_INET6)
		ha_cfg_prefix_mask6(&m.v6, len);
	else
		ha_cfg_prefix_mask4(&m.v4, len);
	if (memcmp(&m, out, sizeof(m)) != 0) {
		char mt[INET6_ADDRSTRLEN];
		inet_ntop(fam, fam == AF_INET6 ? (const void *)&m.v6 : (const void *)&m.v4, mt, sizeof(mt));
		return cfg_fail(c, n, "host bits set in %s (did you mean %s/%u?)", t, mt, len);
	}
	*plen = len;
	return 0;
}

void cfg_addr_str(const struct ha_cfg_addr *a, char *buf, size_t sz)
{
	if (!inet_ntop(a->family, a->family == AF_INET6 ? (const void *)&a->v6 : (const void *)&a->v4, buf,
		       (socklen_t)sz))
		snprintf(buf, sz, "?");
}

/* ------------------------------------------------------------------ */
/* enumeration names                                                    */

#define X_NAME_ENC(e, s, k, a) s,
#define X_KEY_ENC(e, s, k, a) k,
#define X_AEAD_ENC(e, s, k, a) a,
#define X_NAME_INTEG(e, s, k) s,
#define X_KEY_INTEG(e, s, k) k,
#define X_NAME_LOG(e, s) s,
#define X_NAME_S6B_TRANSPORT(e, s, p) s,
#define X_PORT_S6B_TRANSPORT(e, s, p) p,
const char *const ha_cfg_enc_names[] = {HA_CFG_ENC_LIST(X_NAME_ENC)};
const char *const ha_cfg_integ_names[] = {HA_CFG_INTEG_LIST(X_NAME_INTEG)};
const char *const ha_cfg_log_names[] = {HA_CFG_LOG_LIST(X_NAME_LOG)};
const char *const ha_cfg_aaa_names[] = {"local", "radius", "s6b"}; /* enum ha_cfg_aaa's order */
_Static_assert(sizeof(ha_cfg_aaa_names) / sizeof(ha_cfg_aaa_names[0]) == HA_CFG_AAA_S6B + 1,
	       "one name per enum ha_cfg_aaa");
const char *const ha_cfg_s6b_transport_names[] = {HA_CFG_S6B_TRANSPORT_LIST(X_NAME_S6B_TRANSPORT)};
static const uint16_t s6b_ports[] = {HA_CFG_S6B_TRANSPORT_LIST(X_PORT_S6B_TRANSPORT)};
static const unsigned enc_keys[] = {HA_CFG_ENC_LIST(X_KEY_ENC)};
static const bool enc_aead[] = {HA_CFG_ENC_LIST(X_AEAD_ENC)};
static const unsigned integ_keys[] = {HA_CFG_INTEG_LIST(X_KEY_INTEG)};

const char *ha_cfg_enc_name(enum ha_cfg_enc e)
{
	return (unsigned)e < HA_CFG_ENC__COUNT ? ha_cfg_enc_names[e] : "?";
}

const char *ha_cfg_integ_name(enum ha_cfg_integ i)
{
	return (unsigned)i < HA_CFG_INTEG__COUNT ? ha_cfg_integ_names[i] : "?";
}

const char *ha_cfg_log_level_name(enum ha_cfg_log_level l)
{
	return (unsigned)l < HA_CFG_LOG__COUNT ? ha_cfg_log_names[l] : "?";
}

const char *ha_cfg_aaa_name(enum ha_cfg_aaa a)
{
	return (unsigned)a <= HA_CFG_AAA_S6B ? ha_cfg_aaa_names[a] : "?";
}

const char *ha_cfg_s6b_transport_name(enum ha_cfg_s6b_transport t)
{
	return (unsigned)t < HA_CFG_S6B__COUNT ? ha_cfg_s6b_transport_names[t] : "?";
}

uint16_t ha_cfg_s6b_default_port(enum ha_cfg_s6b_transport t)
{
	return (unsigned)t < HA_CFG_S6B__COUNT ? s6b_ports[t] : 0;
}

unsigned ha_cfg_enc_key_len(enum ha_cfg_enc e)
{
	return (unsigned)e < HA_CFG_ENC__COUNT ? enc_keys[e] : 0;
}

unsigned ha_cfg_integ_key_len(enum ha_cfg_integ i)
{
	return (unsigned)i < HA_CFG_INTEG__COUNT ? integ_keys[i] : 0;
}

bool ha_cfg_enc_is_aead(enum ha_cfg_enc e)
{
	return (unsigned)e < HA_CFG_ENC__COUNT && enc_aead[e];
}

/* ------------------------------------------------------------------ */
/* entry points                                                         */

void ha_config_free(struct ha_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->static_sas);
	free(cfg->static_bindings);
	memset(cfg, 0, sizeof(*cfg));
}

static int load_buffer(const char *name, const char *buf, size_t len, struct ha_config *cfg,
		       struct ha_config_error *err,
		       void (*on_keys)(void *, const char *, const char *const *, size_t), void *arg)
{
	struct cfg_ctx c;
	struct ynode *root = NULL;
	int rc = -1;

	memset(&c, 0, sizeof(c));
	c.on_keys = on_keys;
	c.on_keys_arg = arg;
	c.name = name ? name : "(buffer)";
	c.buf = buf ? buf : "";
	c.len = buf ? len : 0;
	c.err = err;
	c.cfg = cfg;
	if (err)
		err->msg[0] = '\0';
	memset(cfg, 0, sizeof(*cfg));
	int r = snprintf(cfg->source, sizeof(cfg->source), "%s", c.name);
	(void)r;

	if (c.len > HA_CFG_MAX_FILE_SIZE) {
		cfg_fail_at(&c, 1, 1, "file too large (at most %u bytes)", (unsigned)HA_CFG_MAX_FILE_SIZE);
		goto out;
	}
	if (cfg_build_tree(&c, &root) < 0)
		goto out;
	if (!root || ynode_is_null(root)) {
		unsigned line = root ? root->line : 1, col = root ? root->col : 1;
		cfg_fail_at(&c, line, col, "empty document");
		goto out;
	}
	rc = cfg_walk_root(&c, root);
out:
	ynode_free(root);
	free(c.sa_sorted);
	if (rc < 0) {
		ha_config_free(cfg);
		if (err && !err->msg[0]) /* cannot happen; never return an empty error */
			snprintf(err->msg, sizeof(err->msg), "%s:1:1: (root): invalid configuration", c.name);
	}
	return rc;
}

int ha_config_load_buffer(const char *name, const char *buf, size_t len, struct ha_config *cfg,
			  struct ha_config_error *err)
{
	return load_buffer(name, buf, len, cfg, err, NULL, NULL);
}

int ha_config_schema_keys(const char *buf, size_t len,
			  void (*fn)(void *arg, const char *path, const char *const *keys,
				     size_t nkeys),
			  void *arg, struct ha_config_error *err)
{
	struct ha_config *cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return -1;
	int rc = load_buffer("(schema)", buf, len, cfg, err, fn, arg);
	ha_config_free(cfg);
	free(cfg);
	return rc;
}

const struct ynode *cfg_root_list(struct cfg_ctx *c, const struct ynode *root, const char *key,
				  bool nonempty, size_t *old)
{
	const char *const keys[] = { key };
	struct cfg_mapv m;

	if (cfg_map(c, root, keys, 1, &m) < 0)
		return NULL;
	if (!m.v[0]) {
		cfg_missing(c, &m, 0);
		return NULL;
	}
	const struct ynode *list = m.v[0];
	*old = cfg_push_key(c, key);
	if (list->kind != Y_SEQ || (nonempty && !list->n)) {
		cfg_fail(c, list, nonempty ? "expected a non-empty list of %s" : "expected a list of %s",
			 key);
		return NULL;
	}
	return list;
}

int cfg_load_yaml(const char *path, int (*walk)(struct cfg_ctx *c, const struct ynode *root,
						void *arg),
		  void *arg, char *err, size_t errlen)
{
	struct ha_config_error e = { .msg = "" };
	struct cfg_ctx c = { .name = path, .err = &e };
	struct ynode *root = NULL;
	char *buf;
	size_t len;
	int rc = -1;

	if (cfg_read_file(path, &buf, &len) < 0) {
		snprintf(err, errlen, "%s:0:0: (root): cannot read: %s", path, strerror(errno));
		return -1;
	}
	c.buf = buf;
	c.len = len;
	if (len > HA_CFG_MAX_FILE_SIZE)
		cfg_fail_at(&c, 1, 1, "file too large");
	else if (cfg_build_tree(&c, &root) == 0 && root)
		rc = walk(&c, root, arg);
	else if (!e.msg[0])
		cfg_fail_at(&c, 1, 1, "empty document");
	ynode_free(root);
	free(buf);
	if (rc < 0)
		snprintf(err, errlen, "%s", e.msg[0] ? e.msg : "invalid file");
	return rc < 0 ? -1 : 0;
}

int cfg_read_file(const char *path, char **bufp, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;

	*bufp = NULL;
	*lenp = 0;
	if (!f)
		return -1;
	for (;;) {
		if (len == cap) {
			if (cap > HA_CFG_MAX_FILE_SIZE)
				break; /* the loader reports "file too large" */
			size_t ncap = cap ? cap * 2 : 65536;
			if (ncap > (size_t)HA_CFG_MAX_FILE_SIZE + 1)
				ncap = (size_t)HA_CFG_MAX_FILE_SIZE + 1;
			char *nb = realloc(buf, ncap);
			if (!nb) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return -1;
			}
			buf = nb;
			cap = ncap;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0) {
			if (ferror(f)) {
				int e = errno;
				free(buf);
				fclose(f);
				errno = e ? e : EIO;
				return -1;
			}
			break;
		}
	}
	fclose(f);
	*bufp = buf;
	*lenp = len;
	return 0;
}

int ha_config_load_file(const char *path, struct ha_config *cfg, struct ha_config_error *err)
{
	char *buf;
	size_t len;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if (err)
		err->msg[0] = '\0';
	if (cfg_read_file(path, &buf, &len) < 0) {
		if (err) {
			int r = snprintf(err->msg, sizeof(err->msg), "%s:0:0: (root): cannot read: %s",
					 path, strerror(errno));
			(void)r;
		}
		return -1;
	}
	rc = ha_config_load_buffer(path, buf, len, cfg, err);
	free(buf);
	return rc;
}

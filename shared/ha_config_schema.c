/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ha_config_schema.c - the schema walk: YAML tree -> struct ha_config.
 *
 * One function per section. Each one checks its mapping (unknown and
 * duplicate keys first), then reads the fields in schema order, then checks
 * the conflicts inside the section. Conflicts across sections (pools against
 * each other and against static bindings, SAs against bindings) follow once
 * the sections they depend on are read. Every field, range and default is in
 * docs/configuration.md; keep the two in step.
 */
#include "ha_config_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ */
/* field helpers: read m->v[i] with the key pushed on the path          */

typedef int (*str_check_fn)(struct cfg_ctx *c, const struct ynode *n);

static int f_int(struct cfg_ctx *c, const struct cfg_mapv *m, size_t i, bool req, int64_t lo,
		 int64_t hi, int64_t def, int64_t *out)
{
	if (!m->v[i]) {
		if (req)
			return cfg_missing(c, m, i);
		*out = def;
		return 0;
	}
	size_t o = cfg_push_key(c, m->keys[i]);
	if (cfg_scalar_int(c, m->v[i], lo, hi, out) < 0)
		return -1;
	cfg_pop(c, o);
	return 0;
}

static int f_bool(struct cfg_ctx *c, const struct cfg_mapv *m, size_t i, bool def, bool *out)
{
	if (!m->v[i]) {
		*out = def;
		return 0;
	}
	size_t o = cfg_push_key(c, m->keys[i]);
	if (cfg_scalar_bool(c, m->v[i], out) < 0)
		return -1;
	cfg_pop(c, o);
	return 0;
}

static int str_into(struct cfg_ctx *c, const struct ynode *n, char *dst, size_t dsz, str_check_fn check)
{
	if (cfg_scalar_str(c, n, "a string") < 0)
		return -1;
	if (n->len == 0)
		return cfg_fail(c, n, "expected a non-empty string");
	if (n->len >= dsz)
		return cfg_fail(c, n, "string too long (at most %zu characters)", dsz - 1);
	if (check && check(c, n) < 0)
		return -1;
	memcpy(dst, n->s, n->len + 1);
	return 0;
}

static int f_str(struct cfg_ctx *c, const struct cfg_mapv *m, size_t i, bool req, char *dst, size_t dsz,
		 const char *def, str_check_fn check)
{
	if (!m->v[i]) {
		if (req)
			return cfg_missing(c, m, i);
		int r = snprintf(dst, dsz, "%s", def ? def : "");
		(void)r;
		return 0;
	}
	size_t o = cfg_push_key(c, m->keys[i]);
	if (str_into(c, m->v[i], dst, dsz, check) < 0)
		return -1;
	cfg_pop(c, o);
	return 0;
}

static int f_enum(struct cfg_ctx *c, const struct cfg_mapv *m, size_t i, bool req,
		  const char *const *names, size_t nnames, int def, int *out)
{
	const struct ynode *n = m->v[i];
	if (!n) {
		if (req)
			return cfg_missing(c, m, i);
		*out = def;
		return 0;
	}
	size_t o = cfg_push_key(c, m->keys[i]);
	/* names are compared before the string check so that a plain
	 * `encryption: null` means the algorithm, not a YAML null */
	for (size_t j = 0; n->kind == Y_SCALAR && j < nnames; j++) {
		if (strlen(names[j]) == n->len && memcmp(names[j], n->s, n->len) == 0) {
			*out = (int)j;
			cfg_pop(c, o);
			return 0;
		}
	}
	if (cfg_scalar_str(c, n, "a string") < 0)
		return -1;
	char t[80], list[300];
	cfg_sanitize(t, sizeof(t), n->s, n->len, 40);
	cfg_join(list, sizeof(list), names, nnames);
	return cfg_fail(c, n, "invalid value '%s' (expected one of: %s)", t, list);
}

static int f_addr(struct cfg_ctx *c, const struct cfg_mapv *m, size_t i, bool req, int fam,
		  struct ha_cfg_addr *out, bool *present)
{
	if (present)
		*present = m->v[i] != NULL;
	if (!m->v[i])
		return req ? cfg_missing(c, m, i) : 0;
	size_t o = cfg_push_key(c, m->keys[i]);
	if (cfg_scalar_addr(c, m->v[i], fam, out) < 0)
		return -1;
	cfg_pop(c, o);
	return 0;
}

static int f_prefix(struct cfg_ctx *c, const struct cfg_mapv *m, size_t i, bool req, int fam,
		    struct ha_cfg_addr *out, unsigned *plen, bool *present)
{
	if (present)
		*present = m->v[i] != NULL;
	if (!m->v[i])
		return req ? cfg_missing(c, m, i) : 0;
	size_t o = cfg_push_key(c, m->keys[i]);
	if (cfg_scalar_prefix(c, m->v[i], fam, out, plen) < 0)
		return -1;
	cfg_pop(c, o);
	return 0;
}

/* An error about field i of m (or about the mapping if the field is absent). */
static int field_fail(struct cfg_ctx *c, const struct cfg_mapv *m, size_t i, const char *fmt, ...)
	CFG_PRINTF(4, 5);
static int field_fail(struct cfg_ctx *c, const struct cfg_mapv *m, size_t i, const char *fmt, ...)
{
	const struct ynode *n = m->v[i] ? m->v[i] : m->node;
	va_list ap;
	if (m->v[i])
		cfg_push_key(c, m->keys[i]);
	va_start(ap, fmt);
	int r = cfg_failv(c, n->line, n->col, fmt, ap);
	va_end(ap);
	return r;
}

/* A sequence node of at most max items. */
static int need_seq(struct cfg_ctx *c, const struct ynode *n, size_t max, const char *what)
{
	if (n->kind != Y_SEQ)
		return cfg_fail(c, n, "expected a sequence, got %s", ynode_kind_name(n));
	if (n->n > max)
		return cfg_fail(c, n, "too many %s (at most %zu)", what, max);
	return 0;
}

/* ------------------------------------------------------------------ */
/* string checks                                                        */

static int check_abs_path(struct cfg_ctx *c, const struct ynode *n)
{
	if (n->s[0] != '/')
		return cfg_fail(c, n, "expected an absolute path");
	return 0;
}

static int check_name(struct cfg_ctx *c, const struct ynode *n)
{
	for (size_t i = 0; i < n->len; i++) {
		unsigned char ch = (unsigned char)n->s[i];
		if (!isalnum(ch) && ch != '-' && ch != '_' && ch != '.')
			return cfg_fail(c, n, "expected a name of letters, digits, '-', '_' and '.'");
	}
	return 0;
}

/* Labels of letters, digits and '-' (1..63 octets each) separated by '.'; the number of labels,
 * or 0 if it is not. A host name's labels (host) neither start nor end with '-' (RFC 1123 2.1). */
static size_t dotted_labels(const char *s, size_t len, bool host)
{
	size_t label = 0, n = 0;
	for (size_t i = 0; i <= len; i++) {
		unsigned char ch = i < len ? (unsigned char)s[i] : '.';
		if (ch == '.') {
			if (label == 0 || label > 63 || (host && s[i - 1] == '-'))
				return 0;
			label = 0;
			n++;
		} else if (isalnum(ch) || (ch == '-' && !(host && label == 0))) {
			label++;
		} else {
			return 0;
		}
	}
	return n;
}

/* TS 23.003 9.1: labels of letters, digits and '-', separated by '.', <= 100 octets */
static int check_apn(struct cfg_ctx *c, const struct ynode *n)
{
	if (!dotted_labels(n->s, n->len, false))
		return cfg_fail(c, n, "expected an APN (labels of letters, digits and '-' separated by '.')");
	return 0;
}

/* RFC 6733 4.3.1 DiameterIdentity: an FQDN (a realm too, 6.4); a top-level label of digits
 * alone would be an IPv4 address (RFC 3696 2) */
static bool is_fqdn(const char *s, size_t len)
{
	if (dotted_labels(s, len, true) < 2)
		return false;
	for (size_t i = len; i > 0 && s[i - 1] != '.'; i--)
		if (isalpha((unsigned char)s[i - 1]))
			return true;
	return false;
}

static int check_fqdn(struct cfg_ctx *c, const struct ynode *n)
{
	if (!is_fqdn(n->s, n->len))
		return cfg_fail(c, n, "expected an FQDN like aaa.example.com (a DiameterIdentity: labels "
				"of letters, digits and '-' separated by '.')");
	return 0;
}

static int check_group(struct cfg_ctx *c, const struct ynode *n)
{
	for (size_t i = 0; i < n->len; i++) {
		unsigned char ch = (unsigned char)n->s[i];
		if (!isalnum(ch) && ch != '_' && ch != '-' && ch != '.')
			return cfg_fail(c, n, "expected a group name of letters, digits, '_', '-' and '.'");
	}
	if (n->s[0] == '-')
		return cfg_fail(c, n, "expected a group name of letters, digits, '_', '-' and '.'");
	return 0;
}

static int check_socket_path(struct cfg_ctx *c, const struct ynode *n)
{
	if (n->s[0] != '/')
		return cfg_fail(c, n, "expected an absolute path");
	return 0;
}

/* "0000:3b:00.0" or "3b:00.0" -> canonical "0000:3b:00.0"; -1 if not PCI */
static int pci_canon(const char *s, char *out, size_t osz)
{
	unsigned dom = 0, bus, dev, fn;
	char tail;
	size_t l = strlen(s);
	int n;

	for (size_t i = 0; i < l; i++)
		if (!isxdigit((unsigned char)s[i]) && s[i] != ':' && s[i] != '.')
			return -1;
	if (l == 12)
		n = sscanf(s, "%4x:%2x:%2x.%1x%c", &dom, &bus, &dev, &fn, &tail) == 4 ? 0 : -1;
	else if (l == 7)
		n = sscanf(s, "%2x:%2x.%1x%c", &bus, &dev, &fn, &tail) == 3 ? 0 : -1;
	else
		return -1;
	if (n < 0 || (l == 12 && (s[4] != ':' || s[7] != ':' || s[10] != '.')) ||
	    (l == 7 && (s[2] != ':' || s[5] != '.')))
		return -1;
	if (dev > 0x1f || fn > 7)
		return -1;
	int r = snprintf(out, osz, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	(void)r;
	return 0;
}

static const struct cfg_mapv *opt_map(struct cfg_ctx *c, const struct ynode *n, const char *const *keys,
				      size_t nkeys, struct cfg_mapv *m, int *rc)
{
	*rc = 0;
	if (!n) {
		memset(m, 0, sizeof(*m));
		m->keys = keys;
		m->nkeys = nkeys;
		return m;
	}
	*rc = cfg_map(c, n, keys, nkeys, m);
	return m;
}

/* ------------------------------------------------------------------ */
/* dataplane                                                            */

static bool eal_arg_sets_lcores(const char *a)
{
	static const char *const longs[] = {"--lcores", "--main-lcore", "--master-lcore", "--coremask"};
	for (size_t i = 0; i < sizeof(longs) / sizeof(longs[0]); i++) {
		size_t l = strlen(longs[i]);
		if (strncmp(a, longs[i], l) == 0 && (a[l] == '\0' || a[l] == '='))
			return true;
	}
	return (a[0] == '-' && (a[1] == 'l' || a[1] == 'c') &&
		(a[2] == '\0' || isdigit((unsigned char)a[2])));
}

static int walk_eal_args(struct cfg_ctx *c, const struct ynode *n, struct ha_config_dataplane *dp)
{
	if (need_seq(c, n, HA_CFG_MAX_EAL_ARGS, "eal_args") < 0)
		return -1;
	for (size_t i = 0; i < n->n; i++) {
		size_t o = cfg_push_index(c, i);
		const struct ynode *a = n->kids[i];
		if (str_into(c, a, dp->eal_args[i], sizeof(dp->eal_args[i]), NULL) < 0)
			return -1;
		if (eal_arg_sets_lcores(a->s))
			return cfg_fail(c, a, "lcores are set by dataplane.lcores, not by eal_args");
		cfg_pop(c, o);
	}
	dp->n_eal_args = (unsigned)n->n;
	return 0;
}

static int walk_lcores(struct cfg_ctx *c, const struct ynode *n, struct ha_config_dataplane *dp)
{
	static const char *const keys[] = {"main", "workers", "cpus", "control_plane"};
	enum { K_MAIN, K_WORKERS, K_CPUS, K_CONTROL_PLANE };
	struct cfg_mapv m;
	int64_t v;

	if (cfg_map(c, n, keys, 4, &m) < 0)
		return -1;
	if (f_int(c, &m, K_MAIN, false, 0, HA_CFG_MAX_LCORE_ID, 0, &v) < 0)
		return -1;
	dp->main_lcore = (uint16_t)v;
	if (!m.v[K_WORKERS])
		return cfg_missing(c, &m, K_WORKERS);
	size_t o = cfg_push_key(c, "workers");
	const struct ynode *w = m.v[K_WORKERS];
	if (need_seq(c, w, HA_CFG_MAX_WORKERS, "worker lcores") < 0)
		return -1;
	if (w->n == 0)
		return cfg_fail(c, w, "at least one worker lcore is required");
	for (size_t i = 0; i < w->n; i++) {
		size_t oi = cfg_push_index(c, i);
		if (cfg_scalar_int(c, w->kids[i], 0, HA_CFG_MAX_LCORE_ID, &v) < 0)
			return -1;
		if (v == dp->main_lcore)
			return cfg_fail(c, w->kids[i], "worker lcore %lld is the main lcore", (long long)v);
		for (size_t j = 0; j < i; j++)
			if (dp->workers[j] == v)
				return cfg_fail(c, w->kids[i], "duplicate worker lcore %lld (also workers[%zu])",
						(long long)v, j);
		dp->workers[i] = (uint16_t)v;
		cfg_pop(c, oi);
	}
	dp->n_workers = (unsigned)w->n;
	cfg_pop(c, o);
	/* control_plane: the lcore id hacpd takes in hadp's process group. Its own id keeps its
	 * mbuf allocations out of the per-lcore mempool caches hadp's lcores use (DPDK's caches
	 * are per lcore id, shared by every process). Default: one above hadp's highest. */
	uint16_t top = dp->main_lcore;
	for (unsigned i = 0; i < dp->n_workers; i++)
		top = dp->workers[i] > top ? dp->workers[i] : top;
	if (f_int(c, &m, K_CONTROL_PLANE, false, 0, HA_CFG_MAX_LCORE_ID, top + 1, &v) < 0)
		return -1;
	if (m.v[K_CONTROL_PLANE]) {
		size_t oc = cfg_push_key(c, "control_plane");
		if (v == dp->main_lcore)
			return cfg_fail(c, m.v[K_CONTROL_PLANE], "lcore %lld is hadp's main lcore",
					(long long)v);
		for (unsigned i = 0; i < dp->n_workers; i++)
			if (dp->workers[i] == v)
				return cfg_fail(c, m.v[K_CONTROL_PLANE],
						"lcore %lld is one of hadp's workers (workers[%u])",
						(long long)v, i);
		cfg_pop(c, oc);
	}
	dp->control_plane_lcore = (uint16_t)v;
	/* cpus: the CPU each lcore runs on (main first, then the workers); lets a small lab run
	 * more lcores than it has CPUs. Default: lcore i on CPU i. */
	if (m.v[K_CPUS]) {
		const struct ynode *cp = m.v[K_CPUS];
		o = cfg_push_key(c, "cpus");
		if (need_seq(c, cp, HA_CFG_MAX_WORKERS + 1, "CPUs") < 0)
			return -1;
		if (cp->n != dp->n_workers + 1)
			return cfg_fail(c, cp, "expected %u CPUs (the main lcore's, then one per worker), got %zu",
					dp->n_workers + 1, cp->n);
		for (size_t i = 0; i < cp->n; i++) {
			size_t oi = cfg_push_index(c, i);
			if (cfg_scalar_int(c, cp->kids[i], 0, HA_CFG_MAX_LCORE_ID, &v) < 0)
				return -1;
			dp->cpus[i] = (uint16_t)v;
			cfg_pop(c, oi);
		}
		dp->has_cpus = true;
		cfg_pop(c, o);
	}
	return 0;
}

static int walk_mempool(struct cfg_ctx *c, const struct ynode *n, struct ha_config_dataplane *dp)
{
	static const char *const keys[] = {"mbufs", "cache"};
	enum { K_MBUFS, K_CACHE };
	struct cfg_mapv m;
	int64_t v;

	int rc;

	opt_map(c, n, keys, 2, &m, &rc);
	if (rc < 0)
		return -1;
	if (f_int(c, &m, K_MBUFS, false, 255, 16777215, 16383, &v) < 0)
		return -1;
	dp->mbufs = (uint32_t)v;
	if (f_int(c, &m, K_CACHE, false, 0, 512, 256, &v) < 0)
		return -1;
	dp->mbuf_cache = (uint32_t)v;
	/* rte_mempool_create(): cache_size <= n / 1.5 */
	if ((uint64_t)dp->mbuf_cache * 3 > (uint64_t)dp->mbufs * 2)
		return field_fail(c, &m, K_CACHE, "cache %u too large for %u mbufs (at most mbufs / 1.5)",
				  dp->mbuf_cache, dp->mbufs);
	return 0;
}

static int check_mac(struct cfg_ctx *c, const struct ynode *n)
{
	unsigned b[6];
	char tail;

	if (sscanf(n->s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6 || n->len != 17)
		return cfg_fail(c, n, "expected a MAC address like 02:00:00:00:00:01");
	return 0;
}

static int walk_port(struct cfg_ctx *c, const struct ynode *n, struct ha_config_port *p)
{
	static const char *const keys[] = {"device", "devargs", "rx_queues", "tx_queues", "next_hop_mac",
					   "next_hop", "mtu"};
	enum { K_DEVICE, K_DEVARGS, K_RXQ, K_TXQ, K_NHMAC, K_NH, K_MTU };
	struct cfg_mapv m;
	int64_t v;
	char mac[18];

	if (cfg_map(c, n, keys, 7, &m) < 0)
		return -1;
	if (f_str(c, &m, K_DEVICE, true, p->device, sizeof(p->device), NULL, NULL) < 0)
		return -1;
	char canon[HA_CFG_DEVICE_SIZE];
	if (pci_canon(p->device, canon, sizeof(canon)) == 0) {
		p->kind = HA_CFG_PORT_PCI;
		memcpy(p->device, canon, sizeof(canon));
	} else {
		bool ok = strncmp(p->device, "net_", 4) == 0 && p->device[4] != '\0';
		for (const char *s = p->device; ok && *s; s++)
			ok = isalnum((unsigned char)*s) || *s == '_';
		if (!ok)
			return field_fail(c, &m, K_DEVICE,
					  "expected a PCI address like 0000:3b:00.0 or a virtual device name like net_ring0");
		p->kind = HA_CFG_PORT_VDEV;
	}
	if (f_str(c, &m, K_DEVARGS, false, p->devargs, sizeof(p->devargs), "", NULL) < 0)
		return -1;
	/* 0 when absent: hadp chooses from the workers and the device (dataplane/dp_port.h) */
	if (f_int(c, &m, K_RXQ, false, 1, HA_CFG_MAX_QUEUES, 0, &v) < 0)
		return -1;
	p->rx_queues = (uint16_t)v;
	if (f_int(c, &m, K_TXQ, false, 1, HA_CFG_MAX_QUEUES, 0, &v) < 0)
		return -1;
	p->tx_queues = (uint16_t)v;
	/* the link's IP MTU: 1280 is IPv6's minimum (RFC 8200 5) */
	if (f_int(c, &m, K_MTU, false, 1280, 9600, 1500, &v) < 0)
		return -1;
	p->mtu = (uint16_t)v;
	/* the port's router by address: hadp resolves its MAC (dataplane/dp_neigh.h) */
	if (m.v[K_NH]) {
		if (m.v[K_NHMAC])
			return field_fail(c, &m, K_NH, "give next_hop or next_hop_mac, not both");
		if (f_addr(c, &m, K_NH, true, 0, &p->next_hop, NULL) < 0)
			return -1;
		p->has_next_hop = true;
	}
	if (f_str(c, &m, K_NHMAC, false, mac, sizeof(mac), "ff:ff:ff:ff:ff:ff", check_mac) < 0)
		return -1;
	unsigned b[6];
	sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]);
	for (int i = 0; i < 6; i++)
		p->next_hop_mac[i] = (uint8_t)b[i];
	return 0;
}

static int walk_ports(struct cfg_ctx *c, const struct ynode *n, struct ha_config_dataplane *dp)
{
	static const char *const keys[] = {"access", "core"};
	enum { K_ACCESS, K_CORE };
	struct cfg_mapv m;

	if (cfg_map(c, n, keys, 2, &m) < 0)
		return -1;
	if (!m.v[K_ACCESS])
		return cfg_missing(c, &m, K_ACCESS);
	if (!m.v[K_CORE])
		return cfg_missing(c, &m, K_CORE);
	size_t o = cfg_push_key(c, "access");
	if (walk_port(c, m.v[K_ACCESS], &dp->access) < 0)
		return -1;
	/* IPv6's 1280 (RFC 8200 5) must fit the largest tunnel: an IPv6 outer header and ESP
	 * with AES-CBC (8 + 16 IV + up to 15 padding + 2 + 16 ICV) */
	if (dp->access.mtu < HA_CFG_ACCESS_MTU_MIN) {
		cfg_push_key(c, "mtu");
		return cfg_fail(c, ynode_map_get(m.v[K_ACCESS], "mtu"),
				"mtu %u leaves less than IPv6's 1280 octets inside a tunnel with ESP; "
				"at least %u", dp->access.mtu, HA_CFG_ACCESS_MTU_MIN);
	}
	cfg_pop(c, o);
	o = cfg_push_key(c, "core");
	if (walk_port(c, m.v[K_CORE], &dp->core) < 0)
		return -1;
	if (strcmp(dp->access.device, dp->core.device) == 0) {
		cfg_push_key(c, "device");
		return cfg_fail(c, ynode_map_get(m.v[K_CORE], "device"),
				"device %s is already used by dataplane.ports.access", dp->core.device);
	}
	cfg_pop(c, o);
	return 0;
}

static int walk_tables(struct cfg_ctx *c, const struct ynode *n, struct ha_config_dataplane *dp)
{
	static const char *const keys[] = {"max_bindings", "max_sas", "max_routes"};
	enum { K_B, K_S, K_R };
	struct cfg_mapv m;
	int64_t v;

	int rc;

	opt_map(c, n, keys, 3, &m, &rc);
	if (rc < 0)
		return -1;
	if (f_int(c, &m, K_B, false, 1, 16777216, 1048576, &v) < 0)
		return -1;
	dp->max_bindings = (uint32_t)v;
	if (f_int(c, &m, K_S, false, 1, 16777216, 65536, &v) < 0)
		return -1;
	dp->max_sas = (uint32_t)v;
	if (f_int(c, &m, K_R, false, 1, 1048576, 4096, &v) < 0)
		return -1;
	dp->max_routes = (uint32_t)v;
	return 0;
}

/* punt: each worker's token bucket per punt reason (a flood of one kind cannot starve the
 * control plane of the others). */
static int walk_punt(struct cfg_ctx *c, const struct ynode *n, struct ha_config_dataplane *dp)
{
	static const char *const keys[] = {"rate_pps", "burst"};
	enum { K_RATE, K_BURST };
	struct cfg_mapv m;
	int64_t v;
	int rc;

	opt_map(c, n, keys, 2, &m, &rc);
	if (rc < 0)
		return -1;
	if (f_int(c, &m, K_RATE, false, 1, 100000000, 100000, &v) < 0)
		return -1;
	dp->punt_rate_pps = (uint32_t)v;
	if (f_int(c, &m, K_BURST, false, 1, 1048576, 4096, &v) < 0)
		return -1;
	dp->punt_burst = (uint32_t)v;
	return 0;
}

static bool addr_eq(const struct ha_cfg_addr *a, const struct ha_cfg_addr *b);

/* routes: where the core port sends what it forwards, by destination (longest prefix). */
static int walk_routes(struct cfg_ctx *c, const struct ynode *n, struct ha_config_dataplane *dp)
{
	static const char *const keys[] = {"prefix", "next_hop_mac", "next_hop"};
	enum { K_PREFIX, K_MAC, K_NH };

	if (need_seq(c, n, HA_CFG_MAX_ROUTES, "routes") < 0)
		return -1;
	if (n->n > dp->max_routes)
		return cfg_fail(c, n, "%zu routes exceed dataplane.tables.max_routes (%u)", n->n,
				dp->max_routes);
	for (size_t i = 0; i < n->n; i++) {
		struct ha_config_route *r = &dp->routes[i];
		struct cfg_mapv m;
		unsigned len;
		char mac[18];
		size_t o = cfg_push_index(c, i);
		if (cfg_map(c, n->kids[i], keys, 3, &m) < 0)
			return -1;
		if (f_prefix(c, &m, K_PREFIX, true, 0, &r->prefix, &len, NULL) < 0)
			return -1;
		r->prefix_len = (uint8_t)len;
		if (m.v[K_NH]) {
			if (m.v[K_MAC])
				return field_fail(c, &m, K_NH, "give next_hop or next_hop_mac, not both");
			if (f_addr(c, &m, K_NH, true, r->prefix.family, &r->next_hop, NULL) < 0)
				return -1;
			r->has_next_hop = true;
			for (size_t j = 0; j < i; j++)
				if (dp->routes[j].prefix_len == r->prefix_len &&
				    addr_eq(&dp->routes[j].prefix, &r->prefix))
					return cfg_fail(c, n->kids[i], "the same prefix as routes[%zu]", j);
			cfg_pop(c, o);
			continue;
		}
		if (f_str(c, &m, K_MAC, true, mac, sizeof(mac), NULL, check_mac) < 0)
			return -1;
		unsigned b[6];
		sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]);
		for (int k = 0; k < 6; k++)
			r->next_hop_mac[k] = (uint8_t)b[k];
		for (size_t j = 0; j < i; j++)
			if (dp->routes[j].prefix_len == r->prefix_len &&
			    addr_eq(&dp->routes[j].prefix, &r->prefix))
				return cfg_fail(c, n->kids[i], "the same prefix as routes[%zu]", j);
		cfg_pop(c, o);
	}
	dp->n_routes = (unsigned)n->n;
	return 0;
}

static int walk_dataplane(struct cfg_ctx *c, const struct ynode *n, struct ha_config_dataplane *dp)
{
	static const char *const keys[] = {"eal_args", "lcores", "mempool", "ports", "tables",
					   "routes", "punt"};
	enum { K_EAL, K_LCORES, K_MEMPOOL, K_PORTS, K_TABLES, K_ROUTES, K_PUNT };
	struct cfg_mapv m;
	size_t o;

	if (cfg_map(c, n, keys, 7, &m) < 0)
		return -1;
	if (m.v[K_EAL]) {
		o = cfg_push_key(c, "eal_args");
		if (walk_eal_args(c, m.v[K_EAL], dp) < 0)
			return -1;
		cfg_pop(c, o);
	}
	if (!m.v[K_LCORES])
		return cfg_missing(c, &m, K_LCORES);
	o = cfg_push_key(c, "lcores");
	if (walk_lcores(c, m.v[K_LCORES], dp) < 0)
		return -1;
	cfg_pop(c, o);
	o = cfg_push_key(c, "mempool");
	if (walk_mempool(c, m.v[K_MEMPOOL], dp) < 0)
		return -1;
	cfg_pop(c, o);
	if (!m.v[K_PORTS])
		return cfg_missing(c, &m, K_PORTS);
	o = cfg_push_key(c, "ports");
	if (walk_ports(c, m.v[K_PORTS], dp) < 0)
		return -1;
	cfg_pop(c, o);
	o = cfg_push_key(c, "tables");
	if (walk_tables(c, m.v[K_TABLES], dp) < 0)
		return -1;
	cfg_pop(c, o);
	if (m.v[K_ROUTES]) {
		o = cfg_push_key(c, "routes");
		if (walk_routes(c, m.v[K_ROUTES], dp) < 0)
			return -1;
		cfg_pop(c, o);
	}
	o = cfg_push_key(c, "punt");
	if (walk_punt(c, m.v[K_PUNT], dp) < 0)
		return -1;
	cfg_pop(c, o);
	return 0;
}

/* ------------------------------------------------------------------ */
/* home_agent                                                           */

static int walk_home_agent(struct cfg_ctx *c, const struct ynode *n, struct ha_config_home_agent *ha)
{
	static const char *const keys[] = {"ipv6_address",	   "ipv4_address", "binding_lifetime",
					   "refresh_advice_percent", "nat",	   "revocation",
					   "insecure_lab_mode"};
	enum { K_V6, K_V4, K_LIFE, K_BRA, K_NAT, K_REV, K_LAB };
	static const char *const life_keys[] = {"max"};
	static const char *const nat_keys[] = {"keepalive_refresh", "force_udp"};
	static const char *const force_names[] = {"allowed", "never"};
	static const char *const rev_keys[] = {"min_delay_bris_ms", "max_retransmissions"};
	struct cfg_mapv m, sm;
	struct ha_cfg_addr a;
	int64_t v;
	int rc, e;
	size_t o;

	if (cfg_map(c, n, keys, 7, &m) < 0)
		return -1;
	if (f_addr(c, &m, K_V6, true, AF_INET6, &a, NULL) < 0)
		return -1;
	ha->ipv6_address = a.v6;
	if (f_addr(c, &m, K_V4, false, AF_INET, &a, &ha->has_ipv4_address) < 0)
		return -1;
	if (ha->has_ipv4_address)
		ha->ipv4_address = a.v4;

	o = cfg_push_key(c, "binding_lifetime");
	opt_map(c, m.v[K_LIFE], life_keys, 1, &sm, &rc);
	if (rc < 0)
		return -1;
	if (f_int(c, &sm, 0, false, 4, 262140, 3600, &v) < 0)
		return -1;
	ha->lifetime_max = (uint32_t)v;
	if (v % 4)
		return field_fail(c, &sm, 0, "value %lld is not a multiple of 4 (lifetimes are sent in 4 s units)",
				  (long long)v);
	cfg_pop(c, o);

	if (f_int(c, &m, K_BRA, false, 0, 99, 80, &v) < 0)
		return -1;
	ha->refresh_advice_percent = (uint8_t)v;

	o = cfg_push_key(c, "nat");
	opt_map(c, m.v[K_NAT], nat_keys, 2, &sm, &rc);
	if (rc < 0)
		return -1;
	if (f_int(c, &sm, 0, false, 1, 65535, 110, &v) < 0)
		return -1;
	ha->nat_keepalive_refresh = (uint32_t)v;
	if (f_enum(c, &sm, 1, false, force_names, 2, HA_CFG_FORCE_UDP_ALLOWED, &e) < 0)
		return -1;
	ha->force_udp = (enum ha_cfg_force_udp)e;
	cfg_pop(c, o);

	o = cfg_push_key(c, "revocation");
	opt_map(c, m.v[K_REV], rev_keys, 2, &sm, &rc);
	if (rc < 0)
		return -1;
	if (f_int(c, &sm, 0, false, 500, 60000, 1000, &v) < 0)
		return -1;
	ha->bri_min_delay_ms = (uint32_t)v;
	if (f_int(c, &sm, 1, false, 0, 10, 1, &v) < 0)
		return -1;
	ha->bri_max_retransmissions = (uint8_t)v;
	cfg_pop(c, o);

	if (f_bool(c, &m, K_LAB, false, &ha->insecure_lab_mode) < 0)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* pdns                                                                 */

static int walk_pdn(struct cfg_ctx *c, const struct ynode *n, size_t idx)
{
	static const char *const keys[] = {"name", "apn", "home_prefix_pool", "home_prefix_length",
					   "ipv4_pool"};
	enum { K_NAME, K_APN, K_POOL6, K_HPLEN, K_POOL4 };
	struct ha_config *cfg = c->cfg;
	struct ha_config_pdn *p = &cfg->pdns[idx];
	const struct ha_config_home_agent *ha = &cfg->home_agent;
	struct cfg_mapv m;
	struct ha_cfg_addr a;
	unsigned len;
	int64_t v;

	if (cfg_map(c, n, keys, 5, &m) < 0)
		return -1;
	if (f_str(c, &m, K_NAME, true, p->name, sizeof(p->name), NULL, check_name) < 0)
		return -1;
	for (size_t j = 0; j < idx; j++)
		if (strcmp(cfg->pdns[j].name, p->name) == 0)
			return field_fail(c, &m, K_NAME, "duplicate PDN name '%s' (also pdns[%zu].name)", p->name, j);
	if (f_str(c, &m, K_APN, false, p->apn, sizeof(p->apn), NULL, check_apn) < 0)
		return -1;
	if (!m.v[K_APN]) {
		/* default: the name, which must then be a valid APN */
		size_t o = cfg_push_key(c, "name");
		if (check_apn(c, m.v[K_NAME]) < 0)
			return -1;
		cfg_pop(c, o);
		memcpy(p->apn, p->name, sizeof(p->name));
	}
	for (size_t j = 0; j < idx; j++)
		if (strcasecmp(cfg->pdns[j].apn, p->apn) == 0)
			return field_fail(c, &m, m.v[K_APN] ? K_APN : K_NAME,
					  "duplicate APN '%s' (also pdns[%zu].apn)", p->apn, j);

	if (f_prefix(c, &m, K_POOL6, true, AF_INET6, &a, &len, NULL) < 0)
		return -1;
	p->pool6 = a.v6;
	p->pool6_len = (uint8_t)len;
	if (ha_cfg_prefix_contains6(&p->pool6, len, &ha->ipv6_address))
		return field_fail(c, &m, K_POOL6, "pool contains home_agent.ipv6_address");
	for (size_t j = 0; j < idx; j++)
		if (ha_cfg_prefix_overlaps6(&cfg->pdns[j].pool6, cfg->pdns[j].pool6_len, &p->pool6, len))
			return field_fail(c, &m, K_POOL6, "pool overlaps pdns[%zu].home_prefix_pool", j);

	if (f_int(c, &m, K_HPLEN, false, 1, 128, 64, &v) < 0)
		return -1;
	p->home_prefix_len = (uint8_t)v;
	if (p->home_prefix_len < p->pool6_len)
		return field_fail(c, &m, m.v[K_HPLEN] ? K_HPLEN : K_POOL6,
				  "home_prefix_length %u is shorter than the pool's /%u", p->home_prefix_len,
				  p->pool6_len);

	if (f_prefix(c, &m, K_POOL4, false, AF_INET, &a, &len, &p->has_ipv4_pool) < 0)
		return -1;
	if (p->has_ipv4_pool) {
		p->pool4 = a.v4;
		p->pool4_len = (uint8_t)len;
		if (len > 30) {
			char t[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &a.v4, t, sizeof(t));
			return field_fail(c, &m, K_POOL4,
					  "pool %s/%u is empty (the network and broadcast addresses are never "
					  "assigned; use /30 or shorter)", t, len);
		}
		if (ha->has_ipv4_address && ha_cfg_prefix_contains4(&p->pool4, len, &ha->ipv4_address))
			return field_fail(c, &m, K_POOL4, "pool contains home_agent.ipv4_address");
		for (size_t j = 0; j < idx; j++)
			if (cfg->pdns[j].has_ipv4_pool &&
			    ha_cfg_prefix_overlaps4(&cfg->pdns[j].pool4, cfg->pdns[j].pool4_len, &p->pool4, len))
				return field_fail(c, &m, K_POOL4, "pool overlaps pdns[%zu].ipv4_pool", j);
	}
	return 0;
}

static int walk_pdns(struct cfg_ctx *c, const struct ynode *n)
{
	if (need_seq(c, n, HA_CFG_MAX_PDNS, "PDNs") < 0)
		return -1;
	if (n->n == 0)
		return cfg_fail(c, n, "at least one PDN is required");
	for (size_t i = 0; i < n->n; i++) {
		size_t o = cfg_push_index(c, i);
		if (walk_pdn(c, n->kids[i], i) < 0)
			return -1;
		cfg_pop(c, o);
		c->cfg->n_pdns = (unsigned)(i + 1);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* ike                                                                  */

static int walk_radius(struct cfg_ctx *c, const struct ynode *n, struct ha_config_radius *r)
{
	static const char *const keys[] = {"server", "port", "secret"};
	struct cfg_mapv m;
	int64_t v;

	if (cfg_map(c, n, keys, 3, &m) < 0)
		return -1;
	if (f_addr(c, &m, 0, true, 0, &r->server, NULL) < 0)
		return -1;
	if (f_int(c, &m, 1, false, 1, 65535, 1812, &v) < 0)
		return -1;
	r->port = (uint16_t)v;
	return f_str(c, &m, 2, true, r->secret, sizeof(r->secret), NULL, NULL);
}

static int walk_s6b_tls(struct cfg_ctx *c, const struct ynode *n, struct ha_config_s6b *s)
{
	static const char *const keys[] = {"certificate", "private_key", "ca_certificate"};
	struct cfg_mapv m;

	if (cfg_map(c, n, keys, 3, &m) < 0)
		return -1;
	if (f_str(c, &m, 0, true, s->tls_certificate, sizeof(s->tls_certificate), NULL,
		  check_abs_path) < 0 ||
	    f_str(c, &m, 1, true, s->tls_private_key, sizeof(s->tls_private_key), NULL,
		  check_abs_path) < 0 ||
	    f_str(c, &m, 2, true, s->tls_ca_certificate, sizeof(s->tls_ca_certificate), NULL,
		  check_abs_path) < 0)
		return -1;
	s->has_tls = true;
	return 0;
}

static int walk_s6b_peer(struct cfg_ctx *c, const struct ynode *n, struct ha_config_s6b *s,
			 size_t idx)
{
	static const char *const keys[] = {"identity", "address", "port", "transport", "priority"};
	enum { K_ID, K_ADDR, K_PORT, K_TRANSPORT, K_PRIO };
	struct ha_config_s6b_peer *p = &s->peers[idx];
	struct cfg_mapv m;
	int64_t v;
	int e;

	if (cfg_map(c, n, keys, 5, &m) < 0)
		return -1;
	if (f_str(c, &m, K_ID, true, p->identity, sizeof(p->identity), NULL, check_fqdn) < 0)
		return -1;
	if (!strcasecmp(p->identity, s->identity))
		return field_fail(c, &m, K_ID, "'%s' is the HA's own identity (ike.s6b.identity)",
				  p->identity);
	/* a Diameter peer is known by its identity (RFC 6733 2.1): one connection each */
	for (size_t j = 0; j < idx; j++)
		if (!strcasecmp(p->identity, s->peers[j].identity))
			return field_fail(c, &m, K_ID, "identity '%s' already used by peers[%zu]",
					  p->identity, j);
	if (f_addr(c, &m, K_ADDR, true, 0, &p->address, NULL) < 0)
		return -1;
	if (f_enum(c, &m, K_TRANSPORT, false, ha_cfg_s6b_transport_names, HA_CFG_S6B__COUNT,
		   HA_CFG_S6B_TLS, &e) < 0)
		return -1;
	p->transport = (enum ha_cfg_s6b_transport)e;
	if (f_int(c, &m, K_PORT, false, 1, 65535, ha_cfg_s6b_default_port(p->transport), &v) < 0)
		return -1;
	p->port = (uint16_t)v;
	if (f_int(c, &m, K_PRIO, false, 1, 255, 1, &v) < 0)
		return -1;
	p->priority = (uint8_t)v;
	return 0;
}

static int walk_s6b(struct cfg_ctx *c, const struct ynode *n, const struct ha_config_ike *ike,
		    struct ha_config_s6b *s)
{
	static const char *const keys[] = {"identity", "realm", "destination_realm",
					   "request_timeout_ms", "watchdog_s", "reconnect_s", "tls",
					   "peers"};
	enum { K_ID, K_REALM, K_DREALM, K_TIMEOUT, K_TW, K_TC, K_TLS, K_PEERS };
	struct cfg_mapv m;
	int64_t v;

	if (cfg_map(c, n, keys, 8, &m) < 0)
		return -1;
	if (!m.v[K_ID] && !is_fqdn(ike->local_id, strlen(ike->local_id)))
		return cfg_fail(c, n, "missing required key 'identity' (its default, ike.local_id '%s', "
				"is not an FQDN)", ike->local_id);
	if (f_str(c, &m, K_ID, false, s->identity, sizeof(s->identity), ike->local_id, check_fqdn) < 0 ||
	    f_str(c, &m, K_REALM, true, s->realm, sizeof(s->realm), NULL, check_fqdn) < 0 ||
	    f_str(c, &m, K_DREALM, false, s->destination_realm, sizeof(s->destination_realm), s->realm,
		  check_fqdn) < 0)
		return -1;
	/* the HA's Session-Ids are "<identity>;<32 bits>;<32 bits>;s6b" (RFC 6733 8.8), kept in
	 * 127 characters by hacpd (HA_IKE_SID_MAX) */
	if (strlen(s->identity) > 100) {
		cfg_push_key(c, "identity");
		return cfg_fail(c, m.v[K_ID] ? m.v[K_ID] : n, "'%s' is longer than 100 characters: the "
				"HA's Session-Ids made of it would not fit", s->identity);
	}
	if (f_int(c, &m, K_TIMEOUT, false, 100, 60000, 5000, &v) < 0)
		return -1;
	s->request_timeout_ms = (uint32_t)v;
	/* RFC 3539 3.4.1: Tw at least 6 s (RFC 6733 5.5 refers to it) */
	if (f_int(c, &m, K_TW, false, 6, 3600, 30, &v) < 0)
		return -1;
	s->watchdog_s = (uint32_t)v;
	/* RFC 6733 2.1: Tc, 30 s recommended; how soon a failed preferred peer is back */
	if (f_int(c, &m, K_TC, false, 1, 3600, 30, &v) < 0)
		return -1;
	s->reconnect_s = (uint32_t)v;
	if (m.v[K_TLS]) {
		size_t o = cfg_push_key(c, "tls");
		if (walk_s6b_tls(c, m.v[K_TLS], s) < 0)
			return -1;
		cfg_pop(c, o);
	}
	if (!m.v[K_PEERS])
		return cfg_missing(c, &m, K_PEERS);
	const struct ynode *pn = m.v[K_PEERS];
	size_t o = cfg_push_key(c, "peers");
	if (need_seq(c, pn, HA_CFG_S6B_MAX_PEERS, "peers") < 0)
		return -1;
	if (pn->n == 0)
		return cfg_fail(c, pn, "at least one peer is required");
	for (size_t i = 0; i < pn->n; i++) {
		size_t oi = cfg_push_index(c, i);
		if (walk_s6b_peer(c, pn->kids[i], s, i) < 0)
			return -1;
		cfg_pop(c, oi);
		s->n_peers = (unsigned)(i + 1);
	}
	cfg_pop(c, o);
	for (unsigned i = 0; i < s->n_peers; i++)
		if (s->peers[i].transport == HA_CFG_S6B_TLS && !s->has_tls)
			return cfg_fail(c, n, "missing required key 'tls' (peers[%u] uses transport tls)", i);
	return 0;
}

static int walk_ike(struct cfg_ctx *c, const struct ynode *n, struct ha_config_ike *ike)
{
	static const char *const keys[] = {"enabled",	   "local_id",	 "certificate",	 "private_key",
					   "ca_certificate", "subscribers", "aaa",		 "radius",
					   "fragmentation",  "ike_lifetime", "child_lifetime", "socket",
					   "max_sessions", "detach_guard_s", "s6b"};
	enum { K_EN, K_ID, K_CERT, K_KEY, K_CA, K_SUBS, K_AAA, K_RADIUS, K_FRAG, K_IKEL, K_CHILDL,
	       K_SOCK, K_MAXS, K_GUARD, K_S6B };
	struct cfg_mapv m;
	int64_t v;
	int e;

	if (cfg_map(c, n, keys, 15, &m) < 0)
		return -1;
	if (f_bool(c, &m, K_EN, true, &ike->enabled) < 0)
		return -1;
	bool req = ike->enabled;
	if (f_str(c, &m, K_ID, req, ike->local_id, sizeof(ike->local_id), "", NULL) < 0 ||
	    f_str(c, &m, K_CERT, req, ike->certificate, sizeof(ike->certificate), "", check_abs_path) < 0 ||
	    f_str(c, &m, K_KEY, req, ike->private_key, sizeof(ike->private_key), "", check_abs_path) < 0 ||
	    f_str(c, &m, K_CA, req, ike->ca_certificate, sizeof(ike->ca_certificate), "", check_abs_path) < 0)
		return -1;
	if (f_enum(c, &m, K_AAA, false, ha_cfg_aaa_names, HA_CFG_AAA_S6B + 1, HA_CFG_AAA_LOCAL, &e) < 0)
		return -1;
	ike->aaa = (enum ha_cfg_aaa)e;
	if (ike->aaa != HA_CFG_AAA_S6B && m.v[K_S6B])
		return field_fail(c, &m, K_S6B, "s6b is only used when ike.aaa is s6b");
	if (ike->aaa == HA_CFG_AAA_LOCAL) {
		if (m.v[K_RADIUS])
			return field_fail(c, &m, K_RADIUS, "radius is only used when ike.aaa is radius");
		if (f_str(c, &m, K_SUBS, req, ike->subscribers, sizeof(ike->subscribers), "",
			  check_abs_path) < 0)
			return -1;
	} else if (ike->aaa == HA_CFG_AAA_S6B) {
		if (m.v[K_SUBS])
			return field_fail(c, &m, K_SUBS, "subscribers is only used when ike.aaa is local");
		if (m.v[K_RADIUS])
			return field_fail(c, &m, K_RADIUS, "radius is only used when ike.aaa is radius");
		if (m.v[K_S6B]) {
			size_t o = cfg_push_key(c, "s6b");
			if (walk_s6b(c, m.v[K_S6B], ike, &ike->s6b) < 0)
				return -1;
			cfg_pop(c, o);
			ike->has_s6b = true;
		} else if (req) {
			return cfg_missing(c, &m, K_S6B);
		}
	} else {
		if (m.v[K_SUBS])
			return field_fail(c, &m, K_SUBS, "subscribers is only used when ike.aaa is local");
		if (m.v[K_RADIUS]) {
			size_t o = cfg_push_key(c, "radius");
			if (walk_radius(c, m.v[K_RADIUS], &ike->radius) < 0)
				return -1;
			cfg_pop(c, o);
			ike->has_radius = true;
		} else if (req) {
			return cfg_missing(c, &m, K_RADIUS);
		}
	}
	if (f_bool(c, &m, K_FRAG, true, &ike->fragmentation) < 0)
		return -1;
	if (f_int(c, &m, K_IKEL, false, 300, 604800, 86400, &v) < 0)
		return -1;
	ike->ike_lifetime = (uint32_t)v;
	if (f_int(c, &m, K_CHILDL, false, 60, 604800, 3600, &v) < 0)
		return -1;
	ike->child_lifetime = (uint32_t)v;
	if (f_int(c, &m, K_MAXS, false, 1, 1048576, 65536, &v) < 0)
		return -1;
	ike->max_sessions = (uint32_t)v;
	/* 003 8.4.3.1: the UE closes its IKE SA after a detach; the HA only when it has not */
	if (f_int(c, &m, K_GUARD, false, 1, 3600, 30, &v) < 0)
		return -1;
	ike->detach_guard_s = (uint32_t)v;
	return f_str(c, &m, K_SOCK, false, ike->socket, sizeof(ike->socket), "/run/hacpd/ike.sock",
		     check_socket_path);
}

/* ------------------------------------------------------------------ */
/* static_sas                                                           */

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = (char)tolower((unsigned char)ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* hex text -> bytes; at most max bytes (longer keys are reported with their length) */
static int f_hex(struct cfg_ctx *c, const struct cfg_mapv *m, size_t i, uint8_t *out, size_t max,
		 size_t *outlen)
{
	const struct ynode *n = m->v[i];
	size_t o = cfg_push_key(c, m->keys[i]);
	if (cfg_scalar_str(c, n, "a hex string") < 0)
		return -1;
	const char *s = n->s;
	size_t len = n->len;
	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		len -= 2;
	}
	if (len == 0 || len % 2)
		return cfg_fail(c, n, "expected a hex string (an even number of hex digits)");
	for (size_t k = 0; k < len; k += 2) {
		int hi = hexval(s[k]), lo = hexval(s[k + 1]);
		if (hi < 0 || lo < 0)
			return cfg_fail(c, n, "expected a hex string (an even number of hex digits)");
		if (k / 2 < max)
			out[k / 2] = (uint8_t)(hi << 4 | lo);
	}
	*outlen = len / 2;
	cfg_pop(c, o);
	return 0;
}

static bool addr_eq(const struct ha_cfg_addr *a, const struct ha_cfg_addr *b)
{
	if (a->family != b->family)
		return false;
	return a->family == AF_INET ? a->v4.s_addr == b->v4.s_addr
				    : memcmp(&a->v6, &b->v6, sizeof(a->v6)) == 0;
}

static int walk_sa(struct cfg_ctx *c, const struct ynode *n, struct ha_config_sa *sa)
{
	static const char *const keys[] = {"spi",	 "direction", "mode",	   "local",
					   "peer",	 "encryption", "integrity", "key",
					   "auth_key", "esn",	     "replay_window", "udp_encap_port"};
	enum { K_SPI, K_DIR, K_MODE, K_LOCAL, K_PEER, K_ENC, K_INTEG, K_KEY, K_AUTH, K_ESN, K_RW,
	       K_ENCAP };
	static const char *const dir_names[] = {"in", "out"};
	static const char *const mode_names[] = {"transport", "tunnel"};
	const struct ha_config_home_agent *ha = &c->cfg->home_agent;
	struct cfg_mapv m;
	int64_t v;
	int e;
	char t[INET6_ADDRSTRLEN];

	if (cfg_map(c, n, keys, 12, &m) < 0)
		return -1;
	if (f_int(c, &m, K_SPI, true, 256, 0xffffffffLL, 0, &v) < 0)
		return -1;
	sa->spi = (uint32_t)v;
	if (f_enum(c, &m, K_DIR, true, dir_names, 2, 0, &e) < 0)
		return -1;
	sa->direction = (enum ha_cfg_sa_dir)e;
	if (f_enum(c, &m, K_MODE, true, mode_names, 2, 0, &e) < 0)
		return -1;
	sa->mode = (enum ha_cfg_sa_mode)e;
	if (f_addr(c, &m, K_LOCAL, true, 0, &sa->local, NULL) < 0)
		return -1;
	if (sa->local.family == AF_INET6) {
		if (memcmp(&sa->local.v6, &ha->ipv6_address, sizeof(ha->ipv6_address)) != 0) {
			inet_ntop(AF_INET6, &ha->ipv6_address, t, sizeof(t));
			return field_fail(c, &m, K_LOCAL,
					  "expected the home agent's address %s (home_agent.ipv6_address)", t);
		}
	} else if (!ha->has_ipv4_address) {
		return field_fail(c, &m, K_LOCAL, "IPv4 local address but home_agent.ipv4_address is not set");
	} else if (sa->local.v4.s_addr != ha->ipv4_address.s_addr) {
		inet_ntop(AF_INET, &ha->ipv4_address, t, sizeof(t));
		return field_fail(c, &m, K_LOCAL, "expected the home agent's address %s (home_agent.ipv4_address)",
				  t);
	}
	if (f_addr(c, &m, K_PEER, true, sa->local.family, &sa->peer, NULL) < 0)
		return -1;
	if (addr_eq(&sa->local, &sa->peer))
		return field_fail(c, &m, K_PEER, "peer is the same as local");

	if (f_enum(c, &m, K_ENC, true, ha_cfg_enc_names, HA_CFG_ENC__COUNT, 0, &e) < 0)
		return -1;
	sa->encryption = (enum ha_cfg_enc)e;
	if (f_enum(c, &m, K_INTEG, false, ha_cfg_integ_names, HA_CFG_INTEG__COUNT, HA_CFG_INTEG_NONE, &e) < 0)
		return -1;
	sa->integrity = (enum ha_cfg_integ)e;
	const char *encn = ha_cfg_enc_name(sa->encryption);
	if (ha_cfg_enc_is_aead(sa->encryption) && sa->integrity != HA_CFG_INTEG_NONE)
		return field_fail(c, &m, K_INTEG, "must be none with %s (GCM authenticates itself)", encn);
	if (!ha_cfg_enc_is_aead(sa->encryption) && sa->integrity == HA_CFG_INTEG_NONE)
		return field_fail(c, &m, K_INTEG, "integrity none is not allowed with encryption %s", encn);

	unsigned need = ha_cfg_enc_key_len(sa->encryption);
	size_t got;
	if (need == 0) {
		if (m.v[K_KEY])
			return field_fail(c, &m, K_KEY, "key is not used with encryption null");
		sa->key_len = 0;
	} else {
		if (!m.v[K_KEY])
			return cfg_missing(c, &m, K_KEY);
		if (f_hex(c, &m, K_KEY, sa->key, sizeof(sa->key), &got) < 0)
			return -1;
		if (got != need)
			return field_fail(c, &m, K_KEY, "key is %zu bytes, %s needs %u%s", got, encn, need,
					  ha_cfg_enc_is_aead(sa->encryption) ? " (key + 4-byte salt)" : "");
		sa->key_len = (uint8_t)need;
	}
	need = ha_cfg_integ_key_len(sa->integrity);
	if (need == 0) {
		if (m.v[K_AUTH])
			return field_fail(c, &m, K_AUTH, "auth_key is not used with integrity none");
		sa->auth_key_len = 0;
	} else {
		if (!m.v[K_AUTH])
			return cfg_missing(c, &m, K_AUTH);
		if (f_hex(c, &m, K_AUTH, sa->auth_key, sizeof(sa->auth_key), &got) < 0)
			return -1;
		if (got != need)
			return field_fail(c, &m, K_AUTH, "auth_key is %zu bytes, %s needs %u", got,
					  ha_cfg_integ_name(sa->integrity), need);
		sa->auth_key_len = (uint8_t)need;
	}
	if (f_bool(c, &m, K_ESN, false, &sa->esn) < 0)
		return -1;
	if (f_int(c, &m, K_RW, false, 0, 4096, 64, &v) < 0)
		return -1;
	if (v % 32)
		return field_fail(c, &m, K_RW, "replay_window %lld is not a multiple of 32", (long long)v);
	sa->replay_window = (uint16_t)v;
	if (f_int(c, &m, K_ENCAP, false, 1, 65535, 0, &v) < 0)
		return -1;
	sa->udp_encap_port = (uint16_t)v;
	if (v && (sa->mode != HA_CFG_SA_TUNNEL || sa->local.family != AF_INET))
		return field_fail(c, &m, K_ENCAP, "udp_encap_port needs a tunnel-mode SA between IPv4 "
				  "addresses (RFC 3948 ESP-in-UDP)");
	return 0;
}

static int cmp_sa_key(const void *a, const void *b)
{
	const struct cfg_sa_key *x = a, *y = b;
	if (x->dir != y->dir)
		return x->dir < y->dir ? -1 : 1;
	if (x->spi != y->spi)
		return x->spi < y->spi ? -1 : 1;
	return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

static int walk_static_sas(struct cfg_ctx *c, const struct ynode *n)
{
	struct ha_config *cfg = c->cfg;

	if (need_seq(c, n, HA_CFG_MAX_STATIC_SAS, "static SAs") < 0)
		return -1;
	if (n->n == 0)
		return 0;
	cfg->static_sas = calloc(n->n, sizeof(*cfg->static_sas));
	c->sa_sorted = calloc(n->n, sizeof(*c->sa_sorted));
	if (!cfg->static_sas || !c->sa_sorted)
		return cfg_fail(c, n, "out of memory");
	for (size_t i = 0; i < n->n; i++) {
		size_t o = cfg_push_index(c, i);
		if (walk_sa(c, n->kids[i], &cfg->static_sas[i]) < 0)
			return -1;
		cfg_pop(c, o);
		cfg->n_static_sas = i + 1;
	}
	if (cfg->n_static_sas > cfg->dataplane.max_sas)
		return cfg_fail(c, n, "%zu static SAs exceed dataplane.tables.max_sas (%u)", cfg->n_static_sas,
				cfg->dataplane.max_sas);

	/* duplicate SPIs per direction: report the earliest second occurrence */
	for (size_t i = 0; i < cfg->n_static_sas; i++) {
		c->sa_sorted[i].dir = cfg->static_sas[i].direction;
		c->sa_sorted[i].spi = cfg->static_sas[i].spi;
		c->sa_sorted[i].idx = (uint32_t)i;
	}
	qsort(c->sa_sorted, cfg->n_static_sas, sizeof(*c->sa_sorted), cmp_sa_key);
	size_t dup = SIZE_MAX, first = 0, group = 0;
	for (size_t i = 1; i < cfg->n_static_sas; i++) {
		const struct cfg_sa_key *p = &c->sa_sorted[i - 1], *q = &c->sa_sorted[i];
		if (p->dir != q->dir || p->spi != q->spi) {
			group = i;
			continue;
		}
		if (q->idx < dup) {
			dup = q->idx;
			first = c->sa_sorted[group].idx;
		}
	}
	if (dup != SIZE_MAX) {
		const struct ha_config_sa *sa = &cfg->static_sas[dup];
		cfg_set_path(c, "static_sas[%zu].spi", dup);
		return cfg_fail(c, ynode_map_get(n->kids[dup], "spi"),
				"duplicate spi 0x%08x for direction %s (also static_sas[%zu])", sa->spi,
				sa->direction == HA_CFG_SA_IN ? "in" : "out", first);
	}
	return 0;
}

/* index of the SA (dir, spi) or -1 */
static long find_sa(const struct cfg_ctx *c, uint32_t dir, uint32_t spi)
{
	size_t lo = 0, hi = c->cfg->n_static_sas;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct cfg_sa_key *k = &c->sa_sorted[mid];
		if (k->dir < dir || (k->dir == dir && k->spi < spi))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < c->cfg->n_static_sas && c->sa_sorted[lo].dir == dir && c->sa_sorted[lo].spi == spi)
		return (long)c->sa_sorted[lo].idx;
	return -1;
}

/* ------------------------------------------------------------------ */
/* static_bindings                                                      */

static int binding_sa(struct cfg_ctx *c, const struct cfg_mapv *m, size_t k, uint32_t dir, uint32_t spi,
		      const struct ha_config_binding *b, uint32_t *idx, uint32_t *owner, size_t bi)
{
	const struct ha_config *cfg = c->cfg;
	char t1[INET6_ADDRSTRLEN], t2[INET6_ADDRSTRLEN];
	long i = c->sa_sorted ? find_sa(c, dir, spi) : -1;

	if (i < 0)
		return field_fail(c, m, k, "unknown SA: no static_sas entry with spi 0x%08x and direction %s", spi,
				  dir == HA_CFG_SA_IN ? "in" : "out");
	const struct ha_config_sa *sa = &cfg->static_sas[i];
	if (sa->mode != HA_CFG_SA_TUNNEL)
		return field_fail(c, m, k, "static_sas[%ld] is a transport mode SA; payload SAs are tunnel mode",
				  i);
	if (!addr_eq(&sa->peer, &b->care_of)) {
		cfg_addr_str(&sa->peer, t1, sizeof(t1));
		cfg_addr_str(&b->care_of, t2, sizeof(t2));
		return field_fail(c, m, k, "static_sas[%ld].peer %s differs from care_of %s", i, t1, t2);
	}
	if (owner[i])
		return field_fail(c, m, k, "static_sas[%ld] is already used by static_bindings[%u]", i,
				  owner[i] - 1);
	owner[i] = (uint32_t)bi + 1;
	*idx = (uint32_t)i;
	return 0;
}

static int walk_binding(struct cfg_ctx *c, const struct ynode *n, size_t bi, uint32_t *owner)
{
	static const char *const keys[] = {"pdn",     "home_prefix", "ipv4_home_address", "care_of",
					   "udp_port", "sa_in",	      "sa_out"};
	enum { K_PDN, K_HP, K_V4, K_COA, K_UDP, K_SAIN, K_SAOUT };
	struct ha_config *cfg = c->cfg;
	struct ha_config_binding *b = &cfg->static_bindings[bi];
	struct cfg_mapv m;
	struct ha_cfg_addr a;
	unsigned len;
	int64_t v;
	char name[HA_CFG_NAME_SIZE], t[INET6_ADDRSTRLEN];

	if (cfg_map(c, n, keys, 7, &m) < 0)
		return -1;
	if (f_str(c, &m, K_PDN, true, name, sizeof(name), NULL, NULL) < 0)
		return -1;
	size_t pi;
	for (pi = 0; pi < cfg->n_pdns; pi++)
		if (strcmp(cfg->pdns[pi].name, name) == 0)
			break;
	if (pi == cfg->n_pdns) {
		const char *names[HA_CFG_MAX_PDNS];
		char list[300], nt[80];
		for (size_t j = 0; j < cfg->n_pdns; j++)
			names[j] = cfg->pdns[j].name;
		cfg_join(list, sizeof(list), names, cfg->n_pdns);
		cfg_sanitize(nt, sizeof(nt), name, strlen(name), 40);
		return field_fail(c, &m, K_PDN, "unknown PDN '%s' (expected one of: %s)", nt, list);
	}
	const struct ha_config_pdn *p = &cfg->pdns[pi];
	b->pdn = (uint32_t)pi;

	if (f_prefix(c, &m, K_HP, true, AF_INET6, &a, &len, NULL) < 0)
		return -1;
	b->home_prefix = a.v6;
	b->home_prefix_len = (uint8_t)len;
	if (len != p->home_prefix_len)
		return field_fail(c, &m, K_HP, "prefix length /%u differs from pdns[%zu].home_prefix_length %u",
				  len, pi, p->home_prefix_len);
	if (!ha_cfg_prefix_contains6(&p->pool6, p->pool6_len, &b->home_prefix)) {
		inet_ntop(AF_INET6, &p->pool6, t, sizeof(t));
		return field_fail(c, &m, K_HP, "prefix outside pdns[%zu].home_prefix_pool %s/%u", pi, t,
				  p->pool6_len);
	}

	if (f_addr(c, &m, K_V4, false, AF_INET, &a, &b->has_ipv4_home_address) < 0)
		return -1;
	if (b->has_ipv4_home_address) {
		b->ipv4_home_address = a.v4;
		if (!p->has_ipv4_pool)
			return field_fail(c, &m, K_V4, "pdns[%zu] ('%s') has no ipv4_pool", pi, p->name);
		inet_ntop(AF_INET, &p->pool4, t, sizeof(t));
		if (!ha_cfg_prefix_contains4(&p->pool4, p->pool4_len, &a.v4))
			return field_fail(c, &m, K_V4, "address outside pdns[%zu].ipv4_pool %s/%u", pi, t,
					  p->pool4_len);
		uint32_t host = ntohl(a.v4.s_addr) & (0xffffffffu >> p->pool4_len);
		if (host == 0 || host == (0xffffffffu >> p->pool4_len))
			return field_fail(c, &m, K_V4, "address is the %s address of pdns[%zu].ipv4_pool %s/%u",
					  host == 0 ? "network" : "broadcast", pi, t, p->pool4_len);
	}

	if (f_addr(c, &m, K_COA, true, 0, &b->care_of, NULL) < 0)
		return -1;
	const struct ha_config_home_agent *ha = &cfg->home_agent;
	if (b->care_of.family == AF_INET6) {
		if (memcmp(&b->care_of.v6, &ha->ipv6_address, sizeof(ha->ipv6_address)) == 0)
			return field_fail(c, &m, K_COA, "care-of address is the home agent's address");
		for (size_t j = 0; j < cfg->n_pdns; j++)
			if (ha_cfg_prefix_contains6(&cfg->pdns[j].pool6, cfg->pdns[j].pool6_len, &b->care_of.v6))
				return field_fail(c, &m, K_COA, "care-of address lies inside pdns[%zu].home_prefix_pool",
						  j);
	} else {
		if (!ha->has_ipv4_address)
			return field_fail(c, &m, K_COA, "IPv4 care-of address but home_agent.ipv4_address is not set");
		if (b->care_of.v4.s_addr == ha->ipv4_address.s_addr)
			return field_fail(c, &m, K_COA, "care-of address is the home agent's address");
		for (size_t j = 0; j < cfg->n_pdns; j++)
			if (cfg->pdns[j].has_ipv4_pool &&
			    ha_cfg_prefix_contains4(&cfg->pdns[j].pool4, cfg->pdns[j].pool4_len, &b->care_of.v4))
				return field_fail(c, &m, K_COA, "care-of address lies inside pdns[%zu].ipv4_pool", j);
	}

	if (f_int(c, &m, K_UDP, false, 1, 65535, 0, &v) < 0)
		return -1;
	b->has_udp_port = m.v[K_UDP] != NULL;
	b->udp_port = (uint16_t)v;
	if (b->has_udp_port && b->care_of.family != AF_INET)
		return field_fail(c, &m, K_UDP, "udp_port needs an IPv4 care_of (RFC 5555 UDP encapsulation)");

	if (m.v[K_SAIN] && !m.v[K_SAOUT])
		return cfg_fail(c, m.node, "missing required key 'sa_out' (sa_in and sa_out go together)");
	if (m.v[K_SAOUT] && !m.v[K_SAIN])
		return cfg_fail(c, m.node, "missing required key 'sa_in' (sa_in and sa_out go together)");
	if (m.v[K_SAIN]) {
		if (f_int(c, &m, K_SAIN, true, 256, 0xffffffffLL, 0, &v) < 0)
			return -1;
		b->sa_in = (uint32_t)v;
		if (f_int(c, &m, K_SAOUT, true, 256, 0xffffffffLL, 0, &v) < 0)
			return -1;
		b->sa_out = (uint32_t)v;
		if (binding_sa(c, &m, K_SAIN, HA_CFG_SA_IN, b->sa_in, b, &b->sa_in_index, owner, bi) < 0 ||
		    binding_sa(c, &m, K_SAOUT, HA_CFG_SA_OUT, b->sa_out, b, &b->sa_out_index, owner, bi) < 0)
			return -1;
		b->has_sa = true;
	}
	return 0;
}

struct cfg_bkey {
	uint8_t k[16];
	uint32_t idx;
};

static int cmp_bkey(const void *a, const void *b)
{
	const struct cfg_bkey *x = a, *y = b;
	int r = memcmp(x->k, y->k, sizeof(x->k));
	if (r)
		return r;
	return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

/* Find the earliest (in file order) repeat of a key; returns its index or SIZE_MAX. */
static size_t earliest_dup(struct cfg_bkey *keys, size_t n, size_t *first)
{
	size_t dup = SIZE_MAX, group = 0;
	qsort(keys, n, sizeof(*keys), cmp_bkey);
	for (size_t i = 1; i < n; i++) {
		if (memcmp(keys[i - 1].k, keys[i].k, sizeof(keys[i].k)) != 0) {
			group = i;
			continue;
		}
		if (keys[i].idx < dup) {
			dup = keys[i].idx;
			*first = keys[group].idx;
		}
	}
	return dup;
}

static int walk_static_bindings(struct cfg_ctx *c, const struct ynode *n)
{
	struct ha_config *cfg = c->cfg;
	uint32_t *owner = NULL;
	struct cfg_bkey *keys = NULL;
	int rc = -1;

	if (need_seq(c, n, HA_CFG_MAX_STATIC_BINDINGS, "static bindings") < 0)
		return -1;
	if (n->n == 0)
		return 0;
	cfg->static_bindings = calloc(n->n, sizeof(*cfg->static_bindings));
	owner = calloc(cfg->n_static_sas + 1, sizeof(*owner));
	keys = calloc(n->n, sizeof(*keys));
	if (!cfg->static_bindings || !owner || !keys) {
		cfg_fail(c, n, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n->n; i++) {
		size_t o = cfg_push_index(c, i);
		if (walk_binding(c, n->kids[i], i, owner) < 0)
			goto out;
		cfg_pop(c, o);
		cfg->n_static_bindings = i + 1;
	}
	if (cfg->n_static_bindings > cfg->dataplane.max_bindings) {
		cfg_fail(c, n, "%zu static bindings exceed dataplane.tables.max_bindings (%u)",
			 cfg->n_static_bindings, cfg->dataplane.max_bindings);
		goto out;
	}
	/* the same home prefix (or IPv4 home address) twice */
	size_t first = 0, dup, nk;
	for (size_t i = 0; i < cfg->n_static_bindings; i++) {
		memcpy(keys[i].k, &cfg->static_bindings[i].home_prefix, 16);
		keys[i].idx = (uint32_t)i;
	}
	dup = earliest_dup(keys, cfg->n_static_bindings, &first);
	if (dup != SIZE_MAX) {
		cfg_set_path(c, "static_bindings[%zu].home_prefix", dup);
		cfg_fail(c, ynode_map_get(n->kids[dup], "home_prefix"),
			 "home prefix already used by static_bindings[%zu]", first);
		goto out;
	}
	nk = 0;
	for (size_t i = 0; i < cfg->n_static_bindings; i++) {
		if (!cfg->static_bindings[i].has_ipv4_home_address)
			continue;
		memset(keys[nk].k, 0, 16);
		memcpy(keys[nk].k, &cfg->static_bindings[i].ipv4_home_address, 4);
		keys[nk++].idx = (uint32_t)i;
	}
	dup = earliest_dup(keys, nk, &first);
	if (dup != SIZE_MAX) {
		cfg_set_path(c, "static_bindings[%zu].ipv4_home_address", dup);
		cfg_fail(c, ynode_map_get(n->kids[dup], "ipv4_home_address"),
			 "address already used by static_bindings[%zu]", first);
		goto out;
	}
	rc = 0;
out:
	free(owner);
	free(keys);
	return rc;
}

/* ------------------------------------------------------------------ */
/* static_binding_ranges: many lab/load bindings from one line            */

/* a + i, in the address's own width (IPv6: the low 64 bits); false on overflow */
static bool addr_add(const struct ha_cfg_addr *a, uint64_t i, struct ha_cfg_addr *out)
{
	*out = *a;
	if (a->family == AF_INET) {
		uint64_t v = (uint64_t)ntohl(a->v4.s_addr) + i;
		if (v > 0xffffffffu)
			return false;
		out->v4.s_addr = htonl((uint32_t)v);
		return true;
	}
	uint64_t lo = 0;
	for (int k = 8; k < 16; k++)
		lo = lo << 8 | a->v6.s6_addr[k];
	if (lo + i < lo)
		return false;
	lo += i;
	for (int k = 15; k >= 8; k--, lo >>= 8)
		out->v6.s6_addr[k] = (uint8_t)lo;
	return true;
}

/* prefix + i prefixes of length len; false on overflow past the /0 boundary */
static bool prefix_add(const struct in6_addr *p, unsigned len, uint64_t i, struct in6_addr *out)
{
	*out = *p;
	if (len == 0)
		return i == 0;
	/* add i at bit position len-1 (counting from the left), carrying leftwards */
	unsigned bit = len - 1;
	int byte = (int)(bit / 8);
	unsigned shift = 7 - bit % 8;
	unsigned __int128 carry = (unsigned __int128)i << shift;
	for (; byte >= 0; byte--) {
		unsigned __int128 v = out->s6_addr[byte] + (carry & 0xff);
		out->s6_addr[byte] = (uint8_t)v;
		carry = (carry >> 8) + (v >> 8);
	}
	return carry == 0;
}

void ha_cfg_range_binding(const struct ha_config_binding_range *r, uint32_t i,
			  struct ha_config_binding *b)
{
	memset(b, 0, sizeof(*b));
	b->pdn = r->pdn;
	prefix_add(&r->first_home_prefix, r->home_prefix_len, i, &b->home_prefix);
	b->home_prefix_len = r->home_prefix_len;
	addr_add(&r->first_care_of, i, &b->care_of);
	if (r->has_ipv4_home_address) {
		struct ha_cfg_addr a = { .family = AF_INET, .v4 = r->first_ipv4_home_address }, o;
		addr_add(&a, i, &o);
		b->has_ipv4_home_address = true;
		b->ipv4_home_address = o.v4;
	}
	b->has_udp_port = r->has_udp_port;
	b->udp_port = r->udp_port;
}

static int walk_range(struct cfg_ctx *c, const struct ynode *n, struct ha_config_binding_range *r)
{
	static const char *const keys[] = {"pdn", "first_home_prefix", "count", "first_care_of",
					   "first_ipv4_home_address", "udp_port"};
	enum { K_PDN, K_HP, K_COUNT, K_COA, K_V4, K_UDP };
	struct ha_config *cfg = c->cfg;
	struct cfg_mapv m;
	struct ha_cfg_addr a, last;
	struct in6_addr lastp;
	unsigned len;
	int64_t v;
	char name[HA_CFG_NAME_SIZE];

	if (cfg_map(c, n, keys, 6, &m) < 0)
		return -1;
	if (f_str(c, &m, K_PDN, true, name, sizeof(name), NULL, NULL) < 0)
		return -1;
	for (r->pdn = 0; r->pdn < cfg->n_pdns; r->pdn++)
		if (strcmp(cfg->pdns[r->pdn].name, name) == 0)
			break;
	if (r->pdn == cfg->n_pdns)
		return field_fail(c, &m, K_PDN, "unknown PDN '%s'", name);
	const struct ha_config_pdn *p = &cfg->pdns[r->pdn];
	if (f_int(c, &m, K_COUNT, true, 1, cfg->dataplane.max_bindings, 0, &v) < 0)
		return -1;
	r->count = (uint32_t)v;
	if (f_prefix(c, &m, K_HP, true, AF_INET6, &a, &len, NULL) < 0)
		return -1;
	r->first_home_prefix = a.v6;
	r->home_prefix_len = (uint8_t)len;
	if (len != p->home_prefix_len)
		return field_fail(c, &m, K_HP, "prefix length /%u differs from pdns[%u].home_prefix_length %u",
				  len, r->pdn, p->home_prefix_len);
	if (!ha_cfg_prefix_contains6(&p->pool6, p->pool6_len, &r->first_home_prefix) ||
	    !prefix_add(&r->first_home_prefix, len, r->count - 1, &lastp) ||
	    !ha_cfg_prefix_contains6(&p->pool6, p->pool6_len, &lastp))
		return field_fail(c, &m, K_HP, "%u prefixes from here do not fit in pdns[%u].home_prefix_pool",
				  r->count, r->pdn);
	if (f_addr(c, &m, K_COA, true, 0, &r->first_care_of, NULL) < 0)
		return -1;
	if (!addr_add(&r->first_care_of, r->count - 1, &last))
		return field_fail(c, &m, K_COA, "%u care-of addresses from here overflow", r->count);
	if (r->first_care_of.family == AF_INET && !cfg->home_agent.has_ipv4_address)
		return field_fail(c, &m, K_COA, "IPv4 care-of address but home_agent.ipv4_address is not set");
	for (size_t j = 0; j < cfg->n_pdns; j++) {
		const struct ha_config_pdn *q = &cfg->pdns[j];
		bool in = r->first_care_of.family == AF_INET6
				  ? ha_cfg_prefix_contains6(&q->pool6, q->pool6_len, &r->first_care_of.v6) ||
					    ha_cfg_prefix_contains6(&q->pool6, q->pool6_len, &last.v6)
				  : q->has_ipv4_pool &&
					    (ha_cfg_prefix_contains4(&q->pool4, q->pool4_len, &r->first_care_of.v4) ||
					     ha_cfg_prefix_contains4(&q->pool4, q->pool4_len, &last.v4));
		if (in)
			return field_fail(c, &m, K_COA, "care-of addresses reach into pdns[%zu]'s pools", j);
	}
	if (f_addr(c, &m, K_V4, false, AF_INET, &a, &r->has_ipv4_home_address) < 0)
		return -1;
	if (r->has_ipv4_home_address) {
		r->first_ipv4_home_address = a.v4;
		if (!p->has_ipv4_pool)
			return field_fail(c, &m, K_V4, "pdns[%u] ('%s') has no ipv4_pool", r->pdn, p->name);
		uint32_t host = ntohl(a.v4.s_addr) & (0xffffffffu >> p->pool4_len);
		uint64_t last_host = (uint64_t)host + r->count - 1;
		if (!ha_cfg_prefix_contains4(&p->pool4, p->pool4_len, &a.v4) || host == 0 ||
		    last_host >= (0xffffffffu >> p->pool4_len))
			return field_fail(c, &m, K_V4, "%u addresses from here do not fit in pdns[%u].ipv4_pool "
					  "(network and broadcast addresses excluded)", r->count, r->pdn);
	}
	if (f_int(c, &m, K_UDP, false, 1, 65535, 0, &v) < 0)
		return -1;
	r->has_udp_port = m.v[K_UDP] != NULL;
	r->udp_port = (uint16_t)v;
	if (r->has_udp_port && r->first_care_of.family != AF_INET)
		return field_fail(c, &m, K_UDP, "udp_port needs an IPv4 care-of address (RFC 5555)");
	return 0;
}

/* [first, last] of a range's home prefixes, as big-endian octets (memcmp orders them) */
static void range_span(const struct ha_config_binding_range *r, struct in6_addr *lo, struct in6_addr *hi)
{
	*lo = r->first_home_prefix;
	prefix_add(lo, r->home_prefix_len, r->count - 1, hi);
}

static int walk_binding_ranges(struct cfg_ctx *c, const struct ynode *n)
{
	struct ha_config *cfg = c->cfg;
	uint64_t total = cfg->n_static_bindings;

	if (need_seq(c, n, HA_CFG_MAX_BINDING_RANGES, "binding ranges") < 0)
		return -1;
	cfg->n_binding_ranges = n->n;
	for (size_t i = 0; i < n->n; i++) {
		struct ha_config_binding_range *r = &cfg->binding_ranges[i];
		size_t o = cfg_push_index(c, i);
		if (walk_range(c, n->kids[i], r) < 0)
			return -1;
		struct in6_addr lo, hi, lo2, hi2;
		range_span(r, &lo, &hi);
		for (size_t j = 0; j < i; j++) {
			range_span(&cfg->binding_ranges[j], &lo2, &hi2);
			if (memcmp(&lo, &hi2, 16) <= 0 && memcmp(&lo2, &hi, 16) <= 0)
				return cfg_fail(c, n->kids[i], "home prefixes overlap static_binding_ranges[%zu]", j);
		}
		for (size_t j = 0; j < cfg->n_static_bindings; j++) {
			const struct in6_addr *b = &cfg->static_bindings[j].home_prefix;
			if (memcmp(&lo, b, 16) <= 0 && memcmp(b, &hi, 16) <= 0)
				return cfg_fail(c, n->kids[i], "home prefixes include static_bindings[%zu]", j);
		}
		total += r->count;
		cfg_pop(c, o);
	}
	if (total > cfg->dataplane.max_bindings)
		return cfg_fail(c, n, "%llu static bindings in all exceed dataplane.tables.max_bindings (%u)",
				(unsigned long long)total, cfg->dataplane.max_bindings);
	return 0;
}

/* ------------------------------------------------------------------ */
/* cli, logging                                                         */

static int walk_cli(struct cfg_ctx *c, const struct ynode *n, struct ha_config_cli *cli)
{
	static const char *const keys[] = {"socket", "mode", "group"};
	enum { K_SOCKET, K_MODE, K_GROUP };
	struct cfg_mapv m;
	int rc;

	opt_map(c, n, keys, 3, &m, &rc);
	if (rc < 0)
		return -1;
	if (f_str(c, &m, K_SOCKET, false, cli->socket, sizeof(cli->socket), "/run/hacpd/hactl.sock",
		  check_socket_path) < 0)
		return -1;
	cli->mode = 0660;
	if (m.v[K_MODE]) {
		const struct ynode *v = m.v[K_MODE];
		size_t o = cfg_push_key(c, "mode");
		if (cfg_scalar_str(c, v, "an octal mode like 0660") < 0)
			return -1;
		const char *s = v->s;
		if (s[0] != '0')
			return cfg_fail(c, v, "expected an octal mode like 0660");
		s += (s[1] == 'o' || s[1] == 'O') ? 2 : 1;
		unsigned mode = 0;
		size_t digits = 0;
		for (; *s; s++, digits++) {
			if (*s < '0' || *s > '7' || digits >= 4)
				return cfg_fail(c, v, "expected an octal mode like 0660");
			mode = mode * 8 + (unsigned)(*s - '0');
		}
		if (digits == 0 && v->len > 1)
			return cfg_fail(c, v, "expected an octal mode like 0660");
		if (mode > 0777)
			return cfg_fail(c, v, "mode 0%o out of range [0, 0777]", mode);
		cli->mode = mode;
		cfg_pop(c, o);
	}
	return f_str(c, &m, K_GROUP, false, cli->group, sizeof(cli->group), "root", check_group);
}

static int walk_logging(struct cfg_ctx *c, const struct ynode *n, struct ha_config *cfg)
{
	static const char *const keys[] = {"level", "syslog", "rate_per_second"};
	enum { K_LEVEL, K_SYSLOG, K_RATE };
	struct cfg_mapv m;
	int rc, e;
	int64_t rate;

	opt_map(c, n, keys, 3, &m, &rc);
	if (rc < 0)
		return -1;
	if (f_enum(c, &m, K_LEVEL, false, ha_cfg_log_names, HA_CFG_LOG__COUNT, HA_CFG_LOG_INFO, &e) < 0)
		return -1;
	cfg->log_level = (enum ha_cfg_log_level)e;
	if (f_bool(c, &m, K_SYSLOG, true, &cfg->log_syslog) < 0)
		return -1;
	if (f_int(c, &m, K_RATE, false, 1, 100000, 20, &rate) < 0)
		return -1;
	cfg->log_rate = (uint32_t)rate;
	return 0;
}

/* ------------------------------------------------------------------ */
/* the document                                                         */

int cfg_walk_root(struct cfg_ctx *c, const struct ynode *root)
{
	static const char *const keys[] = {"dataplane",	     "home_agent",	      "pdns",
					   "ike",	     "static_sas",	      "static_bindings",
					   "cli",	     "logging",		      "static_binding_ranges"};
	enum { K_DP, K_HA, K_PDNS, K_IKE, K_SAS, K_BIND, K_CLI, K_LOG, K_RANGES };
	struct ha_config *cfg = c->cfg;
	struct cfg_mapv m;
	size_t o;

	if (root->kind != Y_MAP)
		return cfg_fail(c, root, "expected a mapping at the top level, got %s", ynode_kind_name(root));
	if (cfg_map(c, root, keys, 9, &m) < 0)
		return -1;
	for (size_t i = K_DP; i <= K_IKE; i++)
		if (!m.v[i])
			return cfg_missing(c, &m, i);

#define SECTION(k, call)                        \
	do {                                    \
		o = cfg_push_key(c, keys[k]);   \
		if ((call) < 0)                 \
			return -1;              \
		cfg_pop(c, o);                  \
	} while (0)

	SECTION(K_DP, walk_dataplane(c, m.v[K_DP], &cfg->dataplane));
	SECTION(K_HA, walk_home_agent(c, m.v[K_HA], &cfg->home_agent));
	SECTION(K_PDNS, walk_pdns(c, m.v[K_PDNS]));
	SECTION(K_IKE, walk_ike(c, m.v[K_IKE], &cfg->ike));
	if (m.v[K_SAS])
		SECTION(K_SAS, walk_static_sas(c, m.v[K_SAS]));
	if (m.v[K_BIND])
		SECTION(K_BIND, walk_static_bindings(c, m.v[K_BIND]));
	if (m.v[K_RANGES])
		SECTION(K_RANGES, walk_binding_ranges(c, m.v[K_RANGES]));
	SECTION(K_CLI, walk_cli(c, m.v[K_CLI], &cfg->cli));
	SECTION(K_LOG, walk_logging(c, m.v[K_LOG], cfg));
#undef SECTION
	return 0;
}

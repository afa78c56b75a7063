/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ha_config_int.h - private to ha_config.c (YAML tree, helpers) and
 * ha_config_schema.c (the schema walk). Not for other users.
 */
#ifndef HA_CONFIG_INT_H
#define HA_CONFIG_INT_H

#include "ha_config.h"

#include <arpa/inet.h>
#include <stdarg.h>

enum ynode_kind { Y_SCALAR, Y_SEQ, Y_MAP };

/** One YAML node with its 1-based position. Mappings hold key, value,
 *  key, value... in kids[]. */
struct ynode {
	enum ynode_kind kind;
	bool plain;            /**< plain (unquoted) scalar */
	unsigned line, col;
	char *s;               /**< scalar text, NUL-terminated */
	size_t len;
	struct ynode **kids;
	size_t n, cap;
};

/** A static SA by (direction, spi), sorted, for duplicate checks and lookups. */
struct cfg_sa_key {
	uint32_t dir;
	uint32_t spi;
	uint32_t idx;
};

struct cfg_ctx {
	const char *name;
	const char *buf;
	size_t len;
	struct ha_config_error *err;
	struct ha_config *cfg;
	bool failed;
	char path[256];
	struct cfg_sa_key *sa_sorted;   /**< n_static_sas entries */
	/* ha_config_schema_keys(): told every mapping's accepted keys as the walk meets it */
	void (*on_keys)(void *arg, const char *path, const char *const *keys, size_t nkeys);
	void *on_keys_arg;
};

/** The value nodes of a mapping, by index into a key list. */
#define CFG_MAP_MAX_KEYS 16
struct cfg_mapv {
	const struct ynode *node;
	const char *const *keys;
	size_t nkeys;
	const struct ynode *v[CFG_MAP_MAX_KEYS];
};

#define CFG_PRINTF(a, b) __attribute__((format(printf, a, b)))

int cfg_failv(struct cfg_ctx *c, unsigned line, unsigned col, const char *fmt, va_list ap)
	CFG_PRINTF(4, 0);
int cfg_fail_at(struct cfg_ctx *c, unsigned line, unsigned col, const char *fmt, ...) CFG_PRINTF(4, 5);
int cfg_fail(struct cfg_ctx *c, const struct ynode *n, const char *fmt, ...) CFG_PRINTF(3, 4);
size_t cfg_push_key(struct cfg_ctx *c, const char *key);
size_t cfg_push_index(struct cfg_ctx *c, size_t i);
void cfg_pop(struct cfg_ctx *c, size_t old);
void cfg_set_path(struct cfg_ctx *c, const char *fmt, ...) CFG_PRINTF(2, 3);
void cfg_sanitize(char *dst, size_t dsz, const char *s, size_t len, size_t max);
void cfg_join(char *dst, size_t dsz, const char *const *names, size_t n);

/* A whole file, at most HA_CFG_MAX_FILE_SIZE + 1 octets (the parser refuses more); 0, or -1
 * with errno. *bufp is the caller's to free. */
int cfg_read_file(const char *path, char **bufp, size_t *lenp);
/* A YAML file of another kind (the AKA subscribers, the AAA stand-in's profiles) read, parsed
 * and handed to walk; 0, or -1 with "FILE:LINE:COL: key.path: what" in err. */
int cfg_load_yaml(const char *path, int (*walk)(struct cfg_ctx *c, const struct ynode *root,
						void *arg),
		  void *arg, char *err, size_t errlen);
/* The root of such a file when it is one list under key ("subscribers:", "profiles:"): the
 * list, with key pushed onto the path (cfg_pop(c, *old) when done); NULL once a failure is
 * reported (not a mapping of that one key, not a list, empty when nonempty). */
const struct ynode *cfg_root_list(struct cfg_ctx *c, const struct ynode *root, const char *key,
				  bool nonempty, size_t *old);
/* Parse c->buf (c->len octets) into a tree; errors name c->name, line and column. */
int cfg_build_tree(struct cfg_ctx *c, struct ynode **rootp);
void ynode_free(struct ynode *n);
bool ynode_is_null(const struct ynode *n);
const char *ynode_kind_name(const struct ynode *n);
const struct ynode *ynode_map_get(const struct ynode *map, const char *key);

/** Check @p n is a mapping with only @p keys, each at most once. */
int cfg_map(struct cfg_ctx *c, const struct ynode *n, const char *const *keys, size_t nkeys,
	    struct cfg_mapv *m);
/** "missing required key 'x'" at the mapping. */
int cfg_missing(struct cfg_ctx *c, const struct cfg_mapv *m, size_t i);

int cfg_scalar_str(struct cfg_ctx *c, const struct ynode *n, const char *what);
int cfg_scalar_int(struct cfg_ctx *c, const struct ynode *n, int64_t lo, int64_t hi, int64_t *out);
int cfg_scalar_bool(struct cfg_ctx *c, const struct ynode *n, bool *out);
/** fam: AF_INET, AF_INET6 or 0 for either */
int cfg_scalar_addr(struct cfg_ctx *c, const struct ynode *n, int fam, struct ha_cfg_addr *out);
int cfg_scalar_prefix(struct cfg_ctx *c, const struct ynode *n, int fam, struct ha_cfg_addr *out,
		      unsigned *plen);
void cfg_addr_str(const struct ha_cfg_addr *a, char *buf, size_t sz);

int cfg_walk_root(struct cfg_ctx *c, const struct ynode *root);

extern const char *const ha_cfg_enc_names[];
extern const char *const ha_cfg_integ_names[];
extern const char *const ha_cfg_log_names[];
extern const char *const ha_cfg_aaa_names[];  /* HA_CFG_AAA_S6B + 1 */
extern const char *const ha_cfg_s6b_transport_names[];

#endif /* HA_CONFIG_INT_H */

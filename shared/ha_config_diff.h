/*
 * What changed between two configurations, and whether a running appliance can take each
 * change (hactl config reload): every key of the schema is classified once in one table
 * (ha_config_diff.c), next to the comparison that finds its changes. A key the table does not
 * classify fails the unit test that walks the schema (tests/unit/test_config_diff.c), so a new
 * key cannot be forgotten. Pure: no I/O, no state; hacpd applies what this says may change
 * (controlplane/cp_reload.c).
 */
#ifndef HA_CONFIG_DIFF_H
#define HA_CONFIG_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "ha_config.h"

enum ha_cfg_reload_class {
	HA_RELOAD_CONTAINER, /* a mapping or a list: its own keys are classified */
	HA_RELOAD_RUNTIME,   /* changed while running */
	HA_RELOAD_ADD_ONLY,  /* may be given where it was absent; changed or removed by a restart */
	HA_RELOAD_FIXED,     /* only a restart of `restart` takes it */
};

struct ha_cfg_key_class {
	const char *path;    /* as the loader names it, list indexes as []: "pdns[].apn" */
	enum ha_cfg_reload_class cls;
	const char *restart; /* HA_RELOAD_FIXED, ADD_ONLY: who must restart ("hadp", "hacpd") */
};

/** The classification of every key: how many keys, and the i-th (NULL past the end). */
size_t ha_cfg_reload_nkeys(void);
const struct ha_cfg_key_class *ha_cfg_reload_key_at(size_t i);
/** The entry of one key path ("[]" for indexes), or NULL when nobody classified it. */
const struct ha_cfg_key_class *ha_cfg_reload_key(const char *path);

enum ha_cfg_change_kind { HA_CHG_CHANGED, HA_CHG_ADDED, HA_CHG_REMOVED };

/* The list items a change may be about; the rest are single keys. */
enum ha_cfg_item { HA_ITEM_NONE, HA_ITEM_PDN, HA_ITEM_ROUTE, HA_ITEM_SA, HA_ITEM_BINDING };

struct ha_cfg_change {
	char key[80];                 /* the classified key path ("pdns[].ipv4_pool") */
	char text[224];               /* one line for the operator */
	enum ha_cfg_change_kind kind;
	enum ha_cfg_item item;
	int old_i, new_i;             /* the item's index in each configuration, -1 where absent */
	bool refused;                 /* a restart is needed: the reload is refused */
};

struct ha_cfg_diff {
	struct ha_cfg_change *v;
	size_t n, cap;
	size_t refused;               /* changes that need a restart */
};

/**
 * Compare the running configuration with a new one, key by key. Lists are compared item by
 * item by their identity: PDNs by name, routes by prefix, static SAs by (direction, SPI),
 * static bindings by home prefix; a static binding whose SA changes counts as changed.
 * @return 0, or -1 (no memory; d holds nothing).
 */
int ha_config_diff(const struct ha_config *old, const struct ha_config *new,
		   struct ha_cfg_diff *d);
void ha_cfg_diff_free(struct ha_cfg_diff *d);

#endif

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_errno.h>

#include "dp_route.h"

int dp_routes_create(struct dp_routes *r, const struct ha_config_dataplane *dp, int socket_id)
{
	memset(r, 0, sizeof(*r));
	if (!dp->n_routes)
		return 0;
	struct rte_lpm_config c4 = { .max_rules = dp->max_routes, .number_tbl8s = 256 };
	struct rte_lpm6_config c6 = { .max_rules = dp->max_routes, .number_tbl8s = 1 << 12 };
	r->v4 = rte_lpm_create("hadp_routes4", socket_id, &c4);
	r->v6 = rte_lpm6_create("hadp_routes6", socket_id, &c6);
	if (!r->v4 || !r->v6) {
		int err = rte_errno;
		dp_routes_free(r);
		return -err;
	}
	for (unsigned i = 0; i < dp->n_routes; i++) {
		const struct ha_config_route *c = &dp->routes[i];
		int rc;
		/* rte_lpm and rte_lpm6 take depths from 1: a default route is its two halves */
		uint8_t depth = c->prefix_len ? c->prefix_len : 1;
		if (c->prefix.family == AF_INET) {
			rc = rte_lpm_add(r->v4, rte_be_to_cpu_32(c->prefix.v4.s_addr), depth, i);
			if (!rc && !c->prefix_len)
				rc = rte_lpm_add(r->v4, 0x80000000u, 1, i);
		} else {
			rc = rte_lpm6_add(r->v6, c->prefix.v6.s6_addr, depth, i);
			if (!rc && !c->prefix_len) {
				uint8_t upper[16] = { 0x80 };
				rc = rte_lpm6_add(r->v6, upper, 1, i);
			}
		}
		if (rc < 0) {
			dp_routes_free(r);
			return rc;
		}
		if (!c->has_next_hop) {
			memcpy(r->next_hop[i].mac.addr_bytes, c->next_hop_mac, 6);
			r->next_hop[i].octet[DP_NH_VALID_OCTET] = 1;
		}
		r->next_hop[i].octet[DP_NH_ROUTE_OCTET] = 1; /* else dp_neigh resolves it */
	}
	r->n = dp->n_routes;
	return 0;
}

void dp_routes_free(struct dp_routes *r)
{
	rte_lpm_free(r->v4);
	rte_lpm6_free(r->v6);
	memset(r, 0, sizeof(*r));
}

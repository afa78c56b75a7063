/*
 * The stand-in's authorisation per subscriber (--profiles FILE), what its DEA and AAA carry on
 * success (TS 29.273 9.2.3, docs/aaa.md "Authorisation the answer carries"):
 *
 *   profiles:
 *     - nai: 0001010000000001@nai.epc.mnc001.mcc001.3gppnetwork.org
 *       apn: internet                    # Service-Selection (default: the DER's)
 *       static_prefix: "2001:db8:5::1"   # Served-Party-IP-Address (IPv6)
 *       static_ipv4: 10.45.0.7           # Served-Party-IP-Address (IPv4)
 *       pdn_type: ipv4v6                 # ipv4 | ipv6 | ipv4v6 (default ipv4v6)
 *       reallocate_to: "2001:db8::2"     # MIP6-Agent-Info{MIP-Home-Agent-Address}: another HA
 */
#ifndef AAA_PROFILES_H
#define AAA_PROFILES_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

struct aaa_profile {
	char nai[256];
	char apn[104];
	bool has_prefix, has_ipv4, has_realloc;
	struct in6_addr prefix, realloc_to;
	struct in_addr ipv4;
	int pdn_type;              /* TS 29.272 7.3.62: 0 IPv4, 1 IPv6, 2 IPv4v6 */
};

struct aaa_profiles {
	struct aaa_profile *v;
	size_t n;
};

/* @return 0, or -1 with "FILE:LINE:COL: key.path: what" in err. */
int aaa_profiles_load(const char *path, struct aaa_profiles *p, char *err, size_t errlen);
const struct aaa_profile *aaa_profile_find(const struct aaa_profiles *p, const char *nai);
void aaa_profiles_free(struct aaa_profiles *p);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/**
 * @file ha_config.h
 * The appliance's one configuration file: a strict YAML schema loaded with
 * libyaml into a plain C struct.
 *
 * Every problem is an error naming the file, the 1-based line and column of
 * the offending node, the key path and what was expected:
 *
 *     FILE:LINE:COL: KEY.PATH: MESSAGE
 *
 * e.g. `lab.yaml:42:7: pdns[1].home_prefix_pool: pool overlaps
 * pdns[0].home_prefix_pool`. The loader stops at the first error. The
 * schema, every field, its range and default are documented in
 * docs/configuration.md.
 *
 * Threading: the loader keeps no global state; any thread may call it.
 * The loaded struct is owned by the caller and freed with ha_config_free().
 */
#ifndef HA_CONFIG_H
#define HA_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <netinet/in.h>

/* ---- limits (each is enforced with an error, see docs/configuration.md) ---- */
#define HA_CFG_MAX_FILE_SIZE       (64u * 1024u * 1024u) /**< bytes of YAML */
#define HA_CFG_MAX_DEPTH           16      /**< YAML nesting levels */
#define HA_CFG_MAX_NODES           8000000 /**< YAML nodes in one document */
#define HA_CFG_MAX_EAL_ARGS        64
#define HA_CFG_EAL_ARG_SIZE        256     /**< bytes including the NUL */
#define HA_CFG_MAX_WORKERS         128
#define HA_CFG_MAX_LCORE_ID        1023
#define HA_CFG_MAX_QUEUES          128
#define HA_CFG_DEVICE_SIZE         64
#define HA_CFG_DEVARGS_SIZE        1024 /**< several capture files (net_pcap) with long paths */
#define HA_CFG_MAX_PDNS            64
#define HA_CFG_NAME_SIZE           64      /**< PDN name, 63 characters */
#define HA_CFG_APN_SIZE            101     /**< APN, 100 octets (TS 23.003) */
#define HA_CFG_PATH_SIZE           256
#define HA_CFG_ID_SIZE             256     /**< IKE identity */
#define HA_CFG_SECRET_SIZE         129     /**< RADIUS shared secret, 128 */
#define HA_CFG_SOCKET_SIZE         108     /**< sizeof(sockaddr_un.sun_path) */
#define HA_CFG_GROUP_SIZE          33      /**< group name, 32 characters */
#define HA_CFG_MAX_STATIC_SAS      65536
#define HA_CFG_MAX_STATIC_BINDINGS 65536
#define HA_CFG_MAX_BINDING_RANGES  64
#define HA_CFG_MAX_ROUTES          256
#define HA_CFG_KEY_MAX             36      /**< ESP key incl. GCM salt */
#define HA_CFG_ACCESS_MTU_MIN      1376    /**< 1280 inside IPv6 + ESP AES-CBC/HMAC-SHA256 */
#define HA_CFG_AUTH_KEY_MAX        32
#define HA_CFG_DIAMID_SIZE         256     /**< DiameterIdentity (an FQDN), 255 octets */
#define HA_CFG_S6B_MAX_PEERS       8

/* ---- enumerations: one list each, names are the YAML spellings ---- */

/** X(enum suffix, YAML name, key bytes, is_aead) */
#define HA_CFG_ENC_LIST(X)                       \
	X(AES_GCM_128, "aes-gcm-128", 20, true)  \
	X(AES_GCM_256, "aes-gcm-256", 36, true)  \
	X(AES_CBC_128, "aes-cbc-128", 16, false) \
	X(AES_CBC_256, "aes-cbc-256", 32, false) \
	X(NULL,        "null",         0, false)

/** X(enum suffix, YAML name, key bytes) */
#define HA_CFG_INTEG_LIST(X)                   \
	X(NONE,            "none",             0) \
	X(HMAC_SHA1_96,    "hmac-sha1-96",    20) \
	X(HMAC_SHA256_128, "hmac-sha256-128", 32)

#define HA_CFG_LOG_LIST(X) \
	X(ERROR, "error")  \
	X(WARNING, "warning") \
	X(NOTICE, "notice") \
	X(INFO, "info")    \
	X(DEBUG, "debug")

/** X(enum suffix, YAML name, default port): how charon's Diameter client reaches an AAA peer
 *  (RFC 6733 2.1: 3868 for TCP and SCTP, 5868 for TLS) */
#define HA_CFG_S6B_TRANSPORT_LIST(X) \
	X(TCP, "tcp", 3868)         \
	X(TLS, "tls", 5868)         \
	X(SCTP, "sctp", 3868)

#define HA_CFG_X_ENUM_ENC(e, s, k, a) HA_CFG_ENC_##e,
#define HA_CFG_X_ENUM_INTEG(e, s, k) HA_CFG_INTEG_##e,
#define HA_CFG_X_ENUM_LOG(e, s) HA_CFG_LOG_##e,
#define HA_CFG_X_ENUM_S6B_TRANSPORT(e, s, p) HA_CFG_S6B_##e,
enum ha_cfg_enc { HA_CFG_ENC_LIST(HA_CFG_X_ENUM_ENC) HA_CFG_ENC__COUNT };
enum ha_cfg_integ { HA_CFG_INTEG_LIST(HA_CFG_X_ENUM_INTEG) HA_CFG_INTEG__COUNT };
enum ha_cfg_log_level { HA_CFG_LOG_LIST(HA_CFG_X_ENUM_LOG) HA_CFG_LOG__COUNT };
enum ha_cfg_s6b_transport {
	HA_CFG_S6B_TRANSPORT_LIST(HA_CFG_X_ENUM_S6B_TRANSPORT) HA_CFG_S6B__COUNT
};

enum ha_cfg_port_kind { HA_CFG_PORT_VDEV, HA_CFG_PORT_PCI };
enum ha_cfg_force_udp { HA_CFG_FORCE_UDP_ALLOWED, HA_CFG_FORCE_UDP_NEVER };
enum ha_cfg_aaa { HA_CFG_AAA_LOCAL, HA_CFG_AAA_RADIUS, HA_CFG_AAA_S6B };
enum ha_cfg_sa_dir { HA_CFG_SA_IN, HA_CFG_SA_OUT };
enum ha_cfg_sa_mode { HA_CFG_SA_TRANSPORT, HA_CFG_SA_TUNNEL };

/** An IPv4 or IPv6 address; family is AF_INET or AF_INET6. */
struct ha_cfg_addr {
	uint8_t family;
	union {
		struct in_addr v4;
		struct in6_addr v6;
	};
};

/* ---- the configuration ---- */

struct ha_config_port {
	char device[HA_CFG_DEVICE_SIZE];   /**< "net_ring0" or "0000:3b:00.0" (PCI canonicalised) */
	char devargs[HA_CFG_DEVARGS_SIZE]; /**< "" when absent */
	enum ha_cfg_port_kind kind;
	uint16_t rx_queues;                /**< 0: hadp chooses (one per worker, or what the device has) */
	uint16_t tx_queues;                /**< 0: hadp chooses (one per worker and one more) */
	uint16_t mtu;                      /**< the link's IP MTU: the largest IP packet sent */
	uint8_t next_hop_mac[6];           /**< destination MAC of frames sent on this port */
	bool has_next_hop;                 /**< next_hop given: its MAC resolved, next_hop_mac unused */
	struct ha_cfg_addr next_hop;       /**< the port's router, by address */
};

/** A core-side route: traffic to prefix goes to next_hop_mac, or to the MAC address hadp
 *  resolves for the next_hop address (ARP, IPv6 neighbour discovery); longest prefix wins. */
struct ha_config_route {
	struct ha_cfg_addr prefix;
	uint8_t prefix_len;
	uint8_t next_hop_mac[6];
	bool has_next_hop;                 /**< next_hop given: resolved, next_hop_mac unused */
	struct ha_cfg_addr next_hop;       /**< the router's address, the prefix's family */
};

struct ha_config_dataplane {
	unsigned n_eal_args;
	char eal_args[HA_CFG_MAX_EAL_ARGS][HA_CFG_EAL_ARG_SIZE];
	uint16_t main_lcore;
	unsigned n_workers;
	uint16_t workers[HA_CFG_MAX_WORKERS];
	bool has_cpus;                     /**< lcores.cpus given */
	uint16_t cpus[HA_CFG_MAX_WORKERS + 1]; /**< CPU of the main lcore, then of each worker */
	uint16_t control_plane_lcore;      /**< hacpd's lcore id: none of hadp's */
	uint32_t mbufs;
	uint32_t mbuf_cache;
	struct ha_config_port access;
	struct ha_config_port core;
	uint32_t max_bindings;
	uint32_t max_sas;
	uint32_t max_routes;
	uint32_t punt_rate_pps;            /**< per worker, per punt reason */
	uint32_t punt_burst;
	unsigned n_routes;
	struct ha_config_route routes[HA_CFG_MAX_ROUTES];
};

struct ha_config_home_agent {
	struct in6_addr ipv6_address;
	bool has_ipv4_address;
	struct in_addr ipv4_address;
	uint32_t lifetime_max;            /**< seconds, multiple of 4 */
	uint8_t refresh_advice_percent;   /**< 0 = no Binding Refresh Advice */
	uint32_t nat_keepalive_refresh;   /**< seconds (RFC 5555 NATKATIMEOUT) */
	enum ha_cfg_force_udp force_udp;
	uint32_t bri_min_delay_ms;        /**< RFC 5846 MINDelayBRIs */
	uint8_t bri_max_retransmissions;  /**< RFC 5846 BRIMaxRetransmitNumber */
	bool insecure_lab_mode;
};

struct ha_config_pdn {
	char name[HA_CFG_NAME_SIZE];
	char apn[HA_CFG_APN_SIZE];        /**< defaults to name */
	struct in6_addr pool6;
	uint8_t pool6_len;
	uint8_t home_prefix_len;
	bool has_ipv4_pool;
	struct in_addr pool4;
	uint8_t pool4_len;
};

struct ha_config_radius {
	struct ha_cfg_addr server;
	uint16_t port;
	char secret[HA_CFG_SECRET_SIZE];
};

/** An AAA server charon's Diameter client connects to (docs/aaa.md). */
struct ha_config_s6b_peer {
	char identity[HA_CFG_DIAMID_SIZE]; /**< its Origin-Host */
	struct ha_cfg_addr address;
	uint16_t port;
	enum ha_cfg_s6b_transport transport;
	uint8_t priority;                  /**< 1..255, lower preferred; ties share the load */
};

/** S6b (3GPP TS 29.273 9): the Diameter client in charon's plugin, configured through
 *  freeDiameter's configuration file that deploy/charon_conf.py writes from this. */
struct ha_config_s6b {
	char identity[HA_CFG_DIAMID_SIZE];  /**< Origin-Host; defaults to ike.local_id */
	char realm[HA_CFG_DIAMID_SIZE];     /**< Origin-Realm */
	char destination_realm[HA_CFG_DIAMID_SIZE]; /**< defaults to realm */
	uint32_t request_timeout_ms;        /**< a DER/AAR unanswered this long fails the attach */
	uint32_t watchdog_s;                /**< Tw (RFC 6733 5.5, RFC 3539 3.4.1) */
	uint32_t reconnect_s;               /**< Tc: a failed peer is connected again this often
	                                         (RFC 6733 2.1, 5.5.4) */
	bool has_tls;                       /**< the tls mapping given */
	char tls_certificate[HA_CFG_PATH_SIZE];
	char tls_private_key[HA_CFG_PATH_SIZE];
	char tls_ca_certificate[HA_CFG_PATH_SIZE];
	unsigned n_peers;
	struct ha_config_s6b_peer peers[HA_CFG_S6B_MAX_PEERS];
};

struct ha_config_ike {
	bool enabled;
	char local_id[HA_CFG_ID_SIZE];
	char certificate[HA_CFG_PATH_SIZE];
	char private_key[HA_CFG_PATH_SIZE];
	char ca_certificate[HA_CFG_PATH_SIZE];
	char subscribers[HA_CFG_PATH_SIZE];
	enum ha_cfg_aaa aaa;
	bool has_radius;
	struct ha_config_radius radius;
	bool has_s6b;
	struct ha_config_s6b s6b;
	bool fragmentation;
	uint32_t ike_lifetime;            /**< seconds */
	uint32_t child_lifetime;
	char socket[HA_CFG_SOCKET_SIZE];  /**< hacpd's socket for charon's plugin */
	uint32_t max_sessions;            /**< UE sessions (one per UE and PDN) hacpd keeps */
	uint32_t detach_guard_s;          /**< after a network-initiated detach, how long the UE
	                                       has to delete its IKE SA before the HA does (003) */
};

struct ha_config_sa {
	uint32_t spi;
	enum ha_cfg_sa_dir direction;
	enum ha_cfg_sa_mode mode;
	struct ha_cfg_addr local;
	struct ha_cfg_addr peer;
	enum ha_cfg_enc encryption;
	enum ha_cfg_integ integrity;
	uint8_t key_len;
	uint8_t key[HA_CFG_KEY_MAX];
	uint8_t auth_key_len;
	uint8_t auth_key[HA_CFG_AUTH_KEY_MAX];
	bool esn;
	uint16_t replay_window;
	uint16_t udp_encap_port;          /**< RFC 3948 ESP-in-UDP: the peer's UDP port, 0 = plain ESP */
};

struct ha_config_binding {
	uint32_t pdn;                     /**< index into pdns[] */
	struct in6_addr home_prefix;
	uint8_t home_prefix_len;
	bool has_ipv4_home_address;
	struct in_addr ipv4_home_address;
	struct ha_cfg_addr care_of;
	bool has_udp_port;                /**< RFC 5555 UDP encapsulation */
	uint16_t udp_port;
	bool has_sa;                      /**< sa_in and sa_out are both set */
	uint32_t sa_in, sa_out;           /**< SPIs */
	uint32_t sa_in_index, sa_out_index; /**< indexes into static_sas[] */
};

/** count bindings: the i-th has home prefix first + i prefixes, care-of first + i (IPv6: in the
 *  low 64 bits), IPv4 home address first + i. For load tests at scale. */
struct ha_config_binding_range {
	uint32_t pdn;
	struct in6_addr first_home_prefix;
	uint8_t home_prefix_len;
	uint32_t count;
	struct ha_cfg_addr first_care_of;
	bool has_ipv4_home_address;
	struct in_addr first_ipv4_home_address;
	bool has_udp_port;
	uint16_t udp_port;
};

/** The i-th binding of a range (i < r->count). */
void ha_cfg_range_binding(const struct ha_config_binding_range *r, uint32_t i,
			  struct ha_config_binding *out);

struct ha_config_cli {
	char socket[HA_CFG_SOCKET_SIZE];
	uint32_t mode;                    /**< permission bits */
	char group[HA_CFG_GROUP_SIZE];    /**< resolved at bind time */
};

struct ha_config {
	char source[HA_CFG_PATH_SIZE];    /**< file name given to the loader */
	struct ha_config_dataplane dataplane;
	struct ha_config_home_agent home_agent;
	unsigned n_pdns;
	struct ha_config_pdn pdns[HA_CFG_MAX_PDNS];
	struct ha_config_ike ike;
	size_t n_static_sas;
	struct ha_config_sa *static_sas;          /**< malloc'd, n_static_sas */
	size_t n_static_bindings;
	struct ha_config_binding *static_bindings; /**< malloc'd */
	size_t n_binding_ranges;
	struct ha_config_binding_range binding_ranges[HA_CFG_MAX_BINDING_RANGES];
	struct ha_config_cli cli;
	enum ha_cfg_log_level log_level;
	bool log_syslog;                  /**< hacpd's log lines also to syslog (LOG_DAEMON) */
	uint32_t log_rate;                /**< log lines a second per kind before "suppressed" */
};

/** One error line: "FILE:LINE:COL: KEY.PATH: MESSAGE" (no newline). */
struct ha_config_error {
	char msg[512];
};

/**
 * Load and validate a configuration file.
 *
 * @param path  file to read (at most HA_CFG_MAX_FILE_SIZE bytes)
 * @param cfg   filled on success; on failure it holds nothing to free
 *              (ha_config_free() is still safe to call)
 * @param err   the error line on failure; may be NULL
 * @return 0 on success, -1 on error. I/O errors are reported as
 *         "FILE:0:0: (root): cannot read: <strerror>".
 */
int ha_config_load_file(const char *path, struct ha_config *cfg, struct ha_config_error *err);

/**
 * Load and validate a configuration held in memory (pure: no I/O). The
 * buffer needs no NUL terminator. @p name is used in error messages.
 * @return 0 or -1, as ha_config_load_file().
 */
int ha_config_load_buffer(const char *name, const char *buf, size_t len,
			  struct ha_config *cfg, struct ha_config_error *err);

/**
 * Load @p buf as ha_config_load_buffer() does, telling @p fn the keys each mapping accepts as
 * the walk meets it: @p path is the mapping's ("dataplane.ports.access", "pdns[0]", "" for the
 * top level). For checks that every key of the schema is handled somewhere (the reload's
 * classification, shared/ha_config_diff.c), not for loading. @return 0 or -1.
 */
int ha_config_schema_keys(const char *buf, size_t len,
			  void (*fn)(void *arg, const char *path, const char *const *keys,
				     size_t nkeys),
			  void *arg, struct ha_config_error *err);

/** Free what the loader allocated and zero @p cfg. Safe on a zeroed or
 *  partially filled struct, and twice. */
void ha_config_free(struct ha_config *cfg);

/* ---- names of enumerations (the YAML spellings) ---- */
const char *ha_cfg_enc_name(enum ha_cfg_enc e);
const char *ha_cfg_integ_name(enum ha_cfg_integ i);
const char *ha_cfg_log_level_name(enum ha_cfg_log_level l);
const char *ha_cfg_aaa_name(enum ha_cfg_aaa a);
const char *ha_cfg_s6b_transport_name(enum ha_cfg_s6b_transport t);
/** The transport's port when the peer gives none (RFC 6733 2.1). */
uint16_t ha_cfg_s6b_default_port(enum ha_cfg_s6b_transport t);
/** Key bytes the algorithm needs (GCM includes the 4-byte salt). */
unsigned ha_cfg_enc_key_len(enum ha_cfg_enc e);
unsigned ha_cfg_integ_key_len(enum ha_cfg_integ i);
bool ha_cfg_enc_is_aead(enum ha_cfg_enc e);

/* ---- dumping the effective configuration (ha_config_dump.c) ---- */
#define HA_CFG_DUMP_JSON    0x1u  /**< JSON instead of YAML */
#define HA_CFG_DUMP_SECRETS 0x2u  /**< print keys and secrets, else "<redacted>" */

/**
 * Print the effective configuration (defaults filled in). The YAML output
 * with HA_CFG_DUMP_SECRETS loads back to the same configuration.
 * @return 0, or -1 if writing to @p f failed.
 */
int ha_config_dump(FILE *f, const struct ha_config *cfg, unsigned flags);

/* ---- address helpers ---- */
/** Mask @p a to its first @p len bits in place. */
void ha_cfg_prefix_mask6(struct in6_addr *a, unsigned len);
void ha_cfg_prefix_mask4(struct in_addr *a, unsigned len);
/** true if address @p a lies inside prefix @p p / @p len */
bool ha_cfg_prefix_contains6(const struct in6_addr *p, unsigned len, const struct in6_addr *a);
bool ha_cfg_prefix_contains4(const struct in_addr *p, unsigned len, const struct in_addr *a);
/** true if the two prefixes share at least one address */
bool ha_cfg_prefix_overlaps6(const struct in6_addr *a, unsigned alen,
			     const struct in6_addr *b, unsigned blen);
bool ha_cfg_prefix_overlaps4(const struct in_addr *a, unsigned alen,
			     const struct in_addr *b, unsigned blen);

#endif /* HA_CONFIG_H */

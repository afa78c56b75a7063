/*
 * ha-pktgen: traffic for the bindings of an appliance configuration (its static_bindings and
 * static_binding_ranges, expanded exactly as hadp expands them).
 *
 *   ha-pktgen pcap -c CONFIG -o OUT.pcap --direction down|up [--size 64|imix|1400|N]
 *             [--packets N] [--first I] [--bindings K] [--order seq|random] [--family 6|4]
 *             [--seed S]   (bindings I .. I+K-1 of the configuration)
 *       down: what the PDN sends to the UEs (to a home address), to replay into hadp's core
 *       port; up: what the UEs send, tunnelled from their care-of address as their binding
 *       says (IPv6, IPv4, IPv4/UDP 4191), or sealed in ESP under the binding's payload SA
 *       (AES-GCM; in UDP 4500 when the SA names the NAT's port), to replay into the access
 *       port. Each SA's sequence numbers start at 1 in every file.
 *   ha-pktgen verify -c CONFIG --direction down|up FILE.pcap
 *       the sink: every packet hadp sent must be the right tunnel (down) or the bare user
 *       packet (up) of a binding of the configuration, payload ESP opened under the binding's
 *       outbound SA; prints counts, exits 1 on any bad one.
 *
 * Sizes are Ethernet frame lengths without the FCS; imix is 64, 594 and 1514 in 7:4:1.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ha_bytes.h"
#include "ha_config.h"
#include "ha_pkt.h"
#include "pg_esp.h"

#define CN6 "2001:db8:9::1" /* the correspondent on the PDN side */
#define CN4 "198.51.100.1"

struct opts {
	const char *config, *out, *in;
	bool up;
	int size;           /* 0 = imix */
	unsigned long packets;
	unsigned long bindings;
	unsigned long first;
	bool random;
	int family;
	unsigned long seed;
};

struct gen {
	const struct ha_config *cfg;
	unsigned long n;     /* bindings in play */
	unsigned long first; /* index of the first one */
	struct in6_addr cn6;
	struct in_addr cn4;
	struct pg_esp *esp;  /* the UEs' ends of the static payload SAs */
};

/* Binding i of the configuration: static ones first, then the ranges in order. */
static bool binding_at(const struct ha_config *cfg, unsigned long i, struct ha_config_binding *b)
{
	if (i < cfg->n_static_bindings) {
		*b = cfg->static_bindings[i];
		return true;
	}
	i -= cfg->n_static_bindings;
	for (size_t r = 0; r < cfg->n_binding_ranges; r++) {
		if (i < cfg->binding_ranges[r].count) {
			ha_cfg_range_binding(&cfg->binding_ranges[r], (uint32_t)i, b);
			return true;
		}
		i -= cfg->binding_ranges[r].count;
	}
	return false;
}

static unsigned long total_bindings(const struct ha_config *cfg)
{
	unsigned long n = cfg->n_static_bindings;
	for (size_t r = 0; r < cfg->n_binding_ranges; r++)
		n += cfg->binding_ranges[r].count;
	return n;
}

/* The UE's home address: the first address of its home prefix after ::, ending in 1. */
static struct in6_addr home_address(const struct ha_config_binding *b)
{
	struct in6_addr a = b->home_prefix;
	a.s6_addr[15] |= 1;
	return a;
}

static size_t put_ip6(uint8_t *p, uint8_t nh, const void *src, const void *dst, uint16_t plen)
{
	memset(p, 0, 40);
	p[0] = 0x60;
	ha_wr16(p + 4, plen);
	p[6] = nh;
	p[7] = 64;
	memcpy(p + 8, src, 16);
	memcpy(p + 24, dst, 16);
	return 40;
}

static size_t put_ip4(uint8_t *p, uint8_t proto, const void *src, const void *dst, uint16_t tot)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	ha_wr16(p + 2, tot);
	ha_wr16(p + 6, 0x4000);
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, src, 4);
	memcpy(p + 16, dst, 4);
	ha_wr16(p + 10, ha_csum_fold(ha_csum_add(0, p, 20)));
	return 20;
}

/* A user packet (IPv6 or IPv4 / UDP / zeros) of exactly len octets, len >= 28 / 48. */
static size_t put_user(uint8_t *p, int family, bool up, const struct ha_config_binding *b,
		       const struct gen *g, size_t len)
{
	size_t h;
	if (family == 6) {
		struct in6_addr hoa = home_address(b);
		h = put_ip6(p, 17, up ? (const void *)&hoa : &g->cn6, up ? (const void *)&g->cn6 : &hoa,
			    (uint16_t)(len - 40));
	} else {
		h = put_ip4(p, 17, up ? (const void *)&b->ipv4_home_address : &g->cn4,
			    up ? (const void *)&g->cn4 : &b->ipv4_home_address, (uint16_t)len);
	}
	memset(p + h, 0, len - h);
	ha_wr16(p + h, 1024);
	ha_wr16(p + h + 2, 9);
	ha_wr16(p + h + 4, (uint16_t)(len - h));
	/* a valid UDP checksum (mandatory over IPv6): pseudo-header, then the datagram */
	uint32_t ulen = (uint32_t)(len - h), sum;
	uint8_t tail[8] = { 0, 0, (uint8_t)(ulen >> 8), (uint8_t)ulen, 0, 0, 0, 17 };
	if (family == 6) {
		sum = ha_csum_add(0, p + 8, 32);
		sum = ha_csum_add(sum, tail, 8);
	} else {
		sum = ha_csum_add(0, p + 12, 8);
		sum = ha_csum_add(sum, tail + 4, 4);
		sum = ha_csum_add(sum, tail + 2, 2);
	}
	uint16_t c = ha_csum_fold(ha_csum_add(sum, p + h, ulen));
	ha_wr16(p + h + 6, c ? c : 0xFFFF);
	return len;
}

/* Ethernet from the generator's MAC to hadp's port, of the given type. */
static void put_eth(uint8_t *f, uint16_t type)
{
	memset(f, 0, 14);
	f[0] = 0x02;
	f[5] = 0x01;
	f[6] = 0x02;
	f[11] = 0x02;
	ha_wr16(f + 12, type);
}

/* Uplink under the binding's payload SA (RFC 4877 tunnel mode): the user packet sealed in ESP
 * from the care-of address to the HA, in UDP 4500 when IKE set the SA up across a NAT
 * (RFC 3948). Frame lengths grow by the 0..3 octets of ESP padding. */
static size_t build_esp_frame(uint8_t *f, size_t frame_len, int family, const struct gen *g,
			      const struct ha_config_binding *b)
{
	const struct ha_config_home_agent *ha = &g->cfg->home_agent;
	const struct ha_config_sa *sa = &g->cfg->static_sas[b->sa_in_index];
	bool v4out = b->care_of.family == AF_INET;
	size_t outer = !v4out ? 40 : sa->udp_encap_port ? 28 : 20;
	size_t esp_fixed = 8 + 8 + 2 + 16; /* header, IV, trailer, ICV */
	size_t min = 14 + outer + esp_fixed + (family == 6 ? 48 : 28);
	uint8_t user[2048];

	if (frame_len < min)
		frame_len = min;
	size_t ulen = frame_len - 14 - outer - esp_fixed;
	put_user(user, family, true, b, g, ulen);
	uint8_t *p = f + 14;
	size_t esp_len = pg_esp_seal(g->esp, b->sa_in_index, family == 6 ? 41 : 4, user, ulen,
				     p + outer);
	put_eth(f, v4out ? 0x0800 : 0x86DD);
	if (!v4out) {
		put_ip6(p, HA_IPPROTO_ESP, &b->care_of.v6, &ha->ipv6_address, (uint16_t)esp_len);
	} else if (!sa->udp_encap_port) {
		put_ip4(p, HA_IPPROTO_ESP, &b->care_of.v4, &ha->ipv4_address,
			(uint16_t)(20 + esp_len));
	} else {
		put_ip4(p, 17, &b->care_of.v4, &ha->ipv4_address, (uint16_t)(28 + esp_len));
		ha_wr16(p + 20, sa->udp_encap_port);
		ha_wr16(p + 22, HA_UDP_PORT_IKE_NATT);
		ha_wr16(p + 24, (uint16_t)(8 + esp_len));
		ha_wr16(p + 26, 0);
	}
	return 14 + outer + esp_len;
}

/* One frame of frame_len octets for binding b. @return its length, 0 if it cannot be made. */
static size_t build_frame(uint8_t *f, size_t frame_len, const struct opts *o, const struct gen *g,
			  const struct ha_config_binding *b)
{
	const struct ha_config_home_agent *ha = &g->cfg->home_agent;
	int family = o->family == 4 && b->has_ipv4_home_address ? 4 : 6;
	size_t outer = 0;

	if (o->up && b->has_sa)
		return build_esp_frame(f, frame_len, family, g, b);
	if (o->up)
		outer = b->care_of.family == AF_INET6 ? 40 : b->has_udp_port ? 28 : 20;
	size_t min = 14 + outer + (family == 6 ? 48 : 28);
	if (frame_len < min)
		frame_len = min; /* the smallest packet of that shape */
	uint8_t *p = f + 14;
	size_t user = frame_len - 14 - outer;
	if (o->up) {
		bool v4out = b->care_of.family == AF_INET;
		put_eth(f, v4out ? 0x0800 : 0x86DD);
		uint8_t proto = family == 6 ? 41 : 4;
		if (!v4out) {
			put_ip6(p, proto, &b->care_of.v6, &ha->ipv6_address, (uint16_t)user);
		} else if (!b->has_udp_port) {
			put_ip4(p, proto, &b->care_of.v4, &ha->ipv4_address, (uint16_t)(20 + user));
		} else {
			put_ip4(p, 17, &b->care_of.v4, &ha->ipv4_address, (uint16_t)(28 + user));
			ha_wr16(p + 20, b->udp_port);
			ha_wr16(p + 22, HA_UDP_PORT_DSMIP);
			ha_wr16(p + 24, (uint16_t)(8 + user));
			ha_wr16(p + 26, 0);
		}
		p += outer;
	} else {
		put_eth(f, family == 6 ? 0x86DD : 0x0800);
	}
	put_user(p, family, o->up, b, g, user);
	return frame_len;
}

static int imix_size(unsigned long i)
{
	static const int pattern[12] = { 64, 594, 64, 64, 594, 64, 1514, 64, 594, 64, 64, 594 };
	return pattern[i % 12];
}

static uint64_t rng_next(uint64_t *s)
{
	/* splitmix64: reproducible from --seed, good enough to spread lookups */
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static int cmd_pcap(const struct opts *o, struct gen *g)
{
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d = pcap_dump_open(dead, o->out);
	uint8_t frame[2048];
	uint64_t seed = o->seed;
	struct ha_config_binding b;

	if (!d) {
		fprintf(stderr, "ha-pktgen: %s: %s\n", o->out, pcap_geterr(dead));
		return 2;
	}
	unsigned long skipped = 0;
	char why[160] = "";
	for (unsigned long i = 0, tries = 0; i < o->packets; tries++) {
		unsigned long k = o->random ? rng_next(&seed) % g->n : tries % g->n;
		binding_at(g->cfg, g->first + k, &b);
		/* uplink under a payload SA this generator cannot seal: that binding is left out */
		if (o->up && b.has_sa && !pg_esp_usable(g->esp, b.sa_in_index, why, sizeof(why))) {
			if (++skipped > 64 * (o->packets + g->n))
				break; /* no binding can be sent for */
			continue;
		}
		i++;
		size_t len = build_frame(frame, (size_t)(o->size ? o->size : imix_size(i)), o, g, &b);
		struct pcap_pkthdr h = { .caplen = (bpf_u_int32)len, .len = (bpf_u_int32)len };
		h.ts.tv_sec = 1700000000;
		h.ts.tv_usec = (suseconds_t)((i - 1) % 1000000);
		pcap_dump((u_char *)d, &h, frame);
	}
	pcap_dump_close(d);
	pcap_close(dead);
	if (skipped)
		fprintf(stderr, "ha-pktgen: left out bindings whose SA it cannot seal (%s)\n", why);
	if (skipped > 64 * (o->packets + g->n)) {
		fprintf(stderr, "ha-pktgen: no binding to send for\n");
		return 1;
	}
	printf("ha-pktgen: %lu %s packets for %lu bindings (%s) -> %s\n", o->packets,
	       o->up ? "uplink" : "downlink", g->n, o->random ? "random order" : "in order", o->out);
	return 0;
}

/* Downlink payload ESP: from the HA to the care-of address of the binding whose outbound SA
 * it names, and, opened under that SA, the user packet from the correspondent to that
 * binding's home address. */
static bool esp_down_ok(const struct gen *g, const uint8_t *frame, const struct ha_pkt *p)
{
	const struct ha_config_home_agent *ha = &g->cfg->home_agent;
	const struct ha_config_binding *b = NULL;
	uint8_t plain[2048], nh;
	char why[160];

	for (size_t i = 0; i < g->cfg->n_static_bindings && !b; i++)
		if (g->cfg->static_bindings[i].has_sa &&
		    g->cfg->static_bindings[i].sa_out == p->esp_spi)
			b = &g->cfg->static_bindings[i];
	if (!b)
		return false;
	/* in UDP exactly when IKE set the SA up across a NAT, to the NAT's port */
	uint16_t natp = g->cfg->static_sas[b->sa_out_index].udp_encap_port;
	if (p->udp ? p->dport != natp : natp != 0)
		return false;
	if (p->outer.ver == 6 ? memcmp(&p->outer.src6, &ha->ipv6_address, 16) ||
					memcmp(&p->outer.dst6, &b->care_of.v6, 16)
			      : p->outer.src4.s_addr != ha->ipv4_address.s_addr ||
					p->outer.dst4.s_addr != b->care_of.v4.s_addr)
		return false;
	if (!pg_esp_usable(g->esp, b->sa_out_index, why, sizeof(why))) {
		fprintf(stderr, "ha-pktgen verify: SPI 0x%x not opened: %s\n", p->esp_spi, why);
		return false;
	}
	size_t esp_len = p->outer.end - p->esp_off;
	if (esp_len > sizeof(plain))
		return false;
	long n = pg_esp_open(g->esp, b->sa_out_index, frame + p->esp_off, esp_len, plain, &nh);
	if (n < 0 || (nh != 41 && nh != 4))
		return false;
	struct ha_pkt in;
	if (ha_pkt_classify(plain, (size_t)n, &in) != HA_OK || in.outer.ver != (nh == 41 ? 6 : 4))
		return false;
	if (in.outer.ver == 4)
		return in.outer.src4.s_addr == g->cn4.s_addr &&
		       in.outer.dst4.s_addr == b->ipv4_home_address.s_addr;
	struct in6_addr hoa = home_address(b);
	return !memcmp(&in.outer.src6, &g->cn6, 16) && !memcmp(&in.outer.dst6, &hoa, 16);
}

/* The sink: every packet must be what hadp makes of the traffic of some binding. */
static int cmd_verify(const struct opts *o, struct gen *g)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(o->in, ebuf);
	struct pcap_pkthdr *h;
	const u_char *data;
	unsigned long ok = 0, bad = 0;
	const struct ha_config_home_agent *ha = &g->cfg->home_agent;

	if (!pc) {
		fprintf(stderr, "ha-pktgen: %s: %s\n", o->in, ebuf);
		return 2;
	}
	while (pcap_next_ex(pc, &h, &data) == 1) {
		struct ha_pkt p;
		bool good = false;
		if (ha_pkt_classify_eth(data, h->caplen, &p) == HA_OK) {
			if (o->up) {
				/* the bare user packet, from a home address to the correspondent */
				good = p.cls == HA_PKT_IP &&
				       (p.outer.ver == 6 ? !memcmp(&p.outer.dst6, &g->cn6, 16)
							 : p.outer.dst4.s_addr == g->cn4.s_addr);
			} else if (p.cls == HA_PKT_ESP) { /* plain, or in UDP from 4500 (RFC 3948) */
				good = esp_down_ok(g, data, &p);
			} else if (p.cls == HA_PKT_TUNNEL) {
				/* from the HA to a care-of address, the user packet to a home address */
				good = p.outer.ver == 6
					       ? !memcmp(&p.outer.src6, &ha->ipv6_address, 16)
					       : p.outer.src4.s_addr == ha->ipv4_address.s_addr;
				good = good && (p.inner.ver == 6 ? !memcmp(&p.inner.src6, &g->cn6, 16)
								 : p.inner.src4.s_addr == g->cn4.s_addr);
			}
		}
		good ? ok++ : bad++;
	}
	pcap_close(pc);
	printf("ha-pktgen verify: %lu passed, %lu failed\n", ok, bad);
	return bad ? 1 : 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ha-pktgen pcap -c CONFIG -o OUT.pcap --direction down|up [--size "
		   "64|imix|1400|N]\n"
		   "                 [--packets N] [--first I] [--bindings K] [--order seq|random] "
		   "[--family 6|4] [--seed S]\n"
		   "       ha-pktgen verify -c CONFIG --direction down|up FILE.pcap\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' }, { "output", required_argument, NULL, 'o' },
		{ "direction", required_argument, NULL, 'd' }, { "size", required_argument, NULL, 's' },
		{ "packets", required_argument, NULL, 'n' }, { "bindings", required_argument, NULL, 'b' },
		{ "order", required_argument, NULL, 'r' }, { "family", required_argument, NULL, 'f' },
		{ "seed", required_argument, NULL, 'S' }, { "help", no_argument, NULL, 'h' },
		{ "first", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .size = 64, .packets = 65536, .family = 6, .seed = 1 };
	int c;

	if (argc < 2 || (strcmp(argv[1], "pcap") && strcmp(argv[1], "verify"))) {
		usage(argc > 1 && !strcmp(argv[1], "--help") ? stdout : stderr);
		return argc > 1 && !strcmp(argv[1], "--help") ? 0 : 2;
	}
	bool verify = !strcmp(argv[1], "verify");
	optind = 2;
	while ((c = getopt_long(argc, argv, "c:o:h", lo, NULL)) != -1) {
		switch (c) {
		case 'c': o.config = optarg; break;
		case 'o': o.out = optarg; break;
		case 'd':
			if (strcmp(optarg, "up") && strcmp(optarg, "down"))
				goto bad;
			o.up = !strcmp(optarg, "up");
			break;
		case 's': o.size = strcmp(optarg, "imix") ? atoi(optarg) : 0;
			if (strcmp(optarg, "imix") && (o.size < 60 || o.size > 2000))
				goto bad;
			break;
		case 'n': o.packets = strtoul(optarg, NULL, 10); break;
		case 'b': o.bindings = strtoul(optarg, NULL, 10); break;
		case 'r':
			if (strcmp(optarg, "seq") && strcmp(optarg, "random"))
				goto bad;
			o.random = !strcmp(optarg, "random");
			break;
		case 'f': o.family = atoi(optarg);
			if (o.family != 4 && o.family != 6)
				goto bad;
			break;
		case 'S': o.seed = strtoul(optarg, NULL, 10); break;
		case 'F': o.first = strtoul(optarg, NULL, 10); break;
		case 'h': usage(stdout); return 0;
		default: goto bad;
		}
	}
	if (verify)
		o.in = optind < argc ? argv[optind++] : NULL;
	if (!o.config || optind != argc || (verify ? !o.in : !o.out) || !o.packets)
		goto bad;

	struct ha_config *cfg = calloc(1, sizeof(*cfg));
	struct ha_config_error err;
	if (!cfg || ha_config_load_file(o.config, cfg, &err) < 0) {
		fprintf(stderr, "%s\n", cfg ? err.msg : "out of memory");
		free(cfg);
		return 1;
	}
	struct gen g = { .cfg = cfg, .n = total_bindings(cfg), .esp = pg_esp_create(cfg) };
	inet_pton(AF_INET6, CN6, &g.cn6);
	inet_pton(AF_INET, CN4, &g.cn4);
	g.first = o.first < g.n ? o.first : g.n;
	g.n -= g.first;
	if (o.bindings && o.bindings < g.n)
		g.n = o.bindings;
	int rc;
	if (!g.esp) {
		fprintf(stderr, "ha-pktgen: out of memory\n");
		rc = 1;
	} else if (!g.n) {
		fprintf(stderr, "ha-pktgen: %s has no static bindings\n", o.config);
		rc = 1;
	} else {
		rc = verify ? cmd_verify(&o, &g) : cmd_pcap(&o, &g);
	}
	pg_esp_free(g.esp);
	ha_config_free(cfg);
	free(cfg);
	return rc;
bad:
	usage(stderr);
	return 2;
}

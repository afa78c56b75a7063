/*
 * esp-tool: runs the dataplane's ESP engine (dataplane/dp_esp.c) on one packet per input line,
 * for the scapy interoperability test (tests/esp/scapy_esp.py).
 *
 * usage: esp-tool            (reads jobs on stdin, one per line, answers one line each)
 *
 * A job is space-separated key=value words:
 *   op=enc|dec mode=tunnel|transport enc=aes-gcm-128|aes-gcm-256|aes-cbc-128|aes-cbc-256|null
 *   integ=none|hmac-sha1-96|hmac-sha256-128 key=HEX akey=HEX spi=N esn=0|1
 *   seq=N    enc: the SA's last sequence number sent (the packet gets seq+1)
 *            dec: the window's right edge before the packet (for ESN: selects the high bits)
 *   win=N    dec: anti-replay window
 *   off=N    dec: offset of the ESP header
 *   pkt=HEX  the input packet (enc: inner IP packet or IPv6 transport packet; dec: from the
 *            outer header / the IPv6 header)
 * Answer: "OK HEX" (the output packet) or "DROP reason" or "ERR text".
 * EAL runs in memory (no hugepages, no PCI).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dp_esp.h"
#include "dp_runtime_dir.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = strlen(s);

	if (n % 2 || n / 2 > max)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int h = hexval(s[2 * i]), l = hexval(s[2 * i + 1]);
		if (h < 0 || l < 0)
			return -1;
		out[i] = (uint8_t)(h << 4 | l);
	}
	return (int)(n / 2);
}

static int enc_of(const char *s)
{
	static const char *names[] = {"aes-gcm-128", "aes-gcm-256", "aes-cbc-128", "aes-cbc-256", "null"};
	static const int vals[] = {HA_CFG_ENC_AES_GCM_128, HA_CFG_ENC_AES_GCM_256, HA_CFG_ENC_AES_CBC_128,
				   HA_CFG_ENC_AES_CBC_256, HA_CFG_ENC_NULL};
	for (unsigned i = 0; i < RTE_DIM(names); i++)
		if (strcmp(s, names[i]) == 0)
			return vals[i];
	return -1;
}

static int integ_of(const char *s)
{
	if (strcmp(s, "none") == 0)
		return HA_CFG_INTEG_NONE;
	if (strcmp(s, "hmac-sha1-96") == 0)
		return HA_CFG_INTEG_HMAC_SHA1_96;
	if (strcmp(s, "hmac-sha256-128") == 0)
		return HA_CFG_INTEG_HMAC_SHA256_128;
	return -1;
}

static void run_line(char *line, struct rte_mempool *mp, struct dp_esp_ctx *ctx)
{
	struct ha_sa_spec spec;
	static uint8_t pkt[16384];
	int pkt_len = -1, enc = 1;
	uint64_t seq = 0;
	uint16_t off = 0;
	char *save = NULL;

	memset(&spec, 0, sizeof(spec));
	spec.mode = HA_SA_TUNNEL;
	spec.family = 10;
	for (char *w = strtok_r(line, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save)) {
		char *v = strchr(w, '=');
		int r = 0;

		if (v == NULL) {
			printf("ERR bad word %s\n", w);
			return;
		}
		*v++ = '\0';
		if (strcmp(w, "op") == 0)
			enc = strcmp(v, "enc") == 0;
		else if (strcmp(w, "mode") == 0)
			spec.mode = strcmp(v, "tunnel") == 0 ? HA_SA_TUNNEL : HA_SA_TRANSPORT;
		else if (strcmp(w, "enc") == 0)
			r = (spec.encryption = (uint8_t)enc_of(v)) == 0xff ? -1 : 0;
		else if (strcmp(w, "integ") == 0)
			r = (spec.integrity = (uint8_t)integ_of(v)) == 0xff ? -1 : 0;
		else if (strcmp(w, "key") == 0)
			r = unhex(v, spec.key, sizeof(spec.key)), spec.key_len = (uint8_t)r;
		else if (strcmp(w, "akey") == 0)
			r = unhex(v, spec.auth_key, sizeof(spec.auth_key)), spec.auth_key_len = (uint8_t)r;
		else if (strcmp(w, "spi") == 0)
			spec.spi = (uint32_t)strtoul(v, NULL, 0);
		else if (strcmp(w, "esn") == 0)
			spec.flags = atoi(v) ? HA_SA_F_ESN : 0;
		else if (strcmp(w, "seq") == 0)
			seq = strtoull(v, NULL, 0);
		else if (strcmp(w, "win") == 0)
			spec.replay_window = (uint16_t)atoi(v);
		else if (strcmp(w, "off") == 0)
			off = (uint16_t)atoi(v);
		else if (strcmp(w, "pkt") == 0)
			r = pkt_len = unhex(v, pkt, sizeof(pkt));
		else
			r = -1;
		if (r < 0) {
			printf("ERR bad value for %s\n", w);
			return;
		}
	}
	if (pkt_len < 0) {
		printf("ERR no pkt\n");
		return;
	}
	spec.direction = enc ? HA_SA_OUT : HA_SA_IN;
	if (enc)
		spec.seq_start = seq;
	struct dp_sa *sa = dp_sa_create(&spec, SOCKET_ID_ANY);
	if (sa == NULL) {
		printf("ERR dp_sa_create: %s\n", rte_strerror(rte_errno));
		return;
	}
	if (!enc)
		sa->seq = seq; /* white box: the window's right edge */

	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	if (m == NULL || pkt_len > rte_pktmbuf_tailroom(m)) {
		printf("ERR mbuf\n");
		rte_pktmbuf_free(m);
		dp_sa_free(sa);
		return;
	}
	memcpy(rte_pktmbuf_append(m, (uint16_t)pkt_len), pkt, (size_t)pkt_len);
	uint8_t drop = 0;
	uint16_t ok = enc ? dp_esp_encrypt_burst(ctx, &m, &sa, 1, &drop)
			  : dp_esp_decrypt_burst(ctx, &m, &sa, &off, 1, &drop);
	if (ok == 1) {
		const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
		printf("OK ");
		for (unsigned i = 0; i < m->data_len; i++)
			printf("%02x", d[i]);
		printf("\n");
	} else
		printf("DROP %s\n", dp_esp_error_name(drop));
	rte_pktmbuf_free(m);
	dp_sa_free(sa);
}

int main(int argc, char **argv)
{
	char prefix[64];
	(void)argc;
	snprintf(prefix, sizeof(prefix), "--file-prefix=esp_tool_%d", (int)getpid());
	char *eal[] = {argv[0], "--no-huge", "--no-pci", "--no-telemetry", "-m", "256", prefix,
		       "--log-level=*:error", NULL};
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "esp-tool: rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	struct rte_mempool *mp = rte_pktmbuf_pool_create("esp_tool", 255, 0, 0, 16384, SOCKET_ID_ANY);
	struct dp_esp_ctx *ctx = rte_zmalloc("esp_ctx", sizeof(*ctx), RTE_CACHE_LINE_SIZE);
	if (mp == NULL || ctx == NULL || dp_esp_ctx_init(ctx, SOCKET_ID_ANY) != 0) {
		fprintf(stderr, "esp-tool: setup failed\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	static char line[65536];
	while (fgets(line, sizeof(line), stdin) != NULL)
		run_line(line, mp, ctx);
	dp_esp_ctx_free(ctx);
	rte_free(ctx);
	rte_mempool_free(mp);
	dp_sa_key_mgr_release();
	dp_eal_cleanup();
	return 0;
}

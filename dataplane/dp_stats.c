#include <string.h>

#include "dp_esp.h"
#include "dp_stats.h"

static const char *const counter_names[DP_C__COUNT] = {
#define X(e, n) [e] = n,
#include "dp_counters.def"
#undef X
};

const char *dp_counter_name(enum dp_counter c)
{
	return (unsigned)c < DP_C__COUNT ? counter_names[c] : "invalid";
}

void dp_stats_sum(const struct dp_stats *blocks, unsigned n, struct dp_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned b = 0; b < n; b++) {
		for (unsigned i = 0; i < DP_C__COUNT; i++)
			out->c[i] += blocks[b].c[i];
		for (unsigned i = 0; i < HA_ERR__COUNT; i++)
			out->decode_err[i] += blocks[b].decode_err[i];
		for (unsigned i = 0; i < HA_PUNT__COUNT; i++)
			out->punt[i] += blocks[b].punt[i];
		for (unsigned i = 0; i < RTE_DIM(out->esp_err); i++)
			out->esp_err[i] += blocks[b].esp_err[i];
		for (unsigned i = 0; i < DP_CPP_HIST; i++) {
			out->burst_cpp[i] += blocks[b].burst_cpp[i];
			out->ctl_cpp[i] += blocks[b].ctl_cpp[i];
		}
	}
}

/* The median bucket of a cycles-per-packet histogram (DP_CPP_HIST - 1 means "or more"). */
static unsigned hist_median(const uint32_t *h)
{
	uint64_t total = 0, seen = 0;

	for (unsigned i = 0; i < DP_CPP_HIST; i++)
		total += h[i];
	for (unsigned i = 0; i < DP_CPP_HIST; i++)
		if ((seen += h[i]) * 2 >= total && total)
			return i;
	return 0;
}

void dp_stats_write_json(FILE *f, const struct dp_stats *s, const struct dp_run_info *run)
{
	fprintf(f, "{\"counters\":{");
	for (unsigned i = 0; i < DP_C__COUNT; i++)
		fprintf(f, "%s\"%s\":%llu", i ? "," : "", counter_names[i],
			(unsigned long long)s->c[i]);
	fprintf(f, "},\"decode_errors\":{");
	for (unsigned i = 1, first = 1; i < HA_ERR__COUNT; i++) {
		if (!s->decode_err[i])
			continue;
		fprintf(f, "%s\"%s\":%llu", first ? "" : ",", ha_err_name((enum ha_err)i),
			(unsigned long long)s->decode_err[i]);
		first = 0;
	}
	fprintf(f, "},\"esp_errors\":{");
	for (unsigned i = 1, first = 1; i < RTE_DIM(s->esp_err); i++) {
		if (!s->esp_err[i])
			continue;
		fprintf(f, "%s\"%s\":%llu", first ? "" : ",", dp_esp_error_name(i),
			(unsigned long long)s->esp_err[i]);
		first = 0;
	}
	fprintf(f, "},\"punt\":{");
	for (unsigned i = 0; i < HA_PUNT__COUNT; i++)
		fprintf(f, "%s\"%s\":%llu", i ? "," : "", ha_punt_reason_name(i),
			(unsigned long long)s->punt[i]);
	fprintf(f, "},\"mbufs_in_use\":%llu,\"bindings\":%u,\"max_bindings\":%u,"
		   "\"table_bytes\":%llu,\"tsc_hz\":%llu,\"seconds\":%.6f,"
		   "\"burst_cycles_per_packet_median\":%u,\"control_tx_cycles_per_packet_median\":%u}\n",
		(unsigned long long)run->mbufs_in_use, run->bindings, run->max_bindings,
		(unsigned long long)run->table_bytes, (unsigned long long)run->tsc_hz, run->seconds,
		hist_median(s->burst_cpp), hist_median(s->ctl_cpp) * DP_CTL_CPP_STEP);
}

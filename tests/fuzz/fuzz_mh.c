/*
 * libFuzzer harness for the Mobility Header parser. Oracle beyond "no crash, no leak": whatever
 * parses must re-encode, and the re-encoding must parse to the same message.
 */
#include <stdlib.h>
#include <string.h>

#include "mh_codec.h"

static void normalise(struct mh_msg *m)
{
	m->checksum = 0;
	m->len = 0;
	m->err_offset = 0;
	m->opts.n_unknown = 0; /* unknown options are skipped, not re-encoded */
	memset(m->opts.unknown_type, 0, sizeof(m->opts.unknown_type));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mh_msg m, again;
	static uint8_t out[MH_MAX_LEN];
	struct mh_pseudo ph;

	memset(&ph, 0x20, sizeof(ph));
	if (mh_parse(data, size, NULL, &m) != HA_OK)
		return 0;
	/* with a pseudo-header the same bytes either parse identically or fail on the checksum */
	enum ha_err e = mh_parse(data, size, &ph, &again);
	if (e != HA_OK && e != MH_ERR_CHECKSUM)
		abort();
	int n = mh_build(&m, &ph, out, sizeof(out));
	if (n < 0 || n % 8 || mh_checksum(&ph, out, (size_t)n) != 0)
		abort();
	if (mh_parse(out, (size_t)n, &ph, &again) != HA_OK)
		abort();
	normalise(&m);
	normalise(&again);
	if (memcmp(&m, &again, sizeof(m)) != 0)
		abort();
	return 0;
}

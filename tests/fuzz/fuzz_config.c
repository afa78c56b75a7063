/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the configuration loader: any bytes in, either a
 * configuration or one error line out, no crash, no leak, no overread.
 *
 *   clang -fsanitize=fuzzer,address,undefined -Ishared tests/fuzz/fuzz_config.c \
 *         shared/ha_config.c shared/ha_config_schema.c shared/ha_config_dump.c -lyaml
 *   ./a.out -max_total_time=60 tests/fuzz/corpus/config
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ha_config.h"

static struct ha_config cfg; /* large: keep it off the stack */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ha_config_error err;

	/* an exact-size copy: the loader must not read past len */
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);
	if (ha_config_load_buffer("fuzz.yaml", buf, size, &cfg, &err) == 0) {
		/* exercise the dump too; it must not fail on a loaded config */
		FILE *f = fopen("/dev/null", "w");
		if (f) {
			if (ha_config_dump(f, &cfg, HA_CFG_DUMP_SECRETS) < 0 ||
			    ha_config_dump(f, &cfg, HA_CFG_DUMP_JSON) < 0)
				abort();
			fclose(f);
		}
	} else if (err.msg[0] == '\0' || strchr(err.msg, '\n') ||
		   strncmp(err.msg, "fuzz.yaml:", 10) != 0) {
		abort(); /* every failure has one error line */
	}
	ha_config_free(&cfg);
	free(buf);
	return 0;
}

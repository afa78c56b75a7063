/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ha-config: check or print the appliance configuration.
 *
 *   ha-config --check FILE            exit 0 and a one-line summary, or the
 *                                     error line on stderr and exit 1
 *   ha-config --dump [--json] [--secrets] FILE
 *                                     the effective configuration, defaults
 *                                     filled in (keys and secrets redacted
 *                                     unless --secrets)
 *   ha-config --help
 * Bad usage exits 2.
 */
#include "ha_config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fputs("usage: ha-config --check FILE\n"
	      "       ha-config --dump [--json] [--secrets] FILE\n"
	      "       ha-config --help\n"
	      "\n"
	      "Validate the Home Agent's YAML configuration (see docs/configuration.md).\n"
	      "  --check     validate FILE; print a summary and exit 0, or the first error and exit 1\n"
	      "  --dump      print the effective configuration with defaults filled in (YAML)\n"
	      "  --json      with --dump: print JSON instead of YAML\n"
	      "  --secrets   with --dump: print ESP keys and the RADIUS secret instead of <redacted>\n"
	      "Exit status: 0 valid, 1 invalid configuration, 2 bad usage.\n",
	      f);
}

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

int main(int argc, char **argv)
{
	enum { OPT_CHECK = 1, OPT_DUMP, OPT_JSON, OPT_SECRETS, OPT_HELP };
	static const struct option opts[] = {
		{"check", no_argument, NULL, OPT_CHECK},   {"dump", no_argument, NULL, OPT_DUMP},
		{"json", no_argument, NULL, OPT_JSON},     {"secrets", no_argument, NULL, OPT_SECRETS},
		{"help", no_argument, NULL, OPT_HELP},     {NULL, 0, NULL, 0},
	};
	int action = 0, o;
	unsigned flags = 0;

	opterr = 0;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case OPT_CHECK:
		case OPT_DUMP:
			if (action && action != o) {
				fputs("ha-config: --check and --dump are exclusive\n", stderr);
				return 2;
			}
			action = o;
			break;
		case OPT_JSON:
			flags |= HA_CFG_DUMP_JSON;
			break;
		case OPT_SECRETS:
			flags |= HA_CFG_DUMP_SECRETS;
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "ha-config: unknown option '%s'\n", argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	if (!action || optind != argc - 1) {
		fputs(!action ? "ha-config: --check or --dump is required\n"
			      : "ha-config: exactly one FILE is required\n",
		      stderr);
		usage(stderr);
		return 2;
	}
	if (flags && action != OPT_DUMP) {
		fputs("ha-config: --json and --secrets go with --dump\n", stderr);
		return 2;
	}

	const char *path = argv[optind];
	struct ha_config *cfg = calloc(1, sizeof(*cfg));
	struct ha_config_error err;
	if (!cfg) {
		fputs("ha-config: out of memory\n", stderr);
		return 1;
	}
	if (ha_config_load_file(path, cfg, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		free(cfg);
		return 1;
	}
	int rc = 0;
	if (action == OPT_CHECK) {
		size_t nb = cfg->n_static_bindings;
		for (size_t i = 0; i < cfg->n_binding_ranges; i++)
			nb += cfg->binding_ranges[i].count;
		printf("%s: ok (2 ports, %u %s, %zu %s, %zu %s)\n", path, cfg->n_pdns,
		       plural(cfg->n_pdns, "PDN", "PDNs"), nb,
		       plural(nb, "static binding", "static bindings"), cfg->n_static_sas,
		       plural(cfg->n_static_sas, "static SA", "static SAs"));
	} else if (ha_config_dump(stdout, cfg, flags) < 0 || fflush(stdout) != 0) {
		perror("ha-config: write");
		rc = 1;
	}
	ha_config_free(cfg);
	free(cfg);
	return rc;
}

/*
 * A small streaming JSON writer for operator output (ha-decode, hactl --json): one value at a
 * time straight to a FILE, so output of any size needs no buffer. Keys and strings are escaped.
 */
#ifndef HA_JSON_H
#define HA_JSON_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define HA_JSON_MAX_DEPTH 16

struct ha_json {
	FILE *f;
	int depth;
	bool need_comma[HA_JSON_MAX_DEPTH];
};

void hj_init(struct ha_json *j, FILE *f);
/* key is NULL inside arrays and for the top-level value */
void hj_obj_begin(struct ha_json *j, const char *key);
void hj_obj_end(struct ha_json *j);
void hj_arr_begin(struct ha_json *j, const char *key);
void hj_arr_end(struct ha_json *j);
void hj_str(struct ha_json *j, const char *key, const char *v);
void hj_strn(struct ha_json *j, const char *key, const char *v, size_t n);
void hj_uint(struct ha_json *j, const char *key, uint64_t v);
void hj_bool(struct ha_json *j, const char *key, bool v);
void hj_ip6(struct ha_json *j, const char *key, const struct in6_addr *a);
void hj_ip4(struct ha_json *j, const char *key, const struct in_addr *a);
void hj_hex(struct ha_json *j, const char *key, const uint8_t *b, size_t n);
/* ends a top-level value with a newline (one JSON object per line) */
void hj_newline(struct ha_json *j);

#endif

#include <arpa/inet.h>
#include <string.h>

#include "ha_json.h"

void hj_init(struct ha_json *j, FILE *f)
{
	*j = (struct ha_json){ .f = f };
}

static void put_escaped(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7F) /* keep output ASCII: identifiers are untrusted */
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void prefix(struct ha_json *j, const char *key)
{
	if (j->need_comma[j->depth])
		fputc(',', j->f);
	j->need_comma[j->depth] = true;
	if (key) {
		put_escaped(j->f, key, strlen(key));
		fputc(':', j->f);
	}
}

static void open_(struct ha_json *j, const char *key, char c)
{
	prefix(j, key);
	fputc(c, j->f);
	if (j->depth < HA_JSON_MAX_DEPTH - 1)
		j->depth++;
	j->need_comma[j->depth] = false;
}

static void close_(struct ha_json *j, char c)
{
	fputc(c, j->f);
	if (j->depth > 0)
		j->depth--;
}

void hj_obj_begin(struct ha_json *j, const char *key) { open_(j, key, '{'); }
void hj_obj_end(struct ha_json *j) { close_(j, '}'); }
void hj_arr_begin(struct ha_json *j, const char *key) { open_(j, key, '['); }
void hj_arr_end(struct ha_json *j) { close_(j, ']'); }

void hj_strn(struct ha_json *j, const char *key, const char *v, size_t n)
{
	prefix(j, key);
	put_escaped(j->f, v, n);
}

void hj_str(struct ha_json *j, const char *key, const char *v)
{
	hj_strn(j, key, v, strlen(v));
}

void hj_uint(struct ha_json *j, const char *key, uint64_t v)
{
	prefix(j, key);
	fprintf(j->f, "%llu", (unsigned long long)v);
}

void hj_bool(struct ha_json *j, const char *key, bool v)
{
	prefix(j, key);
	fputs(v ? "true" : "false", j->f);
}

void hj_ip6(struct ha_json *j, const char *key, const struct in6_addr *a)
{
	char s[INET6_ADDRSTRLEN];
	hj_str(j, key, inet_ntop(AF_INET6, a, s, sizeof(s)));
}

void hj_ip4(struct ha_json *j, const char *key, const struct in_addr *a)
{
	char s[INET_ADDRSTRLEN];
	hj_str(j, key, inet_ntop(AF_INET, a, s, sizeof(s)));
}

void hj_hex(struct ha_json *j, const char *key, const uint8_t *b, size_t n)
{
	prefix(j, key);
	fputc('"', j->f);
	for (size_t i = 0; i < n; i++)
		fprintf(j->f, "%02x", b[i]);
	fputc('"', j->f);
}

void hj_newline(struct ha_json *j)
{
	fputc('\n', j->f);
	j->depth = 0;
	j->need_comma[0] = false;
}

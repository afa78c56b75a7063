#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aaa_sessions.h"

#define AAA_SESSIONS_MAX 4096
#define AAA_REFUSED_MAX 64

pthread_mutex_t aaa_sessions_lock = PTHREAD_MUTEX_INITIALIZER;
static struct aaa_session *table[AAA_SESSIONS_MAX];
static unsigned long next_seq;
static char refused[AAA_REFUSED_MAX][256];

struct aaa_session *aaa_session_get(const char *sid)
{
	for (size_t i = 0; i < AAA_SESSIONS_MAX; i++)
		if (table[i] && !strcmp(table[i]->sid, sid))
			return table[i];
	return NULL;
}

struct aaa_session *aaa_session_add(const char *sid)
{
	for (size_t i = 0; i < AAA_SESSIONS_MAX; i++)
		if (!table[i]) {
			table[i] = calloc(1, sizeof(*table[i]));
			if (!table[i])
				return NULL;
			snprintf(table[i]->sid, sizeof(table[i]->sid), "%s", sid);
			table[i]->seq = ++next_seq;
			return table[i];
		}
	return NULL;
}

void aaa_session_del(struct aaa_session *s)
{
	for (size_t i = 0; i < AAA_SESSIONS_MAX; i++)
		if (table[i] == s) {
			explicit_bzero(s, sizeof(*s)); /* keys */
			free(s);
			table[i] = NULL;
		}
}

struct aaa_session *aaa_session_find(const char *key)
{
	struct aaa_session *best = aaa_session_get(key);

	if (best)
		return best;
	for (size_t i = 0; i < AAA_SESSIONS_MAX; i++) {
		struct aaa_session *s = table[i];
		if (s && s->state == AAA_S_AUTHENTICATED && !strcmp(s->nai, key) &&
		    (!best || s->seq > best->seq))
			best = s;
	}
	return best;
}

void aaa_session_each(void (*fn)(const struct aaa_session *, void *), void *arg)
{
	for (size_t i = 0; i < AAA_SESSIONS_MAX; i++)
		if (table[i])
			fn(table[i], arg);
}

void aaa_refuse_reauth(const char *nai, bool refuse)
{
	for (size_t i = 0; i < AAA_REFUSED_MAX; i++)
		if (!strcmp(refused[i], nai)) {
			if (!refuse)
				refused[i][0] = 0;
			return;
		}
	if (!refuse)
		return;
	for (size_t i = 0; i < AAA_REFUSED_MAX; i++)
		if (!refused[i][0]) {
			snprintf(refused[i], sizeof(refused[i]), "%s", nai);
			return;
		}
}

bool aaa_reauth_refused(const char *nai)
{
	for (size_t i = 0; i < AAA_REFUSED_MAX; i++)
		if (refused[i][0] && !strcmp(refused[i], nai))
			return true;
	return false;
}

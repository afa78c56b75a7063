/*
 * The stand-in's record for tests (--events FILE): one JSON object a line for every Diameter
 * message it receives ("dir": "in") or sends ("out"), taken from freeDiameter's hooks so that
 * the answers freeDiameter makes itself (a DER failing the dictionary's rules) are there too,
 * and a "note" line for each decision worth a test's eye (a missing AVP, a wrong RES...).
 */
#ifndef AAA_EVENTS_H
#define AAA_EVENTS_H

#include <stdio.h>

/* Open (truncate) the file and register the hooks. path NULL: notes go to the log only. */
int aaa_events_open(const char *path);
void aaa_events_close(void);

/* {"note": what, "session_id": sid, "nai": nai}; sid, nai may be NULL. Logged too. */
void aaa_note(const char *sid, const char *nai, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* s as a JSON string (quotes included) into f. */
void aaa_json_str(FILE *f, const char *s);

#endif

/*
 * The stand-in's control socket (--control PATH), for tests: a Unix stream socket, one command
 * a line, one reply line each ("ok ..." or "error ..."):
 *
 *   asr NAI|SESSION-ID     ASR to the HA holding the session  -> ok SESSION-ID ASA-RESULT-CODE
 *   rar NAI|SESSION-ID     RAR (AUTHORIZE_ONLY)               -> ok SESSION-ID RAA-RESULT-CODE
 *   refuse-reauth NAI      the NAI's next AARs get 5003       -> ok
 *   allow-reauth NAI       undo refuse-reauth                 -> ok
 *   sessions               -> ok [{"session_id":..,"nai":..,"apn":..,"ha":..,"state":..},...]
 *
 * A thread of its own serves one client at a time; ASR and RAR wait (bounded) for the answer.
 */
#ifndef AAA_CONTROL_H
#define AAA_CONTROL_H

int aaa_control_start(const char *path);
void aaa_control_stop(void);

#endif

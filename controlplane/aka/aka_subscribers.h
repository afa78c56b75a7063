/*
 * The embedded EAP-AKA subscriber store (ike.aaa: local): K, OPc and AMF per identity from the
 * YAML file ike.subscribers names, and the home network's SQN per subscriber. It makes the
 * authentication vectors charon's EAP-AKA asks for and takes the USIM's re-synchronisation.
 * Thread-safe: charon calls it from its worker threads.
 *
 *   subscribers:
 *     - identity: 0001010000000001@nai.epc.mnc001.mcc001.3gppnetwork.org
 *       k: 465b5ce8b199b49faa5f0a2ee238a6bc
 *       opc: cd63cb71954a9f4e48a5994e37a02baf   # or op: (OPc is then derived)
 *       amf: "0000"                              # optional
 *       sqn: 0                                   # optional: the last SQN issued
 */
#ifndef AKA_SUBSCRIBERS_H
#define AKA_SUBSCRIBERS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "aka_milenage.h"

#define AKA_IDENTITY_MAX 256

struct aka_subscriber {
	char identity[AKA_IDENTITY_MAX];
	uint8_t k[AKA_K_LEN];
	uint8_t opc[16];
	uint8_t amf[AKA_AMF_LEN];
	uint64_t sqn;              /* the last SQN the home network issued */
	uint64_t vectors, resyncs; /* counters */
};

struct aka_subscribers {
	struct aka_subscriber *v;  /* sorted by identity */
	size_t n;
	pthread_mutex_t lock;
};

/* Load and validate the file. @return 0, or -1 with "FILE:LINE:COL: key.path: what" in err. */
int aka_subscribers_load(const char *path, struct aka_subscribers *db, char *err, size_t errlen);
void aka_subscribers_free(struct aka_subscribers *db);

/* A fresh vector for identity with the given RAND (the next SQN). @return 0, -ENOENT for an
 * unknown identity, -EIO on a cipher failure. */
int aka_subscribers_vector(struct aka_subscribers *db, const char *identity,
			   const uint8_t rand[AKA_RAND_LEN], struct aka_vector *v);

/* The USIM's AUTS for RAND: on a valid MAC-S the next vector continues above its SQN.
 * @return 0, -ENOENT, -EACCES when MAC-S does not verify, -EIO. */
int aka_subscribers_resync(struct aka_subscribers *db, const char *identity,
			   const uint8_t rand[AKA_RAND_LEN], const uint8_t auts[AKA_AUTS_LEN]);

#endif

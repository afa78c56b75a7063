/*
 * What strongSwan's configure script would have defined when Debian built 5.9.8 (debian/rules:
 * IKEv1 and IKEv2, mediation, libcap capabilities, GCC atomics), for compiling against its
 * headers out of tree. Only definitions that change what the headers declare matter here: a
 * mismatch changes struct layouts, so this follows the installed binaries, not our taste.
 */
#ifndef SW_CONFIG_H
#define SW_CONFIG_H
#define CONFIG_H_INCLUDED 1

#define VERSION "5.9.8"
#define PACKAGE "strongswan"
#define USE_IKEV1 1
#define USE_IKEV2 1
#define ME 1
#define CAPABILITIES 1
#define CAPABILITIES_LIBCAP 1
/* HAVE_SYS_CAPABILITY_H: only the CAP_* numbers, which capabilities.h also defines */
#define HAVE_STDBOOL_H 1
#define HAVE__BOOL 1
#define HAVE_GCC_ATOMIC_OPERATIONS 1
#define HAVE_CLOCK_GETTIME 1
#define HAVE_CONDATTR_CLOCK_MONOTONIC 1
#define HAVE_EXPLICIT_BZERO 1
#define HAVE_FMEMOPEN 1
#define HAVE_ALLOCA_H 1
#define HAVE_MEMRCHR 1
#define HAVE_SIGWAITINFO 1
#define HAVE_SYS_PARAM_H 1
#define HAVE_CLOSEFROM 1
#define HAVE_QSORT_R 1
#define HAVE_QSORT_R_GNU 1
#define HAVE_DLADDR 1
#define HAVE_INT128 1

#endif

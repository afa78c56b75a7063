/*
 * EAL leaves its runtime directory (/var/run/dpdk/PREFIX: config, fbarrays, sockets) behind at
 * rte_eal_cleanup(); the primary process that made it removes it after the cleanup, so runs do
 * not pile up in /var/run (a tmpfs). Secondary processes never call this: the directory is the
 * primary's.
 */
#pragma once

/* Remove dir and the files in it. */
void dp_remove_runtime_dir(const char *dir);

/* rte_eal_cleanup(), then remove the runtime directory EAL made for this process. */
void dp_eal_cleanup(void);

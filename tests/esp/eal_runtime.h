/* Test helper shared by the ESP tests and tools that start EAL with --no-huge. */
#pragma once

/* EAL with --no-huge cannot run --in-memory, so it leaves its runtime directory (config,
 * fbarrays) behind; remove ours after rte_eal_cleanup(). */
void eal_remove_runtime_dir(const char *dir);

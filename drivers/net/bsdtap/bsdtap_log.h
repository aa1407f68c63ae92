/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BSDTAP_LOG_H
#define BSDTAP_LOG_H

#include <rte_log.h>

/* The original's `debug` sysctl: the level of logtype pmd.net.bsdtap. */
extern int bsdtap_logtype;

#define BSDTAP_LOG(level, fmt, ...)                                                                \
	rte_log(RTE_LOG_##level, bsdtap_logtype, "bsdtap: %s(): " fmt "\n", __func__, ##__VA_ARGS__)

#endif

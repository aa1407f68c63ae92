/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What differs between the DPDK LTS releases bsdtap builds against (22.11,
 * 24.11, 25.11), in one place. The rest of the driver calls these names and
 * holds no version test of its own.
 */
#pragma once

#include <pthread.h>

#include <type_traits>

#include <ethdev_driver.h>
#include <rte_thread.h>
#include <rte_version.h>

#define BSDTAP_DPDK_AT_LEAST(y, m) (RTE_VERSION >= RTE_VERSION_NUM(y, m, 0, 0))

namespace bsdtap
{

/* Control threads: rte_ctrl_thread_create() (pthread) is gone from 23.11
 * on; rte_thread_create_control() takes an rte_thread_t and a function
 * returning uint32_t. Fn is the thread body in either case. */
#if BSDTAP_DPDK_AT_LEAST(23, 11)
using ctrl_thread = rte_thread_t;

template <void (*Fn)(void *)>
int ctrl_thread_create(ctrl_thread *t, const char *name, void *arg) noexcept
{
	return rte_thread_create_control(
	    t, name,
	    [](void *a) -> uint32_t {
		    Fn(a);
		    return 0;
	    },
	    arg);
}

inline void ctrl_thread_join(ctrl_thread t) noexcept
{
	rte_thread_join(t, nullptr);
}
#else
using ctrl_thread = pthread_t;

template <void (*Fn)(void *)>
int ctrl_thread_create(ctrl_thread *t, const char *name, void *arg) noexcept
{
	return rte_ctrl_thread_create(
	    t, name, nullptr,
	    [](void *a) -> void * {
		    Fn(a);
		    return nullptr;
	    },
	    arg);
}

inline void ctrl_thread_join(ctrl_thread t) noexcept
{
	pthread_join(t, nullptr);
}
#endif

/* stats_get: 25.11 passes the per-queue counters in a struct of their own
 * (nullptr when the caller did not ask for them); before, they were the q_*
 * arrays of rte_eth_stats, with the same names. Fn fills both kinds. */
#if BSDTAP_DPDK_AT_LEAST(25, 11)
using queue_stats = struct eth_queue_stats;

template <int (*Fn)(struct rte_eth_dev *, struct rte_eth_stats *, queue_stats *)>
int stats_get_op(struct rte_eth_dev *dev, struct rte_eth_stats *st, queue_stats *qs) noexcept
{
	return Fn(dev, st, qs);
}
#else
using queue_stats = struct rte_eth_stats;

template <int (*Fn)(struct rte_eth_dev *, struct rte_eth_stats *, queue_stats *)>
int stats_get_op(struct rte_eth_dev *dev, struct rte_eth_stats *st) noexcept
{
	return Fn(dev, st, st);
}
#endif

/* rte_eth_rx_queue_count(): the op returned uint32_t in 22.11, int later. */
using rx_queue_count_ret = std::invoke_result_t<eth_rx_queue_count_t, void *>;

/* rte_eth_tx_queue_count() exists from 24.03 on; before, the depth of a tx
 * queue has no ethdev call and tx is left unset. */
inline void set_queue_count_ops(struct rte_eth_dev *dev, eth_rx_queue_count_t rx,
				int (*tx)(void *)) noexcept
{
	dev->rx_queue_count = rx;
#if BSDTAP_DPDK_AT_LEAST(24, 3)
	dev->tx_queue_count = tx;
#else
	RTE_SET_USED(tx);
#endif
}

} // namespace bsdtap

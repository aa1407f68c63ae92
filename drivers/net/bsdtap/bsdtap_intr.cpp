/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rx interrupts and power monitoring: how the application's lcore sleeps on
 * a bsdtap rx queue. The application's half of the wakeup protocol lives
 * here; the reader's half (post when armed) is in bsdtap_reader.cpp.
 *
 * Each queue has an eventfd, handed to EAL as the queue's interrupt vector
 * (RTE_INTR_HANDLE_VDEV, 8-byte counter: EAL drains it when epoll reports
 * it). rte_eth_dev_rx_intr_enable() sets rx_armed; a reader that queued
 * frames on the inq and then finds rx_armed set clears it and posts the
 * eventfd, once. This is TAP_RWAIT turned around: the application is the
 * sleeper, the reader the waker, and nobody makes a syscall while the
 * application polls. The same Dekker pairing makes it safe: enable stores
 * rx_armed, fences and looks at the inq; the reader enqueues, fences and
 * looks at rx_armed. Whichever comes second sees the other's store.
 */

#include <cerrno>

#include <sys/eventfd.h>

#include <ethdev_driver.h>
#include <rte_interrupts.h>
#include <rte_power_intrinsics.h>
#include <rte_ring.h>

#include "bsdtap_internal.h"
#include "bsdtap_log.h"

namespace bsdtap
{

namespace
{

/* The queue to arm, in the primary only: the eventfds are its own (a
 * secondary has no interrupt handle and its copy of intr_efd is not an fd
 * of its process). */
queue *rx_queue(struct rte_eth_dev *dev, uint16_t qid) noexcept
{
	unit *u = unit_of(dev);
	if (u == nullptr || qid >= u->nb_queues)
		return nullptr;
	return &u->q[qid];
}

/* rte_power_monitor: sleep while the inq's producer index stays where the
 * application's consumer index is (opaque[0]); anything else means frames. */
int monitor_should_sleep(const uint64_t val, const uint64_t opaque[RTE_POWER_MONITOR_OPAQUE_SZ])
{
	return static_cast<uint32_t>(val) == static_cast<uint32_t>(opaque[0]) ? 0 : -1;
}

} // namespace

int intr_setup(struct rte_eth_dev *dev, unit *u) noexcept
{
	struct rte_intr_handle *h = rte_intr_instance_alloc(RTE_INTR_INSTANCE_F_PRIVATE);
	if (h == nullptr)
		return -ENOMEM;
	int ret = rte_intr_type_set(h, RTE_INTR_HANDLE_VDEV);
	if (ret == 0)
		ret = rte_intr_efd_counter_size_set(h, sizeof(uint64_t));
	if (ret == 0)
		ret = rte_intr_nb_efd_set(h, u->nb_queues);
	if (ret == 0)
		ret = rte_intr_max_intr_set(h, u->nb_queues + 1);
	for (uint16_t i = 0; ret == 0 && i < u->nb_queues; i++)
		ret = rte_intr_efds_index_set(h, i, u->q[i].intr_efd);
	if (ret == 0)
		ret = rte_intr_vec_list_alloc(h, "bsdtap_intr_vec", u->nb_queues);
	for (uint16_t i = 0; ret == 0 && i < u->nb_queues; i++)
		ret = rte_intr_vec_list_index_set(h, i, RTE_INTR_VEC_RXTX_OFFSET + i);
	if (ret != 0) {
		rte_intr_vec_list_free(h);
		rte_intr_instance_free(h);
		return ret < 0 ? ret : -ret;
	}
	dev->intr_handle = h;
	return 0;
}

void intr_teardown(struct rte_eth_dev *dev) noexcept
{
	if (dev->intr_handle == nullptr)
		return;
	rte_intr_vec_list_free(dev->intr_handle);
	rte_intr_instance_free(dev->intr_handle);
	dev->intr_handle = nullptr;
}

int eth_rx_queue_intr_enable(struct rte_eth_dev *dev, uint16_t qid) noexcept
{
	if (!primary_process)
		return -ENOTSUP;
	queue *q = rx_queue(dev, qid);
	if (q == nullptr)
		return -EINVAL;
	/* The first enable makes the readers fence from now on (see
	 * notify_app): the membarrier of reader_sleep_fence below orders it
	 * against every reader's last unfenced enqueue. */
	if (q->rx_intr_used.load(std::memory_order_relaxed) == 0)
		q->rx_intr_used.store(1, std::memory_order_relaxed);
	q->rx_armed.store(1, std::memory_order_relaxed);
	/* The sleeper's half of the pairing. */
	reader_sleep_fence(q);
	/* Frames that came before the store: wake at once, or the application
	 * would sleep on them. */
	if (!ring_empty_now(q->inq) && q->rx_armed.exchange(0) != 0)
		efd_post(q->intr_efd);
	return 0;
}

int eth_rx_queue_intr_disable(struct rte_eth_dev *dev, uint16_t qid) noexcept
{
	if (!primary_process)
		return -ENOTSUP;
	queue *q = rx_queue(dev, qid);
	if (q == nullptr)
		return -EINVAL;
	q->rx_armed.store(0, std::memory_order_relaxed);
	return 0;
}

int eth_get_monitor_addr(void *rxq, struct rte_power_monitor_cond *pmc) noexcept
{
	auto *q = static_cast<queue *>(rxq);
	struct rte_ring *r = q->inq;
	/* The application is the inq's one consumer: cons.tail stays put while
	 * it sleeps, and prod.tail moves when a reader queues a frame. */
	pmc->addr = &r->prod.tail;
	pmc->opaque[0] = __atomic_load_n(&r->cons.tail, __ATOMIC_RELAXED);
	pmc->fn = monitor_should_sleep;
	pmc->size = sizeof(r->prod.tail);
	return 0;
}

} // namespace bsdtap

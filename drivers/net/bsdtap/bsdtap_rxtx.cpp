/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Burst functions: the application's tx is the original's if_start (into the
 * devq), its rx receives what the reader wrote (the inq). No lock, no log, no
 * allocation; one syscall at most per burst, the guarded wakeup of a reader
 * that said it sleeps (TAP_RWAIT). Counters are stored once per burst.
 */

#include <csignal>

#include <unistd.h>

#include <rte_branch_prediction.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "bsdtap_internal.h"

namespace bsdtap
{

namespace
{

/*
 * The wakeup half of TAP_RWAIT. The reader sets RWAIT, issues a full fence
 * and looks at the devq before it sleeps; the tx enqueues, issues a full
 * fence and looks at RWAIT. Whichever comes second sees the other's store,
 * so either the reader sees the frame or the tx sees RWAIT: no lost wakeup.
 * The fetch_and makes exactly one waker write the eventfd.
 */
inline void notify_reader(queue *q) noexcept
{
	std::atomic_thread_fence(std::memory_order_seq_cst);
	uint32_t f = q->flags.load(std::memory_order_relaxed);
	if (likely((f & (QF_RWAIT | QF_ASYNC)) == 0))
		return;
	/* The eventfd number is the primary's: a secondary must not write it
	 * (it names another file there). Wakeups for a secondary's tx need the
	 * fd passed over rte_mp (planned); until then its readers poll. */
	if ((f & QF_RWAIT) != 0 && primary_process &&
	    (q->flags.fetch_and(~QF_RWAIT, std::memory_order_relaxed) & QF_RWAIT) != 0) {
		uint64_t one = 1;
		ssize_t r = write(q->efd, &one, sizeof(one));
		RTE_SET_USED(r);
		q->wakeups.add(1);
	}
	/* The original signals its owner on every start that queued data. */
	if ((f & QF_ASYNC) != 0) {
		int32_t owner = q->sigio_owner.load(std::memory_order_relaxed);
		if (owner > 0)
			kill(owner, SIGIO);
		else if (owner < 0)
			killpg(-owner, SIGIO);
		if (owner != 0)
			q->sigio.add(1);
	}
}

template <bool backpressure>
inline uint16_t tx_burst(void *qp, struct rte_mbuf **bufs, uint16_t nb) noexcept
{
	auto *q = static_cast<queue *>(qp);
	uint64_t bytes = 0;

	/* Sum before the enqueue: once queued, the reader may free them. */
	for (uint16_t i = 0; i < nb; i++)
		bytes += bufs[i]->pkt_len;

	if (unlikely((q->flags.load(std::memory_order_acquire) & (QF_OPEN | QF_VMNET)) == 0)) {
		/* C10: not TAP_READY: consumed, freed, counted outside the standard stats. */
		rte_pktmbuf_free_bulk(bufs, nb);
		q->tx_noreader.add(nb);
		q->tx_noreader_bytes.add(bytes);
		return nb;
	}

	uint16_t n = static_cast<uint16_t>(
	    rte_ring_sp_enqueue_burst(q->devq, reinterpret_cast<void **>(bufs), nb, nullptr));
	if (unlikely(n < nb)) {
		for (uint16_t i = n; i < nb; i++)
			bytes -= bufs[i]->pkt_len;
		if (!backpressure) {
			/* C12: devq full, the original drops and counts oerrors. */
			rte_pktmbuf_free_bulk(bufs + n, nb - n);
			q->oerrors.add(nb - n);
		}
	}
	if (likely(n > 0)) {
		q->opackets.add(n);
		q->obytes.add(bytes);
		notify_reader(q);
	}
	return backpressure ? n : nb;
}

} // namespace

uint16_t eth_bsdtap_tx_drop(void *q, struct rte_mbuf **bufs, uint16_t nb) noexcept
{
	return tx_burst<false>(q, bufs, nb);
}

uint16_t eth_bsdtap_tx_backpressure(void *q, struct rte_mbuf **bufs, uint16_t nb) noexcept
{
	return tx_burst<true>(q, bufs, nb);
}

uint16_t eth_bsdtap_rx(void *qp, struct rte_mbuf **bufs, uint16_t nb) noexcept
{
	auto *q = static_cast<queue *>(qp);
	uint16_t n = static_cast<uint16_t>(
	    rte_ring_sc_dequeue_burst(q->inq, reinterpret_cast<void **>(bufs), nb, nullptr));
	if (n == 0)
		return 0;
	uint64_t bytes = 0;
	const uint16_t port = q->port_id;
	for (uint16_t i = 0; i < n; i++) {
		bufs[i]->port = port;
		bytes += bufs[i]->pkt_len;
	}
	q->ipackets.add(n);
	q->ibytes.add(bytes);
	return n;
}

} // namespace bsdtap

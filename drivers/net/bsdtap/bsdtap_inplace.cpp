/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frames coming back in place: the tx's half (see queue::inplace_from for
 * the protocol, and the reader's half in bsdtap_reader.cpp). A reader that
 * visits frames where they lie, or copies them out, hands them back by
 * moving the devq's consumer tail past them; what the tail passed is freed
 * here, on the tx lcore into its mempool cache (its next allocation finds
 * them warm), or by the primary's control when the tx is idle. Everything
 * here runs under the queue's inplace_lock; the tx burst reads tx_state
 * alone to know whether to come here.
 */

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_pause.h>

#include "bsdtap_internal.h"
#include "bsdtap_log.h"

namespace bsdtap
{

namespace
{

/* Free [tx_freed, upto), at most max, from where they are kept: the
 * shadow from shadow_from on while the reader looks (QF_LOOK), else the
 * devq's own slots, which nobody writes before the room reaches them. */
void free_to(queue *q, uint32_t upto, unsigned max) noexcept
{
	const struct rte_ring *d = q->devq;
	auto *const slots = reinterpret_cast<struct rte_mbuf **>(const_cast<rte_ring *>(d) + 1);
	const bool shadow = (q->tx_state.load(std::memory_order_relaxed) & QF_LOOK) != 0;
	uint32_t f = q->tx_freed;
	if (static_cast<int32_t>(upto - f) <= 0)
		return;
	unsigned n = RTE_MIN(upto - f, max);
	while (n > 0) {
		struct rte_mbuf **src = slots;
		unsigned lim = n;
		if (shadow) {
			if (static_cast<int32_t>(q->shadow_from - f) > 0)
				lim = RTE_MIN(lim, q->shadow_from - f);
			else
				src = q->shadow;
		}
		const uint32_t idx = f & d->mask;
		const unsigned k = RTE_MIN(lim, d->size - idx);
		rte_pktmbuf_free_bulk(src + idx, k);
		f += k;
		n -= k;
	}
	q->tx_freed = f;
}

/*
 * Bring the tx's side up to the flags f (loaded after the tail it frees
 * to): an epoch that ended is freed to its end (inplace_until) and marked
 * done; one begun is taken up at its start (inplace_from). Only the tx
 * keeps a shadow (its enqueue writes it), from its own head on; control
 * takes an epoch up without one and the tx adds it at its next burst.
 */
void sync(queue *q, uint32_t f, bool tx) noexcept
{
	const bool on = (f & QF_INPLACE) != 0;
	const uint32_t e = qf_epoch(f);
	uint32_t st = q->tx_state.load(std::memory_order_relaxed);
	if ((st & QF_INPLACE) != 0 && !(on && e == q->tx_epoch)) {
		free_to(q, q->inplace_until.load(std::memory_order_acquire), UINT32_MAX);
		st = q->tx_epoch << QF_EPOCH_SHIFT;
		q->tx_state.store(st, std::memory_order_release);
		q->tx_done_epoch.store(q->tx_epoch, std::memory_order_release);
	}
	if (e != q->tx_epoch) {
		q->tx_epoch = e;
		q->tx_freed = q->inplace_from.load(std::memory_order_relaxed); /* f was acquired */
		st = e << QF_EPOCH_SHIFT;
		if (!on) {
			/* Begun and ended since the tx last looked: all in the
			 * devq's own slots. */
			q->tx_state.store(st, std::memory_order_relaxed);
			free_to(q, q->inplace_until.load(std::memory_order_acquire), UINT32_MAX);
			q->tx_state.store(st, std::memory_order_release);
			q->tx_done_epoch.store(e, std::memory_order_release);
			return;
		}
		st |= QF_INPLACE;
	}
	if (on && tx && (f & QF_LOOK) != 0 && (st & QF_LOOK) == 0) {
		q->shadow_from = q->devq_prod.head;
		st |= QF_LOOK;
	}
	q->tx_state.store(st, std::memory_order_release);
}

/* Under the lock: sync if the flags moved, then free up to the tail t. */
void collect(queue *q, unsigned max, bool tx) noexcept
{
	const uint32_t t = __atomic_load_n(&q->devq->cons.tail, __ATOMIC_ACQUIRE);
	const uint32_t f = q->flags.load(std::memory_order_acquire);
	if ((f & QF_STATE) != q->tx_state.load(std::memory_order_relaxed))
		sync(q, f, tx);
	const bool in = (q->tx_state.load(std::memory_order_relaxed) & QF_INPLACE) != 0;
	if (in)
		free_to(q, t, max);
	if (tx)
		q->devq_prod.tail_seen = in ? q->tx_freed : t;
}

} // namespace

void inplace_collect_tx(queue *q, unsigned max) noexcept
{
	if (q->shadow == nullptr || q->inplace_lock.exchange(1, std::memory_order_acquire) != 0)
		return;
	collect(q, max, true);
	q->inplace_lock.store(0, std::memory_order_release);
}

void inplace_collect_ctl(queue *q) noexcept
{
	if (q->devq == nullptr || q->shadow == nullptr)
		return;
	/* The tx holds the lock for one collection at a time; a tx that died
	 * holding it (a secondary's) is given a second. */
	const uint64_t hz = rte_get_timer_hz();
	const uint64_t start = rte_get_timer_cycles();
	while (q->inplace_lock.exchange(1, std::memory_order_acquire) != 0) {
		if (rte_get_timer_cycles() - start > hz) {
			BSDTAP_LOG(WARNING, "queue %u: the tx holds its in-place lock; not freed",
				   q->qid);
			return;
		}
		rte_pause();
	}
	collect(q, UINT32_MAX, false);
	q->inplace_lock.store(0, std::memory_order_release);
}

} // namespace bsdtap

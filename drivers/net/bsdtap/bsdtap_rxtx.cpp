/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Burst functions: the application's tx is the original's if_start (into the
 * devq), its rx receives what the reader wrote (the inq). No lock, no log, no
 * allocation but the mbufs of a TSO request cut in software (one bulk get,
 * in the offload variant's slow path). rx makes no syscall; tx makes none
 * unless its reader said it sleeps (TAP_RWAIT: one eventfd write) or asked
 * for SIGIO (one kill per burst that queued frames), so at most two.
 * Counters are stored once per burst.
 */

#include <csignal>

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <rte_branch_prediction.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "bsdtap_internal.h"
#include "bsdtap_offload.h"

namespace bsdtap
{

namespace
{

/* Mbufs recycled per look at the retq: eight bursts' worth, so the tx keeps
 * ahead of a reader handing back one burst per tx burst. */
constexpr unsigned recycle_max = 256;
constexpr unsigned recycle_every = 4; /* bursts between looks; a power of two */

/* The tx's view of the devq is short of room: look at the consumer again.
 * The tail bounds the room unless frames came back in place (the flags,
 * loaded after the tail, say whether an epoch runs or changed): then the
 * tx frees them first and the room ends where it freed to. */
__rte_noinline void devq_refill(queue *q) noexcept
{
	const uint32_t t = __atomic_load_n(&q->devq->cons.tail, __ATOMIC_ACQUIRE);
	const uint32_t f = q->flags.load(std::memory_order_acquire);
	const uint32_t st = q->tx_state.load(std::memory_order_acquire);
	if (likely((st & QF_INPLACE) == 0 && (f & QF_STATE) == st))
		q->devq_prod.tail_seen = t;
	else
		inplace_collect_tx(q, q->devq->capacity);
}

inline void fill_desc(frame_desc *d, uint32_t mask, struct rte_mbuf *const *bufs, uint16_t gen,
		      uint32_t pos, unsigned k) noexcept
{
	for (unsigned i = 0; i < k; i++) {
		const struct rte_mbuf *m = bufs[i];
		frame_desc &f = d[(pos + i) & mask];
		f.data = rte_pktmbuf_mtod(m, const void *);
		f.len = m->nb_segs == 1 ? m->data_len : 0;
		f.gen = gen;
		f.pos = pos + i;
	}
}

inline void fill_shadow(struct rte_mbuf **sh, uint32_t mask, struct rte_mbuf *const *bufs,
			uint32_t pos, unsigned k) noexcept
{
	for (unsigned i = 0; i < k; i++)
		sh[(pos + i) & mask] = bufs[i];
}

/* The tx's enqueue on the devq (see sp_view). qf: the queue's flags as this
 * burst read them; with QF_DESC each frame's frame_desc is filled on the
 * way, on this core, where the headers are in cache; while frames come back
 * in place, the shadow too. */
inline unsigned devq_enqueue(queue *q, struct rte_mbuf *const *bufs, unsigned n, bool all,
			     uint32_t qf) noexcept
{
	auto *objs = reinterpret_cast<void *const *>(bufs);
	struct rte_ring *r = q->devq;
	sp_view *v = &q->devq_prod;
	const uint32_t used = v->head - v->tail_seen;
	if (unlikely(used > r->capacity || r->capacity - used < n))
		devq_refill(q);
	const uint32_t mask = r->mask;
	const auto gen = static_cast<uint16_t>(qf >> QF_GEN_SHIFT);
	frame_desc *d = q->desc;
	if (likely((q->tx_state.load(std::memory_order_relaxed) & QF_LOOK) == 0)) {
		if (likely((qf & QF_DESC) == 0))
			return sp_enqueue<false>(r, v, objs, n, all);
		return sp_enqueue<false>(r, v, objs, n, all,
					 [d, mask, bufs, gen](uint32_t pos, unsigned k) {
						 fill_desc(d, mask, bufs, gen, pos, k);
					 });
	}
	struct rte_mbuf **sh = q->shadow;
	if (likely((qf & QF_DESC) == 0))
		return sp_enqueue<false>(r, v, objs, n, all,
					 [sh, mask, bufs](uint32_t pos, unsigned k) {
						 fill_shadow(sh, mask, bufs, pos, k);
					 });
	return sp_enqueue<false>(r, v, objs, n, all,
				 [sh, d, mask, bufs, gen](uint32_t pos, unsigned k) {
					 fill_shadow(sh, mask, bufs, pos, k);
					 fill_desc(d, mask, bufs, gen, pos, k);
				 });
}

/* Bytes of a burst: four independent sums, so that the adds do not wait on
 * each other (one chain of 32 dependent adds costs more than the loads). */
inline uint64_t burst_bytes(struct rte_mbuf *const *bufs, uint16_t nb) noexcept
{
	uint64_t a = 0, b = 0, c = 0, d = 0;
	uint16_t i = 0;
	for (; i + 4 <= nb; i += 4) {
		a += bufs[i]->pkt_len;
		b += bufs[i + 1]->pkt_len;
		c += bufs[i + 2]->pkt_len;
		d += bufs[i + 3]->pkt_len;
	}
	for (; i < nb; i++)
		a += bufs[i]->pkt_len;
	return a + b + c + d;
}

/*
 * A secondary process's copies of the queues' wakeup eventfds, so that its
 * tx bursts wake sleeping readers too (the numbers in the queues are the
 * primary's). Filled at probe, before the port is used; looked up only when
 * a reader sleeps, never on the plain burst path.
 */
constexpr unsigned max_local_efds = 256;
struct local_efd {
	std::atomic<const queue *> q{nullptr};
	std::atomic<int> fd{-1};
};
local_efd local_efds[max_local_efds];

int wakeup_fd(const queue *q) noexcept
{
	if (likely(primary_process))
		return q->efd;
	for (const local_efd &e : local_efds)
		if (e.q.load(std::memory_order_acquire) == q)
			return e.fd.load(std::memory_order_relaxed);
	return -1;
}

/*
 * The wakeup half of TAP_RWAIT. The reader sets RWAIT, issues a full fence
 * and looks at the devq before it sleeps; the tx enqueues, issues a full
 * fence (a compiler barrier when the reader's is membarrier) and looks at
 * RWAIT. Whichever comes second sees the other's store, so either the reader
 * sees the frame or the tx sees RWAIT: no lost wakeup. The fetch_and makes
 * exactly one waker write the eventfd.
 */
template <bool asym> inline void notify_reader(queue *q) noexcept
{
	if (asym)
		std::atomic_signal_fence(std::memory_order_seq_cst); /* see reader_sleep_fence */
	else
		std::atomic_thread_fence(std::memory_order_seq_cst);
	uint32_t f = q->flags.load(std::memory_order_relaxed);
	if (likely((f & (QF_RWAIT | QF_ASYNC)) == 0))
		return;
	if ((f & QF_RWAIT) != 0) {
		/* In a secondary, this process's copy of the eventfd. */
		int fd = wakeup_fd(q);
		if (fd >= 0 &&
		    (q->flags.fetch_and(~QF_RWAIT, std::memory_order_relaxed) & QF_RWAIT) != 0) {
			efd_post(fd);
			q->wakeups.add(1);
		}
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

/*
 * A frame's tx offload requests done in place, as a tap's host stack does
 * them (vnet: the reader asked for the virtio-net header, so checksum and
 * segmentation requests are left to it). False when the frame needs the slow
 * path: a TSO request to cut here, or a request that cannot be done.
 */
inline bool tx_prepare(struct rte_mbuf *m, bool vnet, uint32_t *grown) noexcept
{
	const uint64_t fl = m->ol_flags;
	if ((fl & RTE_MBUF_F_TX_TCP_SEG) != 0) {
		if (!vnet || !vnet_tx_prepare(m))
			return false;
	} else if ((fl & tx_cksum_flags) != 0) {
		if (vnet)
			vnet_tx_prepare(m);
		else
			tx_cksum(m);
	}
	if ((fl & RTE_MBUF_F_TX_VLAN) != 0) {
		if (rte_vlan_insert(&m) != 0)
			return false; /* shared, or no headroom: the frame cannot take the tag */
		*grown += 1;
	}
	return true;
}

/*
 * The slow path of the offload burst, from frame `from` on (those before it
 * are prepared): frame by frame, a TSO request cut into its segments (all or
 * none of them queued), a frame that cannot be done dropped and counted in
 * oerrors. Returns the frames consumed, as the burst does. qf: the flags the
 * burst read.
 */
template <bool backpressure, bool asym>
__rte_noinline uint16_t tx_slow(queue *q, struct rte_mbuf **bufs, uint16_t nb, uint16_t from,
				bool vnet, uint32_t qf) noexcept
{
	uint64_t sent = 0, bytes = 0, dropped = 0;
	uint16_t j = 0;
	for (; j < nb; j++) {
		struct rte_mbuf *m = bufs[j];
		struct rte_mbuf *segs[tso_max_segs];
		unsigned k = 1;
		segs[0] = m;
		uint32_t grown = 0;
		if (j >= from) {
			if ((m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) != 0 && !vnet) {
				int r = tso_segment(m, m->pool, segs, tso_max_segs);
				if (r < 0) {
					rte_pktmbuf_free(m);
					dropped++;
					continue;
				}
				k = static_cast<unsigned>(r);
				for (unsigned i = 0; i < k; i++)
					if ((segs[i]->ol_flags & RTE_MBUF_F_TX_VLAN) != 0)
						rte_vlan_insert(
						    &segs[i]); /* new mbufs: room made */
			} else if (!tx_prepare(m, vnet, &grown)) {
				rte_pktmbuf_free(m);
				dropped++;
				continue;
			}
		}
		uint64_t b = 0;
		for (unsigned i = 0; i < k; i++)
			b += segs[i]->pkt_len;
		if (devq_enqueue(q, segs, k, true, qf) == 0) {
			if (segs[0] != m)
				rte_pktmbuf_free_bulk(segs, k);
			if (backpressure)
				break; /* m stays the application's */
			rte_pktmbuf_free(m);
			dropped++;
			continue;
		}
		if (segs[0] != m)
			rte_pktmbuf_free(m);
		sent += k;
		bytes += b;
	}
	if (dropped != 0)
		q->oerrors.add(dropped);
	if (sent > 0) {
		q->opackets.add(sent);
		q->obytes.add(bytes);
		notify_reader<asym>(q);
	}
	return backpressure ? j : nb;
}

/* offl: the port enabled tx offloads; the requests are done here, on the
 * application's lcore where the headers it just wrote are still in cache,
 * and before the enqueue, after which the reader may read. */
template <bool backpressure, bool asym, bool offl>
inline uint16_t tx_burst(void *qp, struct rte_mbuf **bufs, uint16_t nb) noexcept
{
	auto *q = static_cast<queue *>(qp);
	uint64_t bytes = 0;

	const uint32_t qf = q->flags.load(std::memory_order_acquire);
	/* A reader began or ended giving frames back in place. */
	if (unlikely((qf & QF_STATE) != q->tx_state.load(std::memory_order_relaxed)))
		inplace_collect_tx(q, 0);

	/* Recycle what a zero-copy reader handed back: freed here, the mbufs
	 * go to this lcore's mempool cache, warm for its next allocation. Every
	 * few bursts only: looking at the ring costs a cache miss each time. */
	if ((++q->tx_calls & (recycle_every - 1)) == 0) {
		if ((q->tx_state.load(std::memory_order_relaxed) & QF_INPLACE) != 0)
			inplace_collect_tx(q, recycle_max);
		struct rte_mbuf *done[recycle_max];
		unsigned k = rte_ring_mc_dequeue_burst(q->retq, reinterpret_cast<void **>(done),
						       recycle_max, nullptr);
		if (k > 0)
			rte_pktmbuf_free_bulk(done, k);
	}

	/* Sum before the enqueue: once queued, the reader may free them. */
	bytes = burst_bytes(bufs, nb);
	if (unlikely((qf & (QF_OPEN | QF_VMNET)) == 0)) {
		/* C10: not TAP_READY: consumed, freed, counted outside the standard stats. */
		rte_pktmbuf_free_bulk(bufs, nb);
		q->tx_noreader.add(nb);
		q->tx_noreader_bytes.add(bytes);
		return nb;
	}

	if (offl) {
		const bool vnet = q->vnet_hdr_len.load(std::memory_order_relaxed) != 0;
		uint32_t grown = 0; /* VLAN tags inserted */
		for (uint16_t i = 0; i < nb; i++)
			if (unlikely((bufs[i]->ol_flags & tx_offload_flags) != 0) &&
			    !tx_prepare(bufs[i], vnet, &grown))
				return tx_slow<backpressure, asym>(q, bufs, nb, i, vnet, qf);
		bytes += grown * sizeof(struct rte_vlan_hdr);
	}

	uint16_t n = static_cast<uint16_t>(devq_enqueue(q, bufs, nb, false, qf));
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
		notify_reader<asym>(q);
	}
	return backpressure ? n : nb;
}

} // namespace

template <bool backpressure, bool asym, bool offl>
uint16_t eth_bsdtap_tx(void *q, struct rte_mbuf **bufs, uint16_t nb) noexcept
{
	return tx_burst<backpressure, asym, offl>(q, bufs, nb);
}

template <bool backpressure, bool asym> eth_tx_burst_t tx_pick(bool offl) noexcept
{
	return offl ? eth_bsdtap_tx<backpressure, asym, true>
		    : eth_bsdtap_tx<backpressure, asym, false>;
}

bool secondary_efd_add(const queue *q, int fd) noexcept
{
	for (local_efd &e : local_efds) {
		const queue *none = nullptr;
		if (e.q.load() == nullptr) {
			e.fd.store(fd, std::memory_order_relaxed);
			if (e.q.compare_exchange_strong(none, q, std::memory_order_release))
				return true;
		}
	}
	return false;
}

void secondary_efds_drop(const unit *u) noexcept
{
	for (local_efd &e : local_efds) {
		const queue *q = e.q.load();
		if (q != nullptr && q >= &u->q[0] && q < &u->q[BSDTAP_MAX_QUEUES]) {
			e.q.store(nullptr);
			close(e.fd.exchange(-1));
		}
	}
}

eth_tx_burst_t eth_bsdtap_tx_for(const unit *u, bool asym_ok, uint64_t tx_offloads) noexcept
{
	bool bp = u->args.txfull == txfull_mode::backpressure;
	bool asym = asym_ok && u->q[0].asym_fence;
	bool ck = (tx_offloads & tx_offloads_all) != 0;
	if (bp)
		return asym ? tx_pick<true, true>(ck) : tx_pick<true, false>(ck);
	return asym ? tx_pick<false, true>(ck) : tx_pick<false, false>(ck);
}

/*
 * Asymmetric fences. The tx burst runs all the time and the reader sleeps
 * rarely, so the reader pays for both: membarrier(GLOBAL_EXPEDITED) makes
 * every running thread of every registered process (each process that
 * loaded the driver registers at probe) execute a full barrier before it
 * returns. A tx that stored the devq tail and then loads RWAIT with only a
 * compiler barrier between is thereby ordered against the reader's RWAIT
 * store and devq load, which is all the Dekker pairing needs.
 */
bool membarrier_register() noexcept
{
#if defined(__SANITIZE_THREAD__)
	return false; /* TSan cannot see it: use the fence it understands */
#else
	static int state = 0; /* 0 unknown, 1 ready, -1 unavailable */
	if (state == 0) {
		long cmds = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
		bool ok =
		    cmds > 0 && (cmds & MEMBARRIER_CMD_GLOBAL_EXPEDITED) != 0 &&
		    syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0) == 0;
		state = ok ? 1 : -1;
	}
	return state == 1;
#endif
}

void reader_sleep_fence(const queue *q) noexcept
{
	if (q->asym_fence && syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0) == 0)
		return;
	std::atomic_thread_fence(std::memory_order_seq_cst);
}

rx_queue_count_ret eth_bsdtap_rx_queue_count(void *qp) noexcept
{
	return static_cast<rx_queue_count_ret>(ring_count_now(static_cast<const queue *>(qp)->inq));
}

int eth_bsdtap_tx_queue_count(void *qp) noexcept
{
	return static_cast<int>(ring_count_now(static_cast<const queue *>(qp)->devq));
}

namespace
{

/* offl: the port enabled rx offloads: the VLAN tag stripped, and the
 * checksum verdicts computed where the frame carries none (a vnet-header
 * writer's, or a zero-copy writer's, is kept). */
template <bool offl> uint16_t rx_burst(void *qp, struct rte_mbuf **bufs, uint16_t nb) noexcept
{
	auto *q = static_cast<queue *>(qp);
	uint16_t n = static_cast<uint16_t>(
	    rte_ring_sc_dequeue_burst(q->inq, reinterpret_cast<void **>(bufs), nb, nullptr));
	if (n == 0)
		return 0;
	uint64_t bytes = 0;
	const uint16_t port = q->port_id;
	const uint32_t rxo = offl ? q->rx_offl.load(std::memory_order_relaxed) : 0;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = bufs[i];
		m->port = port;
		bytes += m->pkt_len;
		if (!offl)
			continue;
		if ((rxo & RXO_VLAN_STRIP) != 0 &&
		    m->data_len >= RTE_ETHER_HDR_LEN + sizeof(struct rte_vlan_hdr))
			rte_vlan_strip(m);
		if ((rxo & RXO_CKSUM) != 0) {
			uint64_t fl = m->ol_flags;
			const uint64_t ipv = fl & RTE_MBUF_F_RX_IP_CKSUM_MASK;
			const uint64_t l4v = fl & RTE_MBUF_F_RX_L4_CKSUM_MASK;
			if (ipv == 0 || l4v == 0) {
				uint64_t v = rx_cksum_verdict(m, l4v == 0);
				if (ipv == 0)
					fl |= v & RTE_MBUF_F_RX_IP_CKSUM_MASK;
				if (l4v == 0)
					fl |= v & RTE_MBUF_F_RX_L4_CKSUM_MASK;
				m->ol_flags = fl;
			}
		}
	}
	q->ipackets.add(n);
	q->ibytes.add(bytes);
	return n;
}

} // namespace

uint16_t eth_bsdtap_rx(void *qp, struct rte_mbuf **bufs, uint16_t nb) noexcept
{
	return rx_burst<false>(qp, bufs, nb);
}

uint16_t eth_bsdtap_rx_offl(void *qp, struct rte_mbuf **bufs, uint16_t nb) noexcept
{
	return rx_burst<true>(qp, bufs, nb);
}

eth_rx_burst_t eth_bsdtap_rx_for(uint64_t rx_offloads) noexcept
{
	return (rx_offloads & rx_offloads_all) != 0 ? eth_bsdtap_rx_offl : eth_bsdtap_rx;
}

} // namespace bsdtap

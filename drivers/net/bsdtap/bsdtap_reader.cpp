/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reader API: the original's character device (tapopen, tapclose,
 * tapread, tapwrite, tappoll, tapioctl) over a unit's queue pair. The
 * primary's half of an open and a close (the counts in the unit, the
 * purges, what they do to the port) is in bsdtap_unit_life.cpp.
 *
 * The reader is the devq's consumer and the inq's producer. It takes no
 * lock; it sleeps with the TAP_RWAIT protocol described at arm() below.
 */

#include "bsdtap_reader_internal.h"
#include "bsdtap_unit.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <new>

#include <poll.h>
#include <unistd.h>

#include <bus_vdev_driver.h>
#include <ethdev_driver.h>
#include <rte_bus_vdev.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_prefetch.h>
#include <rte_ring_peek.h>

#include "bsdtap_internal.h"
#include "bsdtap_log.h"
#include "bsdtap_offload.h"
#include "bsdtap_mp.h"
#include "bsdtap_registry.h"

struct rte_pmd_bsdtap_reader {
	bsdtap::unit *u;
	bsdtap::queue *q;
	int efd; /* the queue's wakeup eventfd in this process */
	bool nonblock;
	bool fd_mode; /* rte_pmd_bsdtap_fd() was called: keep the fd level exact */
	bool builtin; /* the port's own echo/sink reader */
	bool own_efd; /* received over rte_mp: this handle closes it */
	/* The application's rx interrupt eventfd in this process (-1: none). */
	int intr_efd;
	bool own_intr_efd;
	/* The bursts dequeue single-consumer, guarded against a control purge
	 * by rd_busy/purging (this process can issue membarrier). */
	bool sc_take;
	/* write() allocates through a cache of its own: a reader is usually not
	 * an EAL lcore, so it has no per-lcore mempool cache, and a bare
	 * mempool get is a ring operation per frame. */
	struct rte_mempool_cache *cache;
	struct rte_mempool *cache_mp; /* the pool the cache holds objects of */
	/* This handle's view of the hand-back ring, which only it fills (the
	 * tx and the primary's check empty it): see sp_view. */
	bsdtap::sp_view retq_prod;
	/* This handle set QF_DESC, with this generation (see frame_desc). */
	bool desc_on;
	uint16_t desc_gen;
	/* This handle began in-place epoch `epoch` (see queue::inplace_from),
	 * looking at the frames (QF_LOOK) or not. */
	bool inplace;
	bool look;
	uint32_t epoch;
};

namespace bsdtap
{

namespace
{

/*
 * The waker's half of the rx interrupt pairing (bsdtap_intr.cpp): frames
 * are on the inq; fence; an application that armed its queue is woken,
 * once. A full fence: with only a compiler barrier here, paired with the
 * enable's membarrier, RxIntr.StressNoLostWakeup lost wakeups on the
 * test machine (a sleep timed out with frames waiting and the eventfd
 * never posted, in 4 of 6 runs); with the fence, none. But only once the
 * application has used rx interrupts on the queue (rx_intr_used): the
 * fence halved a secondary's write() rate (11.5 -> 6 Mpps, two cores),
 * and most applications never sleep on rx. The first enable sets the flag
 * and then issues membarrier, which orders every reader's last enqueue
 * that did not fence before the enable looks at the inq; a reader that
 * enqueues after the membarrier loads the flag after it and sees it.
 * Readers whose process did not register for membarrier (sc_take false)
 * always fence.
 */
inline void notify_app(rte_pmd_bsdtap_reader *r) noexcept
{
	queue *q = r->q;
	if (likely(r->sc_take)) {
		std::atomic_signal_fence(std::memory_order_seq_cst);
		if (likely(q->rx_intr_used.load(std::memory_order_relaxed) == 0))
			return;
	}
	std::atomic_thread_fence(std::memory_order_seq_cst);
	if (likely(q->rx_armed.load(std::memory_order_relaxed) == 0))
		return;
	if (r->intr_efd >= 0 && q->rx_armed.exchange(0) != 0) {
		efd_post(r->intr_efd);
		q->rx_intr_wakeups.add(1);
	}
}

/* Frames a visit that is not in place takes at a time. */
constexpr uint16_t visit_chunk = 256;

/* The largest write cache a handle makes; a DPDK lcore cache's usual size. */
constexpr unsigned write_cache_size = 256;

/* How often a sleeping reader in a secondary looks whether the primary is
 * still running. */
constexpr int primary_check_ms = 500;

bool gone(const rte_pmd_bsdtap_reader *r) noexcept
{
	return (r->u->uflags.load(std::memory_order_acquire) & UF_GONE) != 0;
}

bool devq_empty(const rte_pmd_bsdtap_reader *r) noexcept
{
	/* The wakeup protocol needs the producer's tail as an atomic, ordered
	 * load (see ring_empty_now). */
	return r->q->held.load(std::memory_order_relaxed) == nullptr && ring_empty_now(r->q->devq);
}

void drain_efd(int efd) noexcept
{
	uint64_t v;
	ssize_t n = read(efd, &v, sizeof(v));
	RTE_SET_USED(n); /* EAGAIN: nothing pending */
}

/*
 * Make the eventfd readable exactly when the devq holds a frame, and leave
 * RWAIT set when it is empty so that the next tx burst writes the wakeup.
 *
 * Invariant: a wakeup token can be pending only while RWAIT is clear (the
 * tx clears RWAIT before writing; arm() writes only after clearing it). So
 * when RWAIT is still set there is nothing to drain and nothing to do.
 * Returns true when the devq holds a frame or the unit is gone.
 */
bool arm(rte_pmd_bsdtap_reader *r) noexcept
{
	queue *q = r->q;
	if ((q->flags.load(std::memory_order_relaxed) & QF_RWAIT) != 0 && devq_empty(r) && !gone(r))
		return false;
	drain_efd(r->efd);
	q->flags.fetch_or(QF_RWAIT, std::memory_order_seq_cst);
	reader_sleep_fence(q);
	if (devq_empty(r) && !gone(r))
		return false;
	/* A frame (or the unit's end) arrived while we armed: keep the fd
	 * readable. If the tx already took RWAIT it writes the token itself. */
	if ((q->flags.fetch_and(~QF_RWAIT) & QF_RWAIT) != 0)
		efd_post(r->efd);
	return true;
}

/*
 * Frames coming back in place (see queue::inplace_from). Both run inside the
 * devq window (rd_busy, no purge), where only this handle changes the epoch.
 * Whether this handle's epoch still runs (a purge or a release may have
 * ended it), for a reader that looks at the frames or not; one that changes
 * its mind ends it.
 */
inline bool inplace_live(rte_pmd_bsdtap_reader *r, bool look) noexcept
{
	if (likely(r->inplace)) {
		uint32_t f = r->q->flags.load(std::memory_order_relaxed);
		if (likely((f & QF_INPLACE) != 0 && qf_epoch(f) == r->epoch && r->look == look))
			return true;
		inplace_end(r->q);
		r->inplace = false;
	}
	return false;
}

/* Begin an epoch at the consumer tail, once the tx is done with the last. */
bool inplace_begin(rte_pmd_bsdtap_reader *r, bool look) noexcept
{
	queue *q = r->q;
	uint32_t f = q->flags.load(std::memory_order_acquire);
	if ((f & QF_INPLACE) != 0 || q->shadow == nullptr ||
	    q->tx_done_epoch.load(std::memory_order_acquire) != qf_epoch(f))
		return false;
	const uint32_t e = (qf_epoch(f) + 1) & (QF_EPOCH_MASK >> QF_EPOCH_SHIFT);
	q->inplace_from.store(__atomic_load_n(&q->devq->cons.tail, __ATOMIC_RELAXED),
			      std::memory_order_relaxed);
	/* The CAS publishes the start before any tail that passes it. */
	while (!q->flags.compare_exchange_weak(
	    f, (f & ~QF_EPOCH_MASK) | QF_INPLACE | (look ? QF_LOOK : 0) | (e << QF_EPOCH_SHIFT),
	    std::memory_order_seq_cst, std::memory_order_relaxed))
		;
	r->inplace = true;
	r->look = look;
	r->epoch = e;
	return true;
}

/* After a dequeue: in fd mode, an emptied devq must make the fd unreadable. */
inline void after_take(rte_pmd_bsdtap_reader *r) noexcept
{
	if (r->fd_mode && devq_empty(r))
		arm(r);
}

/*
 * The bursts' devq dequeue. The reader is the devq's only consumer but for
 * a control purge (port stop, start, close, a dead reader's release), so
 * instead of paying a CAS per burst for that rare case it says it is inside
 * (rd_busy) and looks whether a purge runs; the purger raises purging,
 * issues membarrier (a full fence on this thread, wherever it runs) and
 * waits for rd_busy to drop (exclude_devq_reader). Either this side sees
 * purging and takes nothing, or the purger sees rd_busy and waits.
 */
__rte_always_inline unsigned devq_take(rte_pmd_bsdtap_reader *r, struct rte_mbuf **m,
				       unsigned n) noexcept
{
	queue *q = r->q;
	if (!r->sc_take)
		return rte_ring_mc_dequeue_burst(q->devq, reinterpret_cast<void **>(m), n, nullptr);
	/* An empty devq needs no guard: a look at the indices takes nothing. */
	const struct rte_ring *d = q->devq;
	if (__atomic_load_n(&d->prod.tail, __ATOMIC_ACQUIRE) ==
	    __atomic_load_n(&d->cons.head, __ATOMIC_RELAXED))
		return 0;
	q->rd_busy.store(1, std::memory_order_relaxed);
	std::atomic_signal_fence(std::memory_order_seq_cst); /* the purger's membarrier */
	unsigned got = 0;
	if (likely(q->purging.load(std::memory_order_relaxed) == 0)) {
		/* These frames become the reader's: no longer in place. */
		if (unlikely(r->inplace)) {
			inplace_end(q);
			r->inplace = false;
		}
		got = rte_ring_sc_dequeue_burst(q->devq, reinterpret_cast<void **>(m), n, nullptr);
	}
	q->rd_busy.store(0, std::memory_order_release);
	return got;
}

/* Up to n frames for the reader: first the one FIONREAD's peek holds. */
__rte_always_inline unsigned take(rte_pmd_bsdtap_reader *r, struct rte_mbuf **m,
				  unsigned n) noexcept
{
	unsigned k = 0;
	if (unlikely(r->q->held.load(std::memory_order_relaxed) != nullptr)) {
		m[0] = r->q->held.exchange(nullptr);
		k = m[0] != nullptr;
	}
	k += devq_take(r, m + k, n - k);
	/* rte_ring stores the pointers as uint64_t. Once all of this is inlined
	 * into a caller that knows what m[] held before (take_one's nullptr),
	 * strict aliasing lets the compiler keep that value: it did, in the
	 * TSan build. No instruction; it only makes the compiler reload m[]. */
	rte_compiler_barrier();
	return k;
}

struct rte_mbuf *take_one(rte_pmd_bsdtap_reader *r) noexcept
{
	/* One element would do; rte_ring's copy loop, inlined, looks to GCC's
	 * -Warray-bounds as if it wrote past one (DPDK 24.11 on). */
	struct rte_mbuf *m[4] = {};
	return take(r, m, 1) == 1 ? m[0] : nullptr;
}

/* How many of want frames the hand-back ring has room for, surely. */
__rte_always_inline unsigned retq_room(rte_pmd_bsdtap_reader *r, unsigned want) noexcept
{
	const struct rte_ring *rq = r->q->retq;
	unsigned room = sp_room(rq, &r->retq_prod, want);
	if (room == 0 && primary_process) {
		/* The tx is idle: in the primary the reader empties it itself. */
		unit_purge_retq(r->q);
		room = sp_room(rq, &r->retq_prod, want);
	}
	return std::min(want, room);
}

__rte_always_inline unsigned retq_put(rte_pmd_bsdtap_reader *r, struct rte_mbuf **m,
				      unsigned k) noexcept
{
	return sp_enqueue(r->q->retq, &r->retq_prod, reinterpret_cast<void *const *>(m), k);
}

/* Hand frames the reader is done with back to the tx lcore (it frees them,
 * as for rte_pmd_bsdtap_free_burst); what does not fit is freed here. */
inline void hand_back(rte_pmd_bsdtap_reader *r, struct rte_mbuf **m, unsigned k) noexcept
{
	unsigned back = retq_put(r, m, k);
	if (unlikely(back < k))
		rte_pktmbuf_free_bulk(m + back, k - back);
}

/*
 * A copying read: take up to n frames, copy them out (out(m, k)) and hand
 * them back, as one step that a reader killed at any instruction leaves
 * repairable with nothing lost (C45). The frames stay the devq's while they
 * are copied: the peek calls move the consumer head at the start and the
 * tail once they are copied. Usually that move is the hand-back (in place,
 * see queue::inplace_from; look: out loads the slots); while the tx has not
 * finished the last in-place epoch they go on the retq before the tail
 * moves, and rd_handoff and rd_retq_mark tell the release of a dead reader
 * on which side of that enqueue it died (see repair_rings). The whole step
 * is inside rd_busy, so a purge waits for it as for a plain dequeue.
 * Without membarrier (multi-consumer dequeues), or with FIONREAD's frame
 * held, it is a take, a copy and a hand-back: a reader killed between them
 * loses what it held.
 */
template <typename Out>
__rte_always_inline unsigned take_copy(rte_pmd_bsdtap_reader *r, struct rte_mbuf **m, unsigned n,
				       Out out, bool look = true) noexcept
{
	queue *q = r->q;
	if (unlikely(!r->sc_take || q->held.load(std::memory_order_relaxed) != nullptr)) {
		unsigned k = take(r, m, n);
		out(m, k, 0u, false); /* positions unknown: no descriptors */
		hand_back(r, m, k);
		return k;
	}
	const struct rte_ring *d = q->devq;
	if (__atomic_load_n(&d->prod.tail, __ATOMIC_ACQUIRE) ==
	    __atomic_load_n(&d->cons.head, __ATOMIC_RELAXED))
		return 0;
	unsigned k = 0;
	q->rd_busy.store(1, std::memory_order_relaxed);
	std::atomic_signal_fence(std::memory_order_seq_cst); /* the purger's membarrier */
	if (likely(q->purging.load(std::memory_order_relaxed) == 0)) {
		const bool in = inplace_live(r, look) || inplace_begin(r, look);
		/* Else take no more than the hand-back ring will surely hold: a
		 * reader that had to free the rest itself could die before it
		 * did, with the frames gone from the devq and on no ring (lost,
		 * C45). */
		if (!in) {
			n = retq_room(r, n);
			q->rd_retq_mark.store(
			    __atomic_load_n(&q->retq->prod.tail, __ATOMIC_RELAXED),
			    std::memory_order_relaxed);
			q->rd_handoff.store(1, std::memory_order_release);
		}
		/* The ring position of m[0]: this side's own index. */
		const uint32_t pos = __atomic_load_n(&q->devq->cons.head, __ATOMIC_RELAXED);
		if (likely(n > 0))
			k = rte_ring_dequeue_burst_start(q->devq, reinterpret_cast<void **>(m), n,
							 nullptr);
		rte_compiler_barrier(); /* m[] was written as uint64_t: see take() */
		out(m, k, pos, true);
		unsigned back = in ? k : retq_put(r, m, k);
		rte_ring_dequeue_finish(q->devq, k);
		if (!in)
			q->rd_handoff.store(0, std::memory_order_release);
		/* Cannot happen (the room was counted before the take); should
		 * it, the rest is freed here, after the devq let go of it, so
		 * never twice. */
		if (unlikely(back < k))
			rte_pktmbuf_free_bulk(m + back, k - back);
	}
	q->rd_busy.store(0, std::memory_order_release);
	return k;
}

int64_t now_ms() noexcept
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

/* Scatter len bytes of src into iov from (vi, voff), which it advances.
 * Returns the bytes that fitted. */
size_t iov_put(const struct iovec *iov, int iovcnt, int *vi, size_t *voff, const void *src,
	       size_t len) noexcept
{
	const auto *s = static_cast<const char *>(src);
	size_t done = 0;
	while (done < len && *vi < iovcnt) {
		size_t c = std::min(iov[*vi].iov_len - *voff, len - done);
		memcpy(static_cast<char *>(iov[*vi].iov_base) + *voff, s + done, c);
		done += c;
		*voff += c;
		if (*voff == iov[*vi].iov_len) {
			(*vi)++;
			*voff = 0;
		}
	}
	return done;
}

/* Copy one frame into iov from (vi, voff), segment by segment; zero-length
 * segments are skipped, not taken as the end (C19). Returns bytes copied. */
size_t copy_out_at(const struct rte_mbuf *m, const struct iovec *iov, int iovcnt, int vi,
		   size_t voff) noexcept
{
	size_t done = 0;
	/* Counted by nb_segs: the last segment's next is not read (it is on
	 * the header's second cache line, a miss for one-segment frames). */
	const struct rte_mbuf *s = m;
	for (uint16_t left = m->nb_segs; left > 0 && vi < iovcnt; left--) {
		done += iov_put(iov, iovcnt, &vi, &voff, rte_pktmbuf_mtod(s, const char *),
				s->data_len);
		if (left > 1 && (s = s->next) == nullptr)
			break;
	}
	return done;
}

size_t copy_out(const struct rte_mbuf *m, const struct iovec *iov, int iovcnt) noexcept
{
	return copy_out_at(m, iov, iovcnt, 0, 0);
}

/* The vnet header of m as a read gives it, vh bytes (10 or 12). */
void vnet_hdr_bytes(const struct rte_mbuf *m, uint32_t vh, uint8_t *out) noexcept
{
	rte_pmd_bsdtap_vnet_hdr_mrg h;
	vnet_hdr_of(m, &h.hdr);
	h.num_buffers = 1;
	memcpy(out, &h, vh);
}

/* A vnet-header read of one frame into iov: the header, then the frame.
 * Returns the bytes copied; *cut when the frame did not fit. */
size_t copy_out_vnet(const struct rte_mbuf *m, uint32_t vh, const struct iovec *iov, int iovcnt,
		     bool *cut) noexcept
{
	uint8_t h[sizeof(rte_pmd_bsdtap_vnet_hdr_mrg)];
	vnet_hdr_bytes(m, vh, h);
	int vi = 0;
	size_t voff = 0;
	size_t n = iov_put(iov, iovcnt, &vi, &voff, h, vh);
	size_t f = copy_out_at(m, iov, iovcnt, vi, voff);
	*cut = f < m->pkt_len;
	return n + f;
}

void release_cache(rte_pmd_bsdtap_reader *r) noexcept
{
	r->q->rd_cache.store(nullptr);
	if (r->cache != nullptr) {
		rte_mempool_cache_flush(r->cache, r->cache_mp);
		rte_mempool_cache_free(r->cache);
	}
	r->cache = nullptr;
	r->cache_mp = nullptr;
}

/* Bulk mbuf allocation through the handle's own mempool cache. */
__rte_always_inline int alloc_segs(rte_pmd_bsdtap_reader *r, struct rte_mempool *mp,
				   struct rte_mbuf **m, unsigned n) noexcept
{
	if (r->cache_mp != mp) {
		release_cache(r);
		/* The handle is one more user of the pool, like an lcore: its
		 * cache is the size the application gave the pool's per-lcore
		 * caches (none for a pool made without), at most 256 and at most
		 * a quarter of the pool, so that an open reader cannot starve it. */
		unsigned size = std::min({write_cache_size, mp->cache_size, mp->size / 4});
		r->cache = size > 0 ? rte_mempool_cache_create(size, SOCKET_ID_ANY) : nullptr;
		r->cache_mp = mp;
		r->q->rd_cache_mp.store(mp);
		r->q->rd_cache.store(r->cache);
	}
	if (rte_mempool_generic_get(mp, reinterpret_cast<void **>(m), n, r->cache) != 0)
		return -ENOBUFS;
	for (unsigned i = 0; i < n; i++)
		rte_pktmbuf_reset(m[i]);
	return 0;
}

ssize_t fail(int err) noexcept
{
	rte_errno = err;
	return -1;
}

} // namespace

/* ---------------------------------------------------------- open / close */

namespace
{

/* Take q's claim for this process (queue::opener_pid). A claim whose process
 * died is released on the spot (C45) rather than at the next periodic
 * check, so a reader started right after a killed one gets the queue. */
bool claim(unit *u, queue *q) noexcept
{
	const int32_t self = getpid();
	for (int tries = 0; tries < 3; tries++) {
		int32_t cur = 0;
		if (q->opener_pid.compare_exchange_strong(cur, self))
			return true;
		if (cur == self || !pid_gone(cur))
			return false;
		if (primary_process)
			queue_reap(u, q);
		else
			mp_reap(u, q->qid, cur);
	}
	return false;
}

} // namespace

rte_pmd_bsdtap_reader *reader_open(const char *name, uint16_t qid, int flags, bool builtin) noexcept
{
	if ((flags & ~RTE_PMD_BSDTAP_O_NONBLOCK) != 0) {
		rte_errno = EINVAL;
		return nullptr;
	}
	rte_pmd_bsdtap_reader *r = new (std::nothrow) rte_pmd_bsdtap_reader();
	if (r == nullptr) {
		rte_errno = ENOMEM;
		return nullptr;
	}
	std::unique_lock<std::mutex> reg = registry_lock();
	unit *u = registry_find_locked(name);
	int err = 0;
	if (u == nullptr || (u->uflags.load() & UF_GONE) != 0)
		err = ENXIO; /* C03 */
	else if (!builtin && !u->args.user_open && geteuid() != 0 && geteuid() != u->uid)
		err = EPERM; /* C08 */
	else if (qid >= u->nb_queues)
		err = EINVAL;
	if (err != 0) {
		reg.unlock();
		delete r;
		rte_errno = err;
		return nullptr;
	}
	/* The primary keeps the unit alive meanwhile with a reference of its
	 * own; a secondary takes none (it could die holding it): only the
	 * primary counts what a claim holds. */
	if (primary_process)
		u->refcnt.fetch_add(1);
	reg.unlock();

	queue *q = &u->q[qid];
	r->u = u;
	r->q = q;
	r->nonblock = (flags & RTE_PMD_BSDTAP_O_NONBLOCK) != 0;
	r->builtin = builtin;
	r->sc_take = q->asym_fence && membarrier_register();
	r->intr_efd = q->intr_efd; /* the primary's; a secondary's own copy below */
	if (!claim(u, q)) {
		err = EBUSY; /* C07 */
	} else if (primary_process) {
		r->efd = q->efd;
		if (queue_open_primary(u, q, getpid(), builtin) != 0)
			err = EBUSY;
	} else {
		/* The primary counts the open, makes the queue clean and answers
		 * with the wakeup eventfd (rte_mp fd passing). */
		r->efd = mp_open(u, qid, getpid());
		if (r->efd < 0) {
			err = -r->efd;
			r->efd = -1;
			int32_t self = getpid();
			q->opener_pid.compare_exchange_strong(self, 0);
		} else {
			r->own_efd = true;
			/* Without it this reader's frames do not wake an application
			 * sleeping in rx interrupt mode; it reads on as usual. */
			r->intr_efd = mp_get_intr_efd(u, qid);
			r->own_intr_efd = r->intr_efd >= 0;
			if (r->intr_efd < 0)
				BSDTAP_LOG(
				    WARNING,
				    "%s: queue %u: no rx interrupt eventfd in this process (%s)",
				    u->iface, qid, rte_strerror(-r->intr_efd));
		}
	}
	if (primary_process)
		unit_put(u);
	if (err != 0) {
		delete r;
		rte_errno = err;
		return nullptr;
	}
	/* The queue is clean and this handle its retq's only producer now. */
	r->retq_prod = sp_view_of(q->retq);
	return r;
}

int reader_close(rte_pmd_bsdtap_reader **rp) noexcept
{
	if (rp == nullptr || *rp == nullptr)
		return -EINVAL;
	rte_pmd_bsdtap_reader *r = *rp;
	*rp = nullptr;
	unit *u = r->u;
	release_cache(r);
	if (primary_process) {
		queue_close_primary(u, r->q, getpid(), nullptr);
	} else {
		/* The primary does the release (a reader killed on the way is
		 * released by it all the same); this process forgets a unit whose
		 * last reference that was. */
		if (mp_close(u, r->q->qid, getpid()) == 1)
			registry_remove(u);
	}
	if (r->own_efd)
		close(r->efd);
	if (r->own_intr_efd)
		close(r->intr_efd);
	delete r;
	return 0;
}

/* C09: the clone device creates the lowest free unit at or above 4. */
rte_pmd_bsdtap_reader *clone_open(uint16_t qid, int flags) noexcept
{
	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		rte_errno = ENOTSUP;
		return nullptr;
	}
	char name[RTE_DEV_NAME_MAX_LEN];
	uint32_t from = RTE_PMD_BSDTAP_PREALLOCATED_UNITS;
	for (int attempt = 0; attempt < 8; attempt++) {
		uint32_t n;
		{
			auto reg = registry_lock();
			n = registry_free_unit_locked(from);
		}
		snprintf(name, sizeof(name), "net_bsdtap%u", n);
		int ret = rte_vdev_init(name, "");
		if (ret == -EEXIST) {
			/* Taken between the lookup and the init, or the device of a
			 * closed (gone) unit not yet detached: the next number. */
			from = n + 1;
			continue;
		}
		if (ret != 0) {
			rte_errno = -ret;
			return nullptr;
		}
		rte_pmd_bsdtap_reader *r = reader_open(name, qid, flags, false);
		if (r == nullptr) {
			int err = rte_errno;
			rte_vdev_uninit(name);
			rte_errno = err;
			return nullptr;
		}
		r->u->uflags.fetch_or(UF_CLONE);
		return r;
	}
	rte_errno = EBUSY;
	return nullptr;
}

bool reader_arm(rte_pmd_bsdtap_reader *r) noexcept
{
	return arm(r);
}

int reader_efd(const rte_pmd_bsdtap_reader *r) noexcept
{
	return r->efd;
}

} // namespace bsdtap

using namespace bsdtap;

/* ------------------------------------------------------------ public API */

struct rte_pmd_bsdtap_reader *rte_pmd_bsdtap_open(const char *unit, uint16_t queue,
						  int flags) noexcept
{
	if (unit == nullptr || unit[0] == '\0')
		return clone_open(queue, flags);
	return reader_open(unit, queue, flags, false);
}

int rte_pmd_bsdtap_close(struct rte_pmd_bsdtap_reader **r) noexcept
{
	return reader_close(r);
}

int rte_pmd_bsdtap_wait(struct rte_pmd_bsdtap_reader *r, int timeout_ms) noexcept
{
	if (r == nullptr)
		return -EINVAL;
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	for (;;) {
		if (gone(r))
			return -EHOSTDOWN;
		if (arm(r))
			return gone(r) ? -EHOSTDOWN : 1;
		/* Going to sleep: the tx may be idle too, so free what was handed
		 * back. Only in the primary: the pools are its to free into; the
		 * primary's 500 ms check drains it for secondary readers. */
		if (primary_process)
			unit_purge_retq(r->q);
		int wait = -1;
		if (deadline >= 0) {
			int64_t left = deadline - now_ms();
			if (left <= 0)
				return 0;
			wait = static_cast<int>(std::min<int64_t>(left, INT_MAX));
		}
		/* A secondary's wakeups come from the primary: if it dies nobody
		 * would end this sleep. It looks twice a second; the unit went
		 * away with the primary. */
		if (!primary_process && (wait < 0 || wait > primary_check_ms))
			wait = primary_check_ms;
		struct pollfd pfd = {r->efd, POLLIN, 0};
		int n = poll(&pfd, 1, wait);
		if (n < 0 && errno == EINTR)
			return -EINTR; /* C16 */
		if (n == 0 && !primary_process && rte_eal_primary_proc_alive(nullptr) == 0)
			return -EHOSTDOWN;
		/* The token stays: the fd must stay readable while frames wait. */
	}
}

ssize_t rte_pmd_bsdtap_readv(struct rte_pmd_bsdtap_reader *r, const struct iovec *iov,
			     int iovcnt) noexcept
{
	if (r == nullptr || iovcnt < 0 || (iov == nullptr && iovcnt > 0))
		return fail(EINVAL);
	for (int i = 0; i < iovcnt; i++)
		if (iov[i].iov_base == nullptr && iov[i].iov_len > 0)
			return fail(EINVAL);
	for (;;) {
		if (gone(r))
			return fail(EHOSTDOWN); /* C14: before anything else */
		struct rte_mbuf *m[4]; /* one used; the ring's copy loop is unrolled by 4 */
		size_t n = 0;
		auto copy = [r, iov, iovcnt, &n](struct rte_mbuf **f, unsigned k, uint32_t, bool) {
			if (k == 0)
				return;
			const uint32_t vh = r->q->vnet_hdr_len.load(std::memory_order_relaxed);
			bool cut;
			if (vh != 0) {
				n = copy_out_vnet(f[0], vh, iov, iovcnt, &cut);
			} else {
				n = copy_out(f[0], iov, iovcnt);
				cut = n < f[0]->pkt_len;
			}
			if (cut)
				r->q->truncated.add(1); /* C17: the rest is dropped */
		};
		if (take_copy(r, m, 1, copy) == 1) {
			after_take(r);
			return static_cast<ssize_t>(n);
		}
		if (r->nonblock) {
			if (r->fd_mode)
				arm(r);
			return fail(EAGAIN); /* C15 */
		}
		int w = rte_pmd_bsdtap_wait(r, -1);
		if (w < 0)
			return fail(-w);
	}
}

namespace bsdtap
{
namespace
{

/* Frames one step of a copying burst read takes off the devq. */
constexpr unsigned copy_batch = 64;

/*
 * Copy a batch out (take_copy hands the mbufs back). The headers and data were
 * written on the tx core: prefetch every header first, then each frame's
 * data one frame ahead, so the misses overlap instead of queueing.
 */
void copy_batch_out(queue *q, struct rte_mbuf **m, unsigned k, const struct iovec *bufs,
		    size_t *lens, uint32_t pos, bool at_pos, int gen) noexcept
{
	const uint32_t vh = q->vnet_hdr_len.load(std::memory_order_relaxed);
	uint64_t cut = 0;
	unsigned i = 0;
	/* From the tx's descriptors (one-segment frames), the data is copied
	 * without a look at the headers. */
	if (at_pos && vh == 0 && gen >= 0) {
		const frame_desc *d = q->desc;
		const uint32_t mask = q->devq->mask;
		for (unsigned j = 0; j < k; j++)
			rte_prefetch0(d[(pos + j) & mask].data);
		for (; i < k; i++) {
			const frame_desc &f = d[(pos + i) & mask];
			if (f.gen != gen || f.pos != pos + i || f.len == 0 ||
			    f.len > bufs[i].iov_len)
				break; /* the rest by their headers */
			memcpy(bufs[i].iov_base, f.data, f.len);
			lens[i] = f.len;
		}
		if (i == k)
			return;
	}
	for (unsigned j = i; j < k; j++)
		rte_prefetch0(m[j]);
	if (i < k)
		rte_prefetch0(rte_pktmbuf_mtod(m[i], void *));
	for (; i < k; i++) {
		if (i + 1 < k)
			rte_prefetch0(rte_pktmbuf_mtod(m[i + 1], void *));
		if (vh != 0) {
			bool c;
			lens[i] = copy_out_vnet(m[i], vh, &bufs[i], 1, &c);
			cut += c;
			continue;
		}
		const struct rte_mbuf *f = m[i];
		size_t n;
		/* nb_segs, not next: next is on the header's second cache line
		 * (DPDK builds with the IOVA in the mbuf), a miss of its own. */
		if (likely(f->nb_segs == 1 && f->data_len <= bufs[i].iov_len)) {
			n = f->data_len;
			memcpy(bufs[i].iov_base, rte_pktmbuf_mtod(f, const void *), n);
		} else {
			n = copy_out(f, &bufs[i], 1);
		}
		cut += n < f->pkt_len;
		lens[i] = n;
	}
	if (cut != 0)
		q->truncated.add(cut); /* C17 */
}

} // namespace
} // namespace bsdtap

int rte_pmd_bsdtap_read_burst(struct rte_pmd_bsdtap_reader *r, const struct iovec *bufs,
			      size_t *lens, uint16_t n) noexcept
{
	if (r == nullptr || (n > 0 && (bufs == nullptr || lens == nullptr)))
		return static_cast<int>(fail(EINVAL));
	for (uint16_t i = 0; i < n; i++)
		if (bufs[i].iov_base == nullptr && bufs[i].iov_len > 0)
			return static_cast<int>(fail(EINVAL));
	if (n == 0)
		return 0;
	queue *q = r->q;
	if (unlikely(!r->desc_on) && r->sc_take) {
		/* A copying reader: from now on (until the close) the tx fills
		 * the frames' descriptors, of a generation of this handle's. */
		uint32_t f = q->flags.load();
		uint32_t g;
		do {
			g = ((f >> QF_GEN_SHIFT) + 1) & 0xffffu;
		} while (!q->flags.compare_exchange_weak(f, (f & ((1u << QF_GEN_SHIFT) - 1)) |
								QF_DESC | (g << QF_GEN_SHIFT)));
		r->desc_gen = static_cast<uint16_t>(g);
		r->desc_on = true;
	}
	for (;;) {
		if (gone(r))
			return static_cast<int>(fail(EHOSTDOWN)); /* C14 */
		uint16_t got = 0;
		while (got < n) {
			struct rte_mbuf *m[copy_batch];
			unsigned want = std::min<unsigned>(copy_batch, n - got);
			const int gen = r->desc_on ? r->desc_gen : -1;
			unsigned k =
			    take_copy(r, m, want,
				      [q, bufs, lens, got, gen](struct rte_mbuf **f, unsigned c,
								uint32_t pos, bool at_pos) {
					      copy_batch_out(q, f, c, bufs + got, lens + got, pos,
							     at_pos, gen);
				      });
			got = static_cast<uint16_t>(got + k);
			if (k < want)
				break;
		}
		if (got > 0) {
			after_take(r);
			return got;
		}
		if (r->nonblock) {
			if (r->fd_mode)
				arm(r);
			return static_cast<int>(fail(EAGAIN)); /* C15 */
		}
		int w = rte_pmd_bsdtap_wait(r, -1);
		if (w < 0)
			return static_cast<int>(fail(-w));
	}
}

ssize_t rte_pmd_bsdtap_read(struct rte_pmd_bsdtap_reader *r, void *buf, size_t len) noexcept
{
	if (buf == nullptr && len > 0)
		return fail(EINVAL);
	struct iovec iov = {buf, len};
	return rte_pmd_bsdtap_readv(r, &iov, 1);
}

namespace bsdtap
{
namespace
{

/* Copy len bytes of iov from (vi, voff) into segs[0..nseg), room bytes
 * each but the last, and chain them. */
__rte_always_inline void fill_chain(struct rte_mbuf **segs, uint32_t nseg, uint32_t room,
				    size_t len, const struct iovec *iov, int vi,
				    size_t voff) noexcept
{
	for (uint32_t s = 0; s < nseg; s++) {
		uint32_t want =
		    static_cast<uint32_t>(std::min<size_t>(room, len - s * size_t{room}));
		char *dst = rte_pktmbuf_mtod(segs[s], char *);
		uint32_t got = 0;
		while (got < want) {
			size_t c = std::min<size_t>(want - got, iov[vi].iov_len - voff);
			memcpy(dst + got, static_cast<const char *>(iov[vi].iov_base) + voff, c);
			got += static_cast<uint32_t>(c);
			voff += c;
			if (voff == iov[vi].iov_len) {
				vi++;
				voff = 0;
			}
		}
		segs[s]->data_len = static_cast<uint16_t>(want);
		if (s > 0)
			segs[s - 1]->next = segs[s];
	}
	segs[0]->nb_segs = static_cast<uint16_t>(nseg);
	segs[0]->pkt_len = static_cast<uint32_t>(len);
}

/*
 * A write in vnet-header mode: the header (vh bytes), then a frame of up to
 * 64 KiB if it is a GSO frame (others stay within the MRU), applied as
 * vnet_rx_apply says. Out of line: its arrays would make every plain
 * write's stack frame larger.
 */
__rte_noinline ssize_t writev_vnet(rte_pmd_bsdtap_reader *r, const struct iovec *iov, size_t total,
				   uint32_t vh) noexcept
{
	queue *q = r->q;
	if (total < vh)
		return fail(EINVAL); /* not even the header */
	rte_pmd_bsdtap_vnet_hdr_mrg vhdr{};
	int vi = 0;
	size_t voff = 0;
	auto *d = reinterpret_cast<char *>(&vhdr);
	for (size_t got = 0; got < vh;) {
		size_t c = std::min(iov[vi].iov_len - voff, vh - got);
		memcpy(d + got, static_cast<const char *>(iov[vi].iov_base) + voff, c);
		got += c;
		voff += c;
		if (voff == iov[vi].iov_len) {
			vi++;
			voff = 0;
		}
	}
	const size_t len = total - vh;
	if (len > RTE_PMD_BSDTAP_MRU && (vhdr.hdr.gso_type & ~RTE_PMD_BSDTAP_VNET_HDR_GSO_ECN) ==
					    RTE_PMD_BSDTAP_VNET_HDR_GSO_NONE)
		return fail(EIO); /* C22: only a GSO frame may pass the MRU */
	struct rte_mempool *mp = q->mp.load(std::memory_order_acquire);
	if (mp == nullptr) {
		q->rx_nombuf.add(1);
		return fail(ENOBUFS);
	}
	if (len < RTE_ETHER_HDR_LEN) {
		q->ierrors.add(1); /* C25 */
		return static_cast<ssize_t>(total);
	}
	const uint32_t room = rte_pktmbuf_data_room_size(mp) - RTE_PKTMBUF_HEADROOM;
	const uint32_t nseg = static_cast<uint32_t>((len + room - 1) / room);
	struct rte_mbuf *segs[RTE_PMD_BSDTAP_GSO_MAX / RTE_ETHER_MIN_LEN + 1];
	if (nseg > RTE_DIM(segs) || alloc_segs(r, mp, segs, nseg) != 0) {
		q->rx_nombuf.add(1); /* C23 */
		return fail(ENOBUFS);
	}
	fill_chain(segs, nseg, room, len, iov, vi, voff);
	segs[0]->port = q->port_id;
	/* The header's requests, as the application is to receive them. */
	struct rte_mbuf *out[tso_max_segs];
	int k = vnet_rx_apply(q, segs[0], &vhdr.hdr, mp, out, tso_max_segs);
	if (k < 0) {
		rte_pktmbuf_free(segs[0]);
		if (k == -ENOBUFS) {
			q->rx_nombuf.add(1);
			return fail(ENOBUFS);
		}
		q->ierrors.add(1);
		return fail(EINVAL); /* the header does not fit the frame */
	}
	for (int i = 0; i < k; i++)
		out[i]->port = q->port_id;
	if (rte_ring_sp_enqueue_bulk(q->inq, reinterpret_cast<void **>(out),
				     static_cast<unsigned>(k), nullptr) == 0) {
		rte_pktmbuf_free_bulk(out, static_cast<unsigned>(k));
		q->imissed.add(static_cast<uint64_t>(k));
	} else {
		notify_app(r);
	}
	return static_cast<ssize_t>(total);
}

} // namespace
} // namespace bsdtap

ssize_t rte_pmd_bsdtap_writev(struct rte_pmd_bsdtap_reader *r, const struct iovec *iov,
			      int iovcnt) noexcept
{
	if (r == nullptr || iovcnt < 0 || (iov == nullptr && iovcnt > 0))
		return fail(EINVAL);
	if (gone(r))
		return fail(EHOSTDOWN); /* C20: before the length */
	queue *q = r->q;
	const uint32_t vh = q->vnet_hdr_len.load(std::memory_order_relaxed);
	const size_t limit = vh != 0 ? vh + size_t{RTE_PMD_BSDTAP_GSO_MAX} : RTE_PMD_BSDTAP_MRU;
	size_t len = 0;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_base == nullptr && iov[i].iov_len > 0)
			return fail(EINVAL);
		len += iov[i].iov_len;
		if (len > limit)
			return fail(EIO); /* C22 */
	}
	if (len == 0)
		return 0; /* C21 */
	if (unlikely(vh != 0))
		return writev_vnet(r, iov, len, vh);
	struct rte_mempool *mp = q->mp.load(std::memory_order_acquire);
	if (mp == nullptr) {
		q->rx_nombuf.add(1); /* no rx queue set up: nowhere to put it */
		return fail(ENOBUFS);
	}
	if (len < RTE_ETHER_HDR_LEN) {
		q->ierrors.add(1); /* C25: the stack would drop a runt */
		return static_cast<ssize_t>(len);
	}
	/* Build the chain: as many mbufs as the data room needs, one bulk get. */
	const uint32_t room = rte_pktmbuf_data_room_size(mp) - RTE_PKTMBUF_HEADROOM;
	const uint32_t nseg = static_cast<uint32_t>((len + room - 1) / room);
	struct rte_mbuf *segs[RTE_PMD_BSDTAP_MRU / RTE_ETHER_MIN_LEN + 1];
	if (nseg > RTE_DIM(segs) || alloc_segs(r, mp, segs, nseg) != 0) {
		q->rx_nombuf.add(1); /* C23 */
		return fail(ENOBUFS);
	}
	fill_chain(segs, nseg, room, len, iov, 0, 0);
	segs[0]->port = q->port_id;
	if (rte_ring_sp_enqueue(q->inq, segs[0]) != 0) {
		rte_pktmbuf_free(segs[0]);
		q->imissed.add(1); /* the input queue is full: the frame is lost */
	} else {
		notify_app(r);
	}
	return static_cast<ssize_t>(len);
}

ssize_t rte_pmd_bsdtap_write(struct rte_pmd_bsdtap_reader *r, const void *buf, size_t len) noexcept
{
	if (buf == nullptr && len > 0)
		return fail(EINVAL);
	struct iovec iov = {const_cast<void *>(buf), len};
	return rte_pmd_bsdtap_writev(r, &iov, 1);
}

uint16_t rte_pmd_bsdtap_recv_burst(struct rte_pmd_bsdtap_reader *r, struct rte_mbuf **pkts,
				   uint16_t n) noexcept
{
	if (unlikely(r == nullptr || pkts == nullptr || n == 0))
		return 0;
	uint16_t got = static_cast<uint16_t>(take(r, pkts, n));
	if (unlikely(r->fd_mode))
		after_take(r);
	return got;
}

uint16_t rte_pmd_bsdtap_visit_burst(struct rte_pmd_bsdtap_reader *r, uint16_t n,
				    rte_pmd_bsdtap_visit_t fn, void *arg) noexcept
{
	if (unlikely(r == nullptr || n == 0))
		return 0;
	queue *q = r->q;
	uint16_t k = 0;
	if (likely(r->sc_take && q->held.load(std::memory_order_relaxed) == nullptr)) {
		struct rte_ring *d = q->devq;
		const uint32_t h = __atomic_load_n(&d->cons.head, __ATOMIC_RELAXED);
		const uint32_t t = __atomic_load_n(&d->prod.tail, __ATOMIC_ACQUIRE);
		if (t == h) {
			if (unlikely(r->fd_mode))
				after_take(r);
			return 0;
		}
		bool done = true;
		q->rd_busy.store(1, std::memory_order_relaxed);
		std::atomic_signal_fence(std::memory_order_seq_cst); /* the purger's membarrier */
		if (likely(q->purging.load(std::memory_order_relaxed) == 0)) {
			const bool look = fn != nullptr;
			if (likely(inplace_live(r, look) || inplace_begin(r, look))) {
				/* Where they lie: head moved first, so that the release of
				 * a reader killed in fn finds them still the devq's. */
				k = static_cast<uint16_t>(RTE_MIN(t - h, uint32_t{n}));
				__atomic_store_n(&d->cons.head, h + k, __ATOMIC_RELAXED);
				auto *slots = reinterpret_cast<struct rte_mbuf *const *>(d + 1);
				const uint32_t idx = h & d->mask;
				const uint16_t first =
				    static_cast<uint16_t>(RTE_MIN(uint32_t{k}, d->size - idx));
				if (look) {
					fn(arg, slots + idx, first);
					if (k > first)
						fn(arg, slots, static_cast<uint16_t>(k - first));
				}
				__atomic_store_n(&d->cons.tail, h + k, __ATOMIC_RELEASE);
			} else {
				done = false;
			}
		}
		q->rd_busy.store(0, std::memory_order_release);
		if (done) {
			if (unlikely(r->fd_mode))
				after_take(r);
			return k;
		}
	}
	/* Not in place (the tx has not finished the last epoch, no
	 * membarrier, FIONREAD's frame held): the copying read's step, with fn
	 * for the copy. */
	struct rte_mbuf *m[visit_chunk];
	k = static_cast<uint16_t>(take_copy(
	    r, m, RTE_MIN(n, visit_chunk),
	    [fn, arg](struct rte_mbuf **mm, unsigned kk, uint32_t, bool) {
		    if (fn != nullptr && kk > 0)
			    fn(arg, mm, static_cast<uint16_t>(kk));
	    },
	    fn != nullptr));
	if (unlikely(r->fd_mode))
		after_take(r);
	return k;
}

void rte_pmd_bsdtap_free_burst(struct rte_pmd_bsdtap_reader *r, struct rte_mbuf **pkts,
			       uint16_t n) noexcept
{
	if (unlikely(pkts == nullptr || n == 0))
		return;
	uint16_t k = 0;
	if (likely(r != nullptr))
		k = static_cast<uint16_t>(retq_put(r, pkts, n));
	if (unlikely(k < n))
		rte_pktmbuf_free_bulk(pkts + k, n - k);
}

uint16_t rte_pmd_bsdtap_send_burst(struct rte_pmd_bsdtap_reader *r, struct rte_mbuf **pkts,
				   uint16_t n) noexcept
{
	if (unlikely(r == nullptr || pkts == nullptr || n == 0 || gone(r)))
		return 0;
	auto k = static_cast<uint16_t>(
	    rte_ring_sp_enqueue_burst(r->q->inq, reinterpret_cast<void **>(pkts), n, nullptr));
	if (likely(k > 0))
		notify_app(r);
	return k;
}

int rte_pmd_bsdtap_fd(struct rte_pmd_bsdtap_reader *r) noexcept
{
	if (r == nullptr)
		return -EINVAL;
	if (!r->fd_mode) {
		r->fd_mode = true;
		arm(r);
	}
	return r->efd;
}

int rte_pmd_bsdtap_port_id(const struct rte_pmd_bsdtap_reader *r) noexcept
{
	return r == nullptr ? -EINVAL : r->u->port_id;
}

int rte_pmd_bsdtap_unit(const struct rte_pmd_bsdtap_reader *r) noexcept
{
	return r == nullptr ? -EINVAL : static_cast<int>(r->u->unit_no);
}

/* ---------------------------------------------------------------- ioctl */

namespace bsdtap
{
namespace
{

/* fsetown(): a pid (> 0) or a process group (< 0) that exists, or 0 for none. */
int set_owner(queue *q, int owner) noexcept
{
	if (owner == INT_MIN)
		return -EINVAL;
	if (owner > 0 && kill(owner, 0) != 0 && errno == ESRCH)
		return -ESRCH;
	if (owner < 0 && killpg(-owner, 0) != 0 && errno == ESRCH)
		return -ESRCH;
	q->sigio_owner.store(owner);
	return 0;
}

int if_flags(const unit *u) noexcept
{
	uint32_t f = u->uflags.load();
	int flags = RTE_PMD_BSDTAP_IFF_BROADCAST | RTE_PMD_BSDTAP_IFF_SIMPLEX |
		    RTE_PMD_BSDTAP_IFF_MULTICAST;
	if ((f & UF_STARTED) != 0)
		flags |= RTE_PMD_BSDTAP_IFF_UP | RTE_PMD_BSDTAP_IFF_RUNNING;
	if ((f & UF_PROMISC) != 0)
		flags |= RTE_PMD_BSDTAP_IFF_PROMISC;
	if ((f & UF_ALLMULTI) != 0)
		flags |= RTE_PMD_BSDTAP_IFF_ALLMULTI;
	return flags;
}

int set_info(rte_pmd_bsdtap_reader *r, const rte_pmd_bsdtap_info *info) noexcept
{
	unit *u = r->u;
	/* Validated, unlike the original (L692-697). */
	if (info->type != RTE_PMD_BSDTAP_IFT_ETHER || info->baudrate == 0)
		return -EINVAL;
	if (info->mtu < RTE_ETHER_MIN_MTU || info->mtu > RTE_PMD_BSDTAP_MRU - RTE_ETHER_HDR_LEN)
		return -EINVAL;
	/* The MTU is the primary's to set, as every port effect. */
	int ret = primary_process
		      ? port_effect_run(u, port_effect::set_info, info->mtu, true)
		      : mp_port_effect(u, static_cast<uint8_t>(port_effect::set_info), info->mtu);
	if (ret != 0)
		return ret;
	u->baudrate.store(info->baudrate);
	struct rte_eth_link link; /* refreshes the speed ethdev reports */
	if (rte_eth_link_get_nowait(u->port_id, &link) != 0)
		BSDTAP_LOG(DEBUG, "%s: link not refreshed after TAPSIFINFO", u->iface);
	return 0;
}

int vmnet_set_flags(rte_pmd_bsdtap_reader *r, int flags) noexcept
{
	return primary_process
		   ? port_effect_run(r->u, port_effect::set_flags, flags, true)
		   : mp_port_effect(r->u, static_cast<uint8_t>(port_effect::set_flags), flags);
}

} // namespace
} // namespace bsdtap

int rte_pmd_bsdtap_ioctl(struct rte_pmd_bsdtap_reader *r, unsigned long req, void *arg) noexcept
{
	if (r == nullptr)
		return -EINVAL;
	if (gone(r))
		return -EHOSTDOWN;
	unit *u = r->u;
	queue *q = r->q;
	auto *iarg = static_cast<int *>(arg);
	bool known = req >= RTE_PMD_BSDTAP_TAPSIFINFO && req <= RTE_PMD_BSDTAP_TAPGVNETHDR;
	if (!known)
		return -ENOTTY; /* C37 */
	if (arg == nullptr)
		return -EINVAL;
	switch (req) {
	case RTE_PMD_BSDTAP_TAPSIFINFO:
		return set_info(r, static_cast<const rte_pmd_bsdtap_info *>(arg));
	case RTE_PMD_BSDTAP_TAPGIFINFO: {
		auto *info = static_cast<rte_pmd_bsdtap_info *>(arg);
		uint16_t mtu = 0;
		rte_eth_dev_get_mtu(u->port_id, &mtu);
		info->mtu = mtu;
		info->baudrate = u->baudrate.load();
		info->type = RTE_PMD_BSDTAP_IFT_ETHER;
		info->dummy = 0;
		return 0;
	}
	case RTE_PMD_BSDTAP_TAPSDEBUG:
		if (*iarg < static_cast<int>(RTE_LOG_EMERG) ||
		    *iarg > static_cast<int>(RTE_LOG_DEBUG))
			return -EINVAL;
		return rte_log_set_level(bsdtap_logtype, static_cast<uint32_t>(*iarg));
	case RTE_PMD_BSDTAP_TAPGDEBUG:
		*iarg = rte_log_get_level(bsdtap_logtype);
		return 0;
	case RTE_PMD_BSDTAP_FIONBIO:
		r->nonblock = *iarg != 0;
		return 0;
	case RTE_PMD_BSDTAP_FIOASYNC:
		if (*iarg != 0)
			q->flags.fetch_or(QF_ASYNC);
		else
			q->flags.fetch_and(~QF_ASYNC);
		return 0;
	case RTE_PMD_BSDTAP_FIONREAD: {
		/* C31: the head frame's length, not the total queued. */
		struct rte_mbuf *m = q->held.load();
		if (m == nullptr) {
			m = take_one(r);
			if (m != nullptr) {
				struct rte_mbuf *expected = nullptr;
				if (!q->held.compare_exchange_strong(expected, m)) {
					rte_pktmbuf_free(
					    m); /* cannot happen: one reader per queue */
					m = expected;
				}
			}
		}
		*iarg = m == nullptr ? 0 : static_cast<int>(m->pkt_len + q->vnet_hdr_len.load());
		return 0;
	}
	case RTE_PMD_BSDTAP_FIOSETOWN:
		return set_owner(q, *iarg);
	case RTE_PMD_BSDTAP_FIOGETOWN:
		*iarg = q->sigio_owner.load();
		return 0;
	case RTE_PMD_BSDTAP_TIOCSPGRP:
		if (*iarg == INT_MIN)
			return -EINVAL; /* no process group has it; and it has no negative */
		return set_owner(q, -*iarg);
	case RTE_PMD_BSDTAP_TIOCGPGRP:
		*iarg = -q->sigio_owner.load();
		return 0;
	case RTE_PMD_BSDTAP_SIOCGIFADDR:
		memcpy(arg, q->remote_mac.addr_bytes, RTE_ETHER_ADDR_LEN);
		return 0;
	case RTE_PMD_BSDTAP_SIOCSIFADDR:
		/* C34: only the remote MAC; the port's MAC is the application's. */
		memcpy(q->remote_mac.addr_bytes, arg, RTE_ETHER_ADDR_LEN);
		return 0;
	case RTE_PMD_BSDTAP_SIOCGIFFLAGS:
		*iarg = if_flags(u);
		return 0;
	case RTE_PMD_BSDTAP_VMIO_SIOCSIFFLAGS:
		return vmnet_set_flags(r, *iarg);
	case RTE_PMD_BSDTAP_SIOCGIFSTATUS: {
		auto *buf = static_cast<char *>(arg);
		int pid = q->opener_pid.load();
		if (pid != 0)
			snprintf(buf, RTE_PMD_BSDTAP_STATUS_LEN, "\tOpened by pid %d\n", pid);
		else
			buf[0] = '\0';
		return 0;
	}
	case RTE_PMD_BSDTAP_TAPSVNETHDR:
		/* FreeBSD's meaning: the unit's, for every queue and handle. */
		if (*iarg != 0 && *iarg != static_cast<int>(sizeof(rte_pmd_bsdtap_vnet_hdr)) &&
		    *iarg != static_cast<int>(sizeof(rte_pmd_bsdtap_vnet_hdr_mrg)))
			return -EINVAL;
		for (uint16_t i = 0; i < u->nb_queues; i++)
			u->q[i].vnet_hdr_len.store(static_cast<uint32_t>(*iarg));
		return 0;
	case RTE_PMD_BSDTAP_TAPGVNETHDR:
		*iarg = static_cast<int>(q->vnet_hdr_len.load());
		return 0;
	default:
		return -ENOTTY;
	}
}

int rte_pmd_bsdtap_vnet_hdr_from_mbuf(const struct rte_mbuf *m,
				      struct rte_pmd_bsdtap_vnet_hdr *h) noexcept
{
	if (m == nullptr || h == nullptr)
		return -EINVAL;
	bsdtap::vnet_hdr_of(m, h);
	return 0;
}

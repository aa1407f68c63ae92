/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A unit's lifecycle (see bsdtap_unit.h): its creation and destruction and
 * the references that keep it (C44), the purges of its rings and the repair
 * of a dead reader's, its link as the application sees it (the LSC alarm),
 * and the primary's half of a reader's open and close of one of its queues,
 * with what that does to the port. The port effects themselves run in
 * bsdtap_unit.cpp.
 */

#include "bsdtap_unit.h"

#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <new>

#include <sys/eventfd.h>
#include <unistd.h>

#include <ethdev_driver.h>
#include <rte_alarm.h>
#include <rte_cycles.h>
#include <rte_interrupts.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pause.h>

#include "bsdtap_internal.h"
#include "bsdtap_log.h"
#include "bsdtap_mp.h"
#include "bsdtap_registry.h"

namespace bsdtap
{

namespace
{

/* Link speed reported until a reader sets a baudrate (TAPSIFINFO). */
constexpr uint64_t default_baudrate = 10ULL * 1000 * 1000 * 1000;

/* C01: 00:bd, three bytes of a clock, the unit number's low byte. */
void fake_mac(uint32_t unit_no, struct rte_ether_addr *mac) noexcept
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t ticks = static_cast<uint64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
	mac->addr_bytes[0] = 0x00;
	mac->addr_bytes[1] = 0xbd;
	mac->addr_bytes[2] = static_cast<uint8_t>(ticks);
	mac->addr_bytes[3] = static_cast<uint8_t>(ticks >> 8);
	mac->addr_bytes[4] = static_cast<uint8_t>(ticks >> 16);
	mac->addr_bytes[5] = static_cast<uint8_t>(unit_no);
}

} // namespace

/* --------------------------------------------- creation and destruction */

/* Frees a unit's rings, fds and memory (not listed in the registry). */
void unit_free(unit *u) noexcept
{
	for (queue &q : u->q) {
		unit_purge_devq(&q);
		unit_purge_inq(&q);
		unit_purge_retq(&q);
		rte_ring_free(q.devq);
		rte_ring_free(q.retq);
		rte_ring_free(q.inq);
		rte_free(q.desc);
		rte_free(q.shadow);
		if (q.efd >= 0)
			close(q.efd);
		if (q.intr_efd >= 0)
			close(q.intr_efd);
		q.~queue();
	}
	rte_free(u->sock); /* trivially destructible */
	u->~unit();
	rte_free(u);
}

unit *unit_create(const char *name, uint32_t unit_no, const devargs &args, int socket) noexcept
{
	void *mem = rte_zmalloc_socket("bsdtap_unit", sizeof(unit), RTE_CACHE_LINE_SIZE, socket);
	if (mem == nullptr)
		return nullptr;
	unit *u = new (mem) unit();
	if (args.reader == reader_kind::socket) {
		void *sm =
		    rte_zmalloc_socket("bsdtap_sock_stats", sizeof(sock_stats) * BSDTAP_MAX_QUEUES,
				       RTE_CACHE_LINE_SIZE, socket);
		if (sm == nullptr) {
			u->~unit();
			rte_free(mem);
			rte_errno = ENOMEM;
			return nullptr;
		}
		u->sock = static_cast<sock_stats *>(sm);
		for (unsigned i = 0; i < BSDTAP_MAX_QUEUES; i++)
			new (&u->sock[i]) sock_stats();
	}
	snprintf(u->name, sizeof(u->name), "%s", name);
	memcpy(u->iface, args.iface, sizeof(u->iface));
	u->unit_no = unit_no;
	u->nb_queues = args.queues;
	u->uid = geteuid();
	u->args = args;
	u->baudrate.store(default_baudrate);
	if (args.vmnet)
		u->uflags.fetch_or(UF_VMNET);
	struct rte_ether_addr mac = args.mac;
	if (!args.has_mac)
		fake_mac(unit_no, &mac);
	unit_set_mac(u, &mac);
	for (uint16_t i = 0; i < BSDTAP_MAX_QUEUES; i++)
		u->q[i].qid = i;
	const bool asym = membarrier_register();
	/* Ring names are system-wide: make them unique per unit and queue. */
	static std::atomic<uint32_t> serial{0};
	uint32_t id = serial.fetch_add(1);
	for (uint16_t i = 0; i < u->nb_queues; i++) {
		queue &q = u->q[i];
		char rn[RTE_RING_NAMESIZE];
		/* The devq's consumer is the reader, and control purges it on stop
		 * and close: the reader's dequeues are single-consumer when it can
		 * be kept out of a purge (membarrier, rd_busy), multi-consumer
		 * otherwise, and the purge's multi-consumer; each names its mode.
		 * The ring is single-consumer by default so that a copying read can
		 * use the peek calls (start moves the head, finish the tail). The
		 * producer is one tx lcore. The inq is strictly SP/SC. */
		snprintf(rn, sizeof(rn), "bsdtap%" PRIu32 "_%" PRIu32 "_d%u", getpid() % 100000, id,
			 i);
		q.devq = rte_ring_create(rn, args.ring_size, socket,
					 RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
		snprintf(rn, sizeof(rn), "bsdtap%" PRIu32 "_%" PRIu32 "_i%u", getpid() % 100000, id,
			 i);
		q.inq = rte_ring_create(rn, args.ring_size, socket,
					RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
		/* Room for everything the devq can have handed out, plus a burst. */
		snprintf(rn, sizeof(rn), "bsdtap%" PRIu32 "_%" PRIu32 "_r%u", getpid() % 100000, id,
			 i);
		q.retq = rte_ring_create(rn, args.ring_size + 64, socket,
					 RING_F_SP_ENQ | RING_F_EXACT_SZ);
		if (q.devq != nullptr) {
			q.desc = static_cast<frame_desc *>(
			    rte_zmalloc_socket("bsdtap_desc", sizeof(frame_desc) * q.devq->size,
					       RTE_CACHE_LINE_SIZE, socket));
			q.shadow = static_cast<struct rte_mbuf **>(
			    rte_zmalloc_socket("bsdtap_shadow", sizeof(void *) * q.devq->size,
					       RTE_CACHE_LINE_SIZE, socket));
		}
		q.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (q.efd >= 0)
			q.intr_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (q.devq == nullptr || q.inq == nullptr || q.retq == nullptr ||
		    q.desc == nullptr || q.shadow == nullptr || q.efd < 0 || q.intr_efd < 0) {
			BSDTAP_LOG(ERR, "%s: queue %u: cannot create rings or eventfds: %s", name,
				   i,
				   rte_strerror(q.efd < 0 || q.intr_efd < 0 ? errno : rte_errno));
			unit_free(u);
			return nullptr;
		}
		if (args.vmnet)
			q.flags.fetch_or(QF_VMNET);
		q.asym_fence = asym;
		q.rx_intr_used.store(asym ? 0 : 1, std::memory_order_relaxed);
	}
	return u;
}

void unit_destroy(unit *u) noexcept
{
	registry_remove(u);
	unit_free(u);
}

bool unit_put(unit *u) noexcept
{
	if (u->refcnt.fetch_sub(1) != 1)
		return false;
	if (primary_process) {
		unit_destroy(u);
	} else {
		/* Rings and eventfds are the primary's to free. */
		registry_remove(u);
		mp_notify(MP_RELEASE, u, 0);
	}
	return true;
}

/* --------------------------------------------------------------- purges */

/*
 * A reader process may die at any instruction (C45), and with it the one
 * side of each ring it owns: the devq's consumer, the retq's and the inq's
 * producer. rte_ring moves a head, copies, then moves the tail; a death in
 * between leaves head and tail apart, and the next multi-consumer (or
 * multi-producer) operation would wait for that tail forever. Once that
 * reader is known to be gone (its pid is dead, or it is closing), nobody
 * else works that side, and the side is put back:
 *  - devq: the slots between its consumer tail and head still hold the
 *    frames the dead reader was taking (the producer cannot reuse them
 *    before the tail moves). If a copying read had already put them on the
 *    retq (rd_handoff, the retq's tail moved past rd_retq_mark), the tail
 *    goes to the head; otherwise the head goes back to the tail and the
 *    purge frees them: nothing leaks;
 *  - retq, inq: the producer head goes back to the tail; what the dead
 *    reader was enqueueing there never became visible, and those mbufs are
 *    lost with it (they were in its hands: see doc/reader-api.md).
 * The caller holds purge_mtx, so no other purge dequeues meanwhile.
 */
static void repair_rings(queue *q) noexcept
{
	struct rte_ring *d = q->devq;
	uint32_t t = __atomic_load_n(&d->cons.tail, __ATOMIC_ACQUIRE);
	uint32_t h = __atomic_load_n(&d->cons.head, __ATOMIC_ACQUIRE);
	if (h != t) {
		bool on_retq = q->rd_handoff.load() != 0 &&
			       __atomic_load_n(&q->retq->prod.tail, __ATOMIC_ACQUIRE) !=
				   q->rd_retq_mark.load();
		if (on_retq)
			__atomic_store_n(&d->cons.tail, h, __ATOMIC_RELEASE);
		else
			__atomic_store_n(&d->cons.head, t, __ATOMIC_RELEASE);
		BSDTAP_LOG(NOTICE, "queue %u: devq repaired after a dead reader (%u frames %s)",
			   q->qid, h - t, on_retq ? "were handed back" : "back in the devq");
	}
	q->rd_handoff.store(0);
	q->rd_busy.store(0);
	for (struct rte_ring *r : {q->retq, q->inq}) {
		if (r == nullptr)
			continue;
		uint32_t pt = __atomic_load_n(&r->prod.tail, __ATOMIC_ACQUIRE);
		if (__atomic_load_n(&r->prod.head, __ATOMIC_ACQUIRE) != pt)
			__atomic_store_n(&r->prod.head, pt, __ATOMIC_RELEASE);
	}
}

static bool pid_dead(int32_t pid) noexcept
{
	return pid <= 0 || (kill(pid, 0) != 0 && errno == ESRCH);
}

/*
 * Keep a live reader out of the devq while it is purged. Single-consumer
 * readers (see devq_take in the reader): the caller has raised q->purging;
 * the membarrier pairs with the reader's compiler barrier between its
 * rd_busy store and its purging load, so either the reader sees purging and
 * stays out, or rd_busy is seen here and the reader's dequeue is waited
 * for. Multi-consumer readers (no membarrier): a dequeue in progress (head
 * ahead of tail) is waited for. Either wait looks at the claimant's pid:
 * a dead (or absent) reader is not waited for, its rings are repaired; one
 * that stays inside for a second (stopped by a debugger, say) is, after a
 * warning, left alone: no purge. Nothing here waits without a bound.
 */
static bool exclude_devq_reader(queue *q) noexcept
{
	if (q->asym_fence)
		reader_sleep_fence(q);
	const struct rte_ring *d = q->devq;
	auto inside = [q, d] {
		return q->asym_fence ? q->rd_busy.load(std::memory_order_acquire) != 0
				     : __atomic_load_n(&d->cons.head, __ATOMIC_ACQUIRE) !=
					   __atomic_load_n(&d->cons.tail, __ATOMIC_ACQUIRE);
	};
	const uint64_t hz = rte_get_timer_hz();
	const uint64_t start = rte_get_timer_cycles();
	while (inside()) {
		if (pid_dead(q->opener_pid.load())) {
			repair_rings(q);
			break;
		}
		if (rte_get_timer_cycles() - start > hz) {
			BSDTAP_LOG(
			    WARNING,
			    "queue %u: reader pid %d stays inside a dequeue; devq not purged",
			    q->qid, q->opener_pid.load());
			return false;
		}
		rte_pause();
	}
	return true;
}

/* Purges run in the primary (control, the rte_mp thread, the dead-reader
 * check): one at a time, so a repair never races another purge's dequeue. */
static std::mutex purge_mtx;

void unit_purge_devq(queue *q, bool reader_gone) noexcept
{
	if (q->devq == nullptr)
		return;
	struct rte_mbuf *m[64];
	unsigned n;
	uint64_t total = 0;
	std::lock_guard<std::mutex> lk(purge_mtx);
	q->purging.fetch_add(1);
	bool ok = true;
	if (reader_gone)
		repair_rings(q);
	else
		ok = exclude_devq_reader(q);
	if (ok) {
		/* What came back in place so far stays the tx's to free. */
		inplace_end(q);
		while ((n = rte_ring_mc_dequeue_burst(q->devq, reinterpret_cast<void **>(m), 64,
						      nullptr)) > 0) {
			rte_pktmbuf_free_bulk(m, n);
			total += n;
		}
	}
	q->purging.fetch_sub(1);
	struct rte_mbuf *held = q->held.exchange(nullptr);
	if (held != nullptr) {
		rte_pktmbuf_free(held);
		total++;
	}
	if (total > 0)
		q->purged.add_shared(total);
}

void unit_repair_rings(queue *q) noexcept
{
	std::lock_guard<std::mutex> lk(purge_mtx);
	repair_rings(q);
}

void unit_purge_retq(queue *q) noexcept
{
	if (q->retq == nullptr)
		return;
	inplace_collect_ctl(q);
	struct rte_mbuf *m[64];
	unsigned n;
	while ((n = rte_ring_mc_dequeue_burst(q->retq, reinterpret_cast<void **>(m), 64, nullptr)) >
	       0)
		rte_pktmbuf_free_bulk(m, n);
}

void unit_purge_inq(queue *q) noexcept
{
	if (q->inq == nullptr)
		return;
	struct rte_mbuf *m[64];
	unsigned n;
	uint64_t total = 0;
	while ((n = rte_ring_sc_dequeue_burst(q->inq, reinterpret_cast<void **>(m), 64, nullptr)) >
	       0) {
		rte_pktmbuf_free_bulk(m, n);
		total += n;
	}
	if (total > 0)
		q->inq_purged.add_shared(total);
}

/* ----------------------------------------------- the link, and a wakeup */

const struct rte_eth_link link_template = {
    .link_speed = RTE_ETH_SPEED_NUM_10G,
    .link_duplex = RTE_ETH_LINK_FULL_DUPLEX,
    .link_autoneg = RTE_ETH_LINK_FIXED,
    .link_status = RTE_ETH_LINK_DOWN,
};

void fill_link(const unit *u, struct rte_eth_link *link) noexcept
{
	*link = link_template;
	uint64_t mbps = u->baudrate.load(std::memory_order_relaxed) / 1000000;
	link->link_speed = mbps > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(mbps);
	link->link_status = unit_link_should_be_up(u) ? RTE_ETH_LINK_UP : RTE_ETH_LINK_DOWN;
}

/* Runs on EAL's interrupt thread, so an LSC callback never runs on a
 * reader's thread or under a reader's call. */
void lsc_alarm(void *arg) noexcept
{
	auto port = static_cast<uint16_t>(reinterpret_cast<uintptr_t>(arg));
	if (!rte_eth_dev_is_valid_port(port))
		return;
	struct rte_eth_dev *dev = &rte_eth_devices[port];
	unit *u = unit_of(dev);
	if (u == nullptr)
		return;
	struct rte_eth_link link;
	fill_link(u, &link);
	uint32_t want = link.link_status;
	if (u->link_up.exchange(want) == want)
		return;
	rte_eth_linkstatus_set(dev, &link);
	BSDTAP_LOG(INFO, "%s: link %s", u->iface, want ? "up" : "down");
	rte_eth_dev_callback_process(dev, RTE_ETH_EVENT_INTR_LSC, nullptr);
}

bool unit_link_should_be_up(const unit *u) noexcept
{
	uint32_t f = u->uflags.load();
	if ((f & UF_STARTED) == 0 || (f & UF_GONE) != 0)
		return false;
	return (f & UF_VMNET) != 0 || u->nb_open.load() > 0;
}

void unit_link_changed(unit *u) noexcept
{
	if ((u->uflags.load() & UF_GONE) != 0)
		return;
	int ret = rte_eal_alarm_set(1, lsc_alarm, reinterpret_cast<void *>(uintptr_t{u->port_id}));
	if (ret != 0)
		/* Out of memory for the alarm: link_get still answers from the
		 * unit's state, but this change raises no LSC event. */
		BSDTAP_LOG(WARNING, "%s: no LSC event for this link change: %s", u->iface,
			   rte_strerror(-ret));
}

void queue_wake(queue *q) noexcept
{
	if (q->efd >= 0) {
		efd_post(q->efd);
	}
}

/* ----------------------------- a queue's open and close, in the primary */

namespace
{

/* Primary only: makes a queue's claim and its counts in the unit change
 * together (queue::opener_pid, queue::counted), wherever an open or a
 * release runs: a reader's thread, the rte_mp thread for secondary readers,
 * the dead-reader check. */
std::mutex owner_mtx;

} // namespace

bool pid_gone(int32_t pid) noexcept
{
	return kill(pid, 0) != 0 && errno == ESRCH;
}

/* Primary only: what an open does to the port (C04, C06). The start runs
 * where every port effect runs (bsdtap_unit.h); an open from a secondary
 * (the rte_mp thread) does not wait for it. */
void unit_after_open(unit *u) noexcept
{
	if (u->args.up_on_open && (u->uflags.load() & UF_STARTED) == 0)
		port_effect_run(u, port_effect::start_for_open, 0, !mp_in_handler());
	else
		unit_link_changed(u);
}

/* Primary only: what a close does to the port (C42, C43, C09). Opens,
 * closes and the dead-reader check of other threads and processes do not
 * wait for the stop or the destruction. */
void unit_after_close(unit *u) noexcept
{
	const uint32_t f = u->uflags.load();
	if ((f & UF_GONE) != 0)
		return;
	unit_link_changed(u);
	if (u->nb_open.load() == 0 && (f & (UF_CLOSEDOWN | UF_CLONE)) != 0)
		port_effect_run(u, port_effect::stop_for_close, 0,
				!mp_in_handler() && !rte_thread_is_intr());
}

/* Primary: the primary's half of an open of q by the claimant pid: count
 * the handle in the unit, make the queue clean (whatever its last reader
 * left), mark it open. -EBUSY when pid no longer holds the claim. */
int queue_open_primary(unit *u, queue *q, int32_t pid, bool builtin) noexcept
{
	{
		std::lock_guard<std::mutex> lk(owner_mtx);
		if (q->opener_pid.load() != pid)
			return -EBUSY;
		if (q->counted.exchange(builtin ? 2 : 1) == 0) {
			u->refcnt.fetch_add(1);
			u->nb_open.fetch_add(1);
			if (builtin)
				u->nb_builtin.fetch_add(1);
		}
		/* Frames a tx queued while racing the previous close are stale,
		 * unless vmnet, where the devq buffers output while nobody reads.
		 * Either way the previous reader is gone: its rings are repaired. */
		if ((u->uflags.load() & UF_VMNET) == 0)
			unit_purge_devq(q, true);
		else
			unit_repair_rings(q);
		q->remote_mac = unit_mac(u); /* C05, C34 */
		q->sigio_owner.store(0);
		q->flags.fetch_or(QF_OPEN);
	}
	unit_after_open(u);
	BSDTAP_LOG(DEBUG, "%s: queue %u opened by pid %d", u->iface, q->qid, pid);
	return 0;
}

/*
 * Primary: the closing half of tapclose for one queue, for a reader that
 * closes and for one whose process died without closing (C45) at any
 * point, its open included. -ESRCH when pid does not hold the claim (it was
 * released already). The claim is cleared last: no open gets the queue
 * before it is clean. Drops the handle's reference; *destroyed (if given)
 * says whether that was the unit's last.
 */
int queue_close_primary(unit *u, queue *q, int32_t pid, bool *destroyed) noexcept
{
	uint32_t c;
	{
		std::lock_guard<std::mutex> lk(owner_mtx);
		if (q->opener_pid.load() != pid)
			return -ESRCH;
		/* C33: owner and async are cleared on close. The tx stops
		 * queueing before the purge (C10 from now on); a tx burst that
		 * looked at the flag just before may still queue its frames after
		 * it: the next open, port stop or close, or the periodic check
		 * (queue_purge_stale), purges them. */
		q->flags.fetch_and(~(QF_ASYNC | QF_RWAIT | QF_OPEN | QF_DESC));
		q->sigio_owner.store(0);
		unit_purge_devq(q, true); /* C42 */
		unit_purge_retq(q);	  /* and what came back, the tx may be idle */
		/* A reader that closes has emptied its write cache; one that
		 * died has not: its mbufs go back to the pool. A death inside a
		 * cache operation at worst leaves out the few mbufs that were in
		 * its hands then. */
		if (struct rte_mempool_cache *wc = q->rd_cache.exchange(nullptr)) {
			rte_mempool_cache_flush(wc, q->rd_cache_mp.load());
			rte_mempool_cache_free(wc);
		}
		c = q->counted.exchange(0);
		if (c != 0) {
			/* FreeBSD's close ends the vnet-header mode: here the
			 * unit's last close does. */
			if (u->nb_open.fetch_sub(1) == 1)
				for (uint16_t i = 0; i < u->nb_queues; i++)
					u->q[i].vnet_hdr_len.store(0);
			if (c == 2)
				u->nb_builtin.fetch_sub(1);
		}
		q->opener_pid.store(0);
	}
	/* A unit whose reader died inside its open was never counted nor
	 * opened as far as the port knows: nothing to undo there. */
	if (c != 0)
		unit_after_close(u);
	bool gone = c != 0 && unit_put(u);
	if (destroyed != nullptr)
		*destroyed = gone;
	return 0;
}

/* Primary: frames a tx queued on q while racing the last close, with no
 * reader since: purged, so that they do not sit there out of the pool
 * until the next open (vmnet keeps them: its devq buffers output). */
void queue_purge_stale(unit *u, queue *q) noexcept
{
	if ((u->uflags.load() & UF_VMNET) != 0 || q->devq == nullptr || ring_empty_now(q->devq))
		return;
	std::lock_guard<std::mutex> lk(owner_mtx);
	if (q->opener_pid.load() == 0)
		unit_purge_devq(q, true);
}

/* Primary: release q if its claimant's process is dead (C45). */
bool queue_reap(unit *u, queue *q) noexcept
{
	int32_t pid = q->opener_pid.load();
	if (pid <= 0 || pid == getpid() || !pid_gone(pid))
		return false;
	if (queue_close_primary(u, q, pid, nullptr) != 0)
		return false;
	BSDTAP_LOG(NOTICE, "%s: queue %u: reader pid %d died without closing; released", u->iface,
		   q->qid, pid);
	return true;
}

} // namespace bsdtap

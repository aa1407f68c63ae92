/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BSDTAP_INTERNAL_H
#define BSDTAP_INTERNAL_H

/*
 * Shared state of a unit. It lives in DPDK shared memory (rte_zmalloc) so
 * that a reader in another DPDK process sees the same rings, flags and
 * counters, and it outlives its ethdev port while a reader still holds it
 * (C44): the port and each open handle hold one reference.
 *
 * Ownership of every field is written next to it:
 *   [tx]   the application lcore that owns tx queue q (if_start)
 *   [rx]   the application lcore that owns rx queue q
 *   [rd]   the reader that has queue q open
 *   [ctl]  control path: probe, ethdev ops, open/close (never a burst)
 * Counters have one writer and are stored relaxed once per burst; readers of
 * counters (stats_get) load them relaxed. Flags are atomics.
 */

#include <atomic>
#include <cstdint>
#include <cstring>

#include <net/if.h>
#include <unistd.h>
#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include "bsdtap_compat.h"
#include "bsdtap_devargs.h"
#include "bsdtap_ring.h"
#include "rte_pmd_bsdtap.h"

struct rte_eth_dev;
struct rte_mempool;
struct rte_power_monitor_cond;

namespace bsdtap
{

/* Per-queue flags (the original's tap_flags that concern one open). */
inline constexpr uint32_t QF_OPEN = 0x01;    /* TAP_OPEN: a reader holds the queue */
inline constexpr uint32_t QF_RWAIT = 0x04;   /* TAP_RWAIT: the reader sleeps */
inline constexpr uint32_t QF_ASYNC = 0x08;   /* TAP_ASYNC: SIGIO on arrival */
inline constexpr uint32_t QF_VMNET = 0x10;   /* unit in vmnet mode: tx queues with no reader */
inline constexpr uint32_t QF_DESC = 0x20;    /* a copying reader: the tx fills frame_desc */
inline constexpr uint32_t QF_INPLACE = 0x40; /* frames come back in place: see inplace_from */
/* With QF_INPLACE: the reader loads the devq's slots (it looks at the
 * frames), so the tx frees from its shadow, not from those lines. */
inline constexpr uint32_t QF_LOOK = 0x80;
/* Bits 8-15: the in-place epoch, one more at each QF_INPLACE a reader sets. */
inline constexpr unsigned QF_EPOCH_SHIFT = 8;
inline constexpr uint32_t QF_EPOCH_MASK = 0xffu << QF_EPOCH_SHIFT;
/* What says whether frames come back in place, and how. */
inline constexpr uint32_t QF_STATE = QF_INPLACE | QF_LOOK | QF_EPOCH_MASK;
inline constexpr uint32_t qf_epoch(uint32_t f) noexcept
{
	return (f & QF_EPOCH_MASK) >> QF_EPOCH_SHIFT;
}
/* The flags' top half: the generation of the frame descriptors, one more at
 * each QF_DESC a reader sets (see frame_desc). */
inline constexpr unsigned QF_GEN_SHIFT = 16;

/* Per-unit flags. */
inline constexpr uint32_t UF_STARTED = 0x02;   /* port started (IFF_UP|IFF_RUNNING) */
inline constexpr uint32_t UF_VMNET = 0x10;     /* TAP_VMNET: stays up across close */
inline constexpr uint32_t UF_CLONE = 0x20;     /* TAP_CLONE: made by the clone open */
inline constexpr uint32_t UF_CLOSEDOWN = 0x40; /* TAP_CLOSEDOWN: open started the port */
inline constexpr uint32_t UF_GONE = 0x80;      /* port closed: readers get EHOSTDOWN */
inline constexpr uint32_t UF_PROMISC = 0x100;
inline constexpr uint32_t UF_ALLMULTI = 0x200;
inline constexpr uint32_t UF_CLOSING = 0x400; /* port close began: port effects give up */

/* A counter with one writer: a relaxed load and store, no locked RMW. */
struct counter {
	std::atomic<uint64_t> v{0};
	void add(uint64_t n) noexcept
	{
		v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
	}
	/* For the few counters with several writers (control path only). */
	void add_shared(uint64_t n) noexcept { v.fetch_add(n, std::memory_order_relaxed); }
	uint64_t get() const noexcept { return v.load(std::memory_order_relaxed); }
};

/* queue::rx_offl bits. */
enum : uint32_t {
	RXO_CKSUM = 1u << 0, /* checksum verdicts (any rx checksum offload) */
	RXO_VLAN_STRIP = 1u << 1,
};

/* One queue pair: devq (tx -> reader) and inq (reader -> rx). */
struct alignas(RTE_CACHE_LINE_SIZE) queue {
	/* [ctl] set at probe and queue setup, read by every side: on a line of
	 * their own, so no burst's counter store evicts them from another core. */
	struct rte_ring *devq = nullptr; /* tx -> reader (the original's tap_devq) */
	struct rte_ring *inq = nullptr;	 /* reader -> rx (what if_input received) */
	/* Mbufs a zero-copy reader is done with (rte_pmd_bsdtap_free_burst),
	 * freed by the tx lcore into its own mempool cache: the mbuf headers then
	 * stay on the core that allocates them. Producer: the reader; consumers:
	 * the tx burst, and the reader or control when the tx is idle. */
	struct rte_ring *retq = nullptr;
	/* One frame_desc per devq slot (the ring's size, a power of two). */
	struct frame_desc *desc = nullptr;
	/* The tx's own copy of the devq's slots while frames come back in place
	 * (same size): it frees from here, so it never loads a slot line the
	 * reader has just read. Only the tx and a drain read or write it. */
	struct rte_mbuf **shadow = nullptr;
	/* The rx queue's pool, for write(): set and cleared by queue setup and
	 * release (the application), read by the reader's write. */
	std::atomic<struct rte_mempool *> mp{nullptr};
	int efd = -1; /* wakeup eventfd, valid in the primary */
	/* The application's rx interrupt eventfd (rte_eth_dev_rx_intr_ctl_q),
	 * valid in the primary; a reader's write or send burst posts it when
	 * the application armed the queue (rx_armed). */
	int intr_efd = -1;
	uint16_t qid = 0;
	uint16_t port_id = 0; /* stamped on mbufs by rx burst */
	/* The TAP_RWAIT fence pairing is asymmetric (membarrier): the tx side
	 * needs only a compiler barrier, the sleeping reader pays a syscall. */
	bool asym_fence = false;
	/* [ctl] non-zero while a control purge empties the devq: a reader that
	 * dequeues single-consumer (no CAS) stays out meanwhile. */
	std::atomic<uint32_t> purging{0};
	/* [ctl] the unit's vnet header length (TAPSVNETHDR: 0, 10 or 12), the
	 * same in every queue; read once per burst by the offload bursts and
	 * by every read and write. */
	std::atomic<uint32_t> vnet_hdr_len{0};
	/* [ctl] the application's rx offloads, as start and vlan_offload_set
	 * left them (RXO_*), and the largest aggregate it takes (0: no LRO). */
	std::atomic<uint32_t> rx_offl{0};
	std::atomic<uint32_t> rx_lro_max{0};

	/* [tx] if_start side. */
	/* (alignas on one declarator only: on all three it gave each its own
	 * line, three lines stored per burst.) */
	alignas(RTE_CACHE_LINE_SIZE) counter opackets;
	counter obytes, oerrors;		/* [tx] oerrors: devq full (txfull=drop) */
	counter tx_noreader, tx_noreader_bytes; /* [tx] C10: consumed with no reader */
	counter wakeups;			/* [tx] eventfd writes (TAP_RWAIT) */
	counter sigio;				/* [tx] SIGIO sent (C33) */
	uint32_t tx_calls = 0;			/* [tx] only: paces the retq recycling */
	sp_view devq_prod;			/* [tx] the tx's view of the devq (sp_enqueue) */
	/* [tx] Frames coming back in place (see inplace_from), under
	 * inplace_lock: the tx takes it without waiting (it tries again next
	 * burst), the primary's control to free them while the tx is idle.
	 * tx_state: the QF_STATE bits they are freed under (QF_LOOK: the
	 * shadow is kept), read by the tx without the lock; tx_epoch the epoch
	 * taken up, tx_freed where freeing got to, shadow_from the position
	 * from which the shadow holds the slots (before it, or without
	 * QF_LOOK: the devq's own slots). */
	std::atomic<uint32_t> inplace_lock{0};
	std::atomic<uint32_t> tx_state{0};
	uint32_t tx_epoch = 0;
	uint32_t tx_freed = 0;
	uint32_t shadow_from = 0;
	/* [tx] the last epoch whose frames are all freed: a reader begins the
	 * next one only then. */
	std::atomic<uint32_t> tx_done_epoch{0};

	/* [rx] if_input side. */
	alignas(RTE_CACHE_LINE_SIZE) counter ipackets;
	counter ibytes;

	/* [rd] the reader's side. */
	/* Set while the reader is inside a single-consumer devq dequeue. */
	alignas(RTE_CACHE_LINE_SIZE) std::atomic<uint32_t> rd_busy{0};
	/* A copying read's hand-off (see take_copy in the reader): the frames it
	 * copies stay the devq's (consumer head moved, tail not) until they are
	 * on the retq. rd_handoff is set meanwhile, and rd_retq_mark is the
	 * retq's producer tail before; so the release of a reader killed inside
	 * knows whether the frames between the devq's tail and head are on the
	 * retq (the tail moved past the mark) or still only in the devq. */
	std::atomic<uint32_t> rd_handoff{0};
	std::atomic<uint32_t> rd_retq_mark{0};
	/* The write cache of the handle open on this queue (DPDK memory, so
	 * every process sees it) and its pool: the release of a reader process
	 * that died holding it flushes it, so its mbufs go back to the pool. */
	std::atomic<struct rte_mempool_cache *> rd_cache{nullptr};
	std::atomic<struct rte_mempool *> rd_cache_mp{nullptr};
	counter ierrors;	 /* runts written (C25) */
	counter rx_nombuf;	 /* C23: write found no mbuf */
	counter imissed;	 /* inq full, frame dropped */
	counter truncated;	 /* C17: frames cut by a short read */
	counter rx_intr_wakeups; /* rx interrupt eventfd posts (an armed queue got frames) */
	/* Frames purged from the devq by close, stop or start (C39, C42). Several
	 * writers (a reader's close, control), so this one is a locked add. */
	counter purged;
	/* Frames a reader wrote that the application never received: dropped
	 * from the inq by a stop, an rx queue release (its mbufs are the old
	 * pool's) or a close. Control path only, so a locked add. */
	counter inq_purged;
	/* A frame taken off the devq by FIONREAD's peek, returned by the next read
	 * or burst. An atomic slot so that a control purge can take it too. */
	std::atomic<struct rte_mbuf *> held{nullptr};

	/* Shared flags and reader state. */
	alignas(RTE_CACHE_LINE_SIZE) std::atomic<uint32_t> flags{0}; /* QF_*, [rd] and [tx] */
	/*
	 * [rd] Frames coming back in place (rte_pmd_bsdtap_visit_burst and the
	 * copying reads): the reader reads frames where they lie in the devq
	 * and only moves its consumer tail past them; the tx frees what the tail
	 * passed, from its shadow, on its own lcore: no hand-back ring, no slot
	 * line going back. A stretch of positions is one epoch: the reader (or
	 * control, with the reader kept out) opens it at inplace_from with
	 * QF_INPLACE and a new epoch in the flags, once the tx finished the last
	 * one (tx_done_epoch), and ends it at inplace_until by clearing
	 * QF_INPLACE, before any take that keeps frames (recv_burst) or any
	 * purge moves the tail further. The tx frees [from, until) of the epoch;
	 * a tx that loads a tail past inplace_from sees the epoch (the reader
	 * set it before moving the tail: release, acquire).
	 */
	std::atomic<uint32_t> inplace_from{0};
	std::atomic<uint32_t> inplace_until{0};
	/* [rx] set by rte_eth_dev_rx_intr_enable, cleared by the one waker (the
	 * reader that found it set) or by disable: the mirror of TAP_RWAIT for
	 * an application that sleeps on its rx queue. */
	std::atomic<uint32_t> rx_armed{0};
	/* [rx] set by the queue's first rte_eth_dev_rx_intr_enable (or at
	 * creation where membarrier is missing), never cleared: until then no
	 * reader fences for the pairing above (see notify_app). */
	std::atomic<uint32_t> rx_intr_used{0};
	/* The claim on the queue (C05/C38, C07): 0 free, else the pid of the
	 * process whose reader holds it or is opening it. The opener takes it
	 * first, with one compare-and-swap, before it touches anything else of
	 * the queue; the release (close, or a dead reader's, C45) clears it last,
	 * once the queue is clean. So a claim whose pid is dead, whatever that
	 * process was doing, is always released by the primary. [rd] takes it,
	 * [ctl] (the primary) clears it. */
	std::atomic<int32_t> opener_pid{0};
	/* [ctl] primary only, under its owner lock: what the claim counts in the
	 * unit (a handle's reference, nb_open, and nb_builtin when 2): 0 until
	 * the primary's half of the open has counted, so a reader killed inside
	 * its open is uncounted exactly. */
	std::atomic<uint32_t> counted{0};
	std::atomic<int32_t> sigio_owner{0}; /* [rd] FIOSETOWN: pid, or -pgid */
	struct rte_ether_addr remote_mac {
	}; /* [rd] SIOCGIFADDR/SIOCSIFADDR (C34) */

	/* [ctl] stats_reset snapshots: stats are reported as value - base. */
	uint64_t base_opackets = 0, base_obytes = 0, base_oerrors = 0;
	uint64_t base_ipackets = 0, base_ibytes = 0, base_ierrors = 0;
	uint64_t base_rx_nombuf = 0, base_imissed = 0;
	uint64_t base_tx_noreader = 0, base_tx_noreader_bytes = 0, base_wakeups = 0;
	uint64_t base_sigio = 0, base_truncated = 0;
	uint64_t base_purged = 0, base_inq_purged = 0, base_rx_intr_wakeups = 0;
};

/*
 * reader=socket: the endpoint's counters, one per queue, in DPDK memory
 * beside the unit (so that a secondary's xstats read them too) and only on
 * such a unit. The unit's pump is the one writer; client events (accepted,
 * refused, bad input) count on queue 0. The bases are stats_reset's
 * snapshots [ctl].
 */
struct sock_stats {
	counter tx_frames;  /* frames sent to the socket client */
	counter tx_dropped; /* taken off the devq and not delivered */
	counter rx_frames;  /* frames read from the client (then written as C20-C25) */
	counter rx_bad;	    /* messages over the MRU; stream: bad length prefixes */
	counter accepted;   /* clients that got the unit */
	counter refused;    /* clients turned away: busy, or a queue already open */
	uint64_t base_tx_frames = 0, base_tx_dropped = 0, base_rx_frames = 0;
	uint64_t base_rx_bad = 0, base_accepted = 0, base_refused = 0;
};

/* One unit (a tap_softc). Allocated with rte_zmalloc; placement-new'd. */
struct unit {
	char name[RTE_DEV_NAME_MAX_LEN] = {}; /* ethdev name, net_bsdtapN */
	char iface[IFNAMSIZ] = {};	      /* tapN */
	uint32_t unit_no = 0;
	uint16_t port_id = 0;
	uint16_t nb_queues = 0;
	uint32_t uid = 0; /* effective uid of the primary, for user_open (C08) */
	struct devargs args {
	};
	/* The port MAC as 6 bytes in an atomic word: ethdev's start rewrites it
	 * (MAC restore) while a reader's open copies it (C05). */
	std::atomic<uint64_t> mac_bits{0};

	std::atomic<uint32_t> refcnt{1};     /* the port's reference + one per handle */
	std::atomic<uint32_t> uflags{0};     /* UF_* */
	std::atomic<uint32_t> nb_open{0};    /* handles open on any queue */
	std::atomic<uint32_t> nb_builtin{0}; /* of which the port's built-in reader */
	std::atomic<uint64_t> baudrate{0};   /* TAPSIFINFO; link speed */
	std::atomic<uint32_t> link_up{0};    /* last link state reported to the application */

	queue q[BSDTAP_MAX_QUEUES];
	/* [ctl] reader=socket only: BSDTAP_MAX_QUEUES of them. */
	sock_stats *sock = nullptr;
};

/* Add one to an eventfd (a wakeup). EAGAIN means one is already pending. */
inline void efd_post(int fd) noexcept
{
	uint64_t one = 1;
	ssize_t n = write(fd, &one, sizeof(one));
	RTE_SET_USED(n);
}

/* End the epoch of frames coming back in place at the devq's consumer tail
 * (see queue::inplace_from): by its reader inside its devq window, or by
 * control with the reader kept out. The tx frees up to there. */
inline void inplace_end(queue *q) noexcept
{
	if ((q->flags.load(std::memory_order_relaxed) & QF_INPLACE) == 0)
		return;
	q->inplace_until.store(__atomic_load_n(&q->devq->cons.tail, __ATOMIC_ACQUIRE),
			       std::memory_order_relaxed);
	q->flags.fetch_and(~(QF_INPLACE | QF_LOOK), std::memory_order_seq_cst);
}

/* Set at probe: the eventfds in the units are this process's. */
extern bool primary_process;

inline struct rte_ether_addr unit_mac(const unit *u) noexcept
{
	uint64_t v = u->mac_bits.load(std::memory_order_relaxed);
	struct rte_ether_addr a;
	memcpy(a.addr_bytes, &v, RTE_ETHER_ADDR_LEN);
	return a;
}

inline void unit_set_mac(unit *u, const struct rte_ether_addr *a) noexcept
{
	uint64_t v = 0;
	memcpy(&v, a->addr_bytes, RTE_ETHER_ADDR_LEN);
	u->mac_bits.store(v, std::memory_order_relaxed);
}

/* Unit helpers shared by the ethdev ops and the reader API (bsdtap_ethdev.cpp;
 * the unit's lifecycle is declared in bsdtap_unit.h). */
unit *unit_of(struct rte_eth_dev *dev) noexcept;
/* The unit of port_id if it is a bsdtap port of this process, else nullptr. */
unit *unit_of_port(uint16_t port_id) noexcept;

/* Burst functions (bsdtap_rxtx.cpp). */
uint16_t eth_bsdtap_rx(void *q, struct rte_mbuf **bufs, uint16_t nb) noexcept;
/* The rx burst variant for the port's rx offloads (checksum verdicts or
 * not), chosen at start. */
eth_rx_burst_t eth_bsdtap_rx_for(uint64_t rx_offloads) noexcept;
/* rte_eth_rx_queue_count / rte_eth_tx_queue_count: inq and devq depth. */
rx_queue_count_ret eth_bsdtap_rx_queue_count(void *q) noexcept;
int eth_bsdtap_tx_queue_count(void *q) noexcept;
/* The tx burst variant for the unit's devargs, fence mode and the port's tx
 * offloads (checksums filled or not), chosen at probe and start. asym_ok:
 * this process registered for membarrier and may skip the tx fence. */
eth_tx_burst_t eth_bsdtap_tx_for(const unit *u, bool asym_ok, uint64_t tx_offloads) noexcept;
/* Secondary: keep this process's copy of q's wakeup eventfd for its tx
 * bursts (false: no room); drop and close a unit's copies. */
bool secondary_efd_add(const queue *q, int fd) noexcept;
void secondary_efds_drop(const unit *u) noexcept;
/* Register this process for asymmetric fences; false where unsupported. */
bool membarrier_register() noexcept;
/* The reader's half of the TAP_RWAIT fence pairing, before its last look. */
void reader_sleep_fence(const queue *q) noexcept;
/* Frames coming back in place (bsdtap_inplace.cpp): free those the devq's
 * consumer tail passed, at most max, taking up an epoch begun and finishing
 * one ended. The tx's call gives up at once if the lock is taken, and sets
 * its view of the room; control's (primary) waits for the lock, a second at
 * most, and frees all. */
void inplace_collect_tx(queue *q, unsigned max) noexcept;
void inplace_collect_ctl(queue *q) noexcept;

/* Rx interrupts and power monitoring (bsdtap_intr.cpp): the application's
 * side of sleeping on an rx queue. Primary only. */
int intr_setup(struct rte_eth_dev *dev, unit *u) noexcept;
void intr_teardown(struct rte_eth_dev *dev) noexcept;
int eth_rx_queue_intr_enable(struct rte_eth_dev *dev, uint16_t qid) noexcept;
int eth_rx_queue_intr_disable(struct rte_eth_dev *dev, uint16_t qid) noexcept;
int eth_get_monitor_addr(void *rxq, struct rte_power_monitor_cond *pmc) noexcept;

/* Built-in readers (bsdtap_builtin_reader.cpp). */
struct builtin;
builtin *builtin_start(unit *u, reader_kind kind) noexcept;
void builtin_stop(builtin *b) noexcept;

} // namespace bsdtap

#endif

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

#include <net/if.h>
#include <rte_common.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_ring.h>

#include "bsdtap_devargs.h"
#include "rte_pmd_bsdtap.h"

struct rte_eth_dev;
struct rte_mempool;

namespace bsdtap
{

/* Per-queue flags (the original's tap_flags that concern one open). */
inline constexpr uint32_t QF_OPEN = 0x01;  /* TAP_OPEN: a reader holds the queue */
inline constexpr uint32_t QF_RWAIT = 0x04; /* TAP_RWAIT: the reader sleeps */
inline constexpr uint32_t QF_ASYNC = 0x08; /* TAP_ASYNC: SIGIO on arrival */
inline constexpr uint32_t QF_VMNET = 0x10; /* unit in vmnet mode: tx queues with no reader */

/* Per-unit flags. */
inline constexpr uint32_t UF_STARTED = 0x02;   /* port started (IFF_UP|IFF_RUNNING) */
inline constexpr uint32_t UF_VMNET = 0x10;     /* TAP_VMNET: stays up across close */
inline constexpr uint32_t UF_CLONE = 0x20;     /* TAP_CLONE: made by the clone open */
inline constexpr uint32_t UF_CLOSEDOWN = 0x40; /* TAP_CLOSEDOWN: open started the port */
inline constexpr uint32_t UF_GONE = 0x80;      /* port closed: readers get EHOSTDOWN */
inline constexpr uint32_t UF_PROMISC = 0x100;
inline constexpr uint32_t UF_ALLMULTI = 0x200;

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

/* One queue pair: devq (tx -> reader) and inq (reader -> rx). */
struct alignas(RTE_CACHE_LINE_SIZE) queue {
	/* [tx] if_start side. */
	alignas(RTE_CACHE_LINE_SIZE) struct rte_ring *devq = nullptr; /* [ctl] set at probe */
	counter opackets, obytes, oerrors;	/* [tx] oerrors: devq full (txfull=drop) */
	counter tx_noreader, tx_noreader_bytes; /* [tx] C10: consumed with no reader */
	counter wakeups;			/* [tx] eventfd writes (TAP_RWAIT) */
	counter sigio;				/* [tx] SIGIO sent (C33) */

	/* [rx] if_input side. */
	alignas(RTE_CACHE_LINE_SIZE) struct rte_ring *inq = nullptr; /* [ctl] set at probe */
	counter ipackets, ibytes;				     /* [rx] */

	/* [rd] the reader's side. */
	alignas(RTE_CACHE_LINE_SIZE) counter ierrors; /* runts written (C25) */
	counter rx_nombuf;			      /* C23: write found no mbuf */
	counter imissed;			      /* inq full, frame dropped */
	counter truncated;			      /* C17: frames cut by a short read */
	/* Frames purged from the devq by close, stop or start (C39, C42). Several
	 * writers (a reader's close, control), so this one is a locked add. */
	counter purged;
	/* A frame taken off the devq by FIONREAD's peek, returned by the next read
	 * or burst. An atomic slot so that a control purge can take it too. */
	std::atomic<struct rte_mbuf *> held{nullptr};

	/* Shared flags and reader state. */
	alignas(RTE_CACHE_LINE_SIZE) std::atomic<uint32_t> flags{0}; /* QF_*, [rd] and [tx] */
	std::atomic<int32_t> opener_pid{0};			     /* [rd] C05/C38 */
	std::atomic<int32_t> sigio_owner{0}; /* [rd] FIOSETOWN: pid, or -pgid */
	struct rte_mempool *mp = nullptr;    /* [ctl] rx queue's pool, for write() */
	int efd = -1;			     /* [ctl] wakeup eventfd, valid in the primary */
	uint16_t qid = 0;
	uint16_t port_id = 0; /* [ctl] stamped on mbufs by rx burst */
	struct rte_ether_addr remote_mac {
	}; /* [rd] SIOCGIFADDR/SIOCSIFADDR (C34) */

	/* [ctl] stats_reset snapshots: stats are reported as value - base. */
	uint64_t base_opackets = 0, base_obytes = 0, base_oerrors = 0;
	uint64_t base_ipackets = 0, base_ibytes = 0, base_ierrors = 0;
	uint64_t base_rx_nombuf = 0, base_imissed = 0;
	uint64_t base_tx_noreader = 0, base_tx_noreader_bytes = 0, base_wakeups = 0;
	uint64_t base_sigio = 0, base_truncated = 0;
	uint64_t base_purged = 0;
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
	struct rte_ether_addr mac {
	};

	std::atomic<uint32_t> refcnt{1};     /* the port's reference + one per handle */
	std::atomic<uint32_t> uflags{0};     /* UF_* */
	std::atomic<uint32_t> nb_open{0};    /* handles open on any queue */
	std::atomic<uint32_t> nb_builtin{0}; /* of which the port's built-in reader */
	std::atomic<uint64_t> baudrate{0};   /* TAPSIFINFO; link speed */
	std::atomic<uint32_t> link_up{0};    /* last link state reported to the application */

	queue q[BSDTAP_MAX_QUEUES];
};

/* Set at probe: the eventfds in the units are this process's. */
extern bool primary_process;

/* Unit helpers shared by the ethdev ops and the reader API. */
unit *unit_of(struct rte_eth_dev *dev) noexcept;
void unit_put(unit *u) noexcept;
void unit_purge_devq(queue *q) noexcept;
void unit_purge_inq(queue *q) noexcept;
/* Re-evaluate the link and tell the application (LSC) if it changed. */
void unit_link_changed(unit *u) noexcept;
/* Wake a reader sleeping on q (state change, not a burst). */
void queue_wake(queue *q) noexcept;
bool unit_link_should_be_up(const unit *u) noexcept;

/* Burst functions (bsdtap_rxtx.cpp). */
uint16_t eth_bsdtap_rx(void *q, struct rte_mbuf **bufs, uint16_t nb) noexcept;
uint16_t eth_bsdtap_tx_drop(void *q, struct rte_mbuf **bufs, uint16_t nb) noexcept;
uint16_t eth_bsdtap_tx_backpressure(void *q, struct rte_mbuf **bufs, uint16_t nb) noexcept;

/* Built-in readers (bsdtap_builtin.cpp). */
struct builtin;
builtin *builtin_start(unit *u, reader_kind kind) noexcept;
void builtin_stop(builtin *b) noexcept;

} // namespace bsdtap

#endif

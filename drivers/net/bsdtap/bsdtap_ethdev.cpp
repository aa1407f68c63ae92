/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_bsdtap: ethdev ops, probe and remove. The application's side of the
 * unit (the original's ifnet half): tapifinit/tapifstop are dev_start and
 * dev_stop, the tap's creation is probe, MOD_UNLOAD's EBUSY is remove.
 * What the unit is and does on its own (its creation, references, purges
 * and link) is in bsdtap_unit_life.cpp.
 */

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <mutex>

#include <unistd.h>

#include <bus_vdev_driver.h>
#include <ethdev_driver.h>
#include <ethdev_vdev.h>
#include <rte_alarm.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_version.h>

#include "bsdtap_internal.h"
#include "bsdtap_offload.h"
#include "bsdtap_log.h"
#include "bsdtap_mp.h"
#include "bsdtap_registry.h"
#include "bsdtap_unit.h"

RTE_LOG_REGISTER(bsdtap_logtype, pmd.net.bsdtap, NOTICE);

namespace bsdtap
{

namespace
{

/* What an ethdev port holds: a reference to its unit, plus the built-in
 * reader that only the primary runs. dev_private is shared memory, so only
 * a pointer to the process-local builtin lives here. */
struct pmd_internals {
	unit *u;
	builtin *reader;
};

pmd_internals *internals_of(struct rte_eth_dev *dev) noexcept
{
	return static_cast<pmd_internals *>(dev->data->dev_private);
}

/* MTU bounds: a frame of TAPMRU bytes is the largest a reader may write. */
constexpr uint16_t max_mtu = RTE_PMD_BSDTAP_MRU - RTE_ETHER_HDR_LEN;

/* ------------------------------------------------------------------ ops */

int eth_dev_configure(struct rte_eth_dev *dev) noexcept
{
	unit *u = unit_of(dev);
	if (u == nullptr)
		return -ENODEV;
	if (dev->data->nb_rx_queues > u->nb_queues || dev->data->nb_tx_queues > u->nb_queues) {
		BSDTAP_LOG(ERR, "%s: %u rx / %u tx queues asked, unit has %u (devarg queues)",
			   u->iface, dev->data->nb_rx_queues, dev->data->nb_tx_queues,
			   u->nb_queues);
		return -EINVAL;
	}
	return 0;
}

/* What the reader's writes and the rx offload burst need to know of the
 * application's rx offloads. */
void publish_rx_offloads(unit *u, const struct rte_eth_rxmode &rm) noexcept
{
	uint32_t rxo = 0;
	if ((rm.offloads & rx_cksum_offloads) != 0)
		rxo |= RXO_CKSUM;
	if ((rm.offloads & RTE_ETH_RX_OFFLOAD_VLAN_STRIP) != 0)
		rxo |= RXO_VLAN_STRIP;
	uint32_t lro = 0;
	if ((rm.offloads & RTE_ETH_RX_OFFLOAD_TCP_LRO) != 0)
		lro = std::min(rm.max_lro_pkt_size, lro_max_size);
	for (uint16_t i = 0; i < u->nb_queues; i++) {
		u->q[i].rx_offl.store(rxo, std::memory_order_relaxed);
		u->q[i].rx_lro_max.store(lro, std::memory_order_relaxed);
	}
}

int eth_dev_start(struct rte_eth_dev *dev) noexcept
{
	unit *u = unit_of(dev);
	if (u == nullptr)
		return -ENODEV;
	/* tapifinit: drain what a stopped unit held, then run. Frames a reader
	 * wrote while the port was stopped stay in the inq and are received. */
	for (uint16_t i = 0; i < u->nb_queues; i++)
		unit_purge_devq(&u->q[i]);
	/* The burst variants for the offloads configured: a port with none
	 * runs the plain ones. */
	publish_rx_offloads(u, dev->data->dev_conf.rxmode);
	dev->rx_pkt_burst = eth_bsdtap_rx_for(dev->data->dev_conf.rxmode.offloads);
	dev->tx_pkt_burst = eth_bsdtap_tx_for(u, true, dev->data->dev_conf.txmode.offloads);
	for (uint16_t i = 0; i < dev->data->nb_rx_queues; i++)
		dev->data->rx_queue_state[i] = RTE_ETH_QUEUE_STATE_STARTED;
	for (uint16_t i = 0; i < dev->data->nb_tx_queues; i++)
		dev->data->tx_queue_state[i] = RTE_ETH_QUEUE_STATE_STARTED;
	u->uflags.fetch_or(UF_STARTED);
	dev->data->dev_started = 1;
	struct rte_eth_link link;
	fill_link(u, &link);
	rte_eth_linkstatus_set(dev, &link);
	unit_link_changed(u);
	return 0;
}

int eth_dev_stop(struct rte_eth_dev *dev) noexcept
{
	unit *u = unit_of(dev);
	if (u == nullptr)
		return -ENODEV;
	/* tapifstop: drain the devq; readers see no more frames. The inq is
	 * drained too (and counted): a restarted port does not receive frames
	 * from before its stop. */
	u->uflags.fetch_and(~UF_STARTED);
	for (uint16_t i = 0; i < u->nb_queues; i++) {
		unit_purge_devq(&u->q[i]);
		unit_purge_inq(&u->q[i]);
		unit_purge_retq(&u->q[i]);
	}
	for (uint16_t i = 0; i < dev->data->nb_rx_queues; i++)
		dev->data->rx_queue_state[i] = RTE_ETH_QUEUE_STATE_STOPPED;
	for (uint16_t i = 0; i < dev->data->nb_tx_queues; i++)
		dev->data->tx_queue_state[i] = RTE_ETH_QUEUE_STATE_STOPPED;
	dev->data->dev_started = 0;
	struct rte_eth_link link;
	fill_link(u, &link);
	rte_eth_linkstatus_set(dev, &link);
	unit_link_changed(u);
	return 0;
}

int eth_dev_close(struct rte_eth_dev *dev) noexcept
{
	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return 0;
	pmd_internals *pi = internals_of(dev);
	unit *u = pi->u;
	if (u == nullptr)
		return 0;
	BSDTAP_LOG(INFO, "%s: closing port %u", u->iface, dev->data->port_id);
	/* Port effects still to run, and their waiters, give up from here. */
	u->uflags.fetch_or(UF_CLOSING);
	if (pi->reader != nullptr) {
		builtin_stop(pi->reader);
		pi->reader = nullptr;
	}
	/* Readers still holding the unit get EHOSTDOWN from now on and are
	 * woken; the unit's memory stays until the last of them closes (C44). */
	u->uflags.fetch_or(UF_GONE);
	u->uflags.fetch_and(~UF_STARTED);
	for (uint16_t i = 0; i < u->nb_queues; i++) {
		queue_wake(&u->q[i]);
		unit_purge_devq(&u->q[i]);
		unit_purge_inq(&u->q[i]);
		unit_purge_retq(&u->q[i]);
		u->q[i].mp.store(nullptr);
	}
	/* A link change not yet told (a stop just before this close, say) is
	 * told now: the application sees the link go down before the port goes. */
	void *arg = reinterpret_cast<void *>(uintptr_t{dev->data->port_id});
	if (rte_eal_alarm_cancel(lsc_alarm, arg) > 0)
		lsc_alarm(arg);
	intr_teardown(dev);
	pi->u = nullptr;
	unit_put(u);
	return 0;
}

int eth_link_update(struct rte_eth_dev *dev, int wait_to_complete) noexcept
{
	RTE_SET_USED(wait_to_complete);
	unit *u = unit_of(dev);
	if (u == nullptr)
		return -ENODEV;
	struct rte_eth_link link;
	fill_link(u, &link);
	return rte_eth_linkstatus_set(dev, &link);
}

int eth_promiscuous_enable(struct rte_eth_dev *dev) noexcept
{
	unit *u = unit_of(dev);
	if (u == nullptr)
		return -ENODEV; /* the primary closed the port */
	u->uflags.fetch_or(UF_PROMISC);
	return 0;
}

int eth_promiscuous_disable(struct rte_eth_dev *dev) noexcept
{
	unit *u = unit_of(dev);
	if (u == nullptr)
		return -ENODEV; /* the primary closed the port */
	u->uflags.fetch_and(~UF_PROMISC);
	return 0;
}

int eth_allmulticast_enable(struct rte_eth_dev *dev) noexcept
{
	unit *u = unit_of(dev);
	if (u == nullptr)
		return -ENODEV; /* the primary closed the port */
	u->uflags.fetch_or(UF_ALLMULTI);
	return 0;
}

int eth_allmulticast_disable(struct rte_eth_dev *dev) noexcept
{
	unit *u = unit_of(dev);
	if (u == nullptr)
		return -ENODEV; /* the primary closed the port */
	u->uflags.fetch_and(~UF_ALLMULTI);
	return 0;
}

int eth_mac_addr_set(struct rte_eth_dev *dev, struct rte_ether_addr *addr) noexcept
{
	if (addr == nullptr || !rte_is_valid_assigned_ether_addr(addr))
		return -EINVAL;
	unit *u = unit_of(dev);
	if (u == nullptr)
		return -ENODEV;
	unit_set_mac(u, addr);
	return 0;
}

/* A tap has no multicast filter: every list is accepted (C40). */
int eth_set_mc_addr_list(struct rte_eth_dev *dev, struct rte_ether_addr *list, uint32_t nb) noexcept
{
	RTE_SET_USED(dev);
	RTE_SET_USED(list);
	RTE_SET_USED(nb);
	return 0;
}

int eth_stats_get(struct rte_eth_dev *dev, struct rte_eth_stats *st, queue_stats *qs) noexcept
{
	unit *u = unit_of(dev);
	if (u == nullptr)
		return -ENODEV;
	for (uint16_t i = 0; i < u->nb_queues; i++) {
		const queue &q = u->q[i];
		uint64_t ip = q.ipackets.get() - q.base_ipackets;
		uint64_t ib = q.ibytes.get() - q.base_ibytes;
		uint64_t op = q.opackets.get() - q.base_opackets;
		uint64_t ob = q.obytes.get() - q.base_obytes;
		uint64_t oe = q.oerrors.get() - q.base_oerrors;
		uint64_t ie = q.ierrors.get() - q.base_ierrors;
		st->ipackets += ip;
		st->ibytes += ib;
		st->opackets += op;
		st->obytes += ob;
		st->oerrors += oe;
		st->ierrors += ie;
		st->imissed += q.imissed.get() - q.base_imissed;
		st->rx_nombuf += q.rx_nombuf.get() - q.base_rx_nombuf;
		if (qs != nullptr && i < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
			qs->q_ipackets[i] = ip;
			qs->q_ibytes[i] = ib;
			qs->q_opackets[i] = op;
			qs->q_obytes[i] = ob;
			qs->q_errors[i] = ie;
		}
	}
	return 0;
}

/* Counters have one writer each (a burst lcore or the reader), so reset
 * snapshots them instead of writing zero under the writer. */
int eth_stats_reset(struct rte_eth_dev *dev) noexcept
{
	unit *u = unit_of(dev);
	if (u == nullptr)
		return -ENODEV;
	for (uint16_t i = 0; i < u->nb_queues; i++) {
		queue &q = u->q[i];
		q.base_ipackets = q.ipackets.get();
		q.base_ibytes = q.ibytes.get();
		q.base_opackets = q.opackets.get();
		q.base_obytes = q.obytes.get();
		q.base_oerrors = q.oerrors.get();
		q.base_ierrors = q.ierrors.get();
		q.base_imissed = q.imissed.get();
		q.base_rx_nombuf = q.rx_nombuf.get();
	}
	return 0;
}

/* Driver-specific xstats, totals over the unit's queues. */
struct xstat_def {
	const char *name;
	counter queue::*value;
	uint64_t queue::*base;
};

const xstat_def xstat_defs[] = {
    {"tx_no_reader_packets", &queue::tx_noreader, &queue::base_tx_noreader},
    {"tx_no_reader_bytes", &queue::tx_noreader_bytes, &queue::base_tx_noreader_bytes},
    {"tx_devq_full_errors", &queue::oerrors, &queue::base_oerrors},
    {"tx_reader_wakeups", &queue::wakeups, &queue::base_wakeups},
    {"tx_sigio_sent", &queue::sigio, &queue::base_sigio},
    {"rx_runt_errors", &queue::ierrors, &queue::base_ierrors},
    {"rx_inq_full_drops", &queue::imissed, &queue::base_imissed},
    {"reader_truncated_frames", &queue::truncated, &queue::base_truncated},
    {"devq_purged_frames", &queue::purged, &queue::base_purged},
    {"rx_inq_purged_frames", &queue::inq_purged, &queue::base_inq_purged},
    {"rx_intr_wakeups", &queue::rx_intr_wakeups, &queue::base_rx_intr_wakeups},
};
constexpr unsigned nb_queue_xstats = RTE_DIM(xstat_defs);

/* The socket endpoint's, after them on a reader=socket port (unit::sock). */
struct sock_xstat_def {
	const char *name;
	counter sock_stats::*value;
	uint64_t sock_stats::*base;
};

const sock_xstat_def sock_xstat_defs[] = {
    {"socket_tx_frames", &sock_stats::tx_frames, &sock_stats::base_tx_frames},
    {"socket_tx_dropped_frames", &sock_stats::tx_dropped, &sock_stats::base_tx_dropped},
    {"socket_rx_frames", &sock_stats::rx_frames, &sock_stats::base_rx_frames},
    {"socket_rx_bad_frames", &sock_stats::rx_bad, &sock_stats::base_rx_bad},
    {"socket_clients_accepted", &sock_stats::accepted, &sock_stats::base_accepted},
    {"socket_clients_refused", &sock_stats::refused, &sock_stats::base_refused},
};

unsigned nb_xstats(const unit *u) noexcept
{
	return nb_queue_xstats + (u->sock != nullptr ? RTE_DIM(sock_xstat_defs) : 0);
}

const char *xstat_name(unsigned k) noexcept
{
	return k < nb_queue_xstats ? xstat_defs[k].name : sock_xstat_defs[k - nb_queue_xstats].name;
}

uint64_t xstat_value(const unit *u, unsigned k) noexcept
{
	uint64_t sum = 0;
	for (uint16_t i = 0; i < u->nb_queues; i++) {
		if (k < nb_queue_xstats) {
			const xstat_def &d = xstat_defs[k];
			sum += (u->q[i].*d.value).get() - u->q[i].*d.base;
		} else {
			const sock_xstat_def &d = sock_xstat_defs[k - nb_queue_xstats];
			sum += (u->sock[i].*d.value).get() - u->sock[i].*d.base;
		}
	}
	return sum;
}

int eth_xstats_get(struct rte_eth_dev *dev, struct rte_eth_xstat *xs, unsigned n) noexcept
{
	unit *u = unit_of(dev);
	if (u == nullptr)
		return -ENODEV;
	const unsigned nb = nb_xstats(u);
	if (xs == nullptr || n < nb)
		return static_cast<int>(nb);
	for (unsigned k = 0; k < nb; k++) {
		xs[k].id = k;
		xs[k].value = xstat_value(u, k);
	}
	return static_cast<int>(nb);
}

int eth_xstats_get_names(struct rte_eth_dev *dev, struct rte_eth_xstat_name *names,
			 unsigned n) noexcept
{
	unit *u = unit_of(dev);
	if (u == nullptr)
		return -ENODEV;
	const unsigned nb = nb_xstats(u);
	if (names == nullptr || n < nb)
		return static_cast<int>(nb);
	for (unsigned k = 0; k < nb; k++)
		snprintf(names[k].name, sizeof(names[k].name), "%s", xstat_name(k));
	return static_cast<int>(nb);
}

int eth_xstats_reset(struct rte_eth_dev *dev) noexcept
{
	unit *u = unit_of(dev);
	if (u == nullptr)
		return -ENODEV;
	for (uint16_t i = 0; i < u->nb_queues; i++)
		for (const xstat_def &d : xstat_defs)
			u->q[i].*d.base = (u->q[i].*d.value).get();
	if (u->sock != nullptr)
		for (uint16_t i = 0; i < u->nb_queues; i++)
			for (const sock_xstat_def &d : sock_xstat_defs)
				u->sock[i].*d.base = (u->sock[i].*d.value).get();
	return eth_stats_reset(dev);
}

int eth_dev_info(struct rte_eth_dev *dev, struct rte_eth_dev_info *info) noexcept
{
	unit *u = unit_of(dev);
	if (u == nullptr)
		return -ENODEV;
	info->max_mac_addrs = 1;
	info->max_rx_pktlen = RTE_PMD_BSDTAP_MRU;
	info->max_rx_queues = u->nb_queues;
	info->max_tx_queues = u->nb_queues;
	/* Data room past the headroom (ethdev adds RTE_PKTMBUF_HEADROOM): what
	 * rx queue setup enforces, a minimum Ethernet frame in one mbuf. */
	info->min_rx_bufsize = RTE_ETHER_MIN_LEN;
	info->min_mtu = RTE_ETHER_MIN_MTU;
	info->max_mtu = max_mtu;
	/* Checksums are port-wide (one burst variant per port), so not in the
	 * per-queue capabilities. No RSS: the reader chooses the queue it
	 * writes into, as each open of the original's device has its own. */
	info->rx_offload_capa = RTE_ETH_RX_OFFLOAD_SCATTER | rx_offloads_all;
	info->tx_offload_capa =
	    RTE_ETH_TX_OFFLOAD_MULTI_SEGS | RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE | tx_offloads_all;
	info->max_lro_pkt_size = lro_max_size;
	info->rx_queue_offload_capa = RTE_ETH_RX_OFFLOAD_SCATTER;
	info->tx_queue_offload_capa = RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	/* The speed the link reports: 10G unless TAPSIFINFO set another (one
	 * ethdev has no name for leaves only FIXED). */
	struct rte_eth_link link;
	fill_link(u, &link);
	info->speed_capa = RTE_ETH_LINK_SPEED_FIXED |
			   rte_eth_speed_bitflag(link.link_speed, RTE_ETH_LINK_FULL_DUPLEX);
	info->default_rxportconf.ring_size =
	    static_cast<uint16_t>(u->args.ring_size > UINT16_MAX ? UINT16_MAX : u->args.ring_size);
	info->default_txportconf.ring_size = info->default_rxportconf.ring_size;
	info->default_rxportconf.nb_queues = 1;
	info->default_txportconf.nb_queues = 1;
	return 0;
}

/* rte_eth_dev_set_vlan_offload (testpmd's "vlan set strip"): ethdev has
 * already updated the configuration and refused what is not offered. A
 * started port switches its rx burst in place when the variant changes. */
int eth_vlan_offload_set(struct rte_eth_dev *dev, int mask) noexcept
{
	RTE_SET_USED(mask);
	unit *u = unit_of(dev);
	if (u == nullptr)
		return -ENODEV;
	const struct rte_eth_rxmode &rm = dev->data->dev_conf.rxmode;
	publish_rx_offloads(u, rm);
	eth_rx_burst_t b = eth_bsdtap_rx_for(rm.offloads);
	if (dev->data->dev_started != 0 && b != dev->rx_pkt_burst) {
		dev->rx_pkt_burst = b;
		rte_eth_fp_ops[dev->data->port_id].rx_pkt_burst = b;
	}
	return 0;
}

int eth_mtu_set(struct rte_eth_dev *dev, uint16_t mtu) noexcept
{
	/* ethdev checked [min_mtu, max_mtu]; a direct caller may not have. */
	if (mtu < RTE_ETHER_MIN_MTU || mtu > max_mtu) {
		BSDTAP_LOG(ERR, "%s: MTU %u outside [%u, %u]", dev->data->name, mtu,
			   RTE_ETHER_MIN_MTU, max_mtu);
		return -EINVAL;
	}
	return 0;
}

int eth_rx_queue_setup(struct rte_eth_dev *dev, uint16_t qid, uint16_t nb_desc, unsigned socket,
		       const struct rte_eth_rxconf *conf, struct rte_mempool *mp) noexcept
{
	RTE_SET_USED(nb_desc);
	RTE_SET_USED(socket);
	RTE_SET_USED(conf);
	unit *u = unit_of(dev);
	if (u == nullptr)
		return -ENODEV;
	if (qid >= u->nb_queues || mp == nullptr)
		return -EINVAL;
	/* A reader's write() copies into this pool's mbufs: refuse a pool whose
	 * mbufs cannot hold a minimum Ethernet frame after the headroom. */
	uint16_t room = rte_pktmbuf_data_room_size(mp);
	if (room < RTE_PKTMBUF_HEADROOM + RTE_ETHER_MIN_LEN) {
		BSDTAP_LOG(ERR, "%s: rx queue %u: mempool %s data room %u < headroom %u + %u",
			   u->iface, qid, mp->name, room, RTE_PKTMBUF_HEADROOM, RTE_ETHER_MIN_LEN);
		return -EINVAL;
	}
	u->q[qid].mp.store(mp);
	dev->data->rx_queues[qid] = &u->q[qid];
	return 0;
}

int eth_tx_queue_setup(struct rte_eth_dev *dev, uint16_t qid, uint16_t nb_desc, unsigned socket,
		       const struct rte_eth_txconf *conf) noexcept
{
	RTE_SET_USED(nb_desc);
	RTE_SET_USED(socket);
	RTE_SET_USED(conf);
	unit *u = unit_of(dev);
	if (u == nullptr)
		return -ENODEV;
	if (qid >= u->nb_queues)
		return -EINVAL;
	dev->data->tx_queues[qid] = &u->q[qid];
	return 0;
}

void eth_rx_queue_release(struct rte_eth_dev *dev, uint16_t qid) noexcept
{
	unit *u = unit_of(dev);
	if (u == nullptr || qid >= u->nb_queues)
		return;
	unit_purge_inq(&u->q[qid]);
	u->q[qid].mp.store(nullptr);
	dev->data->rx_queues[qid] = nullptr;
}

void eth_tx_queue_release(struct rte_eth_dev *dev, uint16_t qid) noexcept
{
	if (qid < dev->data->nb_tx_queues)
		dev->data->tx_queues[qid] = nullptr;
}

void eth_rxq_info(struct rte_eth_dev *dev, uint16_t qid, struct rte_eth_rxq_info *qi) noexcept
{
	unit *u = unit_of(dev);
	if (u == nullptr)
		return;
	qi->mp = u->q[qid].mp.load();
	qi->scattered_rx = 1;
	qi->nb_desc =
	    static_cast<uint16_t>(u->args.ring_size > UINT16_MAX ? UINT16_MAX : u->args.ring_size);
	qi->queue_state = dev->data->rx_queue_state[qid];
}

void eth_txq_info(struct rte_eth_dev *dev, uint16_t qid, struct rte_eth_txq_info *qi) noexcept
{
	unit *u = unit_of(dev);
	if (u == nullptr)
		return;
	qi->nb_desc =
	    static_cast<uint16_t>(u->args.ring_size > UINT16_MAX ? UINT16_MAX : u->args.ring_size);
	qi->queue_state = dev->data->tx_queue_state[qid];
}

/* Declaration order of struct eth_dev_ops (C++20 designated initializers). */
const struct eth_dev_ops ops = {
    .dev_configure = eth_dev_configure,
    .dev_start = eth_dev_start,
    .dev_stop = eth_dev_stop,
    .dev_close = eth_dev_close,
    .link_update = eth_link_update,
    .promiscuous_enable = eth_promiscuous_enable,
    .promiscuous_disable = eth_promiscuous_disable,
    .allmulticast_enable = eth_allmulticast_enable,
    .allmulticast_disable = eth_allmulticast_disable,
    .mac_addr_set = eth_mac_addr_set,
    .set_mc_addr_list = eth_set_mc_addr_list,
    .mtu_set = eth_mtu_set,
    .stats_get = stats_get_op<eth_stats_get>,
    .stats_reset = eth_stats_reset,
    .xstats_get = eth_xstats_get,
    .xstats_reset = eth_xstats_reset,
    .xstats_get_names = eth_xstats_get_names,
    .dev_infos_get = eth_dev_info,
    .rxq_info_get = eth_rxq_info,
    .txq_info_get = eth_txq_info,
    .vlan_offload_set = eth_vlan_offload_set,
    .rx_queue_setup = eth_rx_queue_setup,
    .rx_queue_release = eth_rx_queue_release,
    .rx_queue_intr_enable = eth_rx_queue_intr_enable,
    .rx_queue_intr_disable = eth_rx_queue_intr_disable,
    .tx_queue_setup = eth_tx_queue_setup,
    .tx_queue_release = eth_tx_queue_release,
    .get_monitor_addr = eth_get_monitor_addr,
};

/* ---------------------------------------------------------------- probe */

/* Unit number: the decimal suffix of the vdev name (net_bsdtap12 -> 12). */
bool unit_number(const char *name, uint32_t *out) noexcept
{
	size_t len = strlen(name), i = len;
	while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9')
		i--;
	if (i == len || len - i > 6)
		return false;
	*out = static_cast<uint32_t>(strtoul(name + i, nullptr, 10));
	return true;
}

int probe_secondary(struct rte_vdev_device *vdev, const char *name) noexcept
{
	struct rte_eth_dev *dev = rte_eth_dev_attach_secondary(name);
	if (dev == nullptr) {
		BSDTAP_LOG(ERR, "%s: not found in the primary process", name);
		return -ENODEV;
	}
	dev->dev_ops = &ops;
	dev->device = &vdev->device;
	/* The offloads of the primary's configuration, if it has one. */
	dev->rx_pkt_burst = eth_bsdtap_rx_for(dev->data->dev_conf.rxmode.offloads);
	set_queue_count_ops(dev, eth_bsdtap_rx_queue_count, eth_bsdtap_tx_queue_count);
	unit *u = unit_of(dev);
	if (u == nullptr) {
		BSDTAP_LOG(ERR, "%s: the primary process has closed this port", name);
		rte_eth_dev_release_port(dev);
		return -ENODEV;
	}
	{
		/* Readers in this process find the primary's unit by name. */
		auto reg = registry_lock();
		if (!registry_has_locked(u))
			registry_add_locked(u);
	}
	mp_align_mempool_ops();
	/* Its tx bursts wake sleeping readers through its own copies of the
	 * queues' eventfds. */
	for (uint16_t i = 0; i < u->nb_queues; i++) {
		int fd = mp_get_efd(u, i);
		if (fd < 0 || !secondary_efd_add(&u->q[i], fd)) {
			if (fd >= 0)
				close(fd);
			BSDTAP_LOG(WARNING,
				   "%s: queue %u: no wakeup fd in this process (%s): readers "
				   "sleeping on frames it sends wake on their timeout",
				   name, i, fd < 0 ? rte_strerror(-fd) : "table full");
		}
	}
	/* A secondary's tx keeps the full fence: its process may not be
	 * registered for the readers' membarrier. */
	membarrier_register();
	dev->tx_pkt_burst = eth_bsdtap_tx_for(u, false, dev->data->dev_conf.txmode.offloads);
	rte_eth_dev_probing_finish(dev);
	return 0;
}

int bsdtap_probe(struct rte_vdev_device *vdev) noexcept
{
	const char *name = rte_vdev_device_name(vdev);
	const char *params = rte_vdev_device_args(vdev);

	primary_process = rte_eal_process_type() == RTE_PROC_PRIMARY;
	if (!primary_process)
		return probe_secondary(vdev, name);

	devargs args;
	int ret = devargs_parse(params, &args);
	if (ret < 0) {
		BSDTAP_LOG(ERR, "%s: bad devargs, no port created", name);
		return ret;
	}
	uint32_t unit_no;
	if (!unit_number(name, &unit_no)) {
		BSDTAP_LOG(ERR, "%s: the device name must end in a unit number (net_bsdtap0)",
			   name);
		return -EINVAL;
	}
	if (args.iface[0] == '\0')
		snprintf(args.iface, sizeof(args.iface), "tap%" PRIu32, unit_no);

	int socket = vdev->device.numa_node;
	if (socket < 0)
		socket = static_cast<int>(rte_socket_id());

	ret = mp_primary_init();
	if (ret < 0)
		return ret;
	std::unique_lock<std::mutex> reg = registry_lock();
	if (registry_find_locked(args.iface) != nullptr) {
		BSDTAP_LOG(ERR, "%s: interface name %s already in use", name, args.iface);
		return -EEXIST;
	}
	unit *u = unit_create(name, unit_no, args, socket);
	if (u == nullptr)
		return -ENOMEM;

	/* From here every failure releases what was built: the port, then the unit. */
	struct rte_eth_dev *dev = rte_eth_vdev_allocate(vdev, sizeof(pmd_internals));
	if (dev == nullptr) {
		unit_free(u);
		return -ENOMEM;
	}
	auto *mac = static_cast<struct rte_ether_addr *>(
	    rte_zmalloc_socket("bsdtap_mac", sizeof(struct rte_ether_addr), 0, socket));
	if (mac == nullptr) {
		rte_eth_dev_release_port(dev);
		unit_free(u);
		return -ENOMEM;
	}
	ret = intr_setup(dev, u);
	if (ret != 0) {
		BSDTAP_LOG(ERR, "%s: cannot set up rx interrupts: %s", name, rte_strerror(-ret));
		rte_free(mac);
		rte_eth_dev_release_port(dev);
		unit_free(u);
		return ret;
	}
	u->port_id = dev->data->port_id;
	for (queue &q : u->q)
		q.port_id = u->port_id;
	pmd_internals *pi = internals_of(dev);
	pi->u = u;
	pi->reader = nullptr;
	*mac = unit_mac(u);
	dev->data->mac_addrs = mac;
	dev->data->mtu = RTE_ETHER_MTU; /* C02 */
	dev->data->dev_link = link_template;
	dev->data->dev_flags |= RTE_ETH_DEV_AUTOFILL_QUEUE_XSTATS | RTE_ETH_DEV_INTR_LSC;
	dev->dev_ops = &ops;
	dev->rx_pkt_burst = eth_bsdtap_rx;
	dev->tx_pkt_burst = eth_bsdtap_tx_for(u, true, 0);
	/* A reader's write() chains mbufs when a frame exceeds one's data room,
	 * whether or not the application enabled scatter (as the rx queue info
	 * says too). */
	dev->data->scattered_rx = 1;
	set_queue_count_ops(dev, eth_bsdtap_rx_queue_count, eth_bsdtap_tx_queue_count);
	registry_add_locked(u);
	reg.unlock();

	if (args.reader != reader_kind::none) {
		rte_errno = 0;
		pi->reader = builtin_start(u, args.reader);
		if (pi->reader == nullptr) {
			int err = rte_errno != 0 ? rte_errno : ENOMEM;
			BSDTAP_LOG(ERR, "%s: cannot start the %s reader: %s", name,
				   reader_kind_name(args.reader), rte_strerror(err));
			eth_dev_close(dev);
			rte_eth_dev_release_port(dev);
			return -err;
		}
	}
	rte_eth_dev_probing_finish(dev);
	BSDTAP_LOG(INFO,
		   "%s: port %u is %s, MAC " RTE_ETHER_ADDR_PRT_FMT ", %u queue(s), ring %u, "
		   "reader %s",
		   name, u->port_id, u->iface, RTE_ETHER_ADDR_BYTES(mac), u->nb_queues,
		   args.ring_size, reader_kind_name(args.reader));
	return 0;
}

int bsdtap_remove(struct rte_vdev_device *vdev) noexcept
{
	const char *name = rte_vdev_device_name(vdev);
	struct rte_eth_dev *dev = rte_eth_dev_allocated(name);
	if (dev == nullptr)
		return 0; /* already closed */
	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		if (unit_of(dev) != nullptr) {
			secondary_efds_drop(unit_of(dev));
			registry_remove(unit_of(dev));
		}
		return rte_eth_dev_release_port(dev);
	}
	unit *u = unit_of(dev);
	/* MOD_UNLOAD's EBUSY: a reader that is not the port's own built-in one
	 * holds the unit (C44). Closing the port instead (rte_eth_dev_close)
	 * cannot be refused by DPDK: readers then get EHOSTDOWN. */
	if (u != nullptr && u->nb_open.load() > u->nb_builtin.load()) {
		BSDTAP_LOG(ERR, "%s: %s is open by a reader (pid %d): not removed", name, u->iface,
			   u->q[0].opener_pid.load());
		return -EBUSY;
	}
	if (dev->data->dev_started)
		rte_eth_dev_stop(dev->data->port_id);
	return rte_eth_dev_close(dev->data->port_id);
}

} // namespace

/* ------------------------------------------------------------ unit helpers */

bool primary_process = false;

unit *unit_of(struct rte_eth_dev *dev) noexcept
{
	auto *pi = internals_of(dev);
	return pi == nullptr ? nullptr : pi->u;
}

unit *unit_of_port(uint16_t port_id) noexcept
{
	if (!rte_eth_dev_is_valid_port(port_id) || rte_eth_devices[port_id].dev_ops != &ops)
		return nullptr;
	return unit_of(&rte_eth_devices[port_id]);
}

} // namespace bsdtap

static struct rte_vdev_driver pmd_bsdtap_drv = {
    .next = {},
    .driver = {},
    .probe = bsdtap::bsdtap_probe,
    .remove = bsdtap::bsdtap_remove,
    .dma_map = nullptr,
    .dma_unmap = nullptr,
    .drv_flags = 0,
};

RTE_PMD_REGISTER_VDEV(net_bsdtap, pmd_bsdtap_drv);
/* The devargs as EAL, testpmd's "show device info" and the guide list them. */
// clang-format off
#define BSDTAP_PARAM_STRING                                     \
	ETH_BSDTAP_IFACE_ARG "=<name> "                         \
	ETH_BSDTAP_QUEUES_ARG "=<1-16> "                        \
	ETH_BSDTAP_RING_SIZE_ARG "=<1-65536> "                  \
	ETH_BSDTAP_MAC_ARG "=<xx:xx:xx:xx:xx:xx> "              \
	ETH_BSDTAP_READER_ARG "=none|echo|sink|socket "         \
	ETH_BSDTAP_TXFULL_ARG "=drop|backpressure "             \
	ETH_BSDTAP_MODE_ARG "=tap|vmnet "                       \
	ETH_BSDTAP_UP_ON_OPEN_ARG "=0|1 "                       \
	ETH_BSDTAP_USER_OPEN_ARG "=0|1 "                        \
	ETH_BSDTAP_PATH_ARG "=<socket path> "                   \
	ETH_BSDTAP_SOCKET_TYPE_ARG "=seqpacket|dgram|stream "   \
	ETH_BSDTAP_OWNER_ARG "=<user> "                         \
	ETH_BSDTAP_GROUP_ARG "=<group> "                        \
	ETH_BSDTAP_SOCKET_MODE_ARG "=<octal> "                  \
	ETH_BSDTAP_SOCKET_VNET_HDR_ARG "=0|10|12 "              \
	ETH_BSDTAP_READER_SPIN_US_ARG "=<0-1000000> "            \
	ETH_BSDTAP_READER_NICE_ARG "=<-20-19>"
// clang-format on

RTE_PMD_REGISTER_PARAM_STRING(net_bsdtap, BSDTAP_PARAM_STRING);

/* What dpdk-pmdinfo.py reads out of a driver: DPDK's build generates this
 * .rodata string for its in-tree drivers from the registrations above; an
 * out-of-tree driver states it itself (a vdev has no PCI ids). */
[[gnu::used]] static const char pmd_info_net_bsdtap[] =
    "PMD_INFO_STRING= {\"name\": \"net_bsdtap\", \"params\": \"" BSDTAP_PARAM_STRING
    "\", \"pci_ids\": []}";

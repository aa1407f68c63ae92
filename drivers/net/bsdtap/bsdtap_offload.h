/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BSDTAP_OFFLOAD_H
#define BSDTAP_OFFLOAD_H

/*
 * Checksum offloads, done in software as a tap's host stack does them: the
 * port has no hardware, so what the application hands to "the NIC" is
 * computed here before the reader sees the frame (tx), and what a reader
 * wrote is verified here before the application sees it (rx). Only the burst
 * variants chosen for a port that enabled these offloads call them.
 */

#include <cstdint>

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_net.h>

#include "rte_pmd_bsdtap.h"

namespace bsdtap
{

/* What the port offers (dev_infos_get) and what selects the burst variants. */
inline constexpr uint64_t rx_cksum_offloads =
    RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
inline constexpr uint64_t tx_cksum_offloads =
    RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;

/* The mbuf flags a tx checksum request is made of. */
inline constexpr uint64_t tx_cksum_flags = RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK;

/* Every offload the port offers, and the mbuf flags the tx offload burst
 * looks at. */
inline constexpr uint64_t rx_offloads_all =
    rx_cksum_offloads | RTE_ETH_RX_OFFLOAD_VLAN_STRIP | RTE_ETH_RX_OFFLOAD_TCP_LRO;
inline constexpr uint64_t tx_offloads_all =
    tx_cksum_offloads | RTE_ETH_TX_OFFLOAD_TCP_TSO | RTE_ETH_TX_OFFLOAD_VLAN_INSERT;
inline constexpr uint64_t tx_offload_flags =
    tx_cksum_flags | RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_VLAN;

/* Segmentation bounds: headers (L2 to L4) of at most tso_max_hdr bytes,
 * at most tso_max_segs segments per frame (64 KiB at an MSS of 256) and
 * tso_max_mbufs mbufs for all of them. */
inline constexpr uint32_t tso_max_hdr = 256;
inline constexpr unsigned tso_max_segs = 256;
inline constexpr unsigned tso_max_mbufs = 1024;

/* The largest aggregate (LRO) the port delivers. */
inline constexpr uint32_t lro_max_size = RTE_PMD_BSDTAP_GSO_MAX - 1;

namespace cksum
{

/* One's complement sum folded to 16 bits. */
inline uint16_t fold(uint32_t s) noexcept
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return static_cast<uint16_t>(s);
}

/* The pseudo header's sum for either family: the addresses as they lie in
 * the header, the protocol and the L4 length (summed in the byte order
 * rte_raw_cksum reads memory in). */
inline uint32_t pseudo(const void *addrs, size_t addr_bytes, uint8_t proto,
		       uint32_t l4_len) noexcept
{
	return uint32_t{rte_raw_cksum(addrs, addr_bytes)} + rte_cpu_to_be_16(proto) +
	       rte_cpu_to_be_16(static_cast<uint16_t>(l4_len)) +
	       rte_cpu_to_be_16(static_cast<uint16_t>(l4_len >> 16));
}

/*
 * The sum of len bytes of a chain from off, unfolded; false when they are
 * not all in the frame. Each segment's part is folded before it is
 * byte-swapped (a part that begins at an odd offset of the data), so that
 * no carry is lost whatever the segment lengths.
 */
inline bool sum_mbuf(const struct rte_mbuf *m, uint32_t off, uint32_t len, uint32_t *out) noexcept
{
	if (off + len > m->pkt_len)
		return false;
	const struct rte_mbuf *seg = m;
	while (seg != nullptr && off >= seg->data_len) {
		off -= seg->data_len;
		seg = seg->next;
	}
	uint32_t s = 0;
	bool odd = false;
	while (len > 0) {
		if (seg == nullptr)
			return false;
		uint32_t n = seg->data_len - off;
		if (n > len)
			n = len;
		uint16_t part = rte_raw_cksum(rte_pktmbuf_mtod_offset(seg, const char *, off), n);
		s += odd ? rte_bswap16(part) : part;
		odd ^= (n & 1) != 0;
		len -= n;
		off = 0;
		seg = seg->next;
	}
	*out = s;
	return true;
}

} // namespace cksum

/*
 * Tx: fill the checksums an mbuf asks for (RTE_MBUF_F_TX_IP_CKSUM,
 * RTE_MBUF_F_TX_UDP_CKSUM, RTE_MBUF_F_TX_TCP_CKSUM with l2_len and l3_len,
 * IPv4 or IPv6 without regard to what the field held: zero, the pseudo
 * header's sum or anything else). Each checksum is one store of its final
 * value. The headers must lie in the first segment; the L4 data may span
 * segments. A request the frame cannot satisfy (headers beyond the first
 * segment, lengths beyond the frame, a header of another version) is left
 * as it is, flags included; one that was done has its flags cleared, so the
 * reader (and an echo back into rx) sees a finished frame.
 */
inline void tx_cksum(struct rte_mbuf *m) noexcept
{
	const uint64_t fl = m->ol_flags;
	const uint32_t l2 = m->l2_len, l3 = m->l3_len;
	const uint32_t first = m->data_len;
	char *l3h = rte_pktmbuf_mtod_offset(m, char *, l2);
	uint64_t done = 0;
	const bool v4 = (fl & RTE_MBUF_F_TX_IPV4) != 0;
	const bool v6 = !v4 && (fl & RTE_MBUF_F_TX_IPV6) != 0;
	if (l2 + l3 > first || (!v4 && !v6))
		return;
	if (v4 && (l3 < sizeof(struct rte_ipv4_hdr) || (l3h[0] & 0xf0) != 0x40))
		return;
	if (v6 && (l3 < sizeof(struct rte_ipv6_hdr) || (l3h[0] & 0xf0) != 0x60))
		return;

	if ((fl & RTE_MBUF_F_TX_IP_CKSUM) != 0 && v4) {
		auto *ip = reinterpret_cast<struct rte_ipv4_hdr *>(l3h);
		/* The sum with whatever the field holds, less that value. */
		uint16_t old = ip->hdr_checksum;
		uint16_t s = cksum::fold(uint32_t{rte_raw_cksum(ip, l3)} + uint16_t(~old));
		ip->hdr_checksum = static_cast<uint16_t>(~s);
		done |= RTE_MBUF_F_TX_IP_CKSUM;
	}

	const uint64_t l4 = fl & RTE_MBUF_F_TX_L4_MASK;
	if (l4 == RTE_MBUF_F_TX_UDP_CKSUM || l4 == RTE_MBUF_F_TX_TCP_CKSUM) {
		const bool udp = l4 == RTE_MBUF_F_TX_UDP_CKSUM;
		const uint32_t field = udp ? 6 : 16; /* offset of the checksum in the L4 header */
		uint32_t l4_len;
		uint32_t ph;
		if (v4) {
			auto *ip = reinterpret_cast<const struct rte_ipv4_hdr *>(l3h);
			uint32_t tot = rte_be_to_cpu_16(ip->total_length);
			l4_len = tot > l3 ? tot - l3 : 0;
			ph = cksum::pseudo(&ip->src_addr, 8, udp ? IPPROTO_UDP : IPPROTO_TCP,
					   l4_len);
		} else {
			auto *ip6 = reinterpret_cast<const struct rte_ipv6_hdr *>(l3h);
			/* The payload length counts the extension headers in l3_len. */
			uint32_t pl = rte_be_to_cpu_16(ip6->payload_len) + sizeof(*ip6);
			l4_len = pl > l3 ? pl - l3 : 0;
			ph = cksum::pseudo(l3h + 8, 32, udp ? IPPROTO_UDP : IPPROTO_TCP, l4_len);
		}
		uint32_t raw;
		if (l4_len >= field + 2 && l2 + l3 + field + 2 <= first &&
		    cksum::sum_mbuf(m, l2 + l3, l4_len, &raw)) {
			auto *fp = reinterpret_cast<uint16_t *>(l3h + l3 + field);
			uint16_t old = *fp;
			uint16_t c = static_cast<uint16_t>(
			    ~cksum::fold(ph + raw + static_cast<uint16_t>(~old)));
			if (c == 0 && udp)
				c = 0xffff; /* zero means "no checksum" in UDP */
			*fp = c;
			done |= l4;
		}
	}
	m->ol_flags = fl & ~done;
}

/*
 * Rx: the verdict on a frame a reader wrote, as RTE_MBUF_F_RX_IP_CKSUM_* and
 * RTE_MBUF_F_RX_L4_CKSUM_* bits. IPv4 (VLAN and QinQ tags passed over):
 * the header checksum, GOOD or BAD. UDP and TCP over IPv4, and over IPv6
 * without extension headers: the L4 checksum over the datagram's own length
 * (not the Ethernet padding), GOOD or BAD, and BAD when the datagram is
 * longer than the frame. UNKNOWN for all else: no IP, IPv6's header (it has
 * no checksum), fragments, other protocols, UDP over IPv4 sent without a
 * checksum (zero). want_l4 false: the IP header's verdict only (the L4 one
 * is UNKNOWN).
 */
inline uint64_t rx_cksum_verdict(const struct rte_mbuf *m, bool want_l4 = true) noexcept
{
	struct rte_net_hdr_lens h;
	const uint32_t pt =
	    rte_net_get_ptype(m, &h, RTE_PTYPE_L2_MASK | RTE_PTYPE_L3_MASK | RTE_PTYPE_L4_MASK);
	const uint32_t l4t = pt & RTE_PTYPE_L4_MASK;
	const bool udp = l4t == RTE_PTYPE_L4_UDP;
	const bool l4_ours = udp || l4t == RTE_PTYPE_L4_TCP;
	uint64_t f = RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN | RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN;
	uint8_t buf[sizeof(struct rte_ipv6_hdr) > 60 ? sizeof(struct rte_ipv6_hdr) : 60];
	uint32_t l4_len;
	uint32_t ph;

	if (RTE_ETH_IS_IPV4_HDR(pt)) {
		const uint32_t l3 = h.l3_len;
		if (l3 < sizeof(struct rte_ipv4_hdr) || l3 > sizeof(buf))
			return f;
		auto *ip = static_cast<const struct rte_ipv4_hdr *>(
		    rte_pktmbuf_read(m, h.l2_len, l3, buf));
		if (ip == nullptr)
			return RTE_MBUF_F_RX_IP_CKSUM_BAD | RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN;
		f = rte_raw_cksum(ip, l3) == 0xffff ? RTE_MBUF_F_RX_IP_CKSUM_GOOD
						    : RTE_MBUF_F_RX_IP_CKSUM_BAD;
		if (!l4_ours || !want_l4)
			return f;
		uint32_t tot = rte_be_to_cpu_16(ip->total_length);
		l4_len = tot > l3 ? tot - l3 : 0;
		ph = cksum::pseudo(&ip->src_addr, 8, ip->next_proto_id, l4_len);
	} else if (RTE_ETH_IS_IPV6_HDR(pt) && (pt & RTE_PTYPE_L3_MASK) == RTE_PTYPE_L3_IPV6 &&
		   l4_ours && want_l4 && h.l3_len == sizeof(struct rte_ipv6_hdr)) {
		auto *ip6 = static_cast<const struct rte_ipv6_hdr *>(
		    rte_pktmbuf_read(m, h.l2_len, sizeof(struct rte_ipv6_hdr), buf));
		if (ip6 == nullptr)
			return f;
		l4_len = rte_be_to_cpu_16(ip6->payload_len);
		ph = cksum::pseudo(reinterpret_cast<const uint8_t *>(ip6) + 8, 32, ip6->proto,
				   l4_len);
	} else {
		return f;
	}

	const uint32_t off = h.l2_len + h.l3_len;
	uint32_t raw;
	if (l4_len < (udp ? 8u : 20u) || !cksum::sum_mbuf(m, off, l4_len, &raw))
		return f | RTE_MBUF_F_RX_L4_CKSUM_BAD; /* shorter than its header, or cut */
	if (udp && RTE_ETH_IS_IPV4_HDR(pt)) {
		uint16_t c;
		auto *cp = static_cast<const uint16_t *>(rte_pktmbuf_read(m, off + 6, 2, &c));
		if (cp != nullptr && *cp == 0)
			return f; /* sent without a checksum */
	}
	return f | (cksum::fold(ph + raw) == 0xffff ? RTE_MBUF_F_RX_L4_CKSUM_GOOD
						    : RTE_MBUF_F_RX_L4_CKSUM_BAD);
}

struct queue;

/*
 * Cut a TSO request (RTE_MBUF_F_TX_TCP_SEG, l2/l3/l4_len, tso_segsz; IPv4 or
 * IPv6, headers in the first segment) into frames of new mbufs from mp, each
 * with its IP and TCP checksums done and its lengths, sequence number and
 * flags (FIN and PSH on the last only, CWR on the first only) its own; a
 * TX_VLAN request is carried to each. m is left as it was, for the caller to
 * free. Returns the number of frames in out, or -EINVAL (not a request that
 * can be done), -E2BIG (more than max_out frames), -ENOBUFS.
 */
int tso_segment(struct rte_mbuf *m, struct rte_mempool *mp, struct rte_mbuf **out,
		unsigned max_out) noexcept;

/*
 * Tx for a reader in vnet-header mode: the L4 checksum and segmentation
 * requests are left to it (flags kept, the field holding the pseudo
 * header's sum over the frame's L4 length, a TSO frame's IP lengths its
 * own), the IPv4 header checksum is done. False for a TSO request whose
 * headers are not there (the frame is dropped).
 */
bool vnet_tx_prepare(struct rte_mbuf *m) noexcept;

/* The header a vnet-header read gives for m. */
void vnet_hdr_of(const struct rte_mbuf *m, struct rte_pmd_bsdtap_vnet_hdr *h) noexcept;

/*
 * A vnet-header write: m (the frame, its flags clear) as the application is
 * to receive it on queue q: the header's verdict as rx flags, a partial
 * checksum finished for an application that takes no verdicts, a GSO frame
 * whole (LRO) or cut into segments from mp. Returns the number of frames
 * in out (m, or the segments with m freed), or a negative errno (the
 * header is wrong for the frame: -EINVAL; m is the caller's to free).
 */
int vnet_rx_apply(const queue *q, struct rte_mbuf *m, const struct rte_pmd_bsdtap_vnet_hdr *h,
		  struct rte_mempool *mp, struct rte_mbuf **out, unsigned max_out) noexcept;

} // namespace bsdtap

#endif

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The offloads that are not a few stores per frame: TCP segmentation in
 * software (an application's TSO request for a reader that did not ask for
 * the vnet header, and a vnet-header writer's GSO frame for an application
 * without LRO), and the vnet header's translation to and from mbuf flags.
 * Out of line on purpose: the burst functions call here only for frames that
 * carry such a request.
 */

#include <algorithm>
#include <cstring>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_net.h>
#include <rte_tcp.h>

#include "bsdtap_internal.h"
#include "bsdtap_offload.h"

namespace bsdtap
{
namespace
{

constexpr uint8_t tcp_fin = 0x01, tcp_psh = 0x08, tcp_cwr = 0x80;

/* Copy len bytes of chain m from off into dst. */
void chain_read(const struct rte_mbuf *m, uint32_t off, void *dst, uint32_t len) noexcept
{
	const void *p = rte_pktmbuf_read(m, off, len, dst);
	if (p != dst)
		memcpy(dst, p, len);
}

/* Store len bytes at off of chain m; false when they are not in the frame. */
bool chain_write(struct rte_mbuf *m, uint32_t off, const void *src, uint32_t len) noexcept
{
	if (off + len > m->pkt_len)
		return false;
	const auto *s = static_cast<const uint8_t *>(src);
	for (struct rte_mbuf *seg = m; seg != nullptr && len > 0; seg = seg->next) {
		if (off >= seg->data_len) {
			off -= seg->data_len;
			continue;
		}
		uint32_t c = std::min<uint32_t>(len, seg->data_len - off);
		memcpy(rte_pktmbuf_mtod_offset(seg, uint8_t *, off), s, c);
		s += c;
		len -= c;
		off = 0;
	}
	return len == 0;
}

/* The folded pseudo-header sum over the frame's own L4 length: what the
 * checksum field holds for a checksum left to the reader (the virtio and
 * Linux convention), whatever the application put there. */
uint16_t partial_field(const struct rte_mbuf *m, uint32_t l2, uint32_t l3, bool v4,
		       uint8_t proto) noexcept
{
	const char *l3h = rte_pktmbuf_mtod_offset(m, const char *, l2);
	uint32_t l4_len = m->pkt_len - l2 - l3;
	uint32_t ph = v4 ? cksum::pseudo(l3h + 12, 8, proto, l4_len)
			 : cksum::pseudo(l3h + 8, 32, proto, l4_len);
	return cksum::fold(ph);
}

/* Where the L3 and L4 headers of a frame are, by parsing it. */
bool parse(const struct rte_mbuf *m, struct rte_net_hdr_lens *h, uint32_t *ptype) noexcept
{
	*ptype = rte_net_get_ptype(m, h, RTE_PTYPE_L2_MASK | RTE_PTYPE_L3_MASK | RTE_PTYPE_L4_MASK);
	return (RTE_ETH_IS_IPV4_HDR(*ptype) || RTE_ETH_IS_IPV6_HDR(*ptype)) &&
	       h->l2_len + h->l3_len + h->l4_len <= m->data_len;
}

} // namespace

int tso_segment(struct rte_mbuf *m, struct rte_mempool *mp, struct rte_mbuf **out,
		unsigned max_out) noexcept
{
	const uint64_t fl = m->ol_flags;
	const bool v4 = (fl & RTE_MBUF_F_TX_IPV4) != 0;
	const bool v6 = !v4 && (fl & RTE_MBUF_F_TX_IPV6) != 0;
	const uint32_t l2 = m->l2_len, l3 = m->l3_len, l4 = m->l4_len;
	const uint32_t hdr = l2 + l3 + l4;
	const uint32_t mss = m->tso_segsz;
	if ((!v4 && !v6) || l4 < sizeof(struct rte_tcp_hdr) || mss == 0 || hdr > m->data_len ||
	    hdr >= m->pkt_len || hdr > tso_max_hdr)
		return -EINVAL;
	const char *l3h = rte_pktmbuf_mtod_offset(m, const char *, l2);
	if ((v4 && (l3 < sizeof(struct rte_ipv4_hdr) || (l3h[0] & 0xf0) != 0x40)) ||
	    (v6 && (l3 < sizeof(struct rte_ipv6_hdr) || (l3h[0] & 0xf0) != 0x60)))
		return -EINVAL;
	const uint32_t payload = m->pkt_len - hdr;
	const uint32_t nseg = (payload + mss - 1) / mss;
	const uint32_t room = rte_pktmbuf_data_room_size(mp) - RTE_PKTMBUF_HEADROOM;
	if (room == 0 || nseg > max_out)
		return -E2BIG;
	/* Mbufs for every segment, in one bulk get: a segment longer than the
	 * data room is a chain. */
	uint32_t per_full = (hdr + mss + room - 1) / room;
	uint32_t last_len = payload - (nseg - 1) * mss;
	uint32_t per_last = (hdr + last_len + room - 1) / room;
	uint32_t total = (nseg - 1) * per_full + per_last;
	struct rte_mbuf *bufs[tso_max_mbufs];
	if (total > RTE_DIM(bufs))
		return -E2BIG;
	if (rte_pktmbuf_alloc_bulk(mp, bufs, total) != 0)
		return -ENOBUFS;

	uint8_t h[tso_max_hdr];
	chain_read(m, 0, h, hdr);
	const uint32_t seq0 =
	    rte_be_to_cpu_32(reinterpret_cast<const rte_tcp_hdr *>(h + l2 + l3)->sent_seq);
	const uint16_t id0 =
	    v4 ? rte_be_to_cpu_16(reinterpret_cast<const rte_ipv4_hdr *>(h + l2)->packet_id) : 0;
	const uint8_t flags0 = reinterpret_cast<const rte_tcp_hdr *>(h + l2 + l3)->tcp_flags;
	uint32_t b = 0;
	for (uint32_t i = 0; i < nseg; i++) {
		const uint32_t seglen = i + 1 < nseg ? mss : last_len;
		const uint32_t frame = hdr + seglen;
		struct rte_mbuf *head = bufs[b];
		/* The headers, fixed for this segment. */
		uint8_t *d = rte_pktmbuf_mtod(head, uint8_t *);
		uint32_t first = std::min(frame, room);
		memcpy(d, h, hdr);
		auto *th = reinterpret_cast<rte_tcp_hdr *>(d + l2 + l3);
		th->sent_seq = rte_cpu_to_be_32(seq0 + i * mss);
		uint8_t tf = flags0;
		if (i + 1 < nseg)
			tf &= static_cast<uint8_t>(~(tcp_fin | tcp_psh));
		if (i > 0)
			tf &= static_cast<uint8_t>(~tcp_cwr);
		th->tcp_flags = tf;
		if (v4) {
			auto *ip = reinterpret_cast<rte_ipv4_hdr *>(d + l2);
			ip->total_length =
			    rte_cpu_to_be_16(static_cast<uint16_t>(l3 + l4 + seglen));
			ip->packet_id = rte_cpu_to_be_16(static_cast<uint16_t>(id0 + i));
		} else {
			auto *ip6 = reinterpret_cast<rte_ipv6_hdr *>(d + l2);
			ip6->payload_len = rte_cpu_to_be_16(
			    static_cast<uint16_t>(l3 - sizeof(rte_ipv6_hdr) + l4 + seglen));
		}
		/* The payload, over as many mbufs as the room asks. */
		uint32_t src = hdr + i * mss;
		chain_read(m, src, d + hdr, first - hdr);
		src += first - hdr;
		head->data_len = static_cast<uint16_t>(first);
		head->pkt_len = frame;
		head->nb_segs = 1;
		struct rte_mbuf *tail = head;
		b++;
		for (uint32_t done = first; done < frame; b++) {
			struct rte_mbuf *s = bufs[b];
			uint32_t c = std::min(frame - done, room);
			chain_read(m, src, rte_pktmbuf_mtod(s, void *), c);
			s->data_len = static_cast<uint16_t>(c);
			tail->next = s;
			tail = s;
			head->nb_segs++;
			src += c;
			done += c;
		}
		/* Its checksums, as the tx checksum offload does them. */
		head->l2_len = static_cast<uint8_t>(l2);
		head->l3_len = static_cast<uint16_t>(l3);
		head->l4_len = static_cast<uint8_t>(l4);
		head->ol_flags =
		    (v4 ? RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM : RTE_MBUF_F_TX_IPV6) |
		    RTE_MBUF_F_TX_TCP_CKSUM;
		tx_cksum(head);
		head->ol_flags = 0;
		if ((fl & RTE_MBUF_F_TX_VLAN) != 0) {
			head->vlan_tci = m->vlan_tci;
			head->ol_flags = RTE_MBUF_F_TX_VLAN;
		}
		out[i] = head;
	}
	return static_cast<int>(nseg);
}

bool vnet_tx_prepare(struct rte_mbuf *m) noexcept
{
	const uint64_t fl = m->ol_flags;
	const bool v4 = (fl & RTE_MBUF_F_TX_IPV4) != 0;
	const bool v6 = !v4 && (fl & RTE_MBUF_F_TX_IPV6) != 0;
	const uint32_t l2 = m->l2_len, l3 = m->l3_len;
	const uint64_t l4 = fl & RTE_MBUF_F_TX_L4_MASK;
	const bool tso = (fl & RTE_MBUF_F_TX_TCP_SEG) != 0;
	const bool udp = !tso && l4 == RTE_MBUF_F_TX_UDP_CKSUM;
	const bool tcp = tso || l4 == RTE_MBUF_F_TX_TCP_CKSUM;
	if ((!v4 && !v6) || l2 + l3 + (udp ? 8u : 20u) > m->data_len || (!udp && !tcp)) {
		if (tso)
			return false; /* a segmentation request without its headers */
		tx_cksum(m);	      /* nothing for the reader to finish: do what can be done */
		return true;
	}
	char *l3h = rte_pktmbuf_mtod_offset(m, char *, l2);
	if (tso) {
		/* The aggregate's lengths are the frame's: the reader's segmentation
		 * (the kernel's) starts from them. */
		if (v4)
			reinterpret_cast<rte_ipv4_hdr *>(l3h)->total_length =
			    rte_cpu_to_be_16(static_cast<uint16_t>(m->pkt_len - l2));
		else
			reinterpret_cast<rte_ipv6_hdr *>(l3h)->payload_len = rte_cpu_to_be_16(
			    static_cast<uint16_t>(m->pkt_len - l2 - sizeof(rte_ipv6_hdr)));
	}
	if (v4 && (fl & (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_SEG)) != 0) {
		auto *ip = reinterpret_cast<rte_ipv4_hdr *>(l3h);
		ip->hdr_checksum = 0;
		ip->hdr_checksum = static_cast<uint16_t>(~rte_raw_cksum(ip, l3));
		m->ol_flags &= ~RTE_MBUF_F_TX_IP_CKSUM;
	}
	uint16_t f = partial_field(m, l2, l3, v4, udp ? IPPROTO_UDP : IPPROTO_TCP);
	memcpy(l3h + l3 + (udp ? 6 : 16), &f, sizeof(f));
	return true;
}

void vnet_hdr_of(const struct rte_mbuf *m, struct rte_pmd_bsdtap_vnet_hdr *h) noexcept
{
	memset(h, 0, sizeof(*h));
	const uint64_t fl = m->ol_flags;
	const uint64_t l4 = fl & RTE_MBUF_F_TX_L4_MASK;
	if ((fl & RTE_MBUF_F_TX_TCP_SEG) != 0 || l4 == RTE_MBUF_F_TX_TCP_CKSUM ||
	    l4 == RTE_MBUF_F_TX_UDP_CKSUM) {
		/* A request the application made (vnet_tx_prepare put the partial
		 * sum in the field). */
		h->flags = RTE_PMD_BSDTAP_VNET_HDR_F_NEEDS_CSUM;
		h->csum_start = static_cast<uint16_t>(m->l2_len + m->l3_len);
		h->csum_offset =
		    l4 == RTE_MBUF_F_TX_UDP_CKSUM && (fl & RTE_MBUF_F_TX_TCP_SEG) == 0 ? 6 : 16;
		if ((fl & RTE_MBUF_F_TX_TCP_SEG) != 0) {
			h->gso_type = (fl & RTE_MBUF_F_TX_IPV6) != 0
					  ? RTE_PMD_BSDTAP_VNET_HDR_GSO_TCPV6
					  : RTE_PMD_BSDTAP_VNET_HDR_GSO_TCPV4;
			h->gso_size = m->tso_segsz;
			h->hdr_len = static_cast<uint16_t>(m->l2_len + m->l3_len + m->l4_len);
		}
		return;
	}
	const uint64_t v = fl & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	const bool lro = (fl & RTE_MBUF_F_RX_LRO) != 0 && m->tso_segsz != 0;
	if (v != RTE_MBUF_F_RX_L4_CKSUM_NONE && !lro) {
		if (v == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
			h->flags = RTE_PMD_BSDTAP_VNET_HDR_F_DATA_VALID;
		return;
	}
	/* A frame that arrived with its checksum left partial, or as an
	 * aggregate: it leaves the same way. */
	struct rte_net_hdr_lens hl;
	uint32_t pt;
	if (!parse(m, &hl, &pt))
		return;
	const uint32_t l4t = pt & RTE_PTYPE_L4_MASK;
	if (l4t != RTE_PTYPE_L4_TCP && (lro || l4t != RTE_PTYPE_L4_UDP))
		return;
	h->flags = RTE_PMD_BSDTAP_VNET_HDR_F_NEEDS_CSUM;
	h->csum_start = static_cast<uint16_t>(hl.l2_len + hl.l3_len);
	h->csum_offset = l4t == RTE_PTYPE_L4_UDP ? 6 : 16;
	if (lro) {
		h->gso_type = RTE_ETH_IS_IPV6_HDR(pt) ? RTE_PMD_BSDTAP_VNET_HDR_GSO_TCPV6
						      : RTE_PMD_BSDTAP_VNET_HDR_GSO_TCPV4;
		h->gso_size = m->tso_segsz;
		h->hdr_len = static_cast<uint16_t>(hl.l2_len + hl.l3_len + hl.l4_len);
	}
}

int vnet_rx_apply(const queue *q, struct rte_mbuf *m, const struct rte_pmd_bsdtap_vnet_hdr *h,
		  struct rte_mempool *mp, struct rte_mbuf **out, unsigned max_out) noexcept
{
	const uint32_t rxo = q->rx_offl.load(std::memory_order_relaxed);
	const uint8_t gso = h->gso_type & static_cast<uint8_t>(~RTE_PMD_BSDTAP_VNET_HDR_GSO_ECN);
	const bool needs = (h->flags & RTE_PMD_BSDTAP_VNET_HDR_F_NEEDS_CSUM) != 0;
	if (gso == RTE_PMD_BSDTAP_VNET_HDR_GSO_NONE) {
		out[0] = m;
		if (needs) {
			if ((rxo & RXO_CKSUM) != 0) {
				m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_NONE;
				return 1;
			}
			/* The application takes no verdicts: finish the sum here. */
			uint32_t s;
			if (!cksum::sum_mbuf(m, h->csum_start, m->pkt_len - h->csum_start, &s))
				return -EINVAL;
			uint16_t c = static_cast<uint16_t>(~cksum::fold(s));
			if (c == 0 && h->csum_offset == 6)
				c = 0xffff;
			if (!chain_write(m, h->csum_start + h->csum_offset, &c, sizeof(c)))
				return -EINVAL;
		} else if ((h->flags & RTE_PMD_BSDTAP_VNET_HDR_F_DATA_VALID) != 0 &&
			   (rxo & RXO_CKSUM) != 0) {
			m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
		}
		return 1;
	}
	if (!needs || h->gso_size == 0 ||
	    (gso != RTE_PMD_BSDTAP_VNET_HDR_GSO_TCPV4 && gso != RTE_PMD_BSDTAP_VNET_HDR_GSO_TCPV6))
		return -EINVAL; /* virtio: a GSO frame always leaves its checksum partial */
	struct rte_net_hdr_lens hl;
	uint32_t pt;
	if (!parse(m, &hl, &pt) || (pt & RTE_PTYPE_L4_MASK) != RTE_PTYPE_L4_TCP ||
	    RTE_ETH_IS_IPV6_HDR(pt) != (gso == RTE_PMD_BSDTAP_VNET_HDR_GSO_TCPV6) ||
	    hl.l2_len + hl.l3_len != h->csum_start || h->csum_offset != 16)
		return -EINVAL;
	const uint32_t lro_max = q->rx_lro_max.load(std::memory_order_relaxed);
	if (lro_max != 0 && m->pkt_len <= lro_max) {
		/* The application takes aggregates: one frame, its MSS beside it. */
		m->ol_flags |=
		    RTE_MBUF_F_RX_LRO | ((rxo & RXO_CKSUM) != 0 ? RTE_MBUF_F_RX_L4_CKSUM_NONE : 0);
		m->tso_segsz = h->gso_size;
		out[0] = m;
		return 1;
	}
	/* Cut into segments, each with its checksums done. */
	m->l2_len = static_cast<uint8_t>(hl.l2_len);
	m->l3_len = static_cast<uint16_t>(hl.l3_len);
	m->l4_len = static_cast<uint8_t>(hl.l4_len);
	m->tso_segsz = h->gso_size;
	m->ol_flags = RTE_MBUF_F_TX_TCP_SEG |
		      (RTE_ETH_IS_IPV6_HDR(pt) ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4);
	int k = tso_segment(m, mp, out, max_out);
	if (k < 0)
		return k;
	rte_pktmbuf_free(m);
	for (int i = 0; i < k; i++)
		out[i]->ol_flags = (rxo & RXO_CKSUM) != 0 ? RTE_MBUF_F_RX_L4_CKSUM_GOOD : 0;
	return k;
}

} // namespace bsdtap

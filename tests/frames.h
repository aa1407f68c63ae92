/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BT_FRAMES_H
#define BT_FRAMES_H

/*
 * Test frames with real headers: Ethernet (an optional VLAN tag), IPv4 (with
 * options) or IPv6, UDP, TCP or ICMP, built with every checksum right or
 * zero, and the checks on them: checksums summed here with a sum of this
 * file's own over the bytes a reader or the application sees, a TSO
 * request's segments, a vnet header's partial checksum finished.
 */

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>
#include <rte_ether.h>

#include "harness.h"
#include "rte_pmd_bsdtap.h"

namespace bt::frames
{

/* ------------------------------------------------------ frame building */

/* RFC 1071 over big-endian 16-bit words, folded, not complemented. */
inline uint32_t sum16(const uint8_t *p, size_t n, uint32_t s = 0)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += uint32_t{p[i]} << 8 | p[i + 1];
	if (n & 1)
		s += uint32_t{p[n - 1]} << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

inline uint16_t csum(const uint8_t *p, size_t n, uint32_t s = 0)
{
	return static_cast<uint16_t>(~sum16(p, n, s) & 0xffff);
}

inline void put16(std::vector<uint8_t> &f, size_t off, uint16_t v)
{
	f[off] = static_cast<uint8_t>(v >> 8);
	f[off + 1] = static_cast<uint8_t>(v);
}

inline uint16_t get16(const std::vector<uint8_t> &f, size_t off)
{
	return static_cast<uint16_t>(f[off] << 8 | f[off + 1]);
}

constexpr uint8_t UDP = 17, TCP = 6, ICMP = 1;

struct spec {
	bool v6 = false;
	uint8_t proto = UDP;
	size_t payload = 18;
	bool vlan = false;
	unsigned ip_opts = 0; /* 32-bit words of IPv4 options */
};

/* Where the layers of a built frame start. */
struct layout {
	size_t l2 = 0, l3 = 0, l4 = 0, l4_len = 0, end = 0;
};

inline layout layout_of(const spec &s)
{
	layout l;
	l.l2 = RTE_ETHER_HDR_LEN + (s.vlan ? 4 : 0);
	l.l3 = s.v6 ? 40 : 20 + 4 * s.ip_opts;
	l.l4 = l.l2 + l.l3;
	l.l4_len = (s.proto == TCP ? 20 : s.proto == UDP ? 8 : 8) + s.payload;
	l.end = l.l4 + l.l4_len;
	return l;
}

/* The L4 checksum's pseudo-header sum for the frame's addresses. */
inline uint32_t pseudo(const std::vector<uint8_t> &f, const spec &s, const layout &l)
{
	const uint8_t *ip = f.data() + l.l2;
	uint32_t p = s.v6 ? sum16(ip + 8, 32) : sum16(ip + 12, 8);
	p += s.proto;
	p += static_cast<uint32_t>(l.l4_len);
	return p;
}

inline size_t l4_field(uint8_t proto)
{
	return proto == TCP ? 16 : proto == UDP ? 6 : 2;
}

/* A frame with every checksum right (zero when fill is false). */
inline std::vector<uint8_t> build(const spec &s, bool fill = true)
{
	layout l = layout_of(s);
	std::vector<uint8_t> f(l.end, 0);
	const uint8_t mac[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
	memcpy(f.data(), mac, 12);
	size_t et = 12;
	if (s.vlan) {
		put16(f, 12, RTE_ETHER_TYPE_VLAN);
		put16(f, 14, 0x0064);
		et = 16;
	}
	put16(f, et, s.v6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4);
	uint8_t *ip = f.data() + l.l2;
	if (s.v6) {
		ip[0] = 0x60;
		put16(f, l.l2 + 4, static_cast<uint16_t>(l.l4_len));
		ip[6] = s.proto;
		ip[7] = 64;
		for (int i = 0; i < 16; i++) {
			ip[8 + i] = static_cast<uint8_t>(0x20 + i);
			ip[24 + i] = static_cast<uint8_t>(0x40 + i);
		}
	} else {
		ip[0] = static_cast<uint8_t>(0x45 + s.ip_opts);
		put16(f, l.l2 + 2, static_cast<uint16_t>(l.l3 + l.l4_len));
		put16(f, l.l2 + 4, 0x1234);
		ip[8] = 64;
		ip[9] = s.proto;
		const uint8_t a[8] = {198, 18, 0, 1, 198, 18, 1, 1};
		memcpy(ip + 12, a, 8);
		for (unsigned i = 0; i < 4 * s.ip_opts; i++)
			ip[20 + i] = 1; /* NOP options */
	}
	uint8_t *l4 = f.data() + l.l4;
	if (s.proto == UDP) {
		put16(f, l.l4, 1024);
		put16(f, l.l4 + 2, 2048);
		put16(f, l.l4 + 4, static_cast<uint16_t>(l.l4_len));
	} else if (s.proto == TCP) {
		put16(f, l.l4, 1024);
		put16(f, l.l4 + 2, 179);
		l4[12] = 0x50;
		l4[13] = 0x18;
		put16(f, l.l4 + 14, 4096);
	} else {
		l4[0] = 8; /* ICMP echo request */
	}
	for (size_t i = 0; i < s.payload; i++)
		f[l.end - s.payload + i] = static_cast<uint8_t>(i * 7 + 1);
	if (!fill)
		return f;
	if (!s.v6)
		put16(f, l.l2 + 10, csum(ip, l.l3));
	uint16_t c = s.proto == ICMP ? csum(l4, l.l4_len) : csum(l4, l.l4_len, pseudo(f, s, l));
	if (c == 0 && s.proto == UDP)
		c = 0xffff;
	put16(f, l.l4 + l4_field(s.proto), c);
	return f;
}

inline bool ip_ok(const std::vector<uint8_t> &f, const spec &s)
{
	layout l = layout_of(s);
	return sum16(f.data() + l.l2, l.l3) == 0xffff;
}

inline bool l4_ok(const std::vector<uint8_t> &f, const spec &s)
{
	layout l = layout_of(s);
	return sum16(f.data() + l.l4, l.l4_len, pseudo(f, s, l)) == 0xffff;
}

/* f with its L4 checksum field holding the pseudo-header's sum, folded
 * (a checksum left partial, as a vnet header's NEEDS_CSUM says). */
inline std::vector<uint8_t> partial(const std::vector<uint8_t> &f, const spec &s)
{
	layout l = layout_of(s);
	auto out = f;
	put16(out, l.l4 + l4_field(s.proto),
	      static_cast<uint16_t>(sum16(nullptr, 0, pseudo(f, s, l))));
	return out;
}

inline uint32_t get32(const std::vector<uint8_t> &f, size_t off)
{
	return uint32_t{get16(f, off)} << 16 | get16(f, off + 2);
}

/* The vnet header at the front of what a vnet-header read gave. */
inline rte_pmd_bsdtap_vnet_hdr hdr_of(const std::vector<uint8_t> &b)
{
	rte_pmd_bsdtap_vnet_hdr h{};
	memcpy(&h, b.data(), sizeof(h));
	return h;
}

/* The vnet header a writer puts before a TCP frame built from s whose
 * checksum it left partial (partial()): NEEDS_CSUM at the TCP checksum, and
 * with mss GSO of TCPv4 segments of mss bytes. */
inline rte_pmd_bsdtap_vnet_hdr tcp_vnet_hdr(const spec &s, uint16_t mss = 0)
{
	rte_pmd_bsdtap_vnet_hdr h{};
	h.flags = RTE_PMD_BSDTAP_VNET_HDR_F_NEEDS_CSUM;
	if (mss != 0) {
		h.gso_type = RTE_PMD_BSDTAP_VNET_HDR_GSO_TCPV4;
		h.gso_size = mss;
	}
	h.csum_start = static_cast<uint16_t>(layout_of(s).l4);
	h.csum_offset = 16;
	return h;
}

/* Finish a partial checksum as a vnet-header reader (the kernel) would:
 * the sum from csum_start over the rest, the field included. */
inline void finish(std::vector<uint8_t> &f, const rte_pmd_bsdtap_vnet_hdr &h)
{
	uint16_t c = csum(f.data() + h.csum_start, f.size() - h.csum_start);
	put16(f, h.csum_start + h.csum_offset, c);
}

/* Every segment of a cut TSO request against the original frame: its
 * headers the original's with its own lengths, sequence, flags and IP id,
 * every checksum right, the payloads in order making the original's. */
inline void check_segments(const std::vector<std::vector<uint8_t>> &got,
			   const std::vector<uint8_t> &f, const spec &s, uint16_t mss)
{
	layout l = layout_of(s);
	const size_t hdr = l.l4 + 20;
	const size_t payload = f.size() - hdr;
	ASSERT_EQ(got.size(), (payload + mss - 1) / mss);
	std::vector<uint8_t> data;
	for (size_t i = 0; i < got.size(); i++) {
		const auto &g = got[i];
		size_t seglen = i + 1 < got.size() ? mss : payload - (got.size() - 1) * mss;
		ASSERT_EQ(g.size(), hdr + seglen) << "segment " << i;
		spec gs = s;
		gs.payload = seglen;
		EXPECT_EQ(0, memcmp(g.data(), f.data(), 12)) << "MACs";
		if (!s.v6) {
			EXPECT_TRUE(ip_ok(g, gs)) << "IPv4 header checksum, segment " << i;
			EXPECT_EQ(get16(g, l.l2 + 2), l.l3 + 20 + seglen);
			EXPECT_EQ(get16(g, l.l2 + 4), static_cast<uint16_t>(0x1234 + i)) << "IP id";
		} else {
			EXPECT_EQ(get16(g, l.l2 + 4), 20 + seglen);
		}
		EXPECT_TRUE(l4_ok(g, gs)) << "TCP checksum, segment " << i;
		EXPECT_EQ(get32(g, l.l4 + 4), get32(f, l.l4 + 4) + i * mss) << "sequence";
		uint8_t fl = g[l.l4 + 13];
		uint8_t want = f[l.l4 + 13];
		if (i + 1 < got.size())
			want &= static_cast<uint8_t>(~0x09); /* FIN, PSH on the last only */
		if (i > 0)
			want &= static_cast<uint8_t>(~0x80); /* CWR on the first only */
		EXPECT_EQ(fl, want) << "TCP flags, segment " << i;
		data.insert(data.end(), g.begin() + static_cast<long>(hdr), g.end());
	}
	EXPECT_TRUE(std::equal(data.begin(), data.end(), f.begin() + static_cast<long>(hdr)))
	    << "the payloads in order are the request's";
}

/* An mbuf of frame f (built from s) that makes the tx request flags: its
 * header lengths (l4_len for UDP and TCP) from s, tso_segsz = mss, the data
 * in segments of seg bytes (0: the pool's data room). nullptr without mbufs. */
inline rte_mbuf *request(const std::vector<uint8_t> &f, const spec &s, uint64_t flags,
			 uint16_t seg = 0, uint16_t mss = 0)
{
	layout l = layout_of(s);
	rte_mbuf *m = bt::mbuf_of(f, seg);
	if (m == nullptr)
		return nullptr;
	m->ol_flags |= flags;
	m->l2_len = static_cast<uint8_t>(l.l2);
	m->l3_len = static_cast<uint16_t>(l.l3);
	m->l4_len = s.proto == TCP ? 20 : s.proto == UDP ? 8 : 0;
	m->tso_segsz = mss;
	return m;
}

} // namespace bt::frames

#endif

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Offloads and capabilities: what dev_infos_get reports holds (rx buffer
 * minimum, scattered rx, speed), what is not offered is refused by ethdev,
 * and the checksum offloads: a reader's frames get the verdict their bytes
 * deserve on a port that enabled rx checksums; an application's tx checksum
 * requests reach the reader as correct checksums. The checksums are checked
 * here with a sum of this file's own, over the bytes the reader sees.
 */

#include <cstring>
#include <string>
#include <vector>

#include <ethdev_driver.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "harness.h"
#include "rte_pmd_bsdtap.h"

namespace
{

/* ------------------------------------------------------ frame building */

/* RFC 1071 over big-endian 16-bit words, folded, not complemented. */
uint32_t sum16(const uint8_t *p, size_t n, uint32_t s = 0)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += uint32_t{p[i]} << 8 | p[i + 1];
	if (n & 1)
		s += uint32_t{p[n - 1]} << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

uint16_t csum(const uint8_t *p, size_t n, uint32_t s = 0)
{
	return static_cast<uint16_t>(~sum16(p, n, s) & 0xffff);
}

void put16(std::vector<uint8_t> &f, size_t off, uint16_t v)
{
	f[off] = static_cast<uint8_t>(v >> 8);
	f[off + 1] = static_cast<uint8_t>(v);
}

uint16_t get16(const std::vector<uint8_t> &f, size_t off)
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

layout layout_of(const spec &s)
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
uint32_t pseudo(const std::vector<uint8_t> &f, const spec &s, const layout &l)
{
	const uint8_t *ip = f.data() + l.l2;
	uint32_t p = s.v6 ? sum16(ip + 8, 32) : sum16(ip + 12, 8);
	p += s.proto;
	p += static_cast<uint32_t>(l.l4_len);
	return p;
}

size_t l4_field(uint8_t proto)
{
	return proto == TCP ? 16 : proto == UDP ? 6 : 2;
}

/* A frame with every checksum right (zero when fill is false). */
std::vector<uint8_t> build(const spec &s, bool fill = true)
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

bool ip_ok(const std::vector<uint8_t> &f, const spec &s)
{
	layout l = layout_of(s);
	return sum16(f.data() + l.l2, l.l3) == 0xffff;
}

bool l4_ok(const std::vector<uint8_t> &f, const spec &s)
{
	layout l = layout_of(s);
	return sum16(f.data() + l.l4, l.l4_len, pseudo(f, s, l)) == 0xffff;
}

/* ------------------------------------------------------------ fixture */

class Offload : public bt::PortTest
{
protected:
	std::string name_;
	uint16_t port_ = 0;
	rte_pmd_bsdtap_reader *r_ = nullptr;

	/* A port with these offloads, started, and a reader on queue 0. */
	void open_port(uint64_t rx, uint64_t tx, rte_mempool *mp = nullptr)
	{
		name_ = bt::unique_name();
		int p = bt::create(name_, "");
		ASSERT_GE(p, 0);
		ports_.push_back(name_);
		port_ = static_cast<uint16_t>(p);
		rte_eth_conf conf{};
		conf.rxmode.offloads = rx;
		conf.txmode.offloads = tx;
		ASSERT_EQ(rte_eth_dev_configure(port_, 1, 1, &conf), 0);
		ASSERT_EQ(rte_eth_rx_queue_setup(port_, 0, 256, rte_socket_id(), nullptr,
						 mp != nullptr ? mp : bt::pool()),
			  0);
		ASSERT_EQ(rte_eth_tx_queue_setup(port_, 0, 256, rte_socket_id(), nullptr), 0);
		ASSERT_EQ(rte_eth_dev_start(port_), 0);
		r_ = rte_pmd_bsdtap_open(name_.c_str(), 0, 0);
		ASSERT_NE(r_, nullptr);
	}

	void TearDown() override
	{
		if (r_ != nullptr) {
			EXPECT_EQ(rte_pmd_bsdtap_close(&r_), 0);
		}
		bt::PortTest::TearDown();
	}

	/* The reader writes f; the ol_flags the application receives it with. */
	uint64_t rx_flags(const std::vector<uint8_t> &f)
	{
		EXPECT_EQ(rte_pmd_bsdtap_write(r_, f.data(), f.size()),
			  static_cast<ssize_t>(f.size()));
		auto got = bt::rx_wait(port_, 0, 1);
		EXPECT_EQ(got.size(), 1u);
		if (got.empty())
			return ~uint64_t{0};
		uint64_t fl = got[0]->ol_flags;
		EXPECT_EQ(bt::bytes_of(got[0]), f) << "the frame changed on its way";
		bt::free_all(got);
		return fl;
	}

	/* The application transmits f with these tx flags; what the reader reads. */
	std::vector<uint8_t> tx_read(const std::vector<uint8_t> &f, const spec &s, uint64_t flags,
				     uint16_t seg = 0)
	{
		layout l = layout_of(s);
		rte_mbuf *m = bt::mbuf_of(f, seg);
		EXPECT_NE(m, nullptr);
		if (m == nullptr)
			return {};
		m->ol_flags |= flags;
		m->l2_len = static_cast<uint8_t>(l.l2);
		m->l3_len = static_cast<uint16_t>(l.l3);
		EXPECT_EQ(bt::tx1(port_, 0, m), 1);
		std::vector<uint8_t> out(RTE_PMD_BSDTAP_MRU);
		ssize_t n = rte_pmd_bsdtap_read(r_, out.data(), out.size());
		EXPECT_EQ(n, static_cast<ssize_t>(f.size()));
		out.resize(n > 0 ? static_cast<size_t>(n) : 0);
		return out;
	}
};

constexpr uint64_t rx_ck =
    RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
constexpr uint64_t tx_ck =
    RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;

uint64_t ipf(uint64_t fl)
{
	return fl & RTE_MBUF_F_RX_IP_CKSUM_MASK;
}

uint64_t l4f(uint64_t fl)
{
	return fl & RTE_MBUF_F_RX_L4_CKSUM_MASK;
}

} // namespace

/* ------------------------------------------------------- capabilities */

TEST_F(Offload, CapabilitiesAreWhatTheDriverDoes)
{
	int p = make(bt::unique_name(), "", false);
	ASSERT_GE(p, 0);
	rte_eth_dev_info info;
	ASSERT_EQ(rte_eth_dev_info_get(p, &info), 0);
	EXPECT_EQ(info.rx_offload_capa & rx_ck, rx_ck);
	EXPECT_EQ(info.tx_offload_capa & tx_ck, tx_ck);
	EXPECT_EQ(info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_CHECKSUM, RTE_ETH_RX_OFFLOAD_CHECKSUM);
	/* not offered (yet): segmentation, VLAN, RSS */
	EXPECT_EQ(info.tx_offload_capa & (RTE_ETH_TX_OFFLOAD_TCP_TSO | RTE_ETH_TX_OFFLOAD_UDP_TSO |
					  RTE_ETH_TX_OFFLOAD_VLAN_INSERT),
		  0u);
	EXPECT_EQ(info.rx_offload_capa &
		      (RTE_ETH_RX_OFFLOAD_VLAN_STRIP | RTE_ETH_RX_OFFLOAD_RSS_HASH),
		  0u);
	EXPECT_EQ(info.flow_type_rss_offloads, 0u);
	/* the link's speed, named: 10G by default */
	EXPECT_EQ(info.speed_capa & RTE_ETH_LINK_SPEED_10G, RTE_ETH_LINK_SPEED_10G);
	EXPECT_EQ(info.speed_capa & ~(RTE_ETH_LINK_SPEED_10G | RTE_ETH_LINK_SPEED_FIXED), 0u);
}

/* min_rx_bufsize is the data room past the headroom that rx queue setup
 * requires: one byte less is refused, exactly that is accepted. */
TEST_F(Offload, MinRxBufsizeIsWhatQueueSetupEnforces)
{
	int p = make(bt::unique_name(), "", false);
	ASSERT_GE(p, 0);
	rte_eth_dev_info info;
	ASSERT_EQ(rte_eth_dev_info_get(p, &info), 0);
	EXPECT_EQ(info.min_rx_bufsize, uint32_t{RTE_ETHER_MIN_LEN});
	rte_eth_conf conf{};
	ASSERT_EQ(rte_eth_dev_configure(p, 1, 1, &conf), 0);
	rte_mempool *under = rte_pktmbuf_pool_create(
	    "bt_min_under", 63, 0, 0,
	    static_cast<uint16_t>(RTE_PKTMBUF_HEADROOM + info.min_rx_bufsize - 1), rte_socket_id());
	rte_mempool *exact = rte_pktmbuf_pool_create(
	    "bt_min_exact", 63, 0, 0,
	    static_cast<uint16_t>(RTE_PKTMBUF_HEADROOM + info.min_rx_bufsize), rte_socket_id());
	ASSERT_NE(under, nullptr);
	ASSERT_NE(exact, nullptr);
	EXPECT_EQ(rte_eth_rx_queue_setup(p, 0, 64, 0, nullptr, under), -EINVAL);
	EXPECT_EQ(rte_eth_rx_queue_setup(p, 0, 64, 0, nullptr, exact), 0);
	EXPECT_EQ(bt::destroy(ports_.back()), 0);
	ports_.clear();
	rte_mempool_free(under);
	rte_mempool_free(exact);
}

/* What ethdev's telemetry reports as the port's scattered_rx is what the rx
 * queue info says: on, since a reader's write chains mbufs regardless. */
TEST_F(Offload, ScatteredRxAgreesWithTheQueueInfo)
{
	int p = make(bt::unique_name());
	ASSERT_GE(p, 0);
	rte_eth_rxq_info qi{};
	ASSERT_EQ(rte_eth_rx_queue_info_get(p, 0, &qi), 0);
	EXPECT_EQ(qi.scattered_rx, 1);
	EXPECT_EQ(rte_eth_devices[p].data->scattered_rx, qi.scattered_rx);
}

TEST_F(Offload, SpeedCapaFollowsTapsifinfo)
{
	open_port(0, 0);
	rte_pmd_bsdtap_info set{};
	ASSERT_EQ(rte_pmd_bsdtap_ioctl(r_, RTE_PMD_BSDTAP_TAPGIFINFO, &set), 0);
	set.baudrate = 1000ULL * 1000 * 1000;
	ASSERT_EQ(rte_pmd_bsdtap_ioctl(r_, RTE_PMD_BSDTAP_TAPSIFINFO, &set), 0);
	rte_eth_dev_info info;
	ASSERT_EQ(rte_eth_dev_info_get(port_, &info), 0);
	EXPECT_EQ(info.speed_capa, RTE_ETH_LINK_SPEED_FIXED | RTE_ETH_LINK_SPEED_1G);
	set.baudrate = 123ULL * 1000 * 1000; /* a speed ethdev has no name for */
	ASSERT_EQ(rte_pmd_bsdtap_ioctl(r_, RTE_PMD_BSDTAP_TAPSIFINFO, &set), 0);
	ASSERT_EQ(rte_eth_dev_info_get(port_, &info), 0);
	EXPECT_EQ(info.speed_capa, RTE_ETH_LINK_SPEED_FIXED);
}

/* An offload the port does not offer: ethdev refuses the configuration. */
TEST_F(Offload, UnofferedOffloadIsRefused)
{
	int p = make(bt::unique_name(), "", false);
	ASSERT_GE(p, 0);
	struct {
		uint64_t rx, tx;
		const char *what;
	} cases[] = {
	    {RTE_ETH_RX_OFFLOAD_VLAN_STRIP, 0, "rx VLAN strip"},
	    {RTE_ETH_RX_OFFLOAD_TCP_LRO, 0, "rx LRO"},
	    {0, RTE_ETH_TX_OFFLOAD_TCP_TSO, "tx TSO"},
	    {0, RTE_ETH_TX_OFFLOAD_VLAN_INSERT, "tx VLAN insert"},
	    {0, RTE_ETH_TX_OFFLOAD_OUTER_IPV4_CKSUM, "tx outer IPv4 checksum"},
	};
	for (auto &c : cases) {
		rte_eth_conf conf{};
		conf.rxmode.offloads = c.rx;
		conf.txmode.offloads = c.tx;
		EXPECT_EQ(rte_eth_dev_configure(p, 1, 1, &conf), -EINVAL) << c.what;
	}
	rte_eth_conf rss{};
	rss.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
	rss.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_IP;
	EXPECT_EQ(rte_eth_dev_configure(p, 1, 1, &rss), -EINVAL) << "RSS";
	rte_eth_conf ok{};
	ok.rxmode.offloads = rx_ck;
	ok.txmode.offloads = tx_ck;
	EXPECT_EQ(rte_eth_dev_configure(p, 1, 1, &ok), 0) << "the checksums are offered";
}

/* ---------------------------------------------------- rx checksum verdicts */

TEST_F(Offload, RxGoodChecksumsSayGood)
{
	open_port(rx_ck, 0);
	for (spec s : {spec{}, spec{.proto = TCP}, spec{.proto = UDP, .vlan = true},
		       spec{.proto = TCP, .ip_opts = 2}, spec{.proto = UDP, .payload = 1400}}) {
		auto f = build(s);
		ASSERT_TRUE(ip_ok(f, s) && l4_ok(f, s));
		uint64_t fl = rx_flags(f);
		EXPECT_EQ(ipf(fl), RTE_MBUF_F_RX_IP_CKSUM_GOOD) << "proto " << int{s.proto};
		EXPECT_EQ(l4f(fl), RTE_MBUF_F_RX_L4_CKSUM_GOOD) << "proto " << int{s.proto};
	}
}

TEST_F(Offload, RxBadIpv4HeaderSaysBad)
{
	open_port(rx_ck, 0);
	spec s;
	auto f = build(s);
	f[layout_of(s).l2 + 10] ^= 0x5a; /* the header checksum */
	uint64_t fl = rx_flags(f);
	EXPECT_EQ(ipf(fl), RTE_MBUF_F_RX_IP_CKSUM_BAD);
	EXPECT_EQ(l4f(fl), RTE_MBUF_F_RX_L4_CKSUM_GOOD) << "the datagram itself is intact";
}

TEST_F(Offload, RxBadUdpAndTcpSayBad)
{
	open_port(rx_ck, 0);
	for (uint8_t proto : {UDP, TCP}) {
		spec s{.proto = proto};
		auto f = build(s);
		f.back() ^= 0x01; /* a payload byte */
		uint64_t fl = rx_flags(f);
		EXPECT_EQ(ipf(fl), RTE_MBUF_F_RX_IP_CKSUM_GOOD) << int{proto};
		EXPECT_EQ(l4f(fl), RTE_MBUF_F_RX_L4_CKSUM_BAD) << int{proto};
	}
	/* IPv6 has no header checksum: only the L4 verdict */
	for (uint8_t proto : {UDP, TCP}) {
		spec s{.v6 = true, .proto = proto};
		auto f = build(s);
		uint64_t fl = rx_flags(f);
		EXPECT_EQ(ipf(fl), RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN);
		EXPECT_EQ(l4f(fl), RTE_MBUF_F_RX_L4_CKSUM_GOOD) << "IPv6 " << int{proto};
		f[layout_of(s).l4 + l4_field(proto)] ^= 0x10;
		EXPECT_EQ(l4f(rx_flags(f)), RTE_MBUF_F_RX_L4_CKSUM_BAD) << "IPv6 " << int{proto};
	}
}

/* Ethernet pads a short datagram to 60 bytes: the sum covers the datagram's
 * own length, so non-zero padding does not spoil it; a datagram longer than
 * the frame is bad. */
TEST_F(Offload, RxPaddingIsNotSummedATruncatedDatagramIsBad)
{
	open_port(rx_ck, 0);
	spec s{.proto = UDP, .payload = 2};
	auto f = build(s);
	ASSERT_LT(f.size(), 60u);
	f.resize(60, 0xee);
	uint64_t fl = rx_flags(f);
	EXPECT_EQ(ipf(fl), RTE_MBUF_F_RX_IP_CKSUM_GOOD);
	EXPECT_EQ(l4f(fl), RTE_MBUF_F_RX_L4_CKSUM_GOOD);
	spec big{.proto = TCP, .payload = 200};
	auto t = build(big);
	t.resize(t.size() - 100);
	fl = rx_flags(t);
	EXPECT_EQ(ipf(fl), RTE_MBUF_F_RX_IP_CKSUM_GOOD);
	EXPECT_EQ(l4f(fl), RTE_MBUF_F_RX_L4_CKSUM_BAD);
}

/* A frame over the pool's data room arrives as a chain; the L4 sum runs
 * over its segments, of even and of odd lengths. */
TEST_F(Offload, RxChainedFrameIsVerified)
{
	rte_mempool *odd = rte_pktmbuf_pool_create("bt_odd_room", 255, 0, 0,
						   RTE_PKTMBUF_HEADROOM + 333, rte_socket_id());
	ASSERT_NE(odd, nullptr);
	for (rte_mempool *mp : {bt::pool(), odd}) {
		open_port(rx_ck, 0, mp);
		spec s{.proto = UDP, .payload = 3000};
		auto f = build(s);
		uint64_t fl = rx_flags(f);
		EXPECT_EQ(l4f(fl), RTE_MBUF_F_RX_L4_CKSUM_GOOD) << mp->name;
		f[f.size() - 10] ^= 0x80;
		EXPECT_EQ(l4f(rx_flags(f)), RTE_MBUF_F_RX_L4_CKSUM_BAD) << mp->name;
		ASSERT_EQ(rte_pmd_bsdtap_close(&r_), 0);
		ASSERT_EQ(bt::destroy(name_), 0);
		ports_.clear();
	}
	rte_mempool_free(odd);
}

TEST_F(Offload, RxWhatIsNotIpv4UdpTcpIsUnknown)
{
	open_port(rx_ck, 0);
	/* ARP: no IP */
	std::vector<uint8_t> arp(60, 0);
	memset(arp.data(), 0xff, 6);
	arp[6] = 2;
	put16(arp, 12, RTE_ETHER_TYPE_ARP);
	uint64_t fl = rx_flags(arp);
	EXPECT_EQ(ipf(fl), RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN);
	EXPECT_EQ(l4f(fl), RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN);
	/* ICMP: the IP header is judged, the L4 is not UDP/TCP */
	spec icmp{.proto = ICMP};
	fl = rx_flags(build(icmp));
	EXPECT_EQ(ipf(fl), RTE_MBUF_F_RX_IP_CKSUM_GOOD);
	EXPECT_EQ(l4f(fl), RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN);
	/* UDP over IPv4 sent without a checksum (zero) */
	spec s;
	auto f = build(s);
	put16(f, layout_of(s).l4 + 6, 0);
	fl = rx_flags(f);
	EXPECT_EQ(ipf(fl), RTE_MBUF_F_RX_IP_CKSUM_GOOD);
	EXPECT_EQ(l4f(fl), RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN);
	/* an IPv4 fragment: its datagram is not whole here */
	f = build(s);
	layout l = layout_of(s);
	put16(f, l.l2 + 6, 0x2000); /* more fragments */
	put16(f, l.l2 + 10, 0);
	put16(f, l.l2 + 10, csum(f.data() + l.l2, l.l3));
	fl = rx_flags(f);
	EXPECT_EQ(ipf(fl), RTE_MBUF_F_RX_IP_CKSUM_GOOD);
	EXPECT_EQ(l4f(fl), RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN);
}

/* Without the offload enabled the port runs the plain burst: no verdict. */
TEST_F(Offload, RxWithoutTheOffloadGivesNoVerdict)
{
	open_port(0, 0);
	spec s;
	auto f = build(s);
	f[layout_of(s).l2 + 10] ^= 0x5a;
	uint64_t fl = rx_flags(f);
	EXPECT_EQ(ipf(fl), RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN);
	EXPECT_EQ(l4f(fl), RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN);
}

/* -------------------------------------------------- tx checksum requests */

TEST_F(Offload, TxChecksumsReachTheReaderCorrect)
{
	open_port(0, tx_ck);
	struct tcase {
		spec s;
		uint64_t flags;
		uint16_t seg;
	} cases[] = {
	    {spec{.proto = UDP},
	     RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM, 0},
	    {spec{.proto = TCP},
	     RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM, 0},
	    {spec{.proto = TCP, .ip_opts = 3},
	     RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM, 0},
	    {spec{.proto = UDP, .vlan = true},
	     RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM, 0},
	    {spec{.v6 = true, .proto = UDP}, RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM, 0},
	    {spec{.v6 = true, .proto = TCP}, RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_TCP_CKSUM, 0},
	    /* the L4 data over several segments (headers in the first) */
	    {spec{.proto = TCP, .payload = 1400},
	     RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM, 128},
	    {spec{.proto = UDP, .payload = 999},
	     RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM, 77},
	};
	for (auto &c : cases) {
		auto f = build(c.s, false);
		auto got = tx_read(f, c.s, c.flags, c.seg);
		ASSERT_EQ(got.size(), f.size());
		if (!c.s.v6) {
			EXPECT_TRUE(ip_ok(got, c.s)) << "IPv4 header, proto " << int{c.s.proto};
		}
		EXPECT_TRUE(l4_ok(got, c.s)) << (c.s.v6 ? "IPv6" : "IPv4") << " proto "
					     << int{c.s.proto} << " seg " << c.seg;
		EXPECT_EQ(got, build(c.s, true)) << "only the checksums differ from the request";
	}
}

/* Whatever the checksum fields held (the pseudo-header sum some NICs want
 * there, or garbage), the result is the same. */
TEST_F(Offload, TxIgnoresWhatTheFieldsHeld)
{
	open_port(0, tx_ck);
	spec s{.proto = TCP};
	layout l = layout_of(s);
	auto f = build(s, false);
	put16(f, l.l2 + 10, 0xbeef);
	put16(f, l.l4 + 16, static_cast<uint16_t>(sum16(nullptr, 0, pseudo(f, s, l))));
	auto got =
	    tx_read(f, s, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM);
	EXPECT_EQ(got, build(s, true));
}

/* Only what was asked: the IPv4 header alone leaves the L4 field as it was,
 * and the L4 alone leaves the header's. */
TEST_F(Offload, TxDoesOnlyWhatIsAsked)
{
	open_port(0, tx_ck);
	spec s{.proto = UDP};
	layout l = layout_of(s);
	auto f = build(s, false);
	auto got = tx_read(f, s, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM);
	EXPECT_TRUE(ip_ok(got, s));
	EXPECT_EQ(get16(got, l.l4 + 6), 0);
	got = tx_read(f, s, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM);
	EXPECT_EQ(get16(got, l.l2 + 10), 0);
	EXPECT_TRUE(l4_ok(got, s));
}

/* A zero-copy reader gets the mbuf with the checksums in and the requests
 * cleared (they were done). */
TEST_F(Offload, TxZeroCopyReaderSeesFinishedMbuf)
{
	open_port(0, tx_ck);
	spec s{.proto = TCP};
	layout l = layout_of(s);
	rte_mbuf *m = bt::mbuf_of(build(s, false));
	ASSERT_NE(m, nullptr);
	m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;
	m->l2_len = static_cast<uint8_t>(l.l2);
	m->l3_len = static_cast<uint16_t>(l.l3);
	ASSERT_EQ(bt::tx1(port_, 0, m), 1);
	rte_mbuf *got[1];
	ASSERT_EQ(rte_pmd_bsdtap_recv_burst(r_, got, 1), 1);
	EXPECT_EQ(got[0]->ol_flags & (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK), 0u);
	EXPECT_EQ(bt::bytes_of(got[0]), build(s, true));
	rte_pmd_bsdtap_free_burst(r_, got, 1);
}

/* Without the offload enabled the port runs the plain burst: the flags are
 * not looked at and the frame goes as the application made it. */
TEST_F(Offload, TxWithoutTheOffloadSendsTheFrameAsIs)
{
	open_port(0, 0);
	spec s{.proto = UDP};
	auto f = build(s, false);
	auto got =
	    tx_read(f, s, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM);
	EXPECT_EQ(got, f);
}

/* Echo through a port with both: what the application sent with requests
 * comes back with good verdicts. */
TEST_F(Offload, EchoWithBothOffloadsComesBackGood)
{
	std::string name = bt::unique_name();
	int p = bt::create(name, "reader=echo");
	ASSERT_GE(p, 0);
	ports_.push_back(name);
	rte_eth_conf conf{};
	conf.rxmode.offloads = rx_ck;
	conf.txmode.offloads = tx_ck;
	ASSERT_EQ(rte_eth_dev_configure(p, 1, 1, &conf), 0);
	ASSERT_EQ(rte_eth_rx_queue_setup(p, 0, 256, rte_socket_id(), nullptr, bt::pool()), 0);
	ASSERT_EQ(rte_eth_tx_queue_setup(p, 0, 256, rte_socket_id(), nullptr), 0);
	ASSERT_EQ(rte_eth_dev_start(p), 0);
	spec s{.proto = TCP};
	layout l = layout_of(s);
	rte_mbuf *m = bt::mbuf_of(build(s, false));
	ASSERT_NE(m, nullptr);
	m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;
	m->l2_len = static_cast<uint8_t>(l.l2);
	m->l3_len = static_cast<uint16_t>(l.l3);
	ASSERT_EQ(bt::tx1(static_cast<uint16_t>(p), 0, m), 1);
	auto got = bt::rx_wait(static_cast<uint16_t>(p), 0, 1);
	ASSERT_EQ(got.size(), 1u);
	EXPECT_EQ(ipf(got[0]->ol_flags), RTE_MBUF_F_RX_IP_CKSUM_GOOD);
	EXPECT_EQ(l4f(got[0]->ol_flags), RTE_MBUF_F_RX_L4_CKSUM_GOOD);
	bt::free_all(got);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Offloads and capabilities: what dev_infos_get reports holds (rx buffer
 * minimum, scattered rx, speed), what is not offered is refused by ethdev,
 * and the checksum offloads: a reader's frames get the verdict their bytes
 * deserve on a port that enabled rx checksums; an application's tx checksum
 * requests reach the reader as correct checksums. The checksums are checked
 * here with a sum of this file's own, over the bytes the reader sees.
 */

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include <ethdev_driver.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "frames.h"
#include "harness.h"
#include "rte_pmd_bsdtap.h"

using namespace bt::frames;

namespace
{

/* ------------------------------------------------------------ fixture */

class Offload : public bt::PortTest
{
protected:
	std::string name_;
	uint16_t port_ = 0;
	rte_pmd_bsdtap_reader *r_ = nullptr;

	/* A port with these devargs and offloads (and LRO's largest
	 * aggregate), started. */
	void start_port(const char *devargs, uint64_t rx, uint64_t tx, rte_mempool *mp = nullptr,
			uint32_t lro_max = 0)
	{
		name_ = bt::unique_name();
		int p = bt::create(name_, devargs);
		ASSERT_GE(p, 0);
		ports_.push_back(name_);
		port_ = p;
		rte_eth_conf conf{};
		conf.rxmode.offloads = rx;
		conf.rxmode.max_lro_pkt_size = lro_max;
		conf.txmode.offloads = tx;
		ASSERT_EQ(rte_eth_dev_configure(port_, 1, 1, &conf), 0);
		ASSERT_EQ(rte_eth_rx_queue_setup(port_, 0, 256, rte_socket_id(), nullptr,
						 mp != nullptr ? mp : bt::pool()),
			  0);
		ASSERT_EQ(rte_eth_tx_queue_setup(port_, 0, 256, rte_socket_id(), nullptr), 0);
		ASSERT_EQ(rte_eth_dev_start(port_), 0);
	}

	/* The same, and a reader on queue 0. */
	void open_port(uint64_t rx, uint64_t tx, rte_mempool *mp = nullptr,
		       const char *devargs = "", uint32_t lro_max = 0)
	{
		ASSERT_NO_FATAL_FAILURE(start_port(devargs, rx, tx, mp, lro_max));
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
		rte_mbuf *m = request(f, s, flags, seg);
		EXPECT_NE(m, nullptr);
		if (m == nullptr)
			return {};
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
	/* TCP segmentation, LRO and VLAN tags, in software */
	const uint64_t tx_more = RTE_ETH_TX_OFFLOAD_TCP_TSO | RTE_ETH_TX_OFFLOAD_VLAN_INSERT;
	const uint64_t rx_more = RTE_ETH_RX_OFFLOAD_VLAN_STRIP | RTE_ETH_RX_OFFLOAD_TCP_LRO;
	EXPECT_EQ(info.tx_offload_capa & tx_more, tx_more);
	EXPECT_EQ(info.rx_offload_capa & rx_more, rx_more);
	EXPECT_EQ(info.max_lro_pkt_size, uint32_t{RTE_PMD_BSDTAP_GSO_MAX - 1});
	/* not offered: UDP segmentation, tunnels, QinQ, RSS */
	EXPECT_EQ(info.tx_offload_capa &
		      (RTE_ETH_TX_OFFLOAD_UDP_TSO | RTE_ETH_TX_OFFLOAD_QINQ_INSERT |
		       RTE_ETH_TX_OFFLOAD_VXLAN_TNL_TSO | RTE_ETH_TX_OFFLOAD_OUTER_IPV4_CKSUM),
		  0u);
	EXPECT_EQ(info.rx_offload_capa &
		      (RTE_ETH_RX_OFFLOAD_QINQ_STRIP | RTE_ETH_RX_OFFLOAD_VLAN_FILTER |
		       RTE_ETH_RX_OFFLOAD_RSS_HASH),
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
	    {RTE_ETH_RX_OFFLOAD_QINQ_STRIP, 0, "rx QinQ strip"},
	    {RTE_ETH_RX_OFFLOAD_VLAN_FILTER, 0, "rx VLAN filter"},
	    {0, RTE_ETH_TX_OFFLOAD_UDP_TSO, "tx UDP segmentation"},
	    {0, RTE_ETH_TX_OFFLOAD_QINQ_INSERT, "tx QinQ insert"},
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
	rte_mbuf *m =
	    request(build(s, false), s,
		    RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM);
	ASSERT_NE(m, nullptr);
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
	ASSERT_NO_FATAL_FAILURE(start_port("reader=echo", rx_ck, tx_ck));
	const uint16_t p = port_;
	spec s{.proto = TCP};
	rte_mbuf *m =
	    request(build(s, false), s,
		    RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM);
	ASSERT_NE(m, nullptr);
	ASSERT_EQ(bt::tx1(p, 0, m), 1);
	auto got = bt::rx_wait(p, 0, 1);
	ASSERT_EQ(got.size(), 1u);
	EXPECT_EQ(ipf(got[0]->ol_flags), RTE_MBUF_F_RX_IP_CKSUM_GOOD);
	EXPECT_EQ(l4f(got[0]->ol_flags), RTE_MBUF_F_RX_L4_CKSUM_GOOD);
	bt::free_all(got);
}

/* ------------------------------------------- TCP segmentation and the vnet header */

namespace
{

constexpr uint64_t v4_tso = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_SEG;
constexpr uint64_t v6_tso = RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_TCP_SEG;

/* The application transmits a TSO request for frame f (built from s). */
uint16_t tx_tso(uint16_t port, const std::vector<uint8_t> &f, const spec &s, uint16_t mss,
		uint64_t flags, uint16_t seg = 1024)
{
	rte_mbuf *m = request(f, s, flags, seg, mss);
	return m == nullptr ? 0 : bt::tx1(port, 0, m);
}

} // namespace

class Tso : public Offload
{
protected:
	/* What a plain reader reads, frame by frame, until the devq is empty. */
	std::vector<std::vector<uint8_t>> read_all(size_t bufsize = RTE_PMD_BSDTAP_MRU)
	{
		std::vector<std::vector<uint8_t>> out;
		int nb = 1;
		EXPECT_EQ(rte_pmd_bsdtap_ioctl(r_, RTE_PMD_BSDTAP_FIONBIO, &nb), 0);
		for (;;) {
			std::vector<uint8_t> b(bufsize);
			ssize_t n = rte_pmd_bsdtap_read(r_, b.data(), b.size());
			if (n < 0)
				break;
			b.resize(static_cast<size_t>(n));
			out.push_back(b);
		}
		return out;
	}

	void set_vnet(int len)
	{
		ASSERT_EQ(rte_pmd_bsdtap_ioctl(r_, RTE_PMD_BSDTAP_TAPSVNETHDR, &len), 0);
	}

	/* The reader writes header h and frame f. */
	ssize_t vwrite(const rte_pmd_bsdtap_vnet_hdr &h, const std::vector<uint8_t> &f)
	{
		iovec iov[2] = {{const_cast<rte_pmd_bsdtap_vnet_hdr *>(&h), sizeof(h)},
				{const_cast<uint8_t *>(f.data()), f.size()}};
		return rte_pmd_bsdtap_writev(r_, iov, 2);
	}
};

/* A plain reader gets MSS-sized frames with correct checksums. */
TEST_F(Tso, TxPlainReaderGetsSegments)
{
	open_port(0, tx_ck | RTE_ETH_TX_OFFLOAD_TCP_TSO);
	unsigned base = bt::in_use();
	for (bool v6 : {false, true}) {
		spec s{.v6 = v6, .proto = TCP, .payload = 10000};
		auto f = build(s, false);
		f[layout_of(s).l4 + 13] = 0x19 | 0x80; /* ACK, PSH, FIN and CWR */
		ASSERT_EQ(tx_tso(port_, f, s, 1448, v6 ? v6_tso : v4_tso), 1);
		auto got = read_all();
		check_segments(got, f, s, 1448);
	}
	EXPECT_EQ(bt::xstat(port_, "tx_good_packets"), 14u);
	ASSERT_EQ(rte_eth_dev_stop(port_), 0); /* frees what the reads handed back */
	EXPECT_EQ(bt::in_use(), base) << "the request's mbufs were freed";
}

/* Segments longer than the pool's data room are chains; the request's
 * own mbufs may be too (headers in the first). */
TEST_F(Tso, TxSegmentsLargerThanTheDataRoom)
{
	open_port(0, RTE_ETH_TX_OFFLOAD_TCP_TSO);
	spec s{.proto = TCP, .payload = 9000 * 3 + 17};
	auto f = build(s, false);
	ASSERT_EQ(tx_tso(port_, f, s, 8960, v4_tso, 700), 1);
	check_segments(read_all(), f, s, 8960);
}

/* A request the frame cannot satisfy is dropped and counted, nothing leaks. */
TEST_F(Tso, TxBadRequestIsDroppedAndCounted)
{
	open_port(0, RTE_ETH_TX_OFFLOAD_TCP_TSO);
	unsigned base = bt::in_use();
	spec s{.proto = TCP, .payload = 3000};
	auto f = build(s, false);
	ASSERT_EQ(tx_tso(port_, f, s, 0, v4_tso), 1);			/* no MSS */
	ASSERT_EQ(tx_tso(port_, f, s, 1448, RTE_MBUF_F_TX_TCP_SEG), 1); /* no IP version */
	ASSERT_EQ(tx_tso(port_, f, s, 8, v4_tso), 1);			/* 375 segments */
	EXPECT_TRUE(read_all().empty());
	EXPECT_EQ(bt::in_use(), base);
	rte_eth_stats st;
	ASSERT_EQ(rte_eth_stats_get(port_, &st), 0);
	EXPECT_EQ(st.oerrors, 3u);
}

/* A frame not longer than the MSS is sent as one, its checksums done. */
TEST_F(Tso, TxShortRequestIsOneFrame)
{
	open_port(0, RTE_ETH_TX_OFFLOAD_TCP_TSO);
	spec s{.proto = TCP, .payload = 100};
	auto f = build(s, false);
	ASSERT_EQ(tx_tso(port_, f, s, 1448, v4_tso), 1);
	auto got = read_all();
	ASSERT_EQ(got.size(), 1u);
	EXPECT_EQ(got[0], build(s, true));
}

TEST_F(Tso, VnetHeaderLengthIsTheUnits)
{
	open_port(0, 0, nullptr, "queues=2");
	int len = -1;
	ASSERT_EQ(rte_pmd_bsdtap_ioctl(r_, RTE_PMD_BSDTAP_TAPGVNETHDR, &len), 0);
	EXPECT_EQ(len, 0);
	for (int bad : {1, 8, 11, 16, -1}) {
		EXPECT_EQ(rte_pmd_bsdtap_ioctl(r_, RTE_PMD_BSDTAP_TAPSVNETHDR, &bad), -EINVAL)
		    << bad;
	}
	for (int good : {10, 12, 0}) {
		ASSERT_EQ(rte_pmd_bsdtap_ioctl(r_, RTE_PMD_BSDTAP_TAPSVNETHDR, &good), 0);
		ASSERT_EQ(rte_pmd_bsdtap_ioctl(r_, RTE_PMD_BSDTAP_TAPGVNETHDR, &len), 0);
		EXPECT_EQ(len, good);
	}
	EXPECT_EQ(rte_pmd_bsdtap_ioctl(r_, RTE_PMD_BSDTAP_TAPSVNETHDR, nullptr), -EINVAL);
	/* The unit's, so seen from another handle; the last close ends it. */
	int ten = 10;
	ASSERT_EQ(rte_pmd_bsdtap_ioctl(r_, RTE_PMD_BSDTAP_TAPSVNETHDR, &ten), 0);
	rte_pmd_bsdtap_reader *second = rte_pmd_bsdtap_open(name_.c_str(), 1, 0);
	ASSERT_NE(second, nullptr);
	ASSERT_EQ(rte_pmd_bsdtap_ioctl(second, RTE_PMD_BSDTAP_TAPGVNETHDR, &len), 0);
	EXPECT_EQ(len, 10);
	ASSERT_EQ(rte_pmd_bsdtap_close(&r_), 0);
	ASSERT_EQ(rte_pmd_bsdtap_ioctl(second, RTE_PMD_BSDTAP_TAPGVNETHDR, &len), 0);
	EXPECT_EQ(len, 10) << "one handle is still open";
	ASSERT_EQ(rte_pmd_bsdtap_close(&second), 0);
	r_ = rte_pmd_bsdtap_open(name_.c_str(), 0, 0);
	ASSERT_NE(r_, nullptr);
	ASSERT_EQ(rte_pmd_bsdtap_ioctl(r_, RTE_PMD_BSDTAP_TAPGVNETHDR, &len), 0);
	EXPECT_EQ(len, 0) << "the last close ended the mode";
}

/* The read is the header, then the frame; FIONREAD counts both. A frame
 * without requests has an empty header. */
TEST_F(Tso, VnetReadIsHeaderThenFrame)
{
	open_port(0, 0);
	set_vnet(12);
	auto f = bt::frame(60);
	ASSERT_EQ(bt::tx1(port_, 0, bt::mbuf_of(f)), 1);
	int pending = 0;
	ASSERT_EQ(rte_pmd_bsdtap_ioctl(r_, RTE_PMD_BSDTAP_FIONREAD, &pending), 0);
	EXPECT_EQ(pending, 72);
	auto got = read_all();
	ASSERT_EQ(got.size(), 1u);
	ASSERT_EQ(got[0].size(), 72u);
	rte_pmd_bsdtap_vnet_hdr_mrg h;
	memcpy(&h, got[0].data(), sizeof(h));
	EXPECT_EQ(h.hdr.flags, 0);
	EXPECT_EQ(h.hdr.gso_type, RTE_PMD_BSDTAP_VNET_HDR_GSO_NONE);
	EXPECT_EQ(h.num_buffers, 1);
	EXPECT_TRUE(std::equal(f.begin(), f.end(), got[0].begin() + 12));
}

/* A vnet-header reader gets the TSO request as one 64 KiB frame: GSO type,
 * MSS and the partial checksum in the header; finishing it (as the kernel
 * would) gives a correct checksum over the whole. */
TEST_F(Tso, TxVnetReaderGetsOneGsoFrame)
{
	open_port(0, tx_ck | RTE_ETH_TX_OFFLOAD_TCP_TSO);
	set_vnet(10);
	for (bool v6 : {false, true}) {
		spec s{.v6 = v6, .proto = TCP, .payload = 65000};
		layout l = layout_of(s);
		auto f = build(s, false);
		ASSERT_EQ(tx_tso(port_, f, s, 1448, v6 ? v6_tso : v4_tso), 1);
		auto got = read_all(RTE_PMD_BSDTAP_GSO_MAX + 10);
		ASSERT_EQ(got.size(), 1u);
		ASSERT_EQ(got[0].size(), 10 + f.size());
		auto h = hdr_of(got[0]);
		EXPECT_EQ(h.gso_type, v6 ? RTE_PMD_BSDTAP_VNET_HDR_GSO_TCPV6
					 : RTE_PMD_BSDTAP_VNET_HDR_GSO_TCPV4);
		EXPECT_EQ(h.gso_size, 1448);
		EXPECT_EQ(h.flags, RTE_PMD_BSDTAP_VNET_HDR_F_NEEDS_CSUM);
		EXPECT_EQ(h.csum_start, l.l4);
		EXPECT_EQ(h.csum_offset, 16);
		EXPECT_EQ(h.hdr_len, l.l4 + 20);
		std::vector<uint8_t> frame(got[0].begin() + 10, got[0].end());
		if (!v6) {
			EXPECT_TRUE(ip_ok(frame, s));
		}
		finish(frame, h);
		EXPECT_TRUE(l4_ok(frame, s));
		EXPECT_EQ(frame, build(s, true));
	}
}

/* A checksum request is left to a vnet-header reader (NEEDS_CSUM). */
TEST_F(Tso, TxVnetReaderFinishesChecksums)
{
	open_port(0, tx_ck);
	set_vnet(10);
	spec s{.proto = UDP, .payload = 300};
	layout l = layout_of(s);
	auto f = build(s, false);
	put16(f, l.l4 + 6, 0xdead); /* whatever the field held */
	rte_mbuf *m =
	    request(f, s, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM);
	ASSERT_NE(m, nullptr);
	ASSERT_EQ(bt::tx1(port_, 0, m), 1);
	auto got = read_all();
	ASSERT_EQ(got.size(), 1u);
	auto h = hdr_of(got[0]);
	EXPECT_EQ(h.flags, RTE_PMD_BSDTAP_VNET_HDR_F_NEEDS_CSUM);
	EXPECT_EQ(h.gso_type, 0);
	EXPECT_EQ(h.csum_start, l.l4);
	EXPECT_EQ(h.csum_offset, 6);
	std::vector<uint8_t> frame(got[0].begin() + 10, got[0].end());
	EXPECT_TRUE(ip_ok(frame, s)) << "the IPv4 header's is done here";
	finish(frame, h);
	EXPECT_EQ(frame, build(s, true));
}

/* A zero-copy reader gets the request in the mbuf, and the header a read
 * would give from rte_pmd_bsdtap_vnet_hdr_from_mbuf. */
TEST_F(Tso, TxVnetZeroCopyReaderGetsTheRequest)
{
	open_port(0, RTE_ETH_TX_OFFLOAD_TCP_TSO);
	set_vnet(10);
	spec s{.proto = TCP, .payload = 5000};
	auto f = build(s, false);
	ASSERT_EQ(tx_tso(port_, f, s, 1000, v4_tso), 1);
	rte_mbuf *got[1];
	ASSERT_EQ(rte_pmd_bsdtap_recv_burst(r_, got, 1), 1);
	EXPECT_NE(got[0]->ol_flags & RTE_MBUF_F_TX_TCP_SEG, 0u);
	EXPECT_EQ(got[0]->pkt_len, f.size());
	rte_pmd_bsdtap_vnet_hdr h;
	ASSERT_EQ(rte_pmd_bsdtap_vnet_hdr_from_mbuf(got[0], &h), 0);
	EXPECT_EQ(h.gso_type, RTE_PMD_BSDTAP_VNET_HDR_GSO_TCPV4);
	EXPECT_EQ(h.gso_size, 1000);
	EXPECT_EQ(rte_pmd_bsdtap_vnet_hdr_from_mbuf(nullptr, &h), -EINVAL);
	rte_pmd_bsdtap_free_burst(r_, got, 1);
}

/* A vnet-header writer's partial checksum: completed for an application
 * without rx checksum offload; left, with the verdict NONE (data verified,
 * field not the sum), for one with it. */
TEST_F(Tso, VnetWriteNeedsCsum)
{
	for (bool verdicts : {false, true}) {
		SCOPED_TRACE(verdicts ? "rx checksum offload" : "no rx offload");
		open_port(verdicts ? rx_ck : 0, 0, nullptr, "", 0);
		set_vnet(10);
		spec s{.proto = TCP, .payload = 200};
		auto f = build(s, true);
		auto part = partial(f, s);
		rte_pmd_bsdtap_vnet_hdr h = tcp_vnet_hdr(s);
		ASSERT_EQ(vwrite(h, part), static_cast<ssize_t>(10 + f.size()));
		auto rx = bt::rx_wait(port_, 0, 1);
		ASSERT_EQ(rx.size(), 1u);
		if (verdicts) {
			EXPECT_EQ(bt::bytes_of(rx[0]), part);
			EXPECT_EQ(l4f(rx[0]->ol_flags), RTE_MBUF_F_RX_L4_CKSUM_NONE);
			EXPECT_EQ(ipf(rx[0]->ol_flags), RTE_MBUF_F_RX_IP_CKSUM_GOOD);
		} else {
			EXPECT_EQ(bt::bytes_of(rx[0]), f);
		}
		bt::free_all(rx);
		EXPECT_EQ(rte_pmd_bsdtap_close(&r_), 0);
	}
}

/* DATA_VALID is the writer's verdict: GOOD without summing here. */
TEST_F(Tso, VnetWriteDataValidIsTheVerdict)
{
	open_port(rx_ck, 0, nullptr, "", 0);
	set_vnet(12);
	spec s{.proto = UDP};
	auto f = build(s, true);
	rte_pmd_bsdtap_vnet_hdr_mrg h{};
	h.hdr.flags = RTE_PMD_BSDTAP_VNET_HDR_F_DATA_VALID;
	iovec iov[2] = {{&h, sizeof(h)}, {f.data(), f.size()}};
	ASSERT_EQ(rte_pmd_bsdtap_writev(r_, iov, 2), static_cast<ssize_t>(12 + f.size()));
	auto rx = bt::rx_wait(port_, 0, 1);
	ASSERT_EQ(rx.size(), 1u);
	EXPECT_EQ(l4f(rx[0]->ol_flags), RTE_MBUF_F_RX_L4_CKSUM_GOOD);
	EXPECT_EQ(bt::bytes_of(rx[0]), f);
	bt::free_all(rx);
}

/* A GSO write: cut into MSS segments for an application without LRO; one
 * aggregate with RTE_MBUF_F_RX_LRO and its MSS for one with LRO, unless it
 * is longer than the application's max_lro_pkt_size. */
TEST_F(Tso, VnetWriteGsoFrame)
{
	spec s{.proto = TCP, .payload = 40000};
	layout l = layout_of(s);
	auto f = build(s, true);
	auto part = partial(f, s);
	rte_pmd_bsdtap_vnet_hdr h = tcp_vnet_hdr(s, 1448);
	h.hdr_len = static_cast<uint16_t>(l.l4 + 20);
	struct tcase {
		uint64_t rx;
		uint32_t lro_max;
		bool whole;
	} cases[] = {{0, 0, false},
		     {rx_ck | RTE_ETH_RX_OFFLOAD_TCP_LRO, 65535, true},
		     {RTE_ETH_RX_OFFLOAD_TCP_LRO, 9000, false}};
	for (auto &c : cases) {
		SCOPED_TRACE(c.rx);
		open_port(c.rx, 0, nullptr, "", c.lro_max);
		unsigned base = bt::in_use();
		set_vnet(10);
		ASSERT_EQ(vwrite(h, part), static_cast<ssize_t>(10 + f.size()));
		size_t want = c.whole ? 1 : (s.payload + 1447) / 1448;
		auto rx = bt::rx_wait(port_, 0, want);
		ASSERT_EQ(rx.size(), want);
		if (c.whole) {
			EXPECT_NE(rx[0]->ol_flags & RTE_MBUF_F_RX_LRO, 0u);
			EXPECT_EQ(rx[0]->tso_segsz, 1448);
			EXPECT_EQ(l4f(rx[0]->ol_flags), RTE_MBUF_F_RX_L4_CKSUM_NONE);
			EXPECT_EQ(bt::bytes_of(rx[0]), part);
		} else {
			std::vector<std::vector<uint8_t>> segs;
			for (rte_mbuf *m : rx)
				segs.push_back(bt::bytes_of(m));
			check_segments(segs, f, s, 1448);
		}
		bt::free_all(rx);
		EXPECT_EQ(bt::in_use(), base);
		EXPECT_EQ(rte_pmd_bsdtap_close(&r_), 0);
	}
}

/* What the header and the frame disagree on is refused with EINVAL and
 * loses nothing; only a GSO frame may pass the MRU. */
TEST_F(Tso, VnetWriteBadHeaderIsRefused)
{
	open_port(0, 0, nullptr, "", 0);
	set_vnet(10);
	unsigned base = bt::in_use();
	spec s{.proto = TCP, .payload = 4000};
	layout l = layout_of(s);
	auto f = build(s, true);
	rte_pmd_bsdtap_vnet_hdr gso{};
	gso.gso_type = RTE_PMD_BSDTAP_VNET_HDR_GSO_TCPV4;
	gso.gso_size = 1000;
	gso.csum_start = static_cast<uint16_t>(l.l4);
	gso.csum_offset = 16;
	/* GSO without NEEDS_CSUM */
	EXPECT_EQ(vwrite(gso, f), -1);
	EXPECT_EQ(rte_errno, EINVAL);
	/* GSO of the wrong family */
	gso.flags = RTE_PMD_BSDTAP_VNET_HDR_F_NEEDS_CSUM;
	gso.gso_type = RTE_PMD_BSDTAP_VNET_HDR_GSO_TCPV6;
	EXPECT_EQ(vwrite(gso, f), -1);
	EXPECT_EQ(rte_errno, EINVAL);
	/* NEEDS_CSUM beyond the frame */
	rte_pmd_bsdtap_vnet_hdr nc{};
	nc.flags = RTE_PMD_BSDTAP_VNET_HDR_F_NEEDS_CSUM;
	nc.csum_start = static_cast<uint16_t>(f.size());
	nc.csum_offset = 16;
	EXPECT_EQ(vwrite(nc, f), -1);
	EXPECT_EQ(rte_errno, EINVAL);
	/* shorter than the header */
	EXPECT_EQ(rte_pmd_bsdtap_write(r_, f.data(), 9), -1);
	EXPECT_EQ(rte_errno, EINVAL);
	/* over the MRU without GSO */
	std::vector<uint8_t> big(RTE_PMD_BSDTAP_MRU + 1, 0);
	rte_pmd_bsdtap_vnet_hdr none{};
	EXPECT_EQ(vwrite(none, big), -1);
	EXPECT_EQ(rte_errno, EIO);
	EXPECT_EQ(bt::in_use(), base);
	EXPECT_TRUE(bt::rx_wait(port_, 0, 1, 100).empty());
}

/* The bridge's path: a GSO frame written on one port reaches the
 * application as an aggregate; transmitted as it is on a second port (io
 * forwarding), a vnet-header reader there gets it as one GSO frame again,
 * and a plain reader gets it cut. */
TEST_F(Tso, AggregateForwardedLeavesAsOne)
{
	open_port(rx_ck | RTE_ETH_RX_OFFLOAD_TCP_LRO, 0, nullptr, "", 65535);
	set_vnet(10);
	std::string out_name = bt::unique_name();
	int op = make(out_name, "", false);
	ASSERT_GE(op, 0);
	ASSERT_EQ(bt::configure_start(static_cast<uint16_t>(op)), 0);
	rte_pmd_bsdtap_reader *out = rte_pmd_bsdtap_open(out_name.c_str(), 0, 0);
	ASSERT_NE(out, nullptr);
	int vh = 10;
	ASSERT_EQ(rte_pmd_bsdtap_ioctl(out, RTE_PMD_BSDTAP_TAPSVNETHDR, &vh), 0);

	spec s{.proto = TCP, .payload = 30000};
	layout l = layout_of(s);
	auto f = build(s, true);
	auto part = partial(f, s);
	rte_pmd_bsdtap_vnet_hdr h = tcp_vnet_hdr(s, 1448);
	ASSERT_EQ(vwrite(h, part), static_cast<ssize_t>(10 + f.size()));
	auto rx = bt::rx_wait(port_, 0, 1);
	ASSERT_EQ(rx.size(), 1u);
	ASSERT_EQ(bt::tx1(static_cast<uint16_t>(op), 0, rx[0]), 1);
	std::vector<uint8_t> b(RTE_PMD_BSDTAP_GSO_MAX + 10);
	ssize_t n = rte_pmd_bsdtap_read(out, b.data(), b.size());
	ASSERT_EQ(n, static_cast<ssize_t>(10 + f.size()));
	auto g = hdr_of(b);
	EXPECT_EQ(g.gso_type, RTE_PMD_BSDTAP_VNET_HDR_GSO_TCPV4);
	EXPECT_EQ(g.gso_size, 1448);
	EXPECT_EQ(g.flags, RTE_PMD_BSDTAP_VNET_HDR_F_NEEDS_CSUM);
	EXPECT_EQ(g.csum_start, l.l4);
	EXPECT_EQ(g.csum_offset, 16);
	EXPECT_EQ(g.hdr_len, l.l4 + 20);
	std::vector<uint8_t> frame(b.begin() + 10, b.begin() + n);
	finish(frame, g);
	EXPECT_EQ(frame, f);
	EXPECT_EQ(rte_pmd_bsdtap_close(&out), 0);
}

/* ------------------------------------------------------------- VLAN */

TEST_F(Tso, VlanStripOnRxAndAtRuntime)
{
	open_port(RTE_ETH_RX_OFFLOAD_VLAN_STRIP, 0);
	spec tagged{.proto = UDP, .vlan = true};
	spec plain{.proto = UDP};
	auto f = build(tagged, true);
	ASSERT_EQ(rte_pmd_bsdtap_write(r_, f.data(), f.size()), static_cast<ssize_t>(f.size()));
	auto rx = bt::rx_wait(port_, 0, 1);
	ASSERT_EQ(rx.size(), 1u);
	EXPECT_EQ(rx[0]->ol_flags & (RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED),
		  RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED);
	EXPECT_EQ(rx[0]->vlan_tci, 0x0064);
	EXPECT_EQ(bt::bytes_of(rx[0]), build(plain, true));
	bt::free_all(rx);
	/* Off at runtime (testpmd's "vlan set strip off"), on a started port. */
	ASSERT_EQ(rte_eth_dev_set_vlan_offload(port_, 0), 0);
	ASSERT_EQ(rte_pmd_bsdtap_write(r_, f.data(), f.size()), static_cast<ssize_t>(f.size()));
	rx = bt::rx_wait(port_, 0, 1);
	ASSERT_EQ(rx.size(), 1u);
	EXPECT_EQ(rx[0]->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED, 0u);
	EXPECT_EQ(bt::bytes_of(rx[0]), f);
	bt::free_all(rx);
	/* And on again. */
	ASSERT_EQ(rte_eth_dev_set_vlan_offload(port_, RTE_ETH_VLAN_STRIP_OFFLOAD), 0);
	ASSERT_EQ(rte_pmd_bsdtap_write(r_, f.data(), f.size()), static_cast<ssize_t>(f.size()));
	rx = bt::rx_wait(port_, 0, 1);
	ASSERT_EQ(rx.size(), 1u);
	EXPECT_EQ(bt::bytes_of(rx[0]), build(plain, true));
	bt::free_all(rx);
	/* What is not offered is refused by ethdev. */
	EXPECT_NE(rte_eth_dev_set_vlan_offload(port_, RTE_ETH_VLAN_FILTER_OFFLOAD), 0);
}

/* Strip switched on at runtime on a port started without rx offloads. */
TEST_F(Tso, VlanStripSwitchedOnFromThePlainBurst)
{
	open_port(0, 0);
	spec tagged{.proto = UDP, .vlan = true};
	auto f = build(tagged, true);
	ASSERT_EQ(rte_eth_dev_set_vlan_offload(port_, RTE_ETH_VLAN_STRIP_OFFLOAD), 0);
	ASSERT_EQ(rte_pmd_bsdtap_write(r_, f.data(), f.size()), static_cast<ssize_t>(f.size()));
	auto rx = bt::rx_wait(port_, 0, 1);
	ASSERT_EQ(rx.size(), 1u);
	EXPECT_NE(rx[0]->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED, 0u);
	EXPECT_EQ(rx[0]->pkt_len, f.size() - 4);
	bt::free_all(rx);
}

/* Tx VLAN insert; with checksums and TSO, every segment carries the tag. */
TEST_F(Tso, VlanInsertOnTx)
{
	open_port(0, tx_ck | RTE_ETH_TX_OFFLOAD_VLAN_INSERT | RTE_ETH_TX_OFFLOAD_TCP_TSO);
	spec plain{.proto = UDP};
	spec tagged{.proto = UDP, .vlan = true};
	rte_mbuf *m = request(build(plain, false), plain,
			      RTE_MBUF_F_TX_VLAN | RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
				  RTE_MBUF_F_TX_UDP_CKSUM);
	ASSERT_NE(m, nullptr);
	m->vlan_tci = 0x0064;
	ASSERT_EQ(bt::tx1(port_, 0, m), 1);
	auto frames = read_all();
	ASSERT_EQ(frames.size(), 1u);
	EXPECT_EQ(frames[0], build(tagged, true));
	/* A segmented request: each segment tagged. */
	spec big{.proto = TCP, .payload = 4000};
	auto f = build(big, false);
	rte_mbuf *t = request(f, big, v4_tso | RTE_MBUF_F_TX_VLAN, 1024, 1448);
	ASSERT_NE(t, nullptr);
	t->vlan_tci = 0x0064;
	ASSERT_EQ(bt::tx1(port_, 0, t), 1);
	frames = read_all();
	ASSERT_EQ(frames.size(), 3u);
	std::vector<std::vector<uint8_t>> untagged;
	for (auto &fr : frames) {
		ASSERT_GE(fr.size(), 18u);
		EXPECT_EQ(get16(fr, 12), RTE_ETHER_TYPE_VLAN);
		EXPECT_EQ(get16(fr, 14), 0x0064);
		std::vector<uint8_t> u(fr.begin(), fr.begin() + 12);
		u.insert(u.end(), fr.begin() + 16, fr.end());
		untagged.push_back(u);
	}
	check_segments(untagged, f, big, 1448);
}

/* A plain echo reader with TSO: the segments come back to the application. */
TEST_F(Tso, EchoOfATsoRequestComesBackAsSegments)
{
	ASSERT_NO_FATAL_FAILURE(start_port("reader=echo", rx_ck, RTE_ETH_TX_OFFLOAD_TCP_TSO));
	const uint16_t p = port_;
	spec s{.proto = TCP, .payload = 6000};
	auto f = build(s, false);
	ASSERT_EQ(tx_tso(p, f, s, 1448, v4_tso), 1);
	auto rx = bt::rx_wait(p, 0, 5);
	ASSERT_EQ(rx.size(), 5u);
	std::vector<std::vector<uint8_t>> segs;
	for (rte_mbuf *m : rx) {
		EXPECT_EQ(l4f(m->ol_flags), RTE_MBUF_F_RX_L4_CKSUM_GOOD);
		segs.push_back(bt::bytes_of(m));
	}
	check_segments(segs, f, s, 1448);
	bt::free_all(rx);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The driver as an ethdev: devargs, lifecycle, queue setup, the built-in
 * readers, stats, hot-plug. The reader API's tap semantics are in
 * test_conformance.cpp.
 */

#include <algorithm>
#include <climits>
#include <atomic>
#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <rte_alarm.h>
#include <rte_bus_vdev.h>
#include <rte_memzone.h>
#include <rte_version.h>

#include "harness.h"
#include "rte_pmd_bsdtap.h"

namespace
{

unsigned memzones()
{
	unsigned n = 0;
	rte_memzone_walk([](const rte_memzone *, void *arg) { ++*static_cast<unsigned *>(arg); },
			 &n);
	return n;
}

unsigned threads()
{
	unsigned n = 0;
	DIR *d = opendir("/proc/self/task");
	while (dirent *e = readdir(d))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

struct BadArg {
	const char *args;
	int err;
};

class Devargs : public bt::PortTest, public ::testing::WithParamInterface<BadArg>
{
};

} // namespace

/* ------------------------------------------------------------- devargs */

TEST_P(Devargs, BadValueFailsProbeAndLeavesNothing)
{
	std::string name = bt::unique_name();
	unsigned zones = memzones(), ports = rte_eth_dev_count_total();
	int ret = rte_vdev_init(name.c_str(), GetParam().args);
	EXPECT_EQ(ret, GetParam().err) << GetParam().args;
	uint16_t port;
	EXPECT_NE(rte_eth_dev_get_port_by_name(name.c_str(), &port), 0) << "a port was left behind";
	EXPECT_EQ(rte_eth_dev_count_total(), ports);
	EXPECT_EQ(memzones(), zones) << "rings or memory left behind";
	if (ret == 0)
		rte_vdev_uninit(name.c_str());
}

INSTANTIATE_TEST_SUITE_P(
    Bad, Devargs,
    ::testing::Values(
	BadArg{"ring_size=abc", -EINVAL}, BadArg{"ring_size=", -EINVAL},
	BadArg{"ring_size=64x", -EINVAL}, BadArg{"ring_size=0", -ERANGE},
	BadArg{"ring_size=65537", -ERANGE}, BadArg{"ring_size=-1", -EINVAL},
	BadArg{"ring_size=99999999999999999999999", -ERANGE}, BadArg{"queues=0", -ERANGE},
	BadArg{"queues=17", -ERANGE}, BadArg{"queues=2 ", -EINVAL}, BadArg{"queues", -EINVAL},
	BadArg{"iface=", -EINVAL}, BadArg{"iface=tap 1", -EINVAL},
	BadArg{"iface=averyveryverylongname", -ERANGE}, BadArg{"mac=00:11:22:33:44", -EINVAL},
	BadArg{"mac=00:11:22:33:44:5g", -EINVAL}, BadArg{"mac=01:00:5e:00:00:01", -EINVAL},
	BadArg{"mac=00:00:00:00:00:00", -EINVAL}, BadArg{"mac=00:11:22:33:44:55:66", -EINVAL},
	BadArg{"reader=", -EINVAL}, BadArg{"reader=cat", -EINVAL}, BadArg{"reader=echo1", -EINVAL},
	BadArg{"txfull=block", -EINVAL}, BadArg{"mode=tun", -EINVAL},
	BadArg{"up_on_open=2", -EINVAL}, BadArg{"user_open=yes", -EINVAL},
	BadArg{"colour=blue", -EINVAL}, BadArg{"queues=1,queues=2", -EINVAL}, BadArg{",", -EINVAL},
	BadArg{"queues=1,", -EINVAL}, BadArg{",queues=1", -EINVAL},
	BadArg{"queues=1,,ring_size=64", -EINVAL}, BadArg{"iface=.", -EINVAL},
	BadArg{"iface=..", -EINVAL}, BadArg{"reader=echo,reader_spin_us=abc", -EINVAL},
	BadArg{"reader=sink,reader_spin_us=1000001", -ERANGE},
	BadArg{"reader=echo,reader_spin_us=", -EINVAL},
	BadArg{"reader=echo,reader_spin_us=-1", -EINVAL}, BadArg{"reader_spin_us=10", -EINVAL},
	BadArg{"reader=socket,reader_spin_us=0", -EINVAL},
	BadArg{"reader=echo,reader_nice=-21", -ERANGE},
	BadArg{"reader=sink,reader_nice=20", -ERANGE}, BadArg{"reader=echo,reader_nice=", -EINVAL},
	BadArg{"reader=echo,reader_nice=-", -EINVAL}, BadArg{"reader=echo,reader_nice=+1", -EINVAL},
	BadArg{"reader=echo,reader_nice=1x", -EINVAL}, BadArg{"reader_nice=0", -EINVAL},
	BadArg{"reader=socket,reader_nice=0", -EINVAL}));

class DevargsGood : public bt::PortTest
{
};

TEST_F(DevargsGood, IfaceNamesTheUnit)
{
	ASSERT_GE(make(bt::unique_name(), "iface=vpn0"), 0);
	rte_pmd_bsdtap_reader *r = rte_pmd_bsdtap_open("vpn0", 0, 0);
	ASSERT_NE(r, nullptr) << rte_strerror(rte_errno);
	EXPECT_EQ(rte_pmd_bsdtap_close(&r), 0);
}

TEST_F(DevargsGood, DuplicateIfaceRefused)
{
	ASSERT_GE(make(bt::unique_name(), "iface=dup0"), 0);
	std::string other = bt::unique_name();
	EXPECT_EQ(rte_vdev_init(other.c_str(), "iface=dup0"), -EEXIST);
}

TEST_F(DevargsGood, DefaultIfaceIsTapUnit)
{
	std::string name = bt::unique_name();
	ASSERT_GE(make(name), 0);
	std::string iface = "tap" + name.substr(strlen("net_bsdtap"));
	rte_pmd_bsdtap_reader *r = rte_pmd_bsdtap_open(iface.c_str(), 0, 0);
	ASSERT_NE(r, nullptr) << iface;
	EXPECT_EQ(rte_pmd_bsdtap_close(&r), 0);
}

TEST_F(DevargsGood, QueuesSetsTheLimit)
{
	int port = make(bt::unique_name(), "queues=4", false);
	ASSERT_GE(port, 0);
	rte_eth_dev_info info;
	ASSERT_EQ(rte_eth_dev_info_get(port, &info), 0);
	EXPECT_EQ(info.max_rx_queues, 4);
	EXPECT_EQ(info.max_tx_queues, 4);
	EXPECT_EQ(bt::configure_start(port, 4), 0);
	rte_eth_conf conf{};
	ASSERT_EQ(rte_eth_dev_stop(port), 0);
	EXPECT_NE(rte_eth_dev_configure(port, 5, 5, &conf), 0);
}

TEST_F(DevargsGood, RingSizeIsTheDevqDepthAndDropCountsOerrors)
{
	int port;
	rte_pmd_bsdtap_reader *r = make_with_reader(port, "ring_size=8");
	ASSERT_NE(r, nullptr);
	rte_mbuf *m[20];
	for (auto &x : m)
		x = bt::mbuf_of(bt::frame(64));
	EXPECT_EQ(rte_eth_tx_burst(port, 0, m, 20), 20); /* drop mode: all consumed */
	rte_eth_stats st;
	ASSERT_EQ(rte_eth_stats_get(port, &st), 0);
	EXPECT_EQ(st.opackets, 8u);
	EXPECT_EQ(st.oerrors, 12u);
	EXPECT_EQ(rte_pmd_bsdtap_close(&r), 0);
}

TEST_F(DevargsGood, TxfullBackpressureReturnsFewer)
{
	int port;
	rte_pmd_bsdtap_reader *r = make_with_reader(port, "ring_size=8,txfull=backpressure");
	ASSERT_NE(r, nullptr);
	rte_mbuf *m[20];
	for (auto &x : m)
		x = bt::mbuf_of(bt::frame(64));
	EXPECT_EQ(rte_eth_tx_burst(port, 0, m, 20), 8);
	rte_pktmbuf_free_bulk(m + 8, 12); /* still ours */
	rte_eth_stats st;
	ASSERT_EQ(rte_eth_stats_get(port, &st), 0);
	EXPECT_EQ(st.opackets, 8u);
	EXPECT_EQ(st.oerrors, 0u);
	EXPECT_EQ(rte_pmd_bsdtap_close(&r), 0);
}

TEST_F(DevargsGood, MacOverridesTheRule)
{
	int port = make(bt::unique_name(), "mac=02:11:22:33:44:55");
	ASSERT_GE(port, 0);
	rte_ether_addr a;
	ASSERT_EQ(rte_eth_macaddr_get(port, &a), 0);
	const uint8_t want[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
	EXPECT_EQ(memcmp(a.addr_bytes, want, 6), 0);
}

TEST_F(DevargsGood, ReaderNoneLeavesLinkDown)
{
	int port = make(bt::unique_name(), "reader=none");
	ASSERT_GE(port, 0);
	rte_eth_link l;
	ASSERT_EQ(rte_eth_link_get_nowait(port, &l), 0);
	EXPECT_EQ(l.link_status, RTE_ETH_LINK_DOWN);
}

TEST_F(DevargsGood, ReaderSinkFreesEverything)
{
	int port = make(bt::unique_name(), "reader=sink");
	ASSERT_GE(port, 0);
	ASSERT_TRUE(bt::eventually([&] { return bt::link_status(port) == RTE_ETH_LINK_UP; }));
	for (int i = 0; i < 100; i++)
		ASSERT_EQ(bt::tx1(port, 0, bt::mbuf_of(bt::frame(60))), 1);
	rte_eth_stats st;
	ASSERT_EQ(rte_eth_stats_get(port, &st), 0);
	EXPECT_EQ(st.opackets, 100u);
	EXPECT_EQ(st.ipackets, 0u);
	/* TearDown checks the sink freed them all. */
}

TEST_F(DevargsGood, EveryKeyAtOnce)
{
	int port = make(bt::unique_name(),
			"iface=all0,queues=2,ring_size=100,mac=02:00:00:00:00:07,reader=echo,"
			"txfull=drop,mode=tap,up_on_open=0,user_open=1",
			true, 2);
	ASSERT_GE(port, 0);
}

/* ------------------------------------------------------------- lifecycle */

class Lifecycle : public bt::PortTest
{
};

TEST_F(Lifecycle, ConfigureStartStopRepeated)
{
	int port = make(bt::unique_name(), "reader=echo", false);
	ASSERT_GE(port, 0);
	for (int i = 0; i < 30; i++) {
		uint16_t nq = static_cast<uint16_t>(1 + i % 1);
		ASSERT_EQ(bt::configure_start(port, nq), 0) << "cycle " << i;
		ASSERT_EQ(bt::tx1(port, 0, bt::mbuf_of(bt::frame(100, i))), 1);
		auto got = bt::rx_wait(port, 0, 1);
		EXPECT_EQ(got.size(), 1u) << "cycle " << i;
		bt::free_all(got);
		ASSERT_EQ(rte_eth_dev_stop(port), 0);
	}
}

/* The built-in reader's idle spin at its ends: sleeping at once (every frame
 * after a pause comes through a wakeup) and spinning a whole second. */
TEST_F(Lifecycle, BuiltinReaderIdleSpinEchoesEveryFrame)
{
	for (const char *args :
	     {"reader=echo,reader_spin_us=0", "reader=echo,reader_spin_us=1000000"}) {
		int port = make(bt::unique_name(), args, false);
		ASSERT_GE(port, 0) << args;
		ASSERT_EQ(bt::configure_start(port), 0) << args;
		for (int i = 0; i < 20; i++) {
			ASSERT_EQ(bt::tx1(port, 0, bt::mbuf_of(bt::frame(100, i))), 1);
			auto got = bt::rx_wait(port, 0, 1);
			EXPECT_EQ(got.size(), 1u) << args << " frame " << i;
			bt::free_all(got);
			usleep(i % 4 == 0 ? 2000 : 0); /* now and then long enough to sleep */
		}
		ASSERT_EQ(rte_eth_dev_stop(port), 0);
	}
}

/* The nice value of the thread named name (field 19), or INT_MIN if none. */
int thread_nice(const std::string &name)
{
	std::vector<long> v = bt::thread_stat(name, {19});
	return v.empty() ? INT_MIN : static_cast<int>(v[0]);
}

/* reader_nice is the built-in reader thread's own (a positive value: no
 * privilege needed, so the test says the same as root or not). */
TEST_F(Lifecycle, BuiltinReaderNiceIsTheThreadsOwn)
{
	std::string name = bt::unique_name();
	int port = make(name, "reader=echo,reader_nice=7,iface=nice0", false);
	ASSERT_GE(port, 0);
	ASSERT_EQ(bt::configure_start(port), 0);
	ASSERT_TRUE(bt::eventually([] { return thread_nice("btap-nice0") == 7; }, 2000))
	    << "nice " << thread_nice("btap-nice0");
	/* The process's own threads keep theirs. */
	EXPECT_EQ(getpriority(PRIO_PROCESS, static_cast<id_t>(gettid())), 0);
	ASSERT_EQ(bt::tx1(port, 0, bt::mbuf_of(bt::frame(100, 1))), 1);
	auto got = bt::rx_wait(port, 0, 1);
	EXPECT_EQ(got.size(), 1u);
	bt::free_all(got);
	ASSERT_EQ(rte_eth_dev_stop(port), 0);
}

TEST_F(Lifecycle, CreateDestroyLeavesNoThreadRingOrMemzone)
{
	unsigned zones = memzones(), thr = threads();
	for (int i = 0; i < 10; i++) {
		std::string name = bt::unique_name();
		int port = bt::create(name, "reader=echo,queues=2");
		ASSERT_GE(port, 0);
		ASSERT_EQ(bt::configure_start(port, 2), 0);
		ASSERT_EQ(bt::tx1(port, 1, bt::mbuf_of(bt::frame(60))), 1);
		ASSERT_EQ(bt::destroy(name), 0);
	}
	EXPECT_EQ(memzones(), zones);
	EXPECT_EQ(threads(), thr);
}

TEST_F(Lifecycle, CloseWithoutStopAndStopTwice)
{
	std::string name = bt::unique_name();
	int port = bt::create(name, "reader=echo");
	ASSERT_GE(port, 0);
	ASSERT_EQ(bt::configure_start(port), 0);
	EXPECT_EQ(rte_eth_dev_stop(port), 0);
	EXPECT_EQ(rte_eth_dev_stop(port), 0);
	EXPECT_EQ(rte_eth_dev_close(port), 0);
	EXPECT_EQ(rte_vdev_uninit(name.c_str()), 0);
}

static int count_event(uint16_t, rte_eth_event_type, void *arg, void *)
{
	static_cast<std::atomic<int> *>(arg)->fetch_add(1);
	return 0;
}

static void hold_alarm_thread(void *)
{
	usleep(300000);
}

/* LSC events come from an alarm; a close right after a stop must not lose
 * the link-down event the stop caused. */
TEST_F(Lifecycle, StopThenCloseStillTellsLinkDown)
{
	std::string name = bt::unique_name();
	int p = bt::create(name, "reader=sink");
	ASSERT_GE(p, 0);
	auto port = static_cast<uint16_t>(p);
	/* The event under test comes inside close, so the callback stays
	 * registered through it, and ethdev keeps a port id's callbacks after
	 * the port is released: the counter must outlive the test (a later port
	 * with this id may still bump it). */
	static std::atomic<int> events;
	events = 0;
	ASSERT_EQ(rte_eth_dev_callback_register(port, RTE_ETH_EVENT_INTR_LSC, count_event, &events),
		  0);
	ASSERT_EQ(bt::configure_start(port), 0);
	ASSERT_TRUE(bt::eventually([&] { return events.load() == 1; })) << "no link-up event";
	for (int i = 0; i < 2; i++) {
		if (i == 1) {
			/* Hold EAL's alarm thread so that the stop's LSC alarm is
			 * still pending when close comes. */
			ASSERT_EQ(rte_eal_alarm_set(1, hold_alarm_thread, nullptr), 0);
			usleep(20000);
		}
		EXPECT_EQ(rte_eth_dev_stop(port), 0);
		if (i == 1)
			break;
		ASSERT_TRUE(bt::eventually([&] { return events.load() == 2; }));
		ASSERT_EQ(rte_eth_dev_start(port), 0);
		ASSERT_TRUE(bt::eventually([&] { return events.load() == 3; }));
	}
	EXPECT_EQ(rte_eth_dev_close(port), 0);
	EXPECT_EQ(events.load(), 4) << "the last stop's link-down event was lost";
	EXPECT_EQ(rte_vdev_uninit(name.c_str()), 0);
}

TEST_F(Lifecycle, NameWithoutUnitNumberRefused)
{
	EXPECT_EQ(rte_vdev_init("net_bsdtap_x", ""), -EINVAL);
}

/* ----------------------------------------------------------- queue setup */

class QueueSetup : public bt::PortTest
{
};

TEST_F(QueueSetup, BadQueueIdNullPoolTinyPool)
{
	int port = make(bt::unique_name(), "", false);
	ASSERT_GE(port, 0);
	rte_eth_conf conf{};
	ASSERT_EQ(rte_eth_dev_configure(port, 1, 1, &conf), 0);
	EXPECT_NE(rte_eth_rx_queue_setup(port, 99, 64, 0, nullptr, bt::pool()), 0);
	EXPECT_NE(rte_eth_tx_queue_setup(port, 99, 64, 0, nullptr), 0);
	EXPECT_NE(rte_eth_rx_queue_setup(port, 0, 64, 0, nullptr, nullptr), 0);
	/* mbufs too small for a minimum frame after the headroom */
	rte_mempool *tiny = rte_pktmbuf_pool_create("bt_tiny_room", 63, 0, 0,
						    RTE_PKTMBUF_HEADROOM + 16, rte_socket_id());
	ASSERT_NE(tiny, nullptr);
	EXPECT_EQ(rte_eth_rx_queue_setup(port, 0, 64, 0, nullptr, tiny), -EINVAL);
	/* few mbufs are fine: writes get ENOBUFS when they run out */
	rte_mempool *few =
	    rte_pktmbuf_pool_create("bt_few", 3, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	ASSERT_NE(few, nullptr);
	EXPECT_EQ(rte_eth_rx_queue_setup(port, 0, 64, 0, nullptr, few), 0);
	EXPECT_EQ(rte_eth_tx_queue_setup(port, 0, 64, 0, nullptr), 0);
	EXPECT_EQ(rte_eth_dev_start(port), 0);
	EXPECT_EQ(bt::destroy(ports_.back()), 0);
	ports_.clear();
	rte_mempool_free(tiny);
	rte_mempool_free(few);
}

/* rte_eth_rx_queue_count is the inq's depth (frames written, not yet
 * received); rte_eth_tx_queue_count (DPDK 24.03 on) the devq's (frames sent,
 * not yet read). */
TEST_F(QueueSetup, QueueCountIsRingDepth)
{
	int port;
	rte_pmd_bsdtap_reader *r = make_with_reader(port);
	ASSERT_NE(r, nullptr);
	EXPECT_EQ(rte_eth_rx_queue_count(port, 0), 0);
	auto f = bt::frame(64);
	for (int i = 0; i < 5; i++)
		ASSERT_EQ(rte_pmd_bsdtap_write(r, f.data(), f.size()), 64);
	EXPECT_EQ(rte_eth_rx_queue_count(port, 0), 5);
	auto got = bt::rx_wait(port, 0, 5);
	EXPECT_EQ(got.size(), 5u);
	bt::free_all(got);
	EXPECT_EQ(rte_eth_rx_queue_count(port, 0), 0);
#if RTE_VERSION >= RTE_VERSION_NUM(24, 3, 0, 0)
	EXPECT_EQ(rte_eth_tx_queue_count(port, 0), 0);
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(bt::tx1(port, 0, bt::mbuf_of(bt::frame(64))), 1);
	EXPECT_EQ(rte_eth_tx_queue_count(port, 0), 3);
	char buf[RTE_PMD_BSDTAP_MRU];
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(rte_pmd_bsdtap_read(r, buf, sizeof(buf)), 64);
	EXPECT_EQ(rte_eth_tx_queue_count(port, 0), 0);
#endif
	EXPECT_EQ(rte_pmd_bsdtap_close(&r), 0);
}

/* A reader that writes keeps mbufs of the rx pool in its handle's cache
 * while it is open: no more than the pool's per-lcore cache size (none for
 * a pool made without caches), and all of them back when it closes. */
TEST_F(QueueSetup, WriterCacheIsBoundedByThePoolsCache)
{
	for (unsigned cache : {0u, 64u}) {
		const std::string pname = "bt_wcache" + std::to_string(cache);
		rte_mempool *mp = rte_pktmbuf_pool_create(
		    pname.c_str(), 2047, cache, 0, RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
		ASSERT_NE(mp, nullptr);
		const std::string name = bt::unique_name();
		int port = bt::create(name, "");
		ASSERT_GE(port, 0);
		ASSERT_EQ(bt::configure_start(static_cast<uint16_t>(port), 1, mp), 0);
		const unsigned base = bt::in_use(mp);
		rte_pmd_bsdtap_reader *r = rte_pmd_bsdtap_open(name.c_str(), 0, 0);
		ASSERT_NE(r, nullptr);
		auto f = bt::frame(64);
		unsigned peak = 0;
		for (int i = 0; i < 500; i++) {
			ASSERT_EQ(rte_pmd_bsdtap_write(r, f.data(), f.size()), 64);
			auto got = bt::rx_wait(static_cast<uint16_t>(port), 0, 1);
			ASSERT_EQ(got.size(), 1u);
			bt::free_all(got);
			peak = std::max(peak, bt::in_use(mp) - base);
		}
		EXPECT_LE(peak, cache) << "pool cache " << cache;
		ASSERT_EQ(rte_pmd_bsdtap_close(&r), 0);
		EXPECT_EQ(bt::in_use(mp), base) << "pool cache " << cache;
		EXPECT_EQ(bt::destroy(name), 0);
		rte_mempool_free(mp);
	}
}

TEST_F(QueueSetup, InfoReportsLimits)
{
	int port = make(bt::unique_name(), "", false);
	ASSERT_GE(port, 0);
	rte_eth_dev_info info;
	ASSERT_EQ(rte_eth_dev_info_get(port, &info), 0);
	EXPECT_EQ(info.max_rx_pktlen, 16384u);
	EXPECT_EQ(info.min_mtu, RTE_ETHER_MIN_MTU);
	EXPECT_EQ(info.max_mtu, 16384 - RTE_ETHER_HDR_LEN);
	EXPECT_TRUE(info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS);
	EXPECT_TRUE(info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER);
	EXPECT_STREQ(info.driver_name, "net_bsdtap");
}

/* ---------------------------------------------------------- echo reader */

class Echo : public bt::PortTest, public ::testing::WithParamInterface<std::pair<size_t, uint16_t>>
{
};

TEST_P(Echo, RoundTripByteForByte)
{
	auto [len, seg] = GetParam();
	int port = make(bt::unique_name(), "reader=echo");
	ASSERT_GE(port, 0);
	auto data = bt::frame(len, 42);
	rte_mbuf *m = bt::mbuf_of(data, seg);
	ASSERT_NE(m, nullptr);
	ASSERT_EQ(bt::tx1(port, 0, m), 1);
	auto got = bt::rx_wait(port, 0, 1);
	ASSERT_EQ(got.size(), 1u);
	EXPECT_EQ(got[0]->pkt_len, len);
	EXPECT_EQ(got[0]->port, port);
	EXPECT_TRUE(bt::bytes_of(got[0]) == data);
	bt::free_all(got);
}

INSTANTIATE_TEST_SUITE_P(Sizes, Echo,
			 ::testing::Values(std::pair<size_t, uint16_t>{60, 0},
					   std::pair<size_t, uint16_t>{1514, 0},
					   std::pair<size_t, uint16_t>{1514, 100},
					   std::pair<size_t, uint16_t>{9000, 0},
					   std::pair<size_t, uint16_t>{9000, 1000},
					   std::pair<size_t, uint16_t>{16384, 0},
					   std::pair<size_t, uint16_t>{16384, 4096}));

TEST_F(Lifecycle, EchoManyQueuesKeepsOrderPerQueue)
{
	int port = make(bt::unique_name(), "reader=echo,queues=3", true, 3);
	ASSERT_GE(port, 0);
	for (uint32_t i = 0; i < 300; i++)
		ASSERT_EQ(bt::tx1(port, i % 3, bt::mbuf_of(bt::frame(80, i))), 1);
	for (uint16_t q = 0; q < 3; q++) {
		auto got = bt::rx_wait(port, q, 100);
		ASSERT_EQ(got.size(), 100u);
		for (uint32_t k = 0; k < 100; k++)
			EXPECT_TRUE(bt::bytes_of(got[k]) == bt::frame(80, k * 3 + q));
		bt::free_all(got);
	}
}

/* ----------------------------------------------------------------- stats */

class Stats : public bt::PortTest
{
};

TEST_F(Stats, CountsAndReset)
{
	int port = make(bt::unique_name(), "reader=echo");
	ASSERT_GE(port, 0);
	for (int i = 0; i < 10; i++)
		ASSERT_EQ(bt::tx1(port, 0, bt::mbuf_of(bt::frame(100))), 1);
	auto got = bt::rx_wait(port, 0, 10);
	ASSERT_EQ(got.size(), 10u);
	bt::free_all(got);
	rte_eth_stats st;
	ASSERT_EQ(rte_eth_stats_get(port, &st), 0);
	EXPECT_EQ(st.opackets, 10u);
	EXPECT_EQ(st.obytes, 1000u);
	EXPECT_EQ(st.ipackets, 10u);
	EXPECT_EQ(st.ibytes, 1000u);
	EXPECT_EQ(bt::xstat(port, "tx_q0_packets"), 10u);
	EXPECT_EQ(bt::xstat(port, "rx_q0_packets"), 10u);
	EXPECT_EQ(st.oerrors + st.ierrors + st.imissed + st.rx_nombuf, 0u);
	ASSERT_EQ(rte_eth_stats_reset(port), 0);
	ASSERT_EQ(rte_eth_stats_get(port, &st), 0);
	EXPECT_EQ(st.opackets + st.obytes + st.ipackets + st.ibytes, 0u);
	ASSERT_EQ(bt::tx1(port, 0, bt::mbuf_of(bt::frame(60))), 1);
	got = bt::rx_wait(port, 0, 1);
	bt::free_all(got);
	ASSERT_EQ(rte_eth_stats_get(port, &st), 0);
	EXPECT_EQ(st.opackets, 1u);
	EXPECT_EQ(st.ibytes, 60u);
}

TEST_F(Stats, XstatsNamesAndNoReaderCounter)
{
	int port = make(bt::unique_name());
	ASSERT_GE(port, 0);
	for (int i = 0; i < 5; i++)
		ASSERT_EQ(bt::tx1(port, 0, bt::mbuf_of(bt::frame(70))), 1);
	EXPECT_EQ(bt::xstat(port, "tx_no_reader_packets"), 5u);
	EXPECT_EQ(bt::xstat(port, "tx_no_reader_bytes"), 350u);
	rte_eth_stats st;
	ASSERT_EQ(rte_eth_stats_get(port, &st), 0);
	EXPECT_EQ(st.opackets, 0u);
	/* per-queue xstats come from ethdev's autofill */
	EXPECT_NE(bt::xstat(port, "tx_q0_packets"), UINT64_MAX);
	ASSERT_EQ(rte_eth_xstats_reset(port), 0);
	EXPECT_EQ(bt::xstat(port, "tx_no_reader_packets"), 0u);
}

/* The socket endpoint's xstats are a reader=socket port's only. */
TEST_F(Stats, SocketXstatsOnlyOnSocketPorts)
{
	const char *const sock[] = {"socket_tx_frames",	       "socket_tx_dropped_frames",
				    "socket_rx_frames",	       "socket_rx_bad_frames",
				    "socket_clients_accepted", "socket_clients_refused"};
	auto names = [](uint16_t port) {
		std::vector<std::string> v;
		int n = rte_eth_xstats_get_names(port, nullptr, 0);
		std::vector<rte_eth_xstat_name> x(static_cast<size_t>(std::max(n, 0)));
		EXPECT_EQ(rte_eth_xstats_get_names(port, x.data(), static_cast<unsigned>(n)), n);
		for (const auto &e : x)
			v.emplace_back(e.name);
		return v;
	};
	int plain = make(bt::unique_name(), "reader=echo");
	ASSERT_GE(plain, 0);
	int sp = make(bt::unique_name(), "reader=socket,path=" + bt::sock_dir() + "/xstats");
	ASSERT_GE(sp, 0);
	auto a = names(static_cast<uint16_t>(plain)), b = names(static_cast<uint16_t>(sp));
	for (const char *s : sock) {
		EXPECT_EQ(std::count(a.begin(), a.end(), s), 0) << s;
		EXPECT_EQ(std::count(b.begin(), b.end(), s), 1) << s;
	}
	EXPECT_EQ(b.size(), a.size() + RTE_DIM(sock));
	EXPECT_EQ(bt::xstat(static_cast<uint16_t>(sp), "socket_clients_accepted"), 0u);
	/* Values and names agree in count, and a short array gets the count. */
	std::vector<rte_eth_xstat> v(b.size());
	EXPECT_EQ(rte_eth_xstats_get(static_cast<uint16_t>(sp), v.data(), 1),
		  static_cast<int>(b.size()));
	EXPECT_EQ(rte_eth_xstats_get(static_cast<uint16_t>(sp), v.data(),
				     static_cast<unsigned>(v.size())),
		  static_cast<int>(b.size()));
}

/* --------------------------------------------------- built-in reader idle */

TEST_F(Lifecycle, IdleBuiltinReaderSleeps)
{
	std::string name = bt::unique_name();
	int port = make(name, "reader=echo,iface=idle0");
	ASSERT_GE(port, 0);
	/* Some traffic first, so the thread has been awake. */
	for (int i = 0; i < 50; i++)
		ASSERT_EQ(bt::tx1(port, 0, bt::mbuf_of(bt::frame(60))), 1);
	auto got = bt::rx_wait(port, 0, 50);
	bt::free_all(got);
	std::this_thread::sleep_for(std::chrono::milliseconds(100));
	long before = bt::thread_ticks("btap-idle0");
	ASSERT_GE(before, 0) << "reader thread not found";
	std::this_thread::sleep_for(std::chrono::milliseconds(1000));
	long after = bt::thread_ticks("btap-idle0");
	/* A spinning thread would burn ~100 ticks in a second; a sleeping one ~0. */
	EXPECT_LE(after - before, 3) << "built-in reader burns CPU while idle";
	/* And it still wakes up for the next frame. */
	ASSERT_EQ(bt::tx1(port, 0, bt::mbuf_of(bt::frame(60))), 1);
	got = bt::rx_wait(port, 0, 1);
	EXPECT_EQ(got.size(), 1u);
	bt::free_all(got);
}

/* --------------------------------------------------------------- ethdev */

TEST_F(Lifecycle, MtuPromiscAllmultiMacSet)
{
	int port = make(bt::unique_name());
	ASSERT_GE(port, 0);
	uint16_t mtu = 0;
	ASSERT_EQ(rte_eth_dev_get_mtu(port, &mtu), 0);
	EXPECT_EQ(mtu, 1500);
	EXPECT_EQ(rte_eth_dev_set_mtu(port, 9000), 0);
	EXPECT_EQ(rte_eth_dev_set_mtu(port, 16384 - 14), 0);
	EXPECT_NE(rte_eth_dev_set_mtu(port, 16384 - 13), 0);
	EXPECT_EQ(rte_eth_promiscuous_enable(port), 0);
	EXPECT_EQ(rte_eth_promiscuous_get(port), 1);
	EXPECT_EQ(rte_eth_allmulticast_enable(port), 0);
	EXPECT_EQ(rte_eth_allmulticast_disable(port), 0);
	rte_ether_addr a = {{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee}}, b;
	EXPECT_EQ(rte_eth_dev_default_mac_addr_set(port, &a), 0);
	ASSERT_EQ(rte_eth_macaddr_get(port, &b), 0);
	EXPECT_TRUE(rte_is_same_ether_addr(&a, &b));
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Readers in DPDK secondary processes. This binary is the primary (the
 * application: it creates the port, transmits and receives) and runs
 * itself again as `--child <scenario> <file prefix> <unit>` for the reader,
 * a real secondary process that loads the same driver. Needs hugepages:
 * without them every test is skipped with the reason, unless
 * BSDTAP_REQUIRE_HUGEPAGES=1 (CI), where that is a failure.
 */

#include <cerrno>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <rte_bus_vdev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_interrupts.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "harness.h"
#include "rte_pmd_bsdtap.h"

namespace
{

using namespace std::chrono;

std::string g_prefix;
std::string g_skip; /* why multi-process tests cannot run here */
rte_mempool *g_pool;

/* ------------------------------------------------------------ the child */

int child_fail(const char *what, int err)
{
	fprintf(stderr, "child: %s: %s\n", what, strerror(err));
	return 1;
}

/* The churn scenarios (C45: to be killed at a random moment): open, take
 * rounds steps of reading (step(c, i): frames read, or -1 with rte_errno),
 * close, again and again; says READ once something was read. */
template <typename Step> int churn_loop(const std::string &unit, int rounds, Step step)
{
	bool said = false;
	for (;;) {
		rte_pmd_bsdtap_reader *c =
		    rte_pmd_bsdtap_open(unit.c_str(), 0, RTE_PMD_BSDTAP_O_NONBLOCK);
		if (c == nullptr) {
			if (rte_errno != EBUSY)
				return child_fail("churn: open", rte_errno);
			continue;
		}
		for (int i = 0; i < rounds; i++) {
			int n = step(c, i);
			if (n > 0 && !said) {
				printf("READ\n");
				fflush(stdout);
				said = true;
			}
			if (n < 0 && rte_errno == EAGAIN)
				rte_pmd_bsdtap_wait(c, 1);
		}
		rte_pmd_bsdtap_close(&c);
	}
}

#define CHECK(cond, what)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "child: %s failed (%s): %s\n", what, #cond,                \
				strerror(rte_errno));                                              \
			rc = 1;                                                                    \
		}                                                                                  \
	} while (0)

/* The conformance behaviours a reader observes, from a secondary process:
 * the primary sends frames of 100, 200, 60 bytes and a 3-segment chain
 * (with an empty middle segment) after "SEND"; then it checks what the
 * child wrote after "WROTE". */
int child_conform(rte_pmd_bsdtap_reader *r)
{
	int rc = 0;
	static char buf[RTE_PMD_BSDTAP_MRU + 1];
	struct rte_pmd_bsdtap_info info {
	};
	CHECK(rte_pmd_bsdtap_ioctl(r, RTE_PMD_BSDTAP_TAPGIFINFO, &info) == 0 && info.mtu == 1500 &&
		  info.type == RTE_PMD_BSDTAP_IFT_ETHER,
	      "C28 get info");
	uint8_t mac[6], other[6] = {0x02, 1, 2, 3, 4, 5};
	CHECK(rte_pmd_bsdtap_ioctl(r, RTE_PMD_BSDTAP_SIOCGIFADDR, mac) == 0 && mac[0] == 0x00 &&
		  mac[1] == 0xbd,
	      "C05/C34 remote MAC is the port MAC");
	CHECK(rte_pmd_bsdtap_ioctl(r, RTE_PMD_BSDTAP_SIOCSIFADDR, other) == 0 &&
		  rte_pmd_bsdtap_ioctl(r, RTE_PMD_BSDTAP_SIOCGIFADDR, mac) == 0 &&
		  memcmp(mac, other, 6) == 0,
	      "C34 set remote MAC");
	int flags = 0;
	CHECK(rte_pmd_bsdtap_ioctl(r, RTE_PMD_BSDTAP_SIOCGIFFLAGS, &flags) == 0 &&
		  (flags & RTE_PMD_BSDTAP_IFF_UP) && (flags & RTE_PMD_BSDTAP_IFF_RUNNING),
	      "C35 flags of a started port");
	int own = getpid(), got = 0;
	CHECK(rte_pmd_bsdtap_ioctl(r, RTE_PMD_BSDTAP_FIOSETOWN, &own) == 0 &&
		  rte_pmd_bsdtap_ioctl(r, RTE_PMD_BSDTAP_FIOGETOWN, &got) == 0 && got == own,
	      "C32 owner");
	printf("SEND\n");
	fflush(stdout);
	CHECK(rte_pmd_bsdtap_wait(r, 5000) == 1, "C13 wakeup across processes");
	int n = -1;
	CHECK(rte_pmd_bsdtap_ioctl(r, RTE_PMD_BSDTAP_FIONREAD, &n) == 0 && n == 100,
	      "C31 bytes ready is the head frame's length");
	CHECK(rte_pmd_bsdtap_read(r, buf, 50) == 50, "C17 short buffer gets what fits");
	ssize_t k = rte_pmd_bsdtap_read(r, buf, sizeof(buf));
	CHECK(k == 200, "C17 the rest was dropped: next read is the next frame");
	CHECK(rte_pmd_bsdtap_read(r, buf, 0) == 0, "C18 zero-length read consumes a frame");
	k = rte_pmd_bsdtap_read(r, buf, sizeof(buf));
	CHECK(k == 1300 && buf[1299] == 0x33, "C19 chain gathered whole, empty segment skipped");
	CHECK(rte_pmd_bsdtap_ioctl(r, RTE_PMD_BSDTAP_FIONREAD, &n) == 0 && n == 0,
	      "C31 bytes ready 0 when empty");
	/* C20-C25 */
	memset(buf, 0x7a, sizeof(buf));
	memset(buf, 0xff, 6);
	CHECK(rte_pmd_bsdtap_write(r, buf, 0) == 0, "C21 zero-byte write");
	CHECK(rte_pmd_bsdtap_write(r, buf, 300) == 300, "C24 write of 300");
	CHECK(rte_pmd_bsdtap_write(r, buf, RTE_PMD_BSDTAP_MRU) == RTE_PMD_BSDTAP_MRU,
	      "C22 write of exactly the MRU");
	CHECK(rte_pmd_bsdtap_write(r, buf, RTE_PMD_BSDTAP_MRU + 1) == -1 && rte_errno == EIO,
	      "C22 write over the MRU");
	CHECK(rte_pmd_bsdtap_write(r, buf, 10) == 10, "C25 runt accepted by the write");
	info.mtu = 9000;
	info.baudrate = 1000000000;
	CHECK(rte_pmd_bsdtap_ioctl(r, RTE_PMD_BSDTAP_TAPSIFINFO, &info) == 0, "C28 set info");
	printf("WROTE\n");
	fflush(stdout);
	return rc;
}

/* Each scenario prints "OPEN" once its reader holds the unit, then does
 * its part; exit status 0 means every check in the child held. */
int child_main(const std::string &scenario, const std::string &unit)
{
	if (scenario == "nounit") {
		rte_pmd_bsdtap_reader *x = rte_pmd_bsdtap_open("tap_nonexistent", 0, 0);
		return (x == nullptr && rte_errno == ENXIO) ? 0 : child_fail("open", EINVAL);
	}
	if (scenario == "txwake") {
		/* This process transmits; the parent's reader sleeps meanwhile and
		 * must be woken by this process's tx burst. */
		uint16_t port;
		rte_mempool *mp = rte_mempool_lookup("mp_pool");
		if (rte_eth_dev_get_port_by_name(unit.c_str(), &port) != 0 || mp == nullptr)
			return child_fail("port or pool", ENODEV);
		printf("READY\n");
		fflush(stdout);
		std::this_thread::sleep_for(milliseconds(300)); /* the reader is asleep by now */
		rte_mbuf *m = rte_pktmbuf_alloc(mp);
		if (m == nullptr)
			return child_fail("alloc", ENOBUFS);
		memset(rte_pktmbuf_append(m, 80), 0x4b, 80);
		if (rte_eth_tx_burst(port, 0, &m, 1) != 1)
			return child_fail("tx", EIO);
		return 0;
	}
	if (scenario == "intrarm") {
		/* Rx interrupts are the primary's: arming from here is refused
		 * (and must not post an fd number that is not this process's). */
		uint16_t port;
		if (rte_eth_dev_get_port_by_name(unit.c_str(), &port) != 0)
			return child_fail("port", ENODEV);
		if (rte_eth_dev_rx_intr_enable(port, 0) != -ENOTSUP)
			return child_fail("rx_intr_enable", EINVAL);
		if (rte_eth_dev_rx_intr_disable(port, 0) != -ENOTSUP)
			return child_fail("rx_intr_disable", EINVAL);
		if (rte_eth_dev_rx_intr_ctl_q(port, 0, RTE_EPOLL_PER_THREAD, RTE_INTR_EVENT_ADD,
					      nullptr) == 0)
			return child_fail("rx_intr_ctl_q", EINVAL);
		return 0;
	}
	if (scenario == "churn" || scenario == "churnread") {
		/* Both copying calls, in turn; churn reads a little per open,
		 * churnread a lot. */
		static char bufs[32][1536];
		static struct iovec iov[32];
		static size_t lens[32];
		for (unsigned i = 0; i < 32; i++)
			iov[i] = {bufs[i], sizeof(bufs[i])};
		return churn_loop(
		    unit, scenario == "churn" ? 16 : 4096, [](rte_pmd_bsdtap_reader *c, int i) {
			    return (i & 1) != 0 ? rte_pmd_bsdtap_read_burst(c, iov, lens, 32)
						: static_cast<int>(rte_pmd_bsdtap_read(
						      c, bufs[0], sizeof(bufs[0])));
		    });
	}
	if (scenario == "churnvisit") {
		/* Visits in place: looking (a copy of each frame's first bytes)
		 * and unseen, in turn. */
		static char sink[64];
		rte_pmd_bsdtap_visit_t look = [](void *, rte_mbuf *const *pkts, uint16_t k) {
			for (uint16_t i = 0; i < k; i++)
				memcpy(sink, rte_pktmbuf_mtod(pkts[i], const char *), sizeof(sink));
		};
		return churn_loop(unit, 2048, [look](rte_pmd_bsdtap_reader *c, int i) {
			int n =
			    rte_pmd_bsdtap_visit_burst(c, 32, (i & 1) ? look : nullptr, nullptr);
			if (n == 0)
				rte_errno = EAGAIN;
			return n > 0 ? n : -1;
		});
	}
	rte_pmd_bsdtap_reader *r = rte_pmd_bsdtap_open(unit.c_str(), 0, 0);
	if (scenario == "busy") /* the parent holds queue 0 */
		return (r == nullptr && rte_errno == EBUSY) ? 0
							    : child_fail("open of busy", EINVAL);
	if (r == nullptr)
		return child_fail("open", rte_errno);
	printf("OPEN\n");
	fflush(stdout);
	int rc = 0;
	char buf[RTE_PMD_BSDTAP_MRU + 1];
	if (scenario == "echo") {
		/* Blocking read: woken by the primary's tx through the passed eventfd. */
		ssize_t n = rte_pmd_bsdtap_read(r, buf, sizeof(buf));
		if (n < 0)
			return child_fail("read", rte_errno);
		if (rte_pmd_bsdtap_write(r, buf, static_cast<size_t>(n)) != n)
			return child_fail("write", rte_errno);
	} else if (scenario == "errnos") {
		int nb = 1;
		if (rte_pmd_bsdtap_ioctl(r, RTE_PMD_BSDTAP_FIONBIO, &nb) != 0)
			rc = child_fail("FIONBIO", EINVAL);
		if (rte_pmd_bsdtap_read(r, buf, sizeof(buf)) != -1 || rte_errno != EAGAIN)
			rc = child_fail("read on empty: want EAGAIN", rte_errno);
		if (rte_pmd_bsdtap_write(r, buf, sizeof(buf)) != -1 || rte_errno != EIO)
			rc = child_fail("write of MRU+1: want EIO", rte_errno);
		if (rte_pmd_bsdtap_write(r, buf, 0) != 0)
			rc = child_fail("write of 0", rte_errno);
		if (rte_pmd_bsdtap_ioctl(r, 9999, &nb) != -ENOTTY)
			rc = child_fail("unknown ioctl: want ENOTTY", EINVAL);
		char status[RTE_PMD_BSDTAP_STATUS_LEN];
		std::string want = "Opened by pid " + std::to_string(getpid());
		if (rte_pmd_bsdtap_ioctl(r, RTE_PMD_BSDTAP_SIOCGIFSTATUS, status) != 0 ||
		    strstr(status, want.c_str()) == nullptr)
			rc = child_fail("status: want our pid", EINVAL);
		int n = -1;
		if (rte_pmd_bsdtap_ioctl(r, RTE_PMD_BSDTAP_FIONREAD, &n) != 0 || n != 0)
			rc = child_fail("FIONREAD on empty: want 0", EINVAL);
	} else if (scenario == "poll") {
		int fd = rte_pmd_bsdtap_fd(r);
		pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 0) != 0)
			rc = child_fail("fd readable while the devq is empty", EINVAL);
		printf("ARMED\n");
		fflush(stdout);
		if (poll(&p, 1, 5000) != 1)
			return child_fail("fd did not become readable", ETIMEDOUT);
		if (rte_pmd_bsdtap_read(r, buf, sizeof(buf)) != 60)
			rc = child_fail("read after poll", rte_errno);
		if (poll(&p, 1, 0) != 0)
			rc = child_fail("fd readable after draining", EINVAL);
	} else if (scenario == "burst") {
		/* Zero-copy: the mbufs are in shared memory; give them straight back. */
		rte_mbuf *m[32];
		unsigned got = 0;
		auto end = steady_clock::now() + seconds(5);
		while (got < 100 && steady_clock::now() < end) {
			uint16_t n = rte_pmd_bsdtap_recv_burst(r, m, 32);
			if (n == 0) {
				rte_pmd_bsdtap_wait(r, 100);
				continue;
			}
			uint16_t sent = rte_pmd_bsdtap_send_burst(r, m, n);
			rte_pktmbuf_free_bulk(m + sent, n - sent);
			got += n;
		}
		if (got != 100)
			rc = child_fail("burst: frames", ERANGE);
	} else if (scenario == "intrwrite") {
		/* The primary's application sleeps on rx interrupts: this write,
		 * through this process's copy of its eventfd, must wake it. */
		std::this_thread::sleep_for(milliseconds(300));
		memset(buf, 0xff, 80);
		if (rte_pmd_bsdtap_write(r, buf, 80) != 80)
			rc = child_fail("write", rte_errno);
	} else if (scenario == "conform") {
		rc = child_conform(r);
	} else if (scenario == "hold") {
		pause(); /* until killed (C45) */
	} else if (scenario == "visithold") {
		/* Killed inside a visit (C45): the frames it was lent are the port's. */
		auto lent = [](void *, rte_mbuf *const *, uint16_t) {
			printf("LENT\n");
			fflush(stdout);
			pause();
		};
		auto end = steady_clock::now() + seconds(5);
		while (steady_clock::now() < end)
			if (rte_pmd_bsdtap_visit_burst(r, 32, lent, nullptr) == 0)
				rte_pmd_bsdtap_wait(r, 100);
		rc = child_fail("visithold: nothing to visit", ETIMEDOUT);
	} else if (scenario == "gone") {
		/* The primary closes the port: the blocked read must return EHOSTDOWN. */
		if (rte_pmd_bsdtap_read(r, buf, sizeof(buf)) != -1 || rte_errno != EHOSTDOWN)
			rc = child_fail("read after port close: want EHOSTDOWN", rte_errno);
	}
	if (rte_pmd_bsdtap_close(&r) != 0 || r != nullptr)
		rc = child_fail("close", EINVAL);
	return rc;
}

/* ----------------------------------------------------------- the parent */

/* This binary in its --child mode (see main), the harness's child. What it
 * printed on stderr goes to this test's log when it is done with. */
struct Child : bt::Child {
	bool start(const std::string &scenario, const std::string &unit)
	{
		return bt::Child::start({"test_multiprocess", "--child", scenario, g_prefix, unit});
	}
	~Child()
	{
		if (pid > 0) {
			kill(pid, SIGKILL);
			wait_exit();
		}
		std::string e = err();
		if (!e.empty())
			fputs(e.c_str(), stderr);
	}
};

std::atomic<int> g_lsc{0};

int on_lsc(uint16_t, rte_eth_event_type, void *, void *)
{
	g_lsc.fetch_add(1);
	return 0;
}

template <typename F> bool eventually(F pred, int ms = 3000)
{
	auto end = steady_clock::now() + milliseconds(ms);
	while (!pred()) {
		if (steady_clock::now() > end)
			return pred();
		std::this_thread::sleep_for(milliseconds(1));
	}
	return true;
}

bool link_up(uint16_t port)
{
	rte_eth_link l;
	return rte_eth_link_get_nowait(port, &l) == 0 && l.link_status == RTE_ETH_LINK_UP;
}

rte_mbuf *frame(uint16_t len, uint8_t fill)
{
	rte_mbuf *m = rte_pktmbuf_alloc(g_pool);
	char *p = rte_pktmbuf_append(m, len);
	memset(p, fill, len);
	memset(p, 0xff, 6);
	return m;
}

class MultiProcess : public ::testing::Test
{
protected:
	void SetUp() override
	{
		if (!g_skip.empty()) {
			if (getenv("BSDTAP_REQUIRE_HUGEPAGES") != nullptr)
				FAIL() << "multi-process tests need hugepages: " << g_skip;
			GTEST_SKIP() << g_skip;
		}
		static int n = 200;
		name_ = "net_bsdtap" + std::to_string(n++);
		ASSERT_EQ(rte_vdev_init(name_.c_str(), ""), 0);
		ASSERT_EQ(rte_eth_dev_get_port_by_name(name_.c_str(), &port_), 0);
		ASSERT_NO_FATAL_FAILURE(start_with(rte_eth_conf{}));
		rte_eth_dev_callback_register(port_, RTE_ETH_EVENT_INTR_LSC, on_lsc, nullptr);
		in_use_ = rte_mempool_in_use_count(g_pool);
	}
	/* Configures port_ with conf and one queue pair from g_pool, and
	 * starts it. */
	void start_with(const rte_eth_conf &conf)
	{
		ASSERT_EQ(rte_eth_dev_configure(port_, 1, 1, &conf), 0);
		ASSERT_EQ(rte_eth_rx_queue_setup(port_, 0, 256, 0, nullptr, g_pool), 0);
		ASSERT_EQ(rte_eth_tx_queue_setup(port_, 0, 256, 0, nullptr), 0);
		ASSERT_EQ(rte_eth_dev_start(port_), 0);
	}
	void TearDown() override
	{
		if (!g_skip.empty())
			return;
		uint16_t p;
		if (rte_eth_dev_get_port_by_name(name_.c_str(), &p) == 0) {
			rte_eth_dev_callback_unregister(port_, RTE_ETH_EVENT_INTR_LSC, on_lsc,
							nullptr);
			rte_eth_dev_stop(port_);
		}
		EXPECT_TRUE(eventually([&] { return rte_mempool_in_use_count(g_pool) == in_use_; }))
		    << "mbufs in use " << rte_mempool_in_use_count(g_pool) << " vs " << in_use_;
		rte_vdev_uninit(name_.c_str());
	}
	std::string name_;
	uint16_t port_ = 0;
	unsigned in_use_ = 0;
};

TEST_F(MultiProcess, SecondaryReaderEchoesAndLinkFollowsIt)
{
	int lsc0 = g_lsc.load();
	EXPECT_FALSE(link_up(port_));
	Child c;
	ASSERT_TRUE(c.start("echo", name_));
	ASSERT_TRUE(c.expect("OPEN"));
	/* C04 across processes: the primary's application gets the LSC event. */
	EXPECT_TRUE(eventually([&] { return link_up(port_) && g_lsc.load() > lsc0; }));
	std::this_thread::sleep_for(milliseconds(50)); /* let the child block in read */
	rte_mbuf *m = frame(200, 0x5c);
	ASSERT_EQ(rte_eth_tx_burst(port_, 0, &m, 1), 1);
	rte_mbuf *back = nullptr;
	ASSERT_TRUE(eventually([&] { return rte_eth_rx_burst(port_, 0, &back, 1) == 1; }));
	EXPECT_EQ(back->pkt_len, 200u);
	EXPECT_EQ(rte_pktmbuf_mtod_offset(back, uint8_t *, 100)[0], 0x5c);
	rte_pktmbuf_free(back);
	EXPECT_EQ(c.wait_exit(), 0);
	/* C42 across processes: close takes the link down, with an event. */
	EXPECT_TRUE(eventually([&] { return !link_up(port_); }));
}

TEST_F(MultiProcess, SecondaryErrnosMatchThePrimary)
{
	Child c;
	ASSERT_TRUE(c.start("errnos", name_));
	ASSERT_TRUE(c.expect("OPEN"));
	EXPECT_EQ(c.wait_exit(), 0);

	Child n;
	ASSERT_TRUE(n.start("nounit", name_));
	EXPECT_EQ(n.wait_exit(), 0) << "C03: ENXIO in a secondary";

	rte_pmd_bsdtap_reader *mine = rte_pmd_bsdtap_open(name_.c_str(), 0, 0);
	ASSERT_NE(mine, nullptr);
	Child b;
	ASSERT_TRUE(b.start("busy", name_));
	EXPECT_EQ(b.wait_exit(), 0) << "C07: EBUSY across processes";
	rte_pmd_bsdtap_close(&mine);
}

/* A secondary transmitting on the port wakes a reader that sleeps: it
 * writes the queue's eventfd through its own copy, passed over rte_mp. */
TEST_F(MultiProcess, SecondaryTxWakesSleepingReader)
{
	rte_pmd_bsdtap_reader *r = rte_pmd_bsdtap_open(name_.c_str(), 0, 0);
	ASSERT_NE(r, nullptr);
	Child c;
	ASSERT_TRUE(c.start("txwake", name_));
	ASSERT_TRUE(c.expect("READY"));
	auto t0 = steady_clock::now();
	EXPECT_EQ(rte_pmd_bsdtap_wait(r, 5000), 1);
	auto waited = duration_cast<milliseconds>(steady_clock::now() - t0).count();
	/* The child sends after 300 ms; a missed wakeup would sleep the 5 s out. */
	EXPECT_LT(waited, 2500) << "woken by the timeout, not by the secondary's tx";
	char buf[128];
	EXPECT_EQ(rte_pmd_bsdtap_read(r, buf, sizeof(buf)), 80);
	EXPECT_EQ(c.wait_exit(), 0);
	rte_pmd_bsdtap_close(&r);
}

/* A reader in a secondary wakes the primary's application sleeping in rx
 * interrupt mode (rte_epoll_wait), through its copy of the queue's vector
 * eventfd, passed over rte_mp. */
TEST_F(MultiProcess, SecondaryWriteWakesRxInterrupt)
{
	ASSERT_EQ(rte_eth_dev_stop(port_), 0);
	rte_eth_conf conf{};
	conf.intr_conf.rxq = 1;
	ASSERT_NO_FATAL_FAILURE(start_with(conf));
	ASSERT_EQ(
	    rte_eth_dev_rx_intr_ctl_q(port_, 0, RTE_EPOLL_PER_THREAD, RTE_INTR_EVENT_ADD, nullptr),
	    0);
	Child c;
	ASSERT_TRUE(c.start("intrwrite", name_));
	ASSERT_TRUE(c.expect("OPEN"));
	ASSERT_EQ(rte_eth_dev_rx_intr_enable(port_, 0), 0);
	struct rte_epoll_event ev[1];
	/* The child writes after 300 ms; only its write can end this sleep. */
	EXPECT_EQ(rte_epoll_wait(RTE_EPOLL_PER_THREAD, ev, 1, 10000), 1)
	    << "not woken by the secondary's write";
	ASSERT_EQ(rte_eth_dev_rx_intr_disable(port_, 0), 0);
	rte_mbuf *m = nullptr;
	EXPECT_EQ(rte_eth_rx_burst(port_, 0, &m, 1), 1);
	rte_pktmbuf_free(m);
	EXPECT_EQ(c.wait_exit(), 0);
	rte_eth_dev_rx_intr_ctl_q(port_, 0, RTE_EPOLL_PER_THREAD, RTE_INTR_EVENT_DEL, nullptr);
}

TEST_F(MultiProcess, SecondaryCannotArmRxInterrupt)
{
	ASSERT_EQ(rte_eth_dev_stop(port_), 0);
	rte_eth_conf conf{};
	conf.intr_conf.rxq = 1;
	ASSERT_NO_FATAL_FAILURE(start_with(conf));
	Child c;
	ASSERT_TRUE(c.start("intrarm", name_));
	EXPECT_EQ(c.wait_exit(), 0);
	/* The primary's arming is untouched. */
	EXPECT_EQ(rte_eth_dev_rx_intr_enable(port_, 0), 0);
	EXPECT_EQ(rte_eth_dev_rx_intr_disable(port_, 0), 0);
}

TEST_F(MultiProcess, SecondaryPollFdIsLevelExact)
{
	Child c;
	ASSERT_TRUE(c.start("poll", name_));
	ASSERT_TRUE(c.expect("OPEN"));
	ASSERT_TRUE(c.expect("ARMED"));
	rte_mbuf *m = frame(60, 1);
	ASSERT_EQ(rte_eth_tx_burst(port_, 0, &m, 1), 1);
	EXPECT_EQ(c.wait_exit(), 0);
}

TEST_F(MultiProcess, SecondaryConformance)
{
	Child c;
	ASSERT_TRUE(c.start("conform", name_));
	ASSERT_TRUE(c.expect("OPEN"));
	ASSERT_TRUE(c.expect("SEND"));
	rte_mbuf *m[3] = {frame(100, 1), frame(200, 2), frame(60, 3)};
	ASSERT_EQ(rte_eth_tx_burst(port_, 0, m, 3), 3);
	/* A chain of 600 + 0 + 700 bytes. */
	rte_mbuf *a = frame(600, 0x11), *b = rte_pktmbuf_alloc(g_pool), *d = frame(700, 0x33);
	a->next = b;
	b->next = d;
	a->nb_segs = 3;
	a->pkt_len = 1300;
	ASSERT_EQ(rte_eth_tx_burst(port_, 0, &a, 1), 1);
	ASSERT_TRUE(c.expect("WROTE"));
	rte_mbuf *in[4];
	uint16_t got = 0;
	ASSERT_TRUE(eventually([&] {
		got = static_cast<uint16_t>(got + rte_eth_rx_burst(port_, 0, in + got, 4 - got));
		return got >= 2;
	}));
	EXPECT_EQ(got, 2) << "C25: the runt is not handed to the application";
	EXPECT_EQ(in[0]->pkt_len, 300u);
	EXPECT_EQ(in[1]->pkt_len, 16384u) << "C22: a frame longer than one mbuf becomes a chain";
	EXPECT_GT(in[1]->nb_segs, 1);
	rte_pktmbuf_free_bulk(in, got);
	rte_eth_stats st;
	ASSERT_EQ(rte_eth_stats_get(port_, &st), 0);
	EXPECT_EQ(st.ierrors, 1u) << "C25: the runt counts as an input error";
	EXPECT_EQ(st.ipackets, 2u);
	uint16_t mtu = 0;
	EXPECT_EQ(rte_eth_dev_get_mtu(port_, &mtu), 0);
	EXPECT_EQ(mtu, 9000) << "C28: the secondary's set info reaches the port";
	EXPECT_EQ(c.wait_exit(), 0);
}

TEST_F(MultiProcess, SecondaryZeroCopyBursts)
{
	Child c;
	ASSERT_TRUE(c.start("burst", name_));
	ASSERT_TRUE(c.expect("OPEN"));
	unsigned back = 0;
	for (int i = 0; i < 100; i++) {
		rte_mbuf *m = frame(64, static_cast<uint8_t>(i));
		ASSERT_EQ(rte_eth_tx_burst(port_, 0, &m, 1), 1);
	}
	rte_mbuf *r[32];
	ASSERT_TRUE(eventually(
	    [&] {
		    uint16_t n = rte_eth_rx_burst(port_, 0, r, 32);
		    rte_pktmbuf_free_bulk(r, n);
		    back += n;
		    return back == 100;
	    },
	    5000));
	EXPECT_EQ(c.wait_exit(), 0);
}

TEST_F(MultiProcess, C45_KilledReaderReleasesUnit)
{
	Child c;
	ASSERT_TRUE(c.start("hold", name_));
	ASSERT_TRUE(c.expect("OPEN"));
	ASSERT_TRUE(eventually([&] { return link_up(port_); }));
	/* Frames queued for the reader that will never read them. */
	for (int i = 0; i < 10; i++) {
		rte_mbuf *m = frame(64, 2);
		ASSERT_EQ(rte_eth_tx_burst(port_, 0, &m, 1), 1);
	}
	int lsc0 = g_lsc.load();
	kill(c.pid, SIGKILL);
	c.wait_exit();
	auto t0 = steady_clock::now();
	/* The primary notices within a second or two: link down with an event. */
	ASSERT_TRUE(eventually([&] { return !link_up(port_) && g_lsc.load() > lsc0; }, 3000));
	auto ms = duration_cast<milliseconds>(steady_clock::now() - t0).count();
	EXPECT_LE(ms, 2000);
	/* The devq was purged: the frames are back in the pool. */
	EXPECT_TRUE(eventually([&] { return rte_mempool_in_use_count(g_pool) == in_use_; }));
	/* The next open succeeds, in another process and in this one. */
	Child again;
	ASSERT_TRUE(again.start("errnos", name_));
	ASSERT_TRUE(again.expect("OPEN"));
	EXPECT_EQ(again.wait_exit(), 0);
	rte_pmd_bsdtap_reader *r = rte_pmd_bsdtap_open(name_.c_str(), 0, 0);
	EXPECT_NE(r, nullptr);
	rte_pmd_bsdtap_close(&r);
}

/* C45 inside a visit in place: the reader is killed while it holds the
 * frames it was lent. They were never taken off the devq, so its release
 * (a close, C42) purges and counts every one of them; the pool is whole
 * and the queue opens again. */
TEST_F(MultiProcess, C45_ReaderKilledInsideVisitLosesNothing)
{
	Child c;
	ASSERT_TRUE(c.start("visithold", name_));
	ASSERT_TRUE(c.expect("OPEN"));
	const uint64_t purged0 = bt::xstat(port_, "devq_purged_frames");
	for (int i = 0; i < 10; i++) {
		rte_mbuf *m = frame(64 + i, static_cast<uint8_t>(i));
		ASSERT_EQ(rte_eth_tx_burst(port_, 0, &m, 1), 1);
	}
	ASSERT_TRUE(c.expect("LENT"));
	EXPECT_GT(rte_mempool_in_use_count(g_pool), in_use_);
	kill(c.pid, SIGKILL);
	c.wait_exit();
	rte_pmd_bsdtap_reader *r = nullptr;
	ASSERT_TRUE(eventually(
	    [&] {
		    r = rte_pmd_bsdtap_open(name_.c_str(), 0, RTE_PMD_BSDTAP_O_NONBLOCK);
		    return r != nullptr;
	    },
	    3000))
	    << rte_strerror(rte_errno);
	EXPECT_EQ(bt::xstat(port_, "devq_purged_frames") - purged0, 10u);
	EXPECT_TRUE(eventually([&] { return rte_mempool_in_use_count(g_pool) == in_use_; }));
	/* The queue works on. */
	rte_mbuf *m = frame(90, 3);
	ASSERT_EQ(rte_eth_tx_burst(port_, 0, &m, 1), 1);
	char buf[256];
	EXPECT_EQ(rte_pmd_bsdtap_read(r, buf, sizeof(buf)), 90);
	rte_pmd_bsdtap_close(&r);
	EXPECT_TRUE(eventually([&] { return rte_mempool_in_use_count(g_pool) == in_use_; }));
}

/*
 * C45 at any instruction: a secondary reader that opens, reads (read and
 * read_burst, the copying calls) and closes in a loop is killed with
 * SIGKILL at a random moment while this process transmits, round after
 * round. After each kill, with the tx paused, the queue must open again at
 * once (a claim whose process is dead is released on the spot), the mempool
 * must be back at its baseline (nothing the dead reader was taking is
 * lost, whether it died in a dequeue, its hand-back, its open or its close)
 * and the next round's reader must read. A short run here; thousands of
 * rounds with BSDTAP_STRESS_LONG=1.
 */
TEST_F(MultiProcess, C45_ReadersKilledAnywhereLoseNothing)
{
	const bool long_run = getenv("BSDTAP_STRESS_LONG") != nullptr;
	const int rounds = long_run ? 3000 : 400;
	const auto budget = long_run ? minutes(30) : seconds(25);
	const unsigned seed = static_cast<unsigned>(time(nullptr));
	srand(seed);
	/* Long frames: the reader's copies are the slow side, so it spends its
	 * time inside its take-copy-hand-back. */
	bt::TxLoop tx(port_, 0, 1500, g_pool);
	const auto end = steady_clock::now() + budget;
	int done = 0;
	for (; done < rounds && steady_clock::now() < end; done++) {
		Child c;
		static const char *const kinds[] = {"churn", "churnread", "churnvisit"};
		ASSERT_TRUE(c.start(kinds[done % 3], name_));
		ASSERT_TRUE(c.expect("READ", 10000))
		    << "round " << done << " (seed " << seed << "): the reader read nothing";
		std::this_thread::sleep_for(microseconds(rand() % 5000));
		kill(c.pid, SIGKILL);
		c.wait_exit();
		tx.pause();
		/* Opens at once: the dead claim is released by the open itself. */
		rte_pmd_bsdtap_reader *r = nullptr;
		ASSERT_TRUE(eventually(
		    [&] {
			    r = rte_pmd_bsdtap_open(name_.c_str(), 0, RTE_PMD_BSDTAP_O_NONBLOCK);
			    return r != nullptr;
		    },
		    2000))
		    << "round " << done << " (seed " << seed << "): " << rte_strerror(rte_errno);
		rte_pmd_bsdtap_wait(r, 0); /* an empty devq: frees what was handed back */
		rte_pmd_bsdtap_close(&r);
		ASSERT_TRUE(
		    eventually([&] { return rte_mempool_in_use_count(g_pool) == in_use_; }, 2000))
		    << "round " << done << " (seed " << seed << "): mbufs in use "
		    << rte_mempool_in_use_count(g_pool) << ", baseline " << in_use_;
		tx.resume();
	}
	tx.stop();
	printf("%d readers killed at random points, seed %u\n", done, seed);
	EXPECT_GE(done, long_run ? rounds : 20);
}

TEST_F(MultiProcess, C44_PortClosedUnderSecondaryReader)
{
	Child c;
	ASSERT_TRUE(c.start("gone", name_));
	ASSERT_TRUE(c.expect("OPEN"));
	/* Removal is refused while the reader holds the unit. */
	EXPECT_EQ(rte_vdev_uninit(name_.c_str()), -EBUSY);
	/* Closing the port cannot be refused: the reader wakes with EHOSTDOWN. */
	ASSERT_EQ(rte_eth_dev_stop(port_), 0);
	ASSERT_EQ(rte_eth_dev_close(port_), 0);
	EXPECT_EQ(c.wait_exit(), 0);
	EXPECT_EQ(rte_vdev_uninit(name_.c_str()), 0);
}

} // namespace

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "--child") == 0) {
		g_prefix = argv[3];
		if (bt::eal_init_secondary("bsdtap-reader-child", argv[3]) < 0)
			return child_fail("secondary EAL init", rte_errno);
		int rc = child_main(argv[2], argv[4]);
		rte_eal_cleanup();
		return rc;
	}
	::testing::InitGoogleTest(&argc, argv);
	g_prefix = "bsdtap-mp-" + std::to_string(getpid());
	const char *eal[] = {"bsdtap-mp-tests",
			     "--file-prefix",
			     g_prefix.c_str(),
			     "--no-pci",
			     "-l",
			     "0",
			     "-m",
			     "128",
			     "--log-level",
			     "pmd.net.bsdtap:notice"};
	bool eal_up = rte_eal_init(static_cast<int>(RTE_DIM(eal)), const_cast<char **>(eal)) >= 0;
	if (!eal_up) {
		g_skip = std::string("EAL with hugepages failed: ") + rte_strerror(rte_errno) +
			 " (reserve hugepages: devtools/setup.sh as root)";
	} else {
		g_pool =
		    rte_pktmbuf_pool_create("mp_pool", 2047, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
		if (g_pool == nullptr)
			g_skip = std::string("mempool: ") + rte_strerror(rte_errno);
	}
	if (!g_skip.empty())
		fprintf(stderr, "multi-process tests cannot run: %s\n", g_skip.c_str());
	int ret = RUN_ALL_TESTS();
	if (eal_up)
		rte_eal_cleanup();
	bt::remove_runtime_files(g_prefix);
	return ret;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fault matrix (doc/reliability.md): one test per way the other end of
 * a unit, or the application's own resources, can fail. Every cell ends
 * with the mempool's in-use count back at its baseline and both sides able
 * to go on (the reader's queue opens again, the application's tx and rx
 * work).
 *
 * This binary is the primary, with hugepages, like test_multiprocess; it
 * runs itself again as `--child <scenario> <file prefix> <unit>` for a
 * reader in a secondary process, and as `--primary <file prefix> <unit>`
 * for a second, independent primary that a cell kills. Without hugepages
 * every cell is skipped with the reason, unless BSDTAP_REQUIRE_HUGEPAGES=1.
 * BSDTAP_STRESS_LONG=1 runs the long counts (more kill rounds, 100 rounds
 * of the attach/detach cell).
 */

#include <arpa/inet.h>
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <rte_bus_vdev.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "harness.h"
#include "rte_pmd_bsdtap.h"

namespace
{

using namespace std::chrono;

std::string g_prefix;
std::string g_skip;   /* why the cells cannot run here */
std::string g_reader; /* the bsdtap-reader program (--reader=PATH) */
rte_mempool *g_cpool; /* a pool with per-lcore caches (writers make their own) */

bool long_run()
{
	return getenv("BSDTAP_STRESS_LONG") != nullptr;
}

/* ------------------------------------------------------------ children */

volatile sig_atomic_t g_quit = 0;

/* A reader in a secondary process. Prints OPEN once it holds the queue.
 *  read:  copying read_burst in a loop (non-blocking, sleeping in wait),
 *         READ once it read; SIGUSR1 makes it close and exit 0;
 *  write: writes 100 frames of 1000 bytes, says WROTE, waits to be killed;
 *  block: one blocking read; its error is printed and the exit status
 *         is 3 for EHOSTDOWN, 4 for any other. */
int child_main(const std::string &scenario, const std::string &unit)
{
	signal(SIGUSR1, [](int) { g_quit = 1; });
	const bool block = scenario == "block";
	rte_pmd_bsdtap_reader *r =
	    rte_pmd_bsdtap_open(unit.c_str(), 0, block ? 0 : RTE_PMD_BSDTAP_O_NONBLOCK);
	if (r == nullptr) {
		fprintf(stderr, "child: open %s: %s\n", unit.c_str(), rte_strerror(rte_errno));
		return 1;
	}
	printf("OPEN\n");
	fflush(stdout);
	static char bufs[32][2048];
	if (scenario == "write") {
		memset(bufs[0], 0xff, 1000);
		for (int i = 0; i < 100; i++)
			if (rte_pmd_bsdtap_write(r, bufs[0], 1000) != 1000) {
				fprintf(stderr, "child: write: %s\n", rte_strerror(rte_errno));
				return 1;
			}
		printf("WROTE\n");
		fflush(stdout);
		pause();
	}
	if (block) {
		ssize_t n = rte_pmd_bsdtap_read(r, bufs[0], sizeof(bufs[0]));
		int err = rte_errno;
		fprintf(stderr, "child: read returned %zd: %s\n", n, n < 0 ? strerror(err) : "");
		rte_pmd_bsdtap_close(&r);
		return n < 0 && err == EHOSTDOWN ? 3 : 4;
	}
	struct iovec iov[32];
	size_t lens[32];
	for (unsigned i = 0; i < 32; i++)
		iov[i] = {bufs[i], sizeof(bufs[i])};
	bool said = false;
	while (g_quit == 0) {
		int n = rte_pmd_bsdtap_read_burst(r, iov, lens, 32);
		if (n < 0) {
			if (rte_errno != EAGAIN) {
				fprintf(stderr, "child: read_burst: %s\n", rte_strerror(rte_errno));
				return 1;
			}
			rte_pmd_bsdtap_wait(r, 10);
			continue;
		}
		if (!said) {
			printf("READ\n");
			fflush(stdout);
			said = true;
		}
	}
	rte_pmd_bsdtap_close(&r);
	printf("CLOSED\n");
	fflush(stdout);
	return 0;
}

/* A second primary: creates unit (two queues), starts it, says READY, then
 * transmits a frame on queue 1 every 5 ms until killed (queue 0 idle). */
int primary_main(const std::string &unit)
{
	rte_mempool *mp =
	    rte_pktmbuf_pool_create("p2_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	int port = mp == nullptr ? -ENOMEM : bt::create(unit, "queues=2");
	if (port < 0 || bt::configure_start(static_cast<uint16_t>(port), 2, mp) != 0) {
		fprintf(stderr, "primary: port: %s\n", rte_strerror(port < 0 ? -port : EINVAL));
		return 1;
	}
	printf("READY\n");
	fflush(stdout);
	for (uint32_t i = 0;; i++) {
		rte_mbuf *m = bt::mbuf_of(bt::frame(60, i), 0, mp);
		if (m != nullptr && bt::tx1(static_cast<uint16_t>(port), 1, m) != 1)
			rte_pktmbuf_free(m);
		std::this_thread::sleep_for(milliseconds(5));
	}
}

/* ---------------------------------------------------------- the parent */

bt::Child *spawn(bt::Child &c, const std::string &scenario, const std::string &unit,
		 const std::string &prefix = "")
{
	if (!c.start(
		{"test_faults", "--child", scenario, prefix.empty() ? g_prefix : prefix, unit}))
		return nullptr;
	return &c;
}

using bt::TxLoop;

/* Opens (port's) queue 0 in this process, lets the wait free what readers
 * handed back, and closes again: the queue is free and clean. */
bool reopen_ok(const std::string &name, uint16_t q = 0)
{
	rte_pmd_bsdtap_reader *r = nullptr;
	if (!bt::eventually(
		[&] {
			r = rte_pmd_bsdtap_open(name.c_str(), q, RTE_PMD_BSDTAP_O_NONBLOCK);
			return r != nullptr;
		},
		3000))
		return false;
	rte_pmd_bsdtap_wait(r, 0);
	return rte_pmd_bsdtap_close(&r) == 0;
}

rte_device *dev_of(uint16_t port)
{
	rte_eth_dev_info info{};
	return rte_eth_dev_info_get(port, &info) == 0 ? info.device : nullptr;
}

rte_eth_stats stats(uint16_t port)
{
	rte_eth_stats s{};
	rte_eth_stats_get(port, &s);
	return s;
}

size_t heap_bytes()
{
	rte_malloc_socket_stats s{};
	rte_malloc_get_socket_stats(0, &s);
	return s.heap_allocsz_bytes;
}

long rss_kib()
{
	std::ifstream f("/proc/self/status");
	std::string line;
	while (std::getline(f, line))
		if (line.rfind("VmRSS:", 0) == 0)
			return std::stol(line.substr(6));
	return -1;
}

/* Sockets of the endpoint cells. */
using bt::sock_dir;

unsigned dir_entries(const std::string &d)
{
	unsigned n = 0;
	for (const auto &e : std::filesystem::directory_iterator(d)) {
		(void)e;
		n++;
	}
	return n;
}

int sock_type(const std::string &t)
{
	return t == "dgram" ? SOCK_DGRAM : t == "stream" ? SOCK_STREAM : SOCK_SEQPACKET;
}

/* A client of the endpoint; dgram clients bind an address of their own. */
struct Client {
	int fd = -1;
	std::string type, bound;

	int open(const std::string &path, const std::string &t)
	{
		type = t;
		fd = socket(AF_UNIX, sock_type(t) | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return errno;
		sockaddr_un sa{};
		sa.sun_family = AF_UNIX;
		if (t == "dgram") {
			static int serial;
			bound = sock_dir() + "/c" + std::to_string(serial++);
			snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", bound.c_str());
			if (bind(fd, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) != 0)
				return errno;
		}
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path.c_str());
		for (int i = 0; i < 2000; i++) {
			if (connect(fd, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) == 0)
				return 0;
			if (errno != EPERM)
				return errno;
			usleep(1000); /* dgram: the previous client is not yet seen gone */
		}
		return errno;
	}
	ssize_t send(const std::vector<uint8_t> &f)
	{
		if (type == "stream") {
			uint32_t be = htonl(static_cast<uint32_t>(f.size()));
			iovec iov[2] = {{&be, 4}, {const_cast<uint8_t *>(f.data()), f.size()}};
			ssize_t n = writev(fd, iov, 2);
			return n < 0 ? -errno : n - 4;
		}
		ssize_t n = ::send(fd, f.data(), f.size(), MSG_NOSIGNAL);
		return n < 0 ? -errno : n;
	}
	/* One frame, or an empty vector (nothing within timeout_ms, or EOF). */
	std::vector<uint8_t> recv(int timeout_ms = 2000)
	{
		std::vector<uint8_t> out;
		pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, timeout_ms) != 1)
			return out;
		if (type == "stream") {
			uint32_t be = 0;
			if (::recv(fd, &be, 4, MSG_WAITALL) != 4)
				return out;
			out.resize(ntohl(be));
			if (::recv(fd, out.data(), out.size(), MSG_WAITALL) !=
			    static_cast<ssize_t>(out.size()))
				out.clear();
			return out;
		}
		out.resize(65536);
		ssize_t n = ::recv(fd, out.data(), out.size(), 0);
		out.resize(n > 0 ? static_cast<size_t>(n) : 0);
		return out;
	}
	void close()
	{
		if (type == "dgram" && fd >= 0)
			(void)::send(fd, "", 0, MSG_NOSIGNAL); /* goodbye */
		if (fd >= 0)
			::close(fd);
		fd = -1;
		if (!bound.empty())
			unlink(bound.c_str());
		bound.clear();
	}
	~Client() { close(); }
};

class Faults : public bt::PortTest
{
protected:
	void SetUp() override
	{
		if (!g_skip.empty()) {
			if (getenv("BSDTAP_REQUIRE_HUGEPAGES") != nullptr)
				FAIL() << "the fault matrix needs hugepages: " << g_skip;
			GTEST_SKIP() << g_skip;
		}
		bt::PortTest::SetUp();
		cpool_in_use_ = bt::in_use(g_cpool);
		/* Memzones ethdev makes once, at the first port of the process
		 * (its shared port data), are not a unit's: the cells that count
		 * memzones count after one port came and went. */
		static bool warm;
		if (!warm) {
			const std::string name = bt::unique_name();
			ASSERT_GE(bt::create(name, "queues=16"), 0);
			ASSERT_EQ(bt::destroy(name), 0);
			warm = true;
		}
	}
	void TearDown() override
	{
		if (!g_skip.empty())
			return;
		bt::PortTest::TearDown();
		EXPECT_TRUE(bt::eventually([&] { return bt::in_use(g_cpool) == cpool_in_use_; }))
		    << "cached pool: in use " << bt::in_use(g_cpool) << ", at start "
		    << cpool_in_use_;
	}
	unsigned cpool_in_use_ = 0;

	/* A client on the endpoint of port, taken by the pump (the link is
	 * up, the client counted); a dgram client's hello is received. */
	void attach(Client &c, uint16_t port, const std::string &path, const std::string &type)
	{
		uint64_t acc = bt::xstat(port, "socket_clients_accepted");
		ASSERT_EQ(c.open(path, type), 0) << strerror(errno);
		if (type == "dgram") {
			ASSERT_EQ(c.send(bt::frame(60, 1)), 60);
			auto got = bt::rx_wait(port, 0, 1);
			ASSERT_EQ(got.size(), 1u);
			bt::free_all(got);
		}
		ASSERT_TRUE(bt::eventually(
		    [&] { return bt::xstat(port, "socket_clients_accepted") > acc; }, 3000));
	}
	/* One frame each way between the application and c. */
	void exchange(Client &c, uint16_t port, uint32_t seq)
	{
		auto f = bt::frame(100, seq);
		ASSERT_EQ(bt::tx1(port, 0, bt::mbuf_of(f)), 1);
		EXPECT_EQ(c.recv(), f);
		ASSERT_EQ(c.send(f), 100);
		auto m = bt::rx_wait(port, 0, 1);
		ASSERT_EQ(m.size(), 1u);
		EXPECT_EQ(bt::bytes_of(m[0]), f);
		bt::free_all(m);
	}
};

/* ------------------------------------------------ reader killed mid-burst */

/*
 * A copying reader in a secondary killed with SIGKILL at a random moment
 * while the application transmits at full rate: nothing is lost, the queue
 * opens again. C45_ReadersKilledAnywhereLoseNothing (test_multiprocess)
 * runs the read and read_burst mix hundreds of times (thousands with
 * BSDTAP_STRESS_LONG=1); this is the read_burst reader against full-rate
 * tx of a ring_size=256 devq.
 */
TEST_F(Faults, ReaderKilledMidBurst)
{
	std::string name = bt::unique_name();
	int p = make(name, "ring_size=256");
	ASSERT_GE(p, 0);
	uint16_t port = static_cast<uint16_t>(p);
	const int rounds = long_run() ? 1000 : 30;
	const unsigned seed = static_cast<unsigned>(time(nullptr));
	srand(seed);
	TxLoop tx(port, 0, 1000);
	for (int done = 0; done < rounds; done++) {
		bt::Child c;
		ASSERT_NE(spawn(c, "read", name), nullptr);
		ASSERT_TRUE(c.expect("OPEN")) << c.err();
		ASSERT_TRUE(c.expect("READ", 10000)) << "round " << done << ": " << c.err();
		std::this_thread::sleep_for(microseconds(rand() % 3000));
		kill(c.pid, SIGKILL);
		c.wait_exit();
		tx.pause();
		ASSERT_TRUE(reopen_ok(name)) << "round " << done << " (seed " << seed << ")";
		ASSERT_TRUE(bt::eventually([&] { return bt::in_use() == start_in_use_; }))
		    << "round " << done << " (seed " << seed << "): in use " << bt::in_use()
		    << ", baseline " << start_in_use_;
		tx.resume();
	}
	tx.stop();
	EXPECT_GT(tx.taken.load(), 0u);
}

/*
 * A reader that writes allocates through a mempool cache of its own (when
 * the pool has per-lcore caches), up to 256 mbufs of the pool. Killed with
 * SIGKILL after its writes, its cache is flushed by the release of the dead
 * reader: every mbuf is back. (Killed during a write, it may die inside the
 * pool's ring operation, which DPDK cannot recover from: see
 * doc/reliability.md. This cell kills it between writes.)
 */
TEST_F(Faults, WritingReaderKilledLeavesNoCachedMbufs)
{
	std::string name = bt::unique_name();
	int p = make(name, "", false);
	ASSERT_GE(p, 0);
	uint16_t port = static_cast<uint16_t>(p);
	ASSERT_EQ(bt::configure_start(port, 1, g_cpool), 0);
	for (int round = 0; round < 10; round++) {
		bt::Child c;
		ASSERT_NE(spawn(c, "write", name), nullptr);
		ASSERT_TRUE(c.expect("OPEN")) << c.err();
		ASSERT_TRUE(c.expect("WROTE", 10000)) << c.err();
		auto got = bt::rx_wait(port, 0, 100);
		EXPECT_EQ(got.size(), 100u);
		bt::free_all(got);
		EXPECT_GT(bt::in_use(g_cpool), cpool_in_use_) << "the writer cached no mbufs";
		kill(c.pid, SIGKILL);
		c.wait_exit();
		ASSERT_TRUE(reopen_ok(name)) << "round " << round;
		ASSERT_TRUE(bt::eventually([&] { return bt::in_use(g_cpool) == cpool_in_use_; }))
		    << "round " << round << ": in use " << bt::in_use(g_cpool) << ", baseline "
		    << cpool_in_use_ << ": the dead writer's cache was not flushed";
	}
}

/* ------------------------------------------------- SIGSTOPped reader */

/*
 * The reader stops (SIGSTOP) while it reads and the application transmits
 * at full rate: the application's tx burst keeps returning; what the devq
 * cannot hold is dropped and counted. After SIGCONT the reader goes on and
 * closes normally; a second one is killed while still stopped. Either way
 * the mbufs come back and the queue opens again.
 */
TEST_F(Faults, StoppedReaderNeverStallsTx)
{
	std::string name = bt::unique_name();
	int p = make(name, "ring_size=256");
	ASSERT_GE(p, 0);
	uint16_t port = static_cast<uint16_t>(p);
	for (bool resume : {true, false}) {
		TxLoop tx(port);
		bt::Child c;
		ASSERT_NE(spawn(c, "read", name), nullptr);
		ASSERT_TRUE(c.expect("OPEN")) << c.err();
		ASSERT_TRUE(c.expect("READ", 10000)) << c.err();
		ASSERT_EQ(kill(c.pid, SIGSTOP), 0);
		uint64_t oerr0 = stats(port).oerrors;
		EXPECT_TRUE(tx.keeps_going(8)) << "tx burst stalled behind a stopped reader";
		EXPECT_GT(stats(port).oerrors, oerr0) << "frames beyond the devq not counted";
		if (resume) {
			ASSERT_EQ(kill(c.pid, SIGCONT), 0);
			EXPECT_TRUE(tx.keeps_going(2));
			tx.pause();
			ASSERT_EQ(kill(c.pid, SIGUSR1), 0);
			EXPECT_TRUE(c.expect("CLOSED", 5000)) << c.err();
			EXPECT_EQ(c.wait_exit(5000), 0) << c.err();
		} else {
			ASSERT_EQ(kill(c.pid, SIGKILL), 0);
			EXPECT_TRUE(tx.keeps_going(2));
			tx.pause();
			c.wait_exit();
		}
		tx.stop();
		/* Every frame offered was taken by tx burst (txfull=drop). */
		EXPECT_EQ(tx.taken.load(), tx.offered.load());
		EXPECT_TRUE(reopen_ok(name));
		EXPECT_TRUE(bt::eventually([&] { return bt::in_use() == start_in_use_; }))
		    << (resume ? "SIGCONT" : "SIGKILL") << ": in use " << bt::in_use();
	}
}

/* ----------------------------------------------------- primary killed */

using bt::remove_runtime_files;

std::string drain(bt::Child &c)
{
	std::string s;
	char buf[512];
	ssize_t n;
	while (c.out >= 0 && (n = read(c.out, buf, sizeof(buf))) > 0)
		s.append(buf, static_cast<size_t>(n));
	return s;
}

/*
 * A second primary (its own file prefix) with two readers in secondaries:
 * bsdtap-reader on queue 1 and a reader blocked in rte_pmd_bsdtap_read() on
 * queue 0. The primary is killed with SIGKILL: each reader ends within a
 * bounded time with a message saying why (bsdtap-reader: status 1, "the
 * primary process exited"; the API: EHOSTDOWN), none hangs.
 */
TEST_F(Faults, PrimaryKilledUnderSecondaryReaders)
{
	const std::string prefix = g_prefix + "-p2", unit = "net_bsdtap7";
	struct Cleanup {
		std::string p;
		~Cleanup() { remove_runtime_files(p); }
	} cleanup{prefix};
	bt::Child primary;
	ASSERT_TRUE(primary.start({"test_faults", "--primary", prefix, unit}));
	ASSERT_TRUE(primary.expect("READY")) << primary.err();
	bt::Child api;
	ASSERT_NE(spawn(api, "block", unit, prefix), nullptr);
	ASSERT_TRUE(api.expect("OPEN")) << api.err();
	/* Let the reader read, then block: the devq of queue 0 drained. */
	bt::Child app;
	bool have_app = !g_reader.empty() && access(g_reader.c_str(), X_OK) == 0;
	if (have_app) {
		ASSERT_TRUE(app.start({"bsdtap-reader", "--file-prefix", prefix, "--", "sink",
				       "--unit", "tap7", "--queue", "1", "--copy"},
				      g_reader));
	}
	std::this_thread::sleep_for(milliseconds(1500));
	if (have_app) {
		ASSERT_EQ(app.wait_exit(0), -1) << "bsdtap-reader exited early: " << app.err();
	}
	ASSERT_EQ(kill(primary.pid, SIGKILL), 0);
	primary.wait_exit();
	auto t0 = steady_clock::now();
	int st = api.wait_exit(10000);
	EXPECT_EQ(st, 3) << "the blocked reader did not end with EHOSTDOWN (-1: still blocked "
			    "10 s after the primary died): "
			 << api.err();
	printf(
	    "API reader ended %lld ms after the kill: %s",
	    static_cast<long long>(duration_cast<milliseconds>(steady_clock::now() - t0).count()),
	    api.err().c_str());
	if (have_app) {
		st = app.wait_exit(10000);
		std::string said = drain(app) + app.err();
		EXPECT_EQ(st, 1) << said;
		printf("bsdtap-reader: status %d: %s", st, said.c_str());
		EXPECT_NE(said.find("the primary process exited"), std::string::npos) << said;
	} else {
		printf("bsdtap-reader not given (--reader=PATH): that half not run\n");
	}
	/* This process's own port works on. */
	std::string name = bt::unique_name();
	int port = make(name, "reader=echo");
	ASSERT_GE(port, 0);
	ASSERT_EQ(bt::tx1(static_cast<uint16_t>(port), 0, bt::mbuf_of(bt::frame(80))), 1);
	auto got = bt::rx_wait(static_cast<uint16_t>(port), 0, 1);
	EXPECT_EQ(got.size(), 1u);
	bt::free_all(got);
}

/* ------------------------------------- port gone under a blocked reader */

/*
 * Readers blocked in read and in wait (in this process; C44_PortClosed-
 * UnderSecondaryReader in test_multiprocess does it across processes), a
 * third one holding frames it never reads. Removal (rte_vdev_uninit,
 * rte_dev_remove) is refused with EBUSY while they hold the unit, and
 * stopping the port leaves them blocked; closing it wakes both with
 * EHOSTDOWN, their writes fail with EHOSTDOWN, and after their close no
 * memzone, thread, fd or mbuf of the unit is left.
 */
TEST_F(Faults, PortGoneUnderBlockedReaders)
{
	const unsigned zones = bt::memzones(), thr = bt::threads(), fds = bt::fds();
	std::string name = bt::unique_name();
	int p = bt::create(name, "queues=3");
	ASSERT_GE(p, 0);
	uint16_t port = static_cast<uint16_t>(p);
	ASSERT_EQ(bt::configure_start(port, 3), 0);
	rte_pmd_bsdtap_reader *r[3];
	for (uint16_t q = 0; q < 3; q++)
		ASSERT_NE(r[q] = rte_pmd_bsdtap_open(name.c_str(), q, 0), nullptr);
	for (int i = 0; i < 10; i++)
		ASSERT_EQ(bt::tx1(port, 2, bt::mbuf_of(bt::frame(200, i))), 1);
	std::atomic<int> read_err{0}, wait_ret{1};
	std::atomic<bool> read_done{false}, wait_done{false};
	std::thread reader([&] {
		char buf[2048];
		if (rte_pmd_bsdtap_read(r[0], buf, sizeof(buf)) < 0)
			read_err = rte_errno;
		read_done = true;
	});
	std::thread waiter([&] {
		wait_ret = rte_pmd_bsdtap_wait(r[1], -1);
		wait_done = true;
	});
	std::this_thread::sleep_for(milliseconds(100));
	EXPECT_EQ(rte_vdev_uninit(name.c_str()), -EBUSY);
	EXPECT_EQ(rte_dev_remove(dev_of(port)), -EBUSY);
	ASSERT_EQ(rte_eth_dev_stop(port), 0);
	std::this_thread::sleep_for(milliseconds(100));
	EXPECT_FALSE(read_done.load() || wait_done.load()) << "a stop woke a blocked reader";
	ASSERT_EQ(rte_eth_dev_close(port), 0);
	EXPECT_TRUE(bt::eventually([&] { return read_done.load() && wait_done.load(); }, 3000))
	    << "blocked readers not woken by the close";
	reader.join();
	waiter.join();
	EXPECT_EQ(read_err.load(), EHOSTDOWN);
	EXPECT_EQ(wait_ret.load(), -EHOSTDOWN);
	EXPECT_EQ(rte_pmd_bsdtap_write(r[2], "0123456789abcdef", 16), -1);
	EXPECT_EQ(rte_errno, EHOSTDOWN);
	EXPECT_EQ(rte_vdev_uninit(name.c_str()), 0);
	EXPECT_TRUE(bt::eventually([&] { return bt::in_use() == start_in_use_; }))
	    << "frames of the closed port not freed: " << bt::in_use();
	for (auto &h : r)
		EXPECT_EQ(rte_pmd_bsdtap_close(&h), 0);
	EXPECT_EQ(bt::memzones(), zones);
	EXPECT_EQ(bt::threads(), thr);
	EXPECT_EQ(bt::fds(), fds);
	/* The application goes on: the unit's name can be made again. */
	int again = make(name, "reader=echo");
	ASSERT_GE(again, 0);
	ASSERT_EQ(bt::tx1(static_cast<uint16_t>(again), 0, bt::mbuf_of(bt::frame(80))), 1);
	auto got = bt::rx_wait(static_cast<uint16_t>(again), 0, 1);
	EXPECT_EQ(got.size(), 1u);
	bt::free_all(got);
}

/* ------------------------------------------------- mempool exhausted */

/*
 * The port's rx pool is empty (the application holds every mbuf): a
 * reader's writes fail with ENOBUFS and count in rx_nombuf, a write whose
 * chain finds only some of the mbufs it needs gives those back, and once
 * the application frees its mbufs writes work again.
 */
TEST_F(Faults, MempoolExhausted)
{
	rte_mempool *tiny =
	    rte_pktmbuf_pool_create("faults_tiny", 127, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	ASSERT_NE(tiny, nullptr);
	std::string name = bt::unique_name();
	int p = make(name, "", false);
	ASSERT_GE(p, 0);
	uint16_t port = static_cast<uint16_t>(p);
	ASSERT_EQ(bt::configure_start(port, 1, tiny), 0);
	const unsigned base = bt::in_use(tiny);
	rte_pmd_bsdtap_reader *r = rte_pmd_bsdtap_open(name.c_str(), 0, 0);
	ASSERT_NE(r, nullptr);
	std::vector<rte_mbuf *> hoard;
	while (rte_mbuf *m = rte_pktmbuf_alloc(tiny))
		hoard.push_back(m);
	static char f[RTE_PMD_BSDTAP_MRU];
	memset(f, 0xff, sizeof(f));
	for (int i = 0; i < 10; i++) {
		EXPECT_EQ(rte_pmd_bsdtap_write(r, f, 100), -1);
		EXPECT_EQ(rte_errno, ENOBUFS);
	}
	EXPECT_EQ(stats(port).rx_nombuf, 10u);
	/* Three mbufs back: not enough for a frame of 16384 bytes (eight). */
	for (int i = 0; i < 3; i++) {
		rte_pktmbuf_free(hoard.back());
		hoard.pop_back();
	}
	const unsigned held = bt::in_use(tiny);
	EXPECT_EQ(rte_pmd_bsdtap_write(r, f, sizeof(f)), -1);
	EXPECT_EQ(rte_errno, ENOBUFS);
	EXPECT_EQ(bt::in_use(tiny), held) << "a partly allocated chain was not given back";
	EXPECT_EQ(stats(port).rx_nombuf, 11u);
	bt::free_all(hoard);
	for (int i = 0; i < 10; i++)
		EXPECT_EQ(rte_pmd_bsdtap_write(r, f, 100), 100);
	EXPECT_EQ(rte_pmd_bsdtap_write(r, f, sizeof(f)), static_cast<ssize_t>(sizeof(f)));
	auto got = bt::rx_wait(port, 0, 11);
	EXPECT_EQ(got.size(), 11u);
	bt::free_all(got);
	EXPECT_EQ(stats(port).rx_nombuf, 11u);
	ASSERT_EQ(rte_pmd_bsdtap_close(&r), 0);
	EXPECT_EQ(bt::in_use(tiny), base);
	ASSERT_EQ(bt::destroy(name), 0);
	ports_.clear();
	EXPECT_EQ(bt::in_use(tiny), 0u);
	rte_mempool_free(tiny);
}

/* ------------------------------------------------ devq and inq full */

/*
 * A reader that neither reads nor lets the application read: tx bursts
 * keep taking every frame, the devq holds ring_size of them and the rest
 * count in oerrors and tx_devq_full_errors; the reader's writes keep
 * returning their length, the inq holds ring_size and the rest count in
 * imissed. The counts add up exactly, and the held frames come back.
 * (RingSizeIsTheDevqDepthAndDropCountsOerrors in test_driver checks the
 * devq depth alone.)
 */
TEST_F(Faults, DevqAndInqFull)
{
	const unsigned ring = 64, n = 1000;
	std::string name = bt::unique_name();
	int p = make(name, "ring_size=" + std::to_string(ring));
	ASSERT_GE(p, 0);
	uint16_t port = static_cast<uint16_t>(p);
	rte_pmd_bsdtap_reader *r = rte_pmd_bsdtap_open(name.c_str(), 0, RTE_PMD_BSDTAP_O_NONBLOCK);
	ASSERT_NE(r, nullptr);
	for (unsigned i = 0; i < n; i += 20) {
		rte_mbuf *m[20];
		for (auto &b : m)
			b = bt::mbuf_of(bt::frame(100, i));
		ASSERT_EQ(rte_eth_tx_burst(port, 0, m, 20), 20) << "tx burst refused frames";
	}
	EXPECT_EQ(stats(port).opackets, ring);
	EXPECT_EQ(stats(port).oerrors, n - ring);
	EXPECT_EQ(bt::xstat(port, "tx_devq_full_errors"), n - ring);
	EXPECT_EQ(bt::in_use(), start_in_use_ + ring);
	auto f = bt::frame(100);
	for (unsigned i = 0; i < n; i++)
		ASSERT_EQ(rte_pmd_bsdtap_write(r, f.data(), f.size()), 100);
	EXPECT_EQ(stats(port).imissed, n - ring);
	EXPECT_EQ(bt::in_use(), start_in_use_ + 2 * ring);
	auto got = bt::rx_wait(port, 0, ring);
	EXPECT_EQ(got.size(), ring);
	bt::free_all(got);
	EXPECT_EQ(stats(port).ipackets, ring);
	/* Both sides go on: one frame each way. */
	char buf[256];
	ASSERT_EQ(rte_pmd_bsdtap_read(r, buf, sizeof(buf)), 100);
	ASSERT_EQ(rte_pmd_bsdtap_close(&r), 0); /* purges the 63 left */
	EXPECT_TRUE(bt::eventually([&] { return bt::in_use() == start_in_use_; }));
	r = rte_pmd_bsdtap_open(name.c_str(), 0, 0);
	ASSERT_NE(r, nullptr);
	ASSERT_EQ(bt::tx1(port, 0, bt::mbuf_of(f)), 1);
	EXPECT_EQ(rte_pmd_bsdtap_read(r, buf, sizeof(buf)), 100);
	EXPECT_EQ(rte_pmd_bsdtap_write(r, buf, 100), 100);
	got = bt::rx_wait(port, 0, 1);
	EXPECT_EQ(got.size(), 1u);
	bt::free_all(got);
	ASSERT_EQ(rte_pmd_bsdtap_close(&r), 0);
}

/* ------------------------------------------------ socket endpoint */

/*
 * A client that connects and never reads, for each socket type, while the
 * application transmits at full rate: tx burst keeps returning and taking
 * every frame; what the client's socket refuses is dropped and counted
 * (socket_tx_dropped_frames), then the devq fills and tx drops count in
 * oerrors. Pump.SlowClientDropsAreCountedNeverStall (test_socket) checks
 * the exact sums for seqpacket. Once the client leaves, the mbufs come
 * back and the next client exchanges frames.
 */
TEST_F(Faults, SocketClientNeverReads)
{
	for (const char *type : {"seqpacket", "stream", "dgram"}) {
		SCOPED_TRACE(type);
		std::string path = sock_dir() + "/never-" + type, name = bt::unique_name();
		int p = make(name, std::string("reader=socket,ring_size=256,socket_type=") + type +
				       ",path=" + path);
		ASSERT_GE(p, 0);
		uint16_t port = static_cast<uint16_t>(p);
		{
			Client c;
			ASSERT_NO_FATAL_FAILURE(attach(c, port, path, type));
			TxLoop tx(port, 0, 1000);
			EXPECT_TRUE(tx.keeps_going(6)) << "tx burst stalled behind the client";
			tx.stop();
			EXPECT_EQ(tx.taken.load(), tx.offered.load());
			EXPECT_GT(bt::xstat(port, "socket_tx_dropped_frames") + stats(port).oerrors,
				  0u);
		}
		EXPECT_TRUE(bt::eventually([&] { return bt::in_use() == start_in_use_; }, 3000))
		    << "in use " << bt::in_use() << " after the client left";
		Client next;
		ASSERT_NO_FATAL_FAILURE(attach(next, port, path, type));
		ASSERT_NO_FATAL_FAILURE(exchange(next, port, 7));
		next.close();
		ASSERT_EQ(bt::destroy(name), 0);
		ports_.pop_back();
	}
}

/*
 * 10,000 clients connect, send a frame and close, one after the other: no
 * fd, thread, socket, heap or mbuf is left behind, and the endpoint still
 * serves the next one.
 */
TEST_F(Faults, SocketConnectDisconnectCycles)
{
	const int cycles = 10000;
	std::string path = sock_dir() + "/cycles", name = bt::unique_name();
	int p = make(name, "reader=socket,socket_type=seqpacket,path=" + path);
	ASSERT_GE(p, 0);
	uint16_t port = static_cast<uint16_t>(p);
	auto drain_rx = [&] {
		rte_mbuf *b[32];
		uint16_t n;
		while ((n = rte_eth_rx_burst(port, 0, b, 32)) > 0)
			rte_pktmbuf_free_bulk(b, n);
	};
	auto settled = [&](uint64_t want) {
		return bt::eventually(
		    [&] {
			    drain_rx();
			    return bt::xstat(port, "socket_clients_accepted") +
					   bt::xstat(port, "socket_clients_refused") >=
				       want &&
				   bt::link_status(port) == RTE_ETH_LINK_DOWN;
		    },
		    5000);
	};
	auto f = bt::frame(60);
	auto once = [&] {
		Client c;
		if (c.open(path, "seqpacket") != 0)
			return false;
		return c.send(f) == 60;
	};
	ASSERT_TRUE(once());
	ASSERT_TRUE(settled(1));
	const unsigned fds = bt::fds(), thr = bt::threads();
	const size_t heap = heap_bytes();
	const long rss = rss_kib();
	const unsigned files = dir_entries(sock_dir());
	for (int i = 0; i < cycles; i++) {
		ASSERT_TRUE(once()) << "cycle " << i << ": " << strerror(errno);
		if (i % 256 == 0)
			drain_rx();
	}
	ASSERT_TRUE(settled(cycles + 1));
	EXPECT_EQ(bt::fds(), fds);
	EXPECT_EQ(bt::threads(), thr);
	EXPECT_EQ(heap_bytes(), heap);
	EXPECT_EQ(dir_entries(sock_dir()), files);
	EXPECT_LT(rss_kib() - rss, 8192) << "resident memory grew by " << rss_kib() - rss
					 << " KiB over " << cycles << " clients";
	EXPECT_TRUE(bt::eventually([&] {
		drain_rx();
		return bt::in_use() == start_in_use_;
	}));
	printf("%d clients: %" PRIu64 " accepted, %" PRIu64 " refused (the previous one not yet "
	       "seen gone)\n",
	       cycles + 1, bt::xstat(port, "socket_clients_accepted"),
	       bt::xstat(port, "socket_clients_refused"));
	Client c;
	ASSERT_NO_FATAL_FAILURE(attach(c, port, path, "seqpacket"));
	ASSERT_NO_FATAL_FAILURE(exchange(c, port, 9));
}

/* --------------------------------------------- many units, many queues */

/*
 * 64 units of 16 queues each, attached, used and detached, round after
 * round: a quarter with no reader (one of their queues opened and closed
 * by a reader), a quarter each with the echo, sink and socket built-in
 * readers. Afterwards no memzone, thread, fd or socket file is left.
 * DPDK's port limit (RTE_MAX_ETHPORTS, 32 in some builds) caps how many
 * exist at once: the 64 are then attached in groups that fit, each unit
 * number still attached and detached every round. 100 rounds (about 10 s),
 * 1000 with BSDTAP_STRESS_LONG=1.
 */
TEST_F(Faults, ManyUnitsAttachDetach)
{
	const unsigned units = 64, nq = 16;
	const int rounds = long_run() ? 1000 : 100;
	const unsigned room = RTE_MAX_ETHPORTS - rte_eth_dev_count_total();
	const unsigned group = std::min(units, room);
	ASSERT_GT(group, 0u);
	const unsigned zones = bt::memzones(), thr = bt::threads(), fds = bt::fds();
	const unsigned files = dir_entries(sock_dir());
	const char *kinds[] = {"none", "echo", "sink", "socket"};
	auto t0 = steady_clock::now();
	for (int round = 0; round < rounds; round++) {
		for (unsigned first = 0; first < units; first += group) {
			std::vector<std::string> names;
			for (unsigned u = first; u < std::min(units, first + group); u++) {
				std::string name = "net_bsdtap" + std::to_string(1000 + u);
				std::string args =
				    "queues=" + std::to_string(nq) + ",reader=" + kinds[u % 4];
				if (u % 4 == 3)
					args += ",path=" + sock_dir() + "/u" + std::to_string(u);
				int p = bt::create(name, args);
				ASSERT_GE(p, 0) << name << " round " << round;
				names.push_back(name);
				uint16_t port = static_cast<uint16_t>(p);
				ASSERT_EQ(bt::configure_start(port, nq), 0) << name;
				if (u % 4 == 0) {
					rte_pmd_bsdtap_reader *r =
					    rte_pmd_bsdtap_open(name.c_str(), nq - 1, 0);
					ASSERT_NE(r, nullptr) << name;
					ASSERT_EQ(bt::tx1(port, nq - 1, bt::mbuf_of(bt::frame(60))),
						  1);
					rte_pmd_bsdtap_close(&r);
				}
				for (uint16_t q = 0; q < nq; q += 5)
					if (rte_mbuf *m = bt::mbuf_of(bt::frame(60, q));
					    bt::tx1(port, q, m) != 1)
						rte_pktmbuf_free(m);
			}
			for (auto it = names.rbegin(); it != names.rend(); ++it)
				ASSERT_EQ(bt::destroy(*it), 0) << *it << " round " << round;
		}
		ASSERT_EQ(bt::memzones(), zones) << "round " << round;
		ASSERT_EQ(bt::threads(), thr) << "round " << round;
		ASSERT_EQ(bt::fds(), fds) << "round " << round;
		ASSERT_EQ(dir_entries(sock_dir()), files) << "round " << round;
	}
	printf(
	    "%d rounds of %u units x %u queues (at most %u at once) in %lld ms\n", rounds, units,
	    nq, group,
	    static_cast<long long>(duration_cast<milliseconds>(steady_clock::now() - t0).count()));
}

} // namespace

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "--child") == 0) {
		if (bt::eal_init_secondary("bsdtap-faults-child", argv[3]) < 0) {
			fprintf(stderr, "child: secondary EAL init: %s\n", rte_strerror(rte_errno));
			return 1;
		}
		int rc = child_main(argv[2], argv[4]);
		rte_eal_cleanup();
		return rc;
	}
	if (argc == 4 && strcmp(argv[1], "--primary") == 0) {
		const char *eal[] = {"bsdtap-faults-primary",
				     "--file-prefix",
				     argv[2],
				     "--no-pci",
				     "-l",
				     "0",
				     "-m",
				     "64",
				     "--log-level",
				     "error"};
		if (rte_eal_init(static_cast<int>(RTE_DIM(eal)), const_cast<char **>(eal)) < 0) {
			fprintf(stderr, "primary: EAL init: %s\n", rte_strerror(rte_errno));
			return 1;
		}
		return primary_main(argv[3]);
	}
	::testing::InitGoogleTest(&argc, argv);
	for (int i = 1; i < argc; i++)
		if (strncmp(argv[i], "--reader=", 9) == 0)
			g_reader = argv[i] + 9;
	g_prefix = "bsdtap-faults-" + std::to_string(getpid());
	const char *eal[] = {
	    "bsdtap-faults", "--file-prefix", g_prefix.c_str(),	       "--no-pci", "-l", "0", "-m",
	    "256",	     "--log-level",   "pmd.net.bsdtap:warning"};
	bool eal_up = rte_eal_init(static_cast<int>(RTE_DIM(eal)), const_cast<char **>(eal)) >= 0;
	if (!eal_up) {
		g_skip = std::string("EAL with hugepages failed: ") + rte_strerror(rte_errno) +
			 " (reserve hugepages: devtools/setup.sh as root)";
	} else {
		rte_mempool *mp = rte_pktmbuf_pool_create("faults_pool", 8191, 0, 0,
							  RTE_MBUF_DEFAULT_BUF_SIZE, 0);
		g_cpool = rte_pktmbuf_pool_create("faults_cpool", 4095, 256, 0,
						  RTE_MBUF_DEFAULT_BUF_SIZE, 0);
		if (mp == nullptr || g_cpool == nullptr)
			g_skip = std::string("mempool: ") + rte_strerror(rte_errno);
		bt::set_pool(mp);
	}
	if (!g_skip.empty())
		fprintf(stderr, "the fault matrix cannot run: %s\n", g_skip.c_str());
	int ret = RUN_ALL_TESTS();
	if (eal_up)
		rte_eal_cleanup();
	remove_runtime_files(g_prefix);
	if (!sock_dir().empty())
		std::filesystem::remove_all(sock_dir());
	return ret;
}

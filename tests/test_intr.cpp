/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An application that sleeps on its rx queue: rx interrupts
 * (rte_eth_dev_rx_intr_enable + rte_epoll_wait, as l3fwd-power does) and
 * the power-monitor condition (rte_eth_get_monitor_addr). The reader's
 * write or send burst is the only thing that may wake it.
 */

#include <atomic>
#include <cinttypes>
#include <cstdlib>
#include <random>
#include <thread>

#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#include <vector>

#include <rte_cpuflags.h>
#include <rte_cycles.h>
#include <rte_pause.h>
#include <rte_interrupts.h>
#include <rte_power_intrinsics.h>

#include "harness.h"
#include "rte_pmd_bsdtap.h"

namespace
{

class RxIntr : public bt::PortTest
{
protected:
	/* A port with rx interrupts configured, started, and queue 0's vector
	 * in this thread's epoll set. */
	int make_intr(uint16_t nq = 1)
	{
		name_ = bt::unique_name();
		int port = make(name_, "queues=" + std::to_string(nq), false, nq);
		if (port < 0)
			return port;
		rte_eth_conf conf{};
		conf.intr_conf.rxq = 1;
		int ret = rte_eth_dev_configure(port, nq, nq, &conf);
		for (uint16_t q = 0; ret == 0 && q < nq; q++)
			ret = rte_eth_rx_queue_setup(port, q, 256, rte_socket_id(), nullptr,
						     bt::pool());
		for (uint16_t q = 0; ret == 0 && q < nq; q++)
			ret = rte_eth_tx_queue_setup(port, q, 256, rte_socket_id(), nullptr);
		if (ret == 0)
			ret = rte_eth_dev_start(port);
		for (uint16_t q = 0; ret == 0 && q < nq; q++)
			ret = rte_eth_dev_rx_intr_ctl_q(port, q, RTE_EPOLL_PER_THREAD,
							RTE_INTR_EVENT_ADD, nullptr);
		return ret == 0 ? port : ret;
	}
	/* How most tests start: make_intr(nq) and a reader on queue q. A port
	 * that cannot be made fails the test here and gives no reader, which
	 * the caller asserts next. */
	rte_pmd_bsdtap_reader *port_and_reader(uint16_t &port, uint16_t nq = 1, uint16_t q = 0)
	{
		nq_ = nq;
		port_ = make_intr(nq);
		EXPECT_GE(port_, 0);
		port = static_cast<uint16_t>(port_);
		return port_ < 0 ? nullptr : rte_pmd_bsdtap_open(name_.c_str(), q, 0);
	}
	void TearDown() override
	{
		if (port_ >= 0)
			for (uint16_t q = 0; q < nq_; q++)
				rte_eth_dev_rx_intr_ctl_q(static_cast<uint16_t>(port_), q,
							  RTE_EPOLL_PER_THREAD, RTE_INTR_EVENT_DEL,
							  nullptr);
		bt::PortTest::TearDown();
	}
	/* Sleep as an application lcore does; the number of events (0: timeout). */
	static int sleep_ms(int ms)
	{
		struct rte_epoll_event ev[4];
		return rte_epoll_wait(RTE_EPOLL_PER_THREAD, ev, 4, ms);
	}
	unsigned drain(uint16_t q = 0)
	{
		rte_mbuf *m[32];
		unsigned total = 0;
		uint16_t n;
		while ((n = rte_eth_rx_burst(static_cast<uint16_t>(port_), q, m, 32)) > 0) {
			rte_pktmbuf_free_bulk(m, n);
			total += n;
		}
		return total;
	}
	std::string name_;
	int port_ = -1;
	uint16_t nq_ = 1;
};

TEST_F(RxIntr, SleepsUntilAReaderWritesAndNothingElseWakesIt)
{
	uint16_t port;
	rte_pmd_bsdtap_reader *r = port_and_reader(port);
	ASSERT_NE(r, nullptr);
	auto f = bt::frame(80);

	/* Armed, nothing written: no event. */
	ASSERT_EQ(rte_eth_dev_rx_intr_enable(port, 0), 0);
	EXPECT_EQ(sleep_ms(100), 0);
	/* Traffic the other way, a frame the reader reads, stats: no event. */
	ASSERT_EQ(bt::tx1(port, 0, bt::mbuf_of(f)), 1);
	char buf[256];
	ASSERT_EQ(rte_pmd_bsdtap_read(r, buf, sizeof(buf)), 80);
	rte_eth_stats st;
	ASSERT_EQ(rte_eth_stats_get(port, &st), 0);
	EXPECT_EQ(sleep_ms(100), 0);

	/* A write from another thread while this one sleeps wakes it. */
	std::thread writer([&] {
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
		rte_pmd_bsdtap_write(r, f.data(), f.size());
	});
	EXPECT_EQ(sleep_ms(10000), 1) << "not woken by the reader's write";
	writer.join();
	ASSERT_EQ(rte_eth_dev_rx_intr_disable(port, 0), 0);
	EXPECT_EQ(drain(), 1u);
	EXPECT_EQ(bt::xstat(port, "rx_intr_wakeups"), 1u);

	/* Disarmed: a write posts nothing, and no event is left pending. */
	ASSERT_EQ(rte_pmd_bsdtap_write(r, f.data(), f.size()), 80);
	EXPECT_EQ(sleep_ms(100), 0);
	EXPECT_EQ(bt::xstat(port, "rx_intr_wakeups"), 1u);
	EXPECT_EQ(drain(), 1u);
	ASSERT_EQ(rte_pmd_bsdtap_close(&r), 0);
}

/* A frame queued before enable must not be slept on. */
TEST_F(RxIntr, FramesBeforeEnableWakeAtOnce)
{
	uint16_t port;
	rte_pmd_bsdtap_reader *r = port_and_reader(port);
	ASSERT_NE(r, nullptr);
	auto f = bt::frame(64);
	ASSERT_EQ(rte_pmd_bsdtap_write(r, f.data(), f.size()), 64);
	ASSERT_EQ(rte_eth_dev_rx_intr_enable(port, 0), 0);
	EXPECT_EQ(sleep_ms(10000), 1);
	ASSERT_EQ(rte_eth_dev_rx_intr_disable(port, 0), 0);
	EXPECT_EQ(drain(), 1u);
	ASSERT_EQ(rte_pmd_bsdtap_close(&r), 0);
}

/* Zero-copy readers wake it too, one post per arm however many bursts. */
TEST_F(RxIntr, SendBurstWakesOncePerArm)
{
	uint16_t port;
	rte_pmd_bsdtap_reader *r = port_and_reader(port);
	ASSERT_NE(r, nullptr);
	ASSERT_EQ(rte_eth_dev_rx_intr_enable(port, 0), 0);
	for (int i = 0; i < 4; i++) {
		rte_mbuf *m[8];
		for (auto &x : m)
			x = bt::mbuf_of(bt::frame(64));
		ASSERT_EQ(rte_pmd_bsdtap_send_burst(r, m, 8), 8);
	}
	EXPECT_EQ(sleep_ms(10000), 1);
	EXPECT_EQ(bt::xstat(port, "rx_intr_wakeups"), 1u);
	ASSERT_EQ(rte_eth_dev_rx_intr_disable(port, 0), 0);
	EXPECT_EQ(drain(), 32u);
	ASSERT_EQ(rte_pmd_bsdtap_close(&r), 0);
}

/* Each queue has its own vector: a write on queue 1 wakes only for queue 1. */
TEST_F(RxIntr, QueuesHaveTheirOwnVector)
{
	uint16_t port;
	rte_pmd_bsdtap_reader *r1 = port_and_reader(port, 2, 1);
	ASSERT_NE(r1, nullptr);
	ASSERT_EQ(rte_eth_dev_rx_intr_enable(port, 0), 0);
	auto f = bt::frame(64);
	ASSERT_EQ(rte_pmd_bsdtap_write(r1, f.data(), f.size()), 64);
	EXPECT_EQ(sleep_ms(100), 0) << "queue 0 woken by queue 1's frame";
	ASSERT_EQ(rte_eth_dev_rx_intr_enable(port, 1), 0);
	EXPECT_EQ(sleep_ms(10000), 1);
	ASSERT_EQ(rte_eth_dev_rx_intr_disable(port, 0), 0);
	ASSERT_EQ(rte_eth_dev_rx_intr_disable(port, 1), 0);
	EXPECT_EQ(drain(1), 1u);
	ASSERT_EQ(rte_pmd_bsdtap_close(&r1), 0);
}

TEST_F(RxIntr, BadQueueRefused)
{
	port_ = make_intr();
	ASSERT_GE(port_, 0);
	auto port = static_cast<uint16_t>(port_);
	EXPECT_EQ(rte_eth_dev_rx_intr_enable(port, 1), -EINVAL);
	EXPECT_EQ(rte_eth_dev_rx_intr_disable(port, 7), -EINVAL);
	EXPECT_NE(
	    rte_eth_dev_rx_intr_ctl_q(port, 3, RTE_EPOLL_PER_THREAD, RTE_INTR_EVENT_ADD, nullptr),
	    0);
}

/*
 * Arm/write races: a reader writes frames with random gaps while the
 * application sleeps on rx interrupts the way l3fwd-power does (enable,
 * sleep, disable, drain). A lost wakeup is a sleep that times out with
 * frames waiting; there must be none, and every frame arrives.
 */
void spin(uint64_t cycles)
{
	uint64_t end = rte_get_tsc_cycles() + cycles;
	while (rte_get_tsc_cycles() < end)
		rte_pause();
}

/* Move the calling thread off core 0 (EAL pinned the test's main thread
 * there): the races need both sides running at once. */
void off_core0()
{
	cpu_set_t cpus;
	CPU_ZERO(&cpus);
	for (long c = 1; c < sysconf(_SC_NPROCESSORS_ONLN); c++)
		CPU_SET(static_cast<int>(c), &cpus);
	if (CPU_COUNT(&cpus) > 0)
		pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus);
}

TEST_F(RxIntr, StressNoLostWakeup)
{
	uint16_t port;
	rte_pmd_bsdtap_reader *r = port_and_reader(port);
	ASSERT_NE(r, nullptr);
	const unsigned total = getenv("BSDTAP_STRESS_LONG") != nullptr ? 2000000 : 200000;
	std::atomic<unsigned> written{0}, consumed{0};
	std::atomic<bool> stop{false};
	std::thread writer([&] {
		off_core0();
		std::mt19937 rng(12345);
		auto f = bt::frame(64);
		while (written.load() < total && !stop.load()) {
			unsigned burst = 1 + rng() % 8;
			for (unsigned i = 0; i < burst && written.load() < total; i++)
				if (rte_pmd_bsdtap_write(r, f.data(), f.size()) == 64)
					written.fetch_add(1);
			/* Half the time, go quiet until the application has taken
			 * everything: the next write then races its drain and enable,
			 * and a wakeup lost there is not covered by later frames. */
			if (rng() % 2 == 0) {
				while (consumed.load() < written.load() && !stop.load())
					rte_pause();
				spin(rng() % 4000);
			} else if (rng() % 8 == 0) {
				std::this_thread::sleep_for(std::chrono::microseconds(rng() % 64));
			}
		}
	});
	unsigned got = 0, sleeps = 0, lost = 0, timeouts = 0;
	std::mt19937 rng(678);
	while (got < total) {
		spin(rng() % 4000); /* the application's own work before it sleeps */
		ASSERT_EQ(rte_eth_dev_rx_intr_enable(port, 0), 0);
		int ev = sleep_ms(500);
		ASSERT_EQ(rte_eth_dev_rx_intr_disable(port, 0), 0);
		sleeps++;
		if (ev == 0 && rte_eth_rx_queue_count(port, 0) > 0)
			lost++;
		if (ev == 0)
			timeouts++;
		if (lost >= 3)
			break; /* proven: no need to sleep out the rest */
		if (ev == 0 && written.load() == got)
			break; /* the writer stopped short: the count below says so */
		got += drain();
		consumed.store(got);
	}
	stop.store(true);
	writer.join();
	got += drain();
	EXPECT_EQ(lost, 0u) << "sleeps that timed out with frames waiting";
	EXPECT_EQ(got, total);
	EXPECT_EQ(written.load(), total) << "writes refused (inq full counts imissed)";
	EXPECT_GT(bt::xstat(port, "rx_intr_wakeups"), 0u);
	printf("%u frames, %u sleeps (%u timed out), %" PRIu64 " wakeups posted by the reader\n",
	       got, sleeps, timeouts, bt::xstat(port, "rx_intr_wakeups"));
	ASSERT_EQ(rte_pmd_bsdtap_close(&r), 0);
}

/*
 * Until a queue's first enable its readers do not fence (notify_app); that
 * enable orders them with membarrier. Each round a fresh port, a reader
 * thread that writes a frame or two at a random moment, and the
 * application's first enable at another: a sleep that times out with a
 * frame waiting is a wakeup lost at the switch. Runs without membarrier
 * (ThreadSanitizer) fence from the start and pass trivially.
 */
TEST_F(RxIntr, FirstEnableRacesAWriterNoLostWakeup)
{
	const int rounds = getenv("BSDTAP_STRESS_LONG") != nullptr ? 3000 : 300;
	std::mt19937 rng(4242);
	auto f = bt::frame(64);
	unsigned lost = 0, woken = 0;
	for (int round = 0; round < rounds && lost == 0; round++) {
		uint16_t port;
		rte_pmd_bsdtap_reader *r = port_and_reader(port);
		ASSERT_NE(r, nullptr);
		std::atomic<bool> go{false};
		const uint64_t wgap = rng() % 3000, agap = rng() % 3000;
		const unsigned nw = 1 + rng() % 2;
		std::thread writer([&] {
			off_core0();
			while (!go.load())
				;
			spin(wgap);
			for (unsigned i = 0; i < nw; i++)
				rte_pmd_bsdtap_write(r, f.data(), f.size());
		});
		go.store(true);
		spin(agap);
		ASSERT_EQ(rte_eth_dev_rx_intr_enable(port, 0), 0);
		int ev = sleep_ms(300);
		writer.join();
		if (ev == 0 && rte_eth_rx_queue_count(port, 0) > 0)
			lost++;
		woken += ev > 0;
		ASSERT_EQ(rte_eth_dev_rx_intr_disable(port, 0), 0);
		EXPECT_EQ(drain(), nw);
		ASSERT_EQ(rte_pmd_bsdtap_close(&r), 0);
		rte_eth_dev_rx_intr_ctl_q(port, 0, RTE_EPOLL_PER_THREAD, RTE_INTR_EVENT_DEL,
					  nullptr);
		ASSERT_EQ(bt::destroy(name_), 0);
		ports_.pop_back(); /* destroyed here, not in TearDown */
		port_ = -1;
	}
	EXPECT_EQ(lost, 0u) << "a first enable slept with a frame waiting";
	printf("%d rounds, %u woken by a frame\n", rounds, woken);
}

/* rte_power_monitor sleeps on the inq's producer index: the condition says
 * sleep while nothing was written, wake once a frame was. */
TEST_F(RxIntr, MonitorConditionIsTheInqProducer)
{
	uint16_t port;
	rte_pmd_bsdtap_reader *r = port_and_reader(port);
	ASSERT_NE(r, nullptr);
	struct rte_power_monitor_cond pmc {
	};
	ASSERT_EQ(rte_eth_get_monitor_addr(port, 0, &pmc), 0);
	ASSERT_NE(pmc.addr, nullptr);
	ASSERT_NE(pmc.fn, nullptr);
	ASSERT_EQ(pmc.size, sizeof(uint32_t));
	auto read_addr = [&] {
		return uint64_t{*static_cast<const volatile uint32_t *>(pmc.addr)};
	};
	EXPECT_EQ(pmc.fn(read_addr(), pmc.opaque), 0) << "empty queue: sleep";
	auto f = bt::frame(64);
	ASSERT_EQ(rte_pmd_bsdtap_write(r, f.data(), f.size()), 64);
	EXPECT_EQ(pmc.fn(read_addr(), pmc.opaque), -1) << "a frame arrived: do not sleep";
	/* Taken after the frame: the condition sees it waiting. */
	ASSERT_EQ(rte_eth_get_monitor_addr(port, 0, &pmc), 0);
	EXPECT_EQ(pmc.fn(read_addr(), pmc.opaque), -1) << "a frame waits: do not sleep";
	EXPECT_EQ(drain(), 1u);
	ASSERT_EQ(rte_eth_get_monitor_addr(port, 0, &pmc), 0);
	EXPECT_EQ(pmc.fn(read_addr(), pmc.opaque), 0);

	/* Where the CPU can monitor an address, a real sleep woken by a write. */
	struct rte_cpu_intrinsics caps {
	};
	rte_cpu_get_intrinsics_support(&caps);
	if (caps.power_monitor) {
		std::thread writer([&] {
			std::this_thread::sleep_for(std::chrono::milliseconds(50));
			rte_pmd_bsdtap_write(r, f.data(), f.size());
		});
		uint64_t deadline = rte_get_tsc_cycles() + 10 * rte_get_tsc_hz();
		while (rte_eth_rx_queue_count(port, 0) == 0 && rte_get_tsc_cycles() < deadline)
			rte_power_monitor(&pmc, deadline);
		writer.join();
		EXPECT_EQ(drain(), 1u);
	}
	ASSERT_EQ(rte_pmd_bsdtap_close(&r), 0);
}

} // namespace

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Concurrency evidence for the lockless devq and the TAP_RWAIT wakeup:
 * real threads, one per role, for seconds (minutes with BSDTAP_STRESS_LONG=1).
 *
 *   application lcore: tx bursts of sequence-numbered frames, with idle gaps
 *                      so that the reader goes to sleep again and again;
 *   reader:            opens, reads in rotating modes (blocking read, poll on
 *                      the fd + bursts, wait + bursts, epoll + non-blocking
 *                      read, blocking batched read_burst, wait + visits in
 *                      place mixed with bursts that take, visits unseen),
 *                      closes, reopens;
 *   control:           stops/starts the port (the tx pauses, as ethdev
 *                      requires), changes the MTU, reads stats.
 *
 * Checked: sequence numbers only grow (FIFO, nothing duplicated); every
 * frame sent is either read or accounted for by a drop counter
 * (tx_no_reader_packets, devq_purged_frames); no hang: a reader blocked
 * while frames wait for longer than the watchdog's limit is a lost wakeup.
 */

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>

#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>

#include "harness.h"
#include "rte_pmd_bsdtap.h"

namespace
{

using namespace std::chrono;

constexpr uint16_t burst = 32;
constexpr size_t seq_off = 14; /* sequence number right after the Ethernet header */

void on_sigusr1(int) {}

struct Shared {
	std::atomic<bool> stop{false};
	std::atomic<bool> pause_req{false};
	std::atomic<bool> tx_paused{false};
	std::atomic<uint64_t> sent{0};
	std::atomic<uint64_t> received{0};
	std::atomic<uint64_t> sleeps{0};
	std::atomic<uint64_t> reopens{0};
	std::atomic<uint64_t> order_errors{0};
	std::atomic<uint64_t> progress{0}; /* bumped by the reader on every frame */
	std::atomic<bool> reader_blocked{false};
	std::atomic<bool> reader_done{false};
	std::string error;
};

class Stress : public bt::PortTest
{
};

void tx_thread(uint16_t port, Shared *s)
{
	std::mt19937 rng(1);
	uint64_t seq = 1;
	rte_mbuf *pkts[burst];
	unsigned bursts = 0;
	while (!s->stop.load()) {
		if (s->pause_req.load()) {
			s->tx_paused.store(true);
			while (s->pause_req.load() && !s->stop.load())
				std::this_thread::sleep_for(microseconds(50));
			s->tx_paused.store(false);
			continue;
		}
		if (rte_pktmbuf_alloc_bulk(bt::pool(), pkts, burst) != 0) {
			std::this_thread::yield();
			continue;
		}
		for (rte_mbuf *m : pkts) {
			char *p = rte_pktmbuf_append(m, 64);
			memset(p, 0xff, 12);
			memcpy(p + seq_off, &seq, sizeof(seq));
			seq++;
		}
		uint16_t done = 0;
		while (done < burst) {
			done = static_cast<uint16_t>(
			    done + rte_eth_tx_burst(port, 0, pkts + done, burst - done));
			if (done < burst && (s->stop.load() || s->pause_req.load()))
				break;
		}
		s->sent.fetch_add(done);
		if (done < burst) {
			rte_pktmbuf_free_bulk(pkts + done, burst - done);
			/* Sequence numbers of unsent frames are skipped: gaps are fine. */
		}
		/* Idle gaps so the reader sleeps and must be woken, many times. */
		if (++bursts % 64 == 0)
			std::this_thread::sleep_for(microseconds(rng() % 100));
	}
	s->tx_paused.store(true);
}

void reader_thread(const std::string &name, Shared *s)
{
	std::mt19937 rng(2);
	uint64_t last = 0;
	unsigned visits = 0;
	char buf[128];
	auto check = [&](const uint8_t *frame, size_t len) {
		uint64_t seq;
		if (len < seq_off + sizeof(seq)) {
			s->order_errors.fetch_add(1);
			return;
		}
		memcpy(&seq, frame + seq_off, sizeof(seq));
		if (seq <= last)
			s->order_errors.fetch_add(1);
		last = seq;
		s->received.fetch_add(1, std::memory_order_relaxed);
		s->progress.fetch_add(1, std::memory_order_relaxed);
	};
	while (!s->stop.load()) {
		rte_pmd_bsdtap_reader *r = rte_pmd_bsdtap_open(name.c_str(), 0, 0);
		if (r == nullptr) {
			s->error = std::string("open: ") + rte_strerror(rte_errno);
			break;
		}
		s->reopens.fetch_add(1);
		int mode = static_cast<int>(rng() % 7);
		uint64_t quota = 20000 + rng() % 200000;
		int ep = -1;
		if (mode == 3) {
			int nb = 1;
			rte_pmd_bsdtap_ioctl(r, RTE_PMD_BSDTAP_FIONBIO, &nb);
			ep = epoll_create1(0);
			epoll_event ev{};
			ev.events = EPOLLIN;
			epoll_ctl(ep, EPOLL_CTL_ADD, rte_pmd_bsdtap_fd(r), &ev);
		}
		while (quota > 0 && !s->stop.load()) {
			if (mode == 0) {
				s->reader_blocked.store(true);
				ssize_t n = rte_pmd_bsdtap_read(r, buf, sizeof(buf));
				s->reader_blocked.store(false);
				if (n < 0) {
					if (rte_errno != EINTR)
						s->error =
						    std::string("read: ") + rte_strerror(rte_errno);
					break;
				}
				check(reinterpret_cast<uint8_t *>(buf), static_cast<size_t>(n));
				quota--;
				continue;
			}
			if (mode == 4) {
				char many[burst][128];
				iovec iov[burst];
				size_t lens[burst];
				for (unsigned i = 0; i < burst; i++)
					iov[i] = {many[i], sizeof(many[i])};
				s->reader_blocked.store(true);
				int n = rte_pmd_bsdtap_read_burst(r, iov, lens, burst);
				s->reader_blocked.store(false);
				if (n < 0) {
					if (rte_errno != EINTR)
						s->error = std::string("read_burst: ") +
							   rte_strerror(rte_errno);
					break;
				}
				for (int i = 0; i < n; i++)
					check(reinterpret_cast<uint8_t *>(many[i]), lens[i]);
				quota -= std::min<uint64_t>(quota, static_cast<uint64_t>(n));
				continue;
			}
			if (mode == 5 || mode == 6) {
				/* In place: every eighth look takes instead, which
				 * ends the epoch; the next visit begins another once
				 * the tx has freed the last. Unseen visits only count. */
				uint16_t n;
				if (mode == 5 && ++visits % 8 == 0) {
					rte_mbuf *pkts[burst];
					n = rte_pmd_bsdtap_recv_burst(r, pkts, burst);
					for (uint16_t i = 0; i < n; i++)
						check(rte_pktmbuf_mtod(pkts[i], uint8_t *),
						      pkts[i]->data_len);
					rte_pmd_bsdtap_free_burst(r, pkts, n);
				} else if (mode == 5) {
					auto look = [&check](rte_mbuf *const *pkts, uint16_t k) {
						for (uint16_t i = 0; i < k; i++)
							check(rte_pktmbuf_mtod(pkts[i], uint8_t *),
							      pkts[i]->data_len);
					};
					n = rte_pmd_bsdtap_visit_burst(
					    r, burst,
					    [](void *a, rte_mbuf *const *pkts, uint16_t k) {
						    (*static_cast<decltype(look) *>(a))(pkts, k);
					    },
					    &look);
				} else {
					n = rte_pmd_bsdtap_visit_burst(r, burst, nullptr, nullptr);
					s->received.fetch_add(n, std::memory_order_relaxed);
					s->progress.fetch_add(n, std::memory_order_relaxed);
				}
				if (n == 0) {
					s->sleeps.fetch_add(1);
					s->reader_blocked.store(true);
					rte_pmd_bsdtap_wait(r, 1000);
					s->reader_blocked.store(false);
				}
				quota -= std::min<uint64_t>(quota, n);
				continue;
			}
			if (mode == 1 || mode == 2) {
				rte_mbuf *pkts[burst];
				uint16_t n = rte_pmd_bsdtap_recv_burst(r, pkts, burst);
				if (n == 0) {
					s->sleeps.fetch_add(1);
					s->reader_blocked.store(true);
					if (mode == 1) {
						pollfd pfd = {rte_pmd_bsdtap_fd(r), POLLIN, 0};
						poll(&pfd, 1, 1000);
					} else {
						rte_pmd_bsdtap_wait(r, 1000);
					}
					s->reader_blocked.store(false);
					continue;
				}
				for (uint16_t i = 0; i < n; i++)
					check(rte_pktmbuf_mtod(pkts[i], uint8_t *),
					      pkts[i]->data_len);
				/* wait+burst hands the mbufs back for the tx lcore to free */
				if (mode == 2)
					rte_pmd_bsdtap_free_burst(r, pkts, n);
				else
					rte_pktmbuf_free_bulk(pkts, n);
				quota -= std::min<uint64_t>(quota, n);
				continue;
			}
			ssize_t n = rte_pmd_bsdtap_read(r, buf, sizeof(buf));
			if (n >= 0) {
				check(reinterpret_cast<uint8_t *>(buf), static_cast<size_t>(n));
				quota--;
				continue;
			}
			if (rte_errno != EAGAIN) {
				s->error = std::string("read: ") + rte_strerror(rte_errno);
				break;
			}
			s->sleeps.fetch_add(1);
			s->reader_blocked.store(true);
			epoll_event ev;
			epoll_wait(ep, &ev, 1, 1000);
			s->reader_blocked.store(false);
		}
		if (ep >= 0)
			close(ep);
		rte_pmd_bsdtap_close(&r);
		if (!s->error.empty())
			break;
	}
	s->reader_done.store(true);
}

void pause_tx(Shared *s)
{
	s->pause_req.store(true);
	while (!s->tx_paused.load() && !s->stop.load())
		std::this_thread::sleep_for(microseconds(20));
}

TEST_F(Stress, TxReaderControlRace)
{
	const bool long_run = getenv("BSDTAP_STRESS_LONG") != nullptr;
	const auto run_for = long_run ? seconds(120) : seconds(10);
	std::string name = bt::unique_name();
	int port = make(name, "ring_size=512,txfull=backpressure");
	ASSERT_GE(port, 0);

	struct sigaction sa {
	};
	sa.sa_handler = on_sigusr1; /* no SA_RESTART: blocking calls return EINTR */
	sigaction(SIGUSR1, &sa, nullptr);

	Shared s;
	std::thread tx(tx_thread, static_cast<uint16_t>(port), &s);
	std::thread rd(reader_thread, name, &s);
	std::mt19937 rng(3);
	auto end = steady_clock::now() + run_for;
	uint64_t last_progress = 0, stop_starts = 0;
	auto last_move = steady_clock::now();
	bool hang = false;
	while (steady_clock::now() < end && s.error.empty()) {
		std::this_thread::sleep_for(milliseconds(1 + rng() % 20));
		switch (rng() % 3) {
		case 0: /* port stop/start: tapifstop/tapifinit drain the devq */
			pause_tx(&s);
			EXPECT_EQ(rte_eth_dev_stop(port), 0);
			EXPECT_EQ(rte_eth_dev_start(port), 0);
			s.pause_req.store(false);
			stop_starts++;
			break;
		case 1:
			EXPECT_EQ(
			    rte_eth_dev_set_mtu(port, static_cast<uint16_t>(1500 + rng() % 7000)),
			    0);
			break;
		default: {
			rte_eth_stats st;
			EXPECT_EQ(rte_eth_stats_get(port, &st), 0);
		}
		}
		/* Watchdog: a reader asleep for seconds while frames wait is a lost wakeup. */
		uint64_t p = s.progress.load();
		if (p != last_progress) {
			last_progress = p;
			last_move = steady_clock::now();
		} else if (steady_clock::now() - last_move > seconds(3)) {
			hang = true;
			break;
		}
	}
	s.stop.store(true);
	/* A reader blocked in read() with nothing coming is woken by a signal (C16). */
	while (!s.reader_done.load()) {
		pthread_kill(rd.native_handle(), SIGUSR1);
		std::this_thread::sleep_for(milliseconds(5));
	}
	tx.join();
	rd.join();
	ASSERT_EQ(rte_eth_dev_stop(port), 0); /* purges what the last close raced with */

	EXPECT_FALSE(hang) << "no reader progress for 3 s: lost wakeup? reader blocked="
			   << s.reader_blocked.load();
	EXPECT_TRUE(s.error.empty()) << s.error;
	EXPECT_EQ(s.order_errors.load(), 0u) << "frames out of order or duplicated";
	uint64_t noreader = bt::xstat(port, "tx_no_reader_packets");
	uint64_t purged = bt::xstat(port, "devq_purged_frames");
	rte_eth_stats st;
	ASSERT_EQ(rte_eth_stats_get(port, &st), 0);
	EXPECT_EQ(st.oerrors, 0u); /* backpressure: nothing dropped for a full devq */
	EXPECT_EQ(s.sent.load(), s.received.load() + noreader + purged)
	    << "sent " << s.sent.load() << " received " << s.received.load() << " no-reader "
	    << noreader << " purged " << purged;
	EXPECT_GT(s.received.load(), long_run ? 50000000u : 1000000u);
	EXPECT_GT(s.sleeps.load(), 100u) << "the reader never had to sleep: the test proves little";
	RecordProperty("frames_sent", std::to_string(s.sent.load()));
	printf("stress: %.1f s, sent %lu, read %lu, no-reader %lu, purged %lu, reader sleeps %lu, "
	       "wakeups %lu, reopens %lu, stop/starts %lu\n",
	       duration_cast<duration<double>>(run_for).count(), (unsigned long)s.sent.load(),
	       (unsigned long)s.received.load(), (unsigned long)noreader, (unsigned long)purged,
	       (unsigned long)s.sleeps.load(), (unsigned long)bt::xstat(port, "tx_reader_wakeups"),
	       (unsigned long)s.reopens.load(), (unsigned long)stop_starts);
}

/*
 * The driver's own port changes (up_on_open's start and the stop of the
 * close that matches it, TAPSIFINFO's MTU, VMIO_SIOCSIFFLAGS) race the
 * application's configure, queue setup, start, stop and MTU changes, which
 * it makes under rte_pmd_bsdtap_port_lock() as the guide says. Two reader
 * threads open, change and close; the application reconfigures. Checked:
 * every call succeeds (or fails as documented), nothing is left out of the
 * pool, the port works afterwards; under ThreadSanitizer, no data race on
 * the port (ethdev's calls from two threads at once would be one).
 */
TEST_F(Stress, PortEffectsAndApplicationControlUnderTheLock)
{
	const bool long_run = getenv("BSDTAP_STRESS_LONG") != nullptr;
	const auto run_for = long_run ? seconds(60) : seconds(4);
	std::string name = bt::unique_name();
	int p = make(name, "queues=2,up_on_open=1", false, 2);
	ASSERT_GE(p, 0);
	const auto port = static_cast<uint16_t>(p);
	ASSERT_EQ(bt::configure(port, 2), 0); /* stopped: the first open starts it */
	EXPECT_EQ(rte_pmd_bsdtap_port_lock(static_cast<uint16_t>(RTE_MAX_ETHPORTS - 1)), -ENODEV);
	EXPECT_EQ(rte_pmd_bsdtap_port_unlock(port), -EPERM);
	const unsigned base = bt::in_use();
	std::atomic<bool> stop{false};
	std::atomic<uint64_t> rounds{0};
	std::string errors[2];
	auto reader = [&](uint16_t qid) {
		std::mt19937 rng(qid + 11);
		while (!stop.load()) {
			rte_pmd_bsdtap_reader *r = rte_pmd_bsdtap_open(name.c_str(), qid, 0);
			if (r == nullptr) {
				errors[qid] = std::string("open: ") + rte_strerror(rte_errno);
				return;
			}
			rte_pmd_bsdtap_info info{};
			info.type = RTE_PMD_BSDTAP_IFT_ETHER;
			info.baudrate = 1000000000;
			info.mtu = static_cast<uint16_t>(1500 + rng() % 7000);
			int ret = qid == 0
				      ? rte_pmd_bsdtap_ioctl(r, RTE_PMD_BSDTAP_TAPSIFINFO, &info)
				      : 0;
			int flags =
			    RTE_PMD_BSDTAP_IFF_UP | (rng() % 2 ? RTE_PMD_BSDTAP_IFF_PROMISC : 0);
			if (ret == 0 && qid == 1)
				ret = rte_pmd_bsdtap_ioctl(r, RTE_PMD_BSDTAP_VMIO_SIOCSIFFLAGS,
							   &flags);
			/* Any error fails: the effect waits for the lock and runs
			 * between the application's reconfigurations. */
			if (ret != 0) {
				errors[qid] = std::string("ioctl: ") + rte_strerror(-ret);
				rte_pmd_bsdtap_close(&r);
				return;
			}
			auto f = bt::frame(64);
			(void)rte_pmd_bsdtap_write(r, f.data(), f.size());
			if (rte_pmd_bsdtap_close(&r) != 0) {
				errors[qid] = "close failed";
				return;
			}
			rounds.fetch_add(1);
		}
	};
	std::thread r0(reader, 0), r1(reader, 1);
	std::mt19937 rng(5);
	uint64_t cycles = 0;
	const auto end = steady_clock::now() + run_for;
	while (steady_clock::now() < end && errors[0].empty() && errors[1].empty()) {
		ASSERT_EQ(rte_pmd_bsdtap_port_lock(port), 0);
		if (bt::started(port)) {
			EXPECT_EQ(rte_eth_dev_stop(port), 0);
		}
		EXPECT_EQ(bt::configure(port, 2), 0);
		EXPECT_EQ(rte_eth_dev_set_mtu(port, static_cast<uint16_t>(1500 + rng() % 7000)), 0);
		if (rng() % 2) {
			EXPECT_EQ(rte_eth_dev_start(port), 0);
		}
		/* Frames the readers wrote, received while the port runs. */
		rte_mbuf *m[32];
		for (uint16_t q = 0; q < 2; q++)
			if (bt::started(port))
				rte_pktmbuf_free_bulk(m, rte_eth_rx_burst(port, q, m, 32));
		ASSERT_EQ(rte_pmd_bsdtap_port_unlock(port), 0);
		cycles++;
		std::this_thread::sleep_for(microseconds(rng() % 500));
	}
	stop.store(true);
	r0.join();
	r1.join();
	EXPECT_TRUE(errors[0].empty()) << "queue 0 reader: " << errors[0];
	EXPECT_TRUE(errors[1].empty()) << "queue 1 reader: " << errors[1];
	EXPECT_GT(rounds.load(), 10u);
	/* The effects posted by the last closes have run: the port is quiet. */
	EXPECT_TRUE(bt::eventually([&] {
		rte_pmd_bsdtap_port_lock(port);
		bool quiet = !bt::started(port) || bt::link_status(port) == RTE_ETH_LINK_DOWN;
		rte_pmd_bsdtap_port_unlock(port);
		return quiet;
	}));
	ASSERT_EQ(rte_pmd_bsdtap_port_lock(port), 0);
	EXPECT_EQ(rte_eth_dev_stop(port), 0);
	EXPECT_EQ(bt::in_use(), base) << "mbufs left out of the pool";
	EXPECT_EQ(bt::configure_start(port, 2), 0);
	ASSERT_EQ(rte_pmd_bsdtap_port_unlock(port), 0);
	rte_pmd_bsdtap_reader *r = rte_pmd_bsdtap_open(name.c_str(), 0, 0);
	ASSERT_NE(r, nullptr);
	auto f = bt::frame(80);
	EXPECT_EQ(rte_pmd_bsdtap_write(r, f.data(), f.size()), 80);
	auto got = bt::rx_wait(port, 0, 1);
	EXPECT_EQ(got.size(), 1u);
	bt::free_all(got);
	rte_pmd_bsdtap_close(&r);
	printf("port effects: %lu reader rounds, %lu application reconfigurations\n",
	       (unsigned long)rounds.load(), (unsigned long)cycles);
}

} // namespace

/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BSDTAP_TEST_HARNESS_H
#define BSDTAP_TEST_HARNESS_H

/*
 * Shared by every test binary: EAL is initialised once in main() (it cannot
 * be initialised twice in a process) with --no-huge --no-pci and a unique
 * file prefix; ports are created inside the tests with rte_vdev_init, as
 * DPDK's own app/test does.
 */

#include <cstdint>
#include <string>
#include <initializer_list>
#include <vector>

#include <gtest/gtest.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "rte_pmd_bsdtap.h"

namespace bt
{

/* The pool every test uses unless it needs its own (set by main). */
rte_mempool *pool();
void set_pool(rte_mempool *mp);

/* Create net_bsdtap<unit> with devargs; returns the port id or -errno. */
int create(const std::string &name, const std::string &args = "");
/* Configure nq queue pairs from mp (default pool()), not started; 0 or -errno. */
int configure(uint16_t port, uint16_t nq = 1, rte_mempool *mp = nullptr);
/* configure(), then start; returns 0 or -errno. */
int configure_start(uint16_t port, uint16_t nq = 1, rte_mempool *mp = nullptr);
/* ethdev's own started flag (no public getter in 22.11). */
bool started(uint16_t port);
/* Stop, close and uninit by vdev name; returns 0 or -errno of the uninit. */
int destroy(const std::string &name);

/* A frame of len bytes: broadcast dst, src 02:00:..., seq in the payload. */
std::vector<uint8_t> frame(size_t len, uint32_t seq = 0);
/* An mbuf (chain of segments of seg bytes each, 0 = one segment) holding data. */
rte_mbuf *mbuf_of(const std::vector<uint8_t> &data, uint16_t seg = 0, rte_mempool *mp = nullptr);
std::vector<uint8_t> bytes_of(const rte_mbuf *m);

/* Send one mbuf on (port, q); returns what tx burst returned. */
uint16_t tx1(uint16_t port, uint16_t q, rte_mbuf *m);
/* Receive up to n within timeout_ms (polling rx burst). */
std::vector<rte_mbuf *> rx_wait(uint16_t port, uint16_t q, size_t n, int timeout_ms = 2000);
void free_all(std::vector<rte_mbuf *> &v);

/* Wait until pred() or timeout; returns pred(). */
template <typename F> bool eventually(F pred, int timeout_ms = 2000);

unsigned in_use(rte_mempool *mp = nullptr);

/* Unregister an LSC callback, waiting out a call in progress (ethdev says
 * -EAGAIN then and keeps it, and the callback's argument may be about to
 * go away). */
void lsc_unregister(uint16_t port, rte_eth_dev_cb_fn cb, void *arg);

/* The port's basic stats, zeros when ethdev has none to give. */
rte_eth_stats stats(uint16_t port);
/* An LSC callback that counts its calls in the std::atomic<int> at arg. */
int lsc_count(uint16_t port, rte_eth_event_type type, void *arg, void *ret_param);

/* An xstat of the port by name, UINT64_MAX when it has none by that name.
 * Per-queue counters are xstats too (rx_q0_packets, tx_q1_bytes, ...):
 * rte_eth_stats has no per-queue arrays from DPDK 25.11 on. */
uint64_t xstat(uint16_t port, const char *name);
/* The port's link status, or -1 when rte_eth_link_get_nowait() failed. */
int link_status(uint16_t port);
/* Fields of /proc/<tid>/stat (numbered as proc(5) does) of this process's
 * thread named comm; empty when there is none. */
std::vector<long> thread_stat(const std::string &comm, std::initializer_list<int> fields);
/* CPU ticks (utime + stime) of this process's thread named comm, or -1. */
long thread_ticks(const std::string &comm);

/* Each test checks that the mempool's in-use count returns to its start. */
class PortTest : public ::testing::Test
{
protected:
	void SetUp() override;
	void TearDown() override;
	/* Names of ports this test created: destroyed in TearDown. */
	std::vector<std::string> ports_;
	int make(const std::string &name, const std::string &args = "", bool start = true,
		 uint16_t nq = 1);
	/* make() of a fresh name, started, and a reader on its queue 0 (the
	 * caller closes it). A port that cannot be made fails the test here
	 * and gives no reader, which the caller asserts next. */
	rte_pmd_bsdtap_reader *make_with_reader(int &port, const std::string &args = "");
	unsigned start_in_use_ = 0;
};

std::string unique_name(); /* net_bsdtapN with a fresh N (>= 100) */

/* What a process holds, for leak checks: rte_memzone_walk's count, entries
 * of /proc/self/task and of /proc/self/fd. */
unsigned memzones();
unsigned threads();
unsigned fds();

/* Removes the hugepage files and the runtime directory EAL left for the
 * file prefix (a primary's, once it is gone). */
void remove_runtime_files(const std::string &prefix);
/* rte_eal_init() of a secondary process (a reader child) of the primary
 * with the file prefix; what rte_eal_init() returned. */
int eal_init_secondary(const char *argv0, const char *prefix);
/* A directory for this process's sockets, made on first use ("" when it
 * could not be): under the working directory, or the temporary directory
 * when that path would leave too little room in a socket address (107
 * bytes) for the names the tests add. The binary removes it at the end. */
const std::string &sock_dir();

/*
 * Another process: this binary run again (or another program) with args,
 * its standard output on a pipe read line by line, its standard error
 * kept in a file that err() returns. Killed with SIGKILL if still running
 * when destroyed.
 */
struct Child {
	pid_t pid = -1;
	int out = -1;
	std::string err_path;

	/* Runs path (empty: this binary) with argv[0] = name and args. */
	bool start(const std::vector<std::string> &args, const std::string &path = "");
	/* Waits for the line word on the child's stdout; false on another
	 * line, end of file or timeout. */
	bool expect(const char *word, int timeout_ms = 20000);
	/* Exit status, 128 + signal when killed; -1 when it is still running
	 * after timeout_ms (-1: wait forever). out stays readable. */
	int wait_exit(int timeout_ms = -1);
	std::string err() const;
	~Child();
};

} // namespace bt

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

template <typename F> bool bt::eventually(F pred, int timeout_ms)
{
	auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
	while (!pred()) {
		if (std::chrono::steady_clock::now() > end)
			return pred();
		std::this_thread::sleep_for(std::chrono::microseconds(200));
	}
	return true;
}

namespace bt
{

/* The application's lcore transmitting at full rate on (port, q): bursts of
 * 32 frames of len bytes from the pool, what tx burst did not take freed.
 * bursts counts the calls that returned, for "never stalls" checks. */
struct TxLoop {
	uint16_t port, q;
	uint16_t len;
	rte_mempool *mp;
	std::atomic<bool> hold{false}, held{false}, quit{false};
	std::atomic<uint64_t> bursts{0}, offered{0}, taken{0};
	std::thread t;

	TxLoop(uint16_t p, uint16_t queue = 0, uint16_t l = 1500, rte_mempool *pool = nullptr)
	    : port(p), q(queue), len(l), mp(pool != nullptr ? pool : bt::pool())
	{
		t = std::thread([this] { run(); });
	}
	~TxLoop() { stop(); }
	void run()
	{
		while (!quit.load()) {
			if (hold.load()) {
				held.store(true);
				std::this_thread::sleep_for(std::chrono::microseconds(100));
				continue;
			}
			held.store(false);
			rte_mbuf *m[32];
			if (rte_pktmbuf_alloc_bulk(mp, m, 32) != 0) {
				std::this_thread::sleep_for(std::chrono::microseconds(100));
				continue;
			}
			for (rte_mbuf *b : m)
				memset(rte_pktmbuf_append(b, len), 0xff, 14);
			uint16_t n = rte_eth_tx_burst(port, q, m, 32);
			rte_pktmbuf_free_bulk(m + n, 32 - n);
			offered += 32;
			taken += n;
			bursts++;
		}
	}
	/* Pauses the loop and waits until it is out of tx burst. */
	void pause()
	{
		held.store(false);
		hold.store(true);
		while (!held.load())
			std::this_thread::sleep_for(std::chrono::microseconds(50));
	}
	void resume() { hold.store(false); }
	void stop()
	{
		quit.store(true);
		if (t.joinable())
			t.join();
	}
	/* The loop's tx burst keeps returning: in each of `windows` windows of
	 * 250 ms it completed at least one burst. */
	bool keeps_going(int windows)
	{
		for (int i = 0; i < windows; i++) {
			uint64_t b0 = bursts.load();
			std::this_thread::sleep_for(std::chrono::milliseconds(250));
			if (bursts.load() == b0 &&
			    !eventually([&] { return bursts.load() != b0; }, 3000))
				return false;
		}
		return true;
	}
};

} // namespace bt

#endif

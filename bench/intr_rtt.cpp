/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An application that sleeps: what its lcore costs while idle, and what its
 * wakeup adds to a round trip. The application echoes every frame of a
 * bsdtap port (rx burst, tx burst back) on its own lcore, either
 * busy-polling or, after --idle-polls empty polls, arming the rx interrupt
 * and sleeping in rte_epoll_wait() as l3fwd-power does. The reader is this
 * process's main lcore, through the reader API: it writes a probe frame and
 * spins on a non-blocking read until the echo comes back.
 *
 *   intr_rtt [EAL args: -l 0-1 --vdev=net_bsdtap0 ...] -- [--probes N]
 *       [--gap-us G] [--idle-s S] [--idle-polls P]
 *
 * For each mode (busy, interrupt) it prints:
 *
 *   intr idle mode M seconds S cpu_pct X sleeps K
 *   intr rtt mode M probes N lost L p50_ns X p90_ns X p99_ns X max_ns X app_wakeups_per_probe W
 *
 * idle: the application lcore's CPU time (its thread's schedstat) over S
 * seconds with the reader open and silent, as a percentage of one core.
 * rtt: N probes, each after a gap of G microseconds (default 1000: longer
 * than the application's polls before it sleeps, so that in interrupt mode
 * every probe wakes it; the rx_intr_wakeups xstat per probe shows it).
 *
 * The kernel's own floor for such a wakeup is measured the same way, with
 * no DPDK in it: a thread on the application's lcore sleeps in epoll_wait(2)
 * on one eventfd and writes another, which the main lcore spins on:
 *
 *   intr rtt mode eventfd probes N lost L p50_ns X ...
 */

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_epoll.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pause.h>

#include "rte_pmd_bsdtap.h"

namespace
{

constexpr uint64_t probe_timeout_us = 100000;
constexpr unsigned frame_len = 64;
constexpr unsigned seq_offset = 14;
/* The sleeping lcore wakes this often with nothing to do, to see a stop. */
constexpr int epoll_timeout_ms = 200;

struct options {
	unsigned probes = 20000;
	unsigned gap_us = 1000;
	unsigned idle_s = 5;
	unsigned idle_polls = 1000;
};

[[noreturn]] void usage(const char *why)
{
	fprintf(stderr,
		"intr_rtt: %s\nusage: intr_rtt [EAL args] -- [--probes N] [--gap-us G] "
		"[--idle-s S] [--idle-polls P]\n",
		why);
	exit(2);
}

options parse(int argc, char **argv)
{
	options o;
	for (int i = 0; i < argc; i += 2) {
		std::string a = argv[i];
		if (i + 1 >= argc)
			usage(("missing value for " + a).c_str());
		const char *v = argv[i + 1];
		char *end = nullptr;
		unsigned long n = strtoul(v, &end, 10);
		if (*end != '\0' || *v == '\0' || n > 100000000)
			usage(("bad value for " + a + ": " + v).c_str());
		if (a == "--probes" && n >= 1)
			o.probes = static_cast<unsigned>(n);
		else if (a == "--gap-us")
			o.gap_us = static_cast<unsigned>(n);
		else if (a == "--idle-s" && n >= 1)
			o.idle_s = static_cast<unsigned>(n);
		else if (a == "--idle-polls" && n >= 1)
			o.idle_polls = static_cast<unsigned>(n);
		else
			usage(("bad argument " + a + " " + v).c_str());
	}
	return o;
}

/* Shared between the main lcore (reader) and the application lcore. */
struct app_state {
	uint16_t port = 0;
	bool interrupt = false;
	unsigned idle_polls = 0;
	std::atomic<bool> stop{false};
	std::atomic<long> tid{0};
	std::atomic<uint64_t> sleeps{0};
	std::atomic<int> error{0};
};

/* The application: echo every frame; in interrupt mode sleep when idle. */
int app_loop(void *arg)
{
	auto *s = static_cast<app_state *>(arg);
	s->tid.store(syscall(SYS_gettid));
	if (s->interrupt && rte_eth_dev_rx_intr_ctl_q(s->port, 0, RTE_EPOLL_PER_THREAD,
						      RTE_INTR_EVENT_ADD, nullptr) != 0) {
		s->error.store(1);
		return -1;
	}
	unsigned idle = 0;
	rte_mbuf *pkts[32];
	while (!s->stop.load(std::memory_order_relaxed)) {
		uint16_t n = rte_eth_rx_burst(s->port, 0, pkts, 32);
		if (n > 0) {
			uint16_t sent = rte_eth_tx_burst(s->port, 0, pkts, n);
			if (sent < n)
				rte_pktmbuf_free_bulk(pkts + sent, n - sent);
			idle = 0;
			continue;
		}
		if (!s->interrupt || ++idle < s->idle_polls) {
			rte_pause();
			continue;
		}
		/* Frames that came before the arming are signalled by the
		 * driver at once, so no poll is needed between the two. */
		rte_eth_dev_rx_intr_enable(s->port, 0);
		struct rte_epoll_event ev[1];
		rte_epoll_wait(RTE_EPOLL_PER_THREAD, ev, 1, epoll_timeout_ms);
		rte_eth_dev_rx_intr_disable(s->port, 0);
		s->sleeps.fetch_add(1, std::memory_order_relaxed);
		idle = 0;
	}
	if (s->interrupt)
		rte_eth_dev_rx_intr_ctl_q(s->port, 0, RTE_EPOLL_PER_THREAD, RTE_INTR_EVENT_DEL,
					  nullptr);
	return 0;
}

/* Nanoseconds the thread has run (the first field of its schedstat). */
uint64_t thread_cpu_ns(long tid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/task/%ld/schedstat", tid);
	FILE *f = fopen(path, "r");
	if (f == nullptr)
		return 0;
	unsigned long long ns = 0;
	if (fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	fclose(f);
	return ns;
}

uint64_t xstat(uint16_t port, uint64_t id)
{
	uint64_t v = 0;
	if (id != UINT64_MAX)
		rte_eth_xstats_get_by_id(port, &id, &v, 1);
	return v;
}

/* One round trip in timer cycles, or UINT64_MAX when lost. */
uint64_t probe(rte_pmd_bsdtap_reader *r, uint64_t seq, uint64_t hz)
{
	uint8_t frame[frame_len] = {};
	memset(frame, 0xff, 6);
	memset(frame + 6, 0x02, 6);
	frame[12] = 0x88;
	frame[13] = 0xb5; /* local experimental ethertype */
	memcpy(frame + seq_offset, &seq, sizeof(seq));
	const uint64_t t0 = rte_get_timer_cycles();
	if (rte_pmd_bsdtap_write(r, frame, sizeof(frame)) != static_cast<ssize_t>(sizeof(frame)))
		return UINT64_MAX;
	const uint64_t deadline = t0 + probe_timeout_us * hz / 1000000;
	uint8_t in[2048];
	for (;;) {
		ssize_t n = rte_pmd_bsdtap_read(r, in, sizeof(in));
		const uint64_t t1 = rte_get_timer_cycles();
		uint64_t got = 0;
		if (n >= static_cast<ssize_t>(seq_offset + sizeof(got))) {
			memcpy(&got, in + seq_offset, sizeof(got));
			if (got == seq)
				return t1 - t0;
		}
		if (t1 > deadline)
			return UINT64_MAX;
	}
}

void print_rtt(const char *mode, std::vector<uint64_t> &ns, unsigned probes, unsigned lost,
	       double wakeups_per_probe)
{
	std::sort(ns.begin(), ns.end());
	auto pct = [&](double q) -> uint64_t {
		return ns.empty() ? 0
				  : ns[static_cast<size_t>(q * static_cast<double>(ns.size() - 1))];
	};
	printf("intr rtt mode %s probes %u lost %u p50_ns %" PRIu64 " p90_ns %" PRIu64
	       " p99_ns %" PRIu64 " max_ns %" PRIu64 " app_wakeups_per_probe %.3f\n",
	       mode, probes, lost, pct(0.5), pct(0.9), pct(0.99), ns.empty() ? 0 : ns.back(),
	       wakeups_per_probe);
	fflush(stdout);
}

/* The floor: eventfd ping (epoll sleeper) and pong (spinning main lcore). */
struct efd_pair {
	int ping = -1, pong = -1;
	std::atomic<bool> stop{false};
};

int efd_sleeper(void *arg)
{
	auto *e = static_cast<efd_pair *>(arg);
	int ep = epoll_create1(0);
	struct epoll_event ev = {};
	ev.events = EPOLLIN;
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, e->ping, &ev) != 0)
		return -1;
	while (!e->stop.load(std::memory_order_relaxed)) {
		if (epoll_wait(ep, &ev, 1, epoll_timeout_ms) != 1)
			continue;
		uint64_t v;
		if (read(e->ping, &v, sizeof(v)) == sizeof(v) && write(e->pong, &v, sizeof(v)) < 0)
			break;
	}
	close(ep);
	return 0;
}

int run_eventfd(const options &o)
{
	efd_pair e;
	e.ping = eventfd(0, EFD_NONBLOCK);
	e.pong = eventfd(0, EFD_NONBLOCK);
	unsigned lcore = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
	if (e.ping < 0 || e.pong < 0 || lcore >= RTE_MAX_LCORE ||
	    rte_eal_remote_launch(efd_sleeper, &e, lcore) != 0) {
		fprintf(stderr, "intr_rtt: cannot start the eventfd floor\n");
		return 1;
	}
	const uint64_t hz = rte_get_timer_hz();
	std::vector<uint64_t> ns;
	ns.reserve(o.probes);
	unsigned lost = 0;
	for (unsigned i = 0; i < o.probes; i++) {
		if (o.gap_us > 0)
			usleep(o.gap_us);
		uint64_t one = 1, v;
		const uint64_t t0 = rte_get_timer_cycles();
		const uint64_t deadline = t0 + probe_timeout_us * hz / 1000000;
		bool ok = write(e.ping, &one, sizeof(one)) == sizeof(one);
		uint64_t t1 = t0;
		while (ok && read(e.pong, &v, sizeof(v)) != sizeof(v)) {
			t1 = rte_get_timer_cycles();
			ok = t1 <= deadline;
		}
		t1 = rte_get_timer_cycles();
		if (ok)
			ns.push_back((t1 - t0) * 1000000000u / hz);
		else
			lost++;
	}
	e.stop.store(true);
	rte_eal_wait_lcore(lcore);
	close(e.ping);
	close(e.pong);
	print_rtt("eventfd", ns, o.probes, lost, 1.0);
	return 0;
}

int run_mode(const options &o, uint16_t port, rte_pmd_bsdtap_reader *r, bool interrupt)
{
	const char *mode = interrupt ? "interrupt" : "busy";
	app_state s;
	s.port = port;
	s.interrupt = interrupt;
	s.idle_polls = o.idle_polls;
	unsigned lcore = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
	if (lcore >= RTE_MAX_LCORE || rte_eal_remote_launch(app_loop, &s, lcore) != 0) {
		fprintf(stderr, "intr_rtt: needs a second lcore (-l 0-1)\n");
		return 1;
	}
	while (s.tid.load() == 0)
		rte_pause();
	uint64_t wake_id = UINT64_MAX;
	if (rte_eth_xstats_get_id_by_name(port, "rx_intr_wakeups", &wake_id) != 0)
		wake_id = UINT64_MAX;
	const uint64_t hz = rte_get_timer_hz();

	/* Idle: the reader open and silent. */
	usleep(100000);
	const uint64_t c0 = thread_cpu_ns(s.tid.load()), sl0 = s.sleeps.load();
	const uint64_t w0 = rte_get_timer_cycles();
	sleep(o.idle_s);
	const uint64_t c1 = thread_cpu_ns(s.tid.load()), sl1 = s.sleeps.load();
	const double wall_ns =
	    static_cast<double>(rte_get_timer_cycles() - w0) * 1e9 / static_cast<double>(hz);
	printf("intr idle mode %s seconds %u cpu_pct %.4f sleeps %" PRIu64 "\n", mode, o.idle_s,
	       100.0 * static_cast<double>(c1 - c0) / wall_ns, sl1 - sl0);
	fflush(stdout);

	/* Round trips. */
	static uint64_t seq = 0;
	for (unsigned i = 0; i < 100; i++)
		probe(r, ++seq, hz);
	std::vector<uint64_t> ns;
	ns.reserve(o.probes);
	unsigned lost = 0;
	const uint64_t x0 = xstat(port, wake_id);
	for (unsigned i = 0; i < o.probes; i++) {
		if (o.gap_us > 0)
			usleep(o.gap_us);
		uint64_t c = probe(r, ++seq, hz);
		if (c == UINT64_MAX)
			lost++;
		else
			ns.push_back(c * 1000000000u / hz);
	}
	const uint64_t x1 = xstat(port, wake_id);
	print_rtt(mode, ns, o.probes, lost,
		  static_cast<double>(x1 - x0) / static_cast<double>(o.probes));

	s.stop.store(true);
	rte_eal_wait_lcore(lcore);
	if (s.error.load() != 0) {
		fprintf(stderr, "intr_rtt: rx interrupt setup failed on the application lcore\n");
		return 1;
	}
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	int n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "intr_rtt: EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	options o = parse(argc - n - 1, argv + n + 1);
	uint16_t port = 0;
	if (rte_eth_dev_get_port_by_name("net_bsdtap0", &port) != 0) {
		fprintf(stderr, "intr_rtt: no port net_bsdtap0 (--vdev=net_bsdtap0)\n");
		return 1;
	}
	rte_mempool *pool = rte_pktmbuf_pool_create(
	    "intr_rtt", 4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, static_cast<int>(rte_socket_id()));
	rte_eth_conf conf{};
	conf.intr_conf.rxq = 1;
	if (pool == nullptr || rte_eth_dev_configure(port, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup(port, 0, 1024, rte_socket_id(), nullptr, pool) != 0 ||
	    rte_eth_tx_queue_setup(port, 0, 1024, rte_socket_id(), nullptr) != 0 ||
	    rte_eth_dev_start(port) != 0) {
		fprintf(stderr, "intr_rtt: cannot set up net_bsdtap0: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	rte_pmd_bsdtap_reader *r = rte_pmd_bsdtap_open("tap0", 0, RTE_PMD_BSDTAP_O_NONBLOCK);
	if (r == nullptr) {
		fprintf(stderr, "intr_rtt: cannot open tap0: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	int rc = run_mode(o, port, r, false);
	if (rc == 0)
		rc = run_mode(o, port, r, true);
	if (rc == 0)
		rc = run_eventfd(o);
	rte_pmd_bsdtap_close(&r);
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	rte_eal_cleanup();
	return rc;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A minimal reader of a net_bsdtap unit in a DPDK secondary process, for
 * bench/compare.sh: the stand-in it uses when app/'s bsdtap-reader is not
 * built. One loop, one mode:
 *
 *   zc_reader [EAL args] -- [--unit tap0] [--copy | --write | --send | --echo]
 *                           [--len 64] [--burst 32] [--poll]
 *
 *   (default)  zero-copy sink: rte_pmd_bsdtap_recv_burst, rte_pmd_bsdtap_free_burst
 *   --copy     copying sink: rte_pmd_bsdtap_read into a buffer, one frame a call
 *   --write    copying writer: rte_pmd_bsdtap_write of --len byte frames, flat out
 *   --send     zero-copy writer: mbufs from a mempool of this process, filled
 *              and given with rte_pmd_bsdtap_send_burst, flat out
 *   --echo     zero-copy echo: recv_burst, then send_burst of the same mbufs
 *
 * The sinks and the echo poll while frames come and, after idle_spins empty
 * polls, sleep in rte_pmd_bsdtap_wait (the TAP_RWAIT protocol: the
 * application's tx wakes them), as a blocking reader does; --poll never
 * sleeps. Prints "ready" once the unit is open; on SIGUSR1 one line
 * "count FRAMES ns CLOCK_MONOTONIC_NS"; on SIGTERM or SIGINT the same line,
 * then closes the unit and exits 0.
 *
 * Give it an lcore id the primary does not use (e.g. --lcores 8@0): the
 * mempool caches of the primary's pools are indexed by lcore id and shared
 * between processes.
 */

#include <cerrno>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_mempool.h>
#include <rte_pause.h>

#include "rte_pmd_bsdtap.h"

namespace
{

/* Empty polls before sleeping, as the built-in readers: long enough to ride
 * out the gap between two bursts of a busy application without a syscall. */
static constexpr unsigned idle_spins = 1024;
/* Sleep bound; a signal also ends the sleep (EINTR). */
static constexpr int sleep_ms = 200;
static constexpr unsigned max_burst = 512;

volatile sig_atomic_t report_req;
volatile sig_atomic_t stop_req;

void on_signal(int sig)
{
	if (sig == SIGUSR1)
		report_req = 1;
	else
		stop_req = 1;
}

uint64_t now_ns()
{
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

void report(uint64_t count)
{
	printf("count %" PRIu64 " ns %" PRIu64 "\n", count, now_ns());
	fflush(stdout);
}

enum class mode { sink, copy, write, send, echo };

struct options {
	mode m = mode::sink;
	std::string unit = "tap0";
	unsigned len = 64;
	unsigned burst = 32;
	bool poll = false;
};

[[noreturn]] void usage(const char *why)
{
	fprintf(stderr,
		"zc_reader: %s\nusage: zc_reader [EAL args] -- [--unit NAME] "
		"[--copy | --write | --send | --echo] [--len N] [--burst N] [--poll]\n",
		why);
	exit(2);
}

options parse(int argc, char **argv)
{
	options o;
	for (int i = 0; i < argc; i++) {
		std::string a = argv[i];
		auto value = [&](unsigned lo, unsigned hi) {
			if (i + 1 >= argc)
				usage(("missing value for " + a).c_str());
			char *end = nullptr;
			unsigned long v = strtoul(argv[++i], &end, 10);
			if (*end != '\0' || v < lo || v > hi)
				usage(("bad value for " + a).c_str());
			return static_cast<unsigned>(v);
		};
		if (a == "--unit" && i + 1 < argc)
			o.unit = argv[++i];
		else if (a == "--copy")
			o.m = mode::copy;
		else if (a == "--write")
			o.m = mode::write;
		else if (a == "--send")
			o.m = mode::send;
		else if (a == "--echo")
			o.m = mode::echo;
		else if (a == "--len")
			o.len = value(14, RTE_PMD_BSDTAP_MRU);
		else if (a == "--burst")
			o.burst = value(1, max_burst);
		else if (a == "--poll")
			o.poll = true;
		else
			usage(("unknown argument " + a).c_str());
	}
	return o;
}

/* Mbufs of the primary's pools are freed here, and mbufs of this process's
 * pool there, through the mempool ops index stored in each pool: the two
 * processes must have registered the same ops in the same order. Debian's
 * testpmd links a driver that registers ops before EAL loads the others,
 * so a secondary must preload the same libraries (bench/compare.sh does). */
bool mempool_ops_match()
{
	/* The pools of the primaries bench/compare.sh runs: testpmd's, rtt's.
	 * Both use the default ops of rte_pktmbuf_pool_create. */
	for (const char *name : {"mb_pool_0", "rtt_pool"}) {
		const rte_mempool *mp = rte_mempool_lookup(name);
		if (mp == nullptr)
			continue;
		const char *here = rte_mempool_ops_table.ops[mp->ops_index].name;
		const char *best = rte_mbuf_best_mempool_ops();
		if (strcmp(here, best) == 0)
			continue;
		fprintf(stderr,
			"zc_reader: the primary's pool %s uses mempool ops #%d, which is '%s' "
			"here but should be '%s': preload the libraries the primary links "
			"(LD_PRELOAD)\n",
			name, mp->ops_index, here, best);
		return false;
	}
	return true;
}

/* A frame to write: broadcast destination, locally administered source. */
void make_frame(uint8_t *p, unsigned len)
{
	memset(p, 0, len);
	memset(p, 0xff, 6);
	const uint8_t src[6] = {0x02, 0, 0, 0, 0xbe, 0x01};
	memcpy(p + 6, src, 6);
	p[12] = 0x08; /* IPv4 */
}

/* Called after an empty poll: sleeps once enough of them came in a row.
 * Returns false when the unit is gone. */
bool idle(rte_pmd_bsdtap_reader *r, const options &o, unsigned *spins)
{
	if (o.poll || ++*spins < idle_spins) {
		rte_pause();
		return true;
	}
	*spins = 0;
	int w = rte_pmd_bsdtap_wait(r, sleep_ms);
	if (w == -EHOSTDOWN) {
		fprintf(stderr, "zc_reader: the unit went away\n");
		return false;
	}
	return true;
}

int run(rte_pmd_bsdtap_reader *r, const options &o)
{
	rte_mbuf *pkts[max_burst];
	static uint8_t buf[RTE_PMD_BSDTAP_MRU];
	uint64_t count = 0;
	unsigned spins = 0;
	rte_mempool *pool = nullptr;
	unsigned held = 0; /* --send: filled mbufs the inq did not take yet */

	if (o.m == mode::write)
		make_frame(buf, o.len);
	if (o.m == mode::send) {
		std::string name = "zcr_pool_" + std::to_string(getpid());
		pool = rte_pktmbuf_pool_create(name.c_str(), 8191, 256, 0,
					       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
		if (pool == nullptr) {
			fprintf(stderr, "zc_reader: mempool: %s\n", rte_strerror(rte_errno));
			return 1;
		}
		make_frame(buf, o.len);
	}
	printf("ready\n");
	fflush(stdout);

	while (!stop_req) {
		if (unlikely(report_req)) {
			report_req = 0;
			report(count);
		}
		switch (o.m) {
		case mode::sink: {
			uint16_t n = rte_pmd_bsdtap_recv_burst(r, pkts, o.burst);
			if (n == 0) {
				if (!idle(r, o, &spins))
					goto out;
				break;
			}
			spins = 0;
			rte_pmd_bsdtap_free_burst(r, pkts, n);
			count += n;
			break;
		}
		case mode::copy: {
			ssize_t n = rte_pmd_bsdtap_read(r, buf, sizeof(buf));
			if (n < 0) {
				if (rte_errno == EHOSTDOWN) {
					fprintf(stderr, "zc_reader: the unit went away\n");
					goto out;
				}
				if (!idle(r, o, &spins))
					goto out;
				break;
			}
			spins = 0;
			count++;
			break;
		}
		case mode::write: {
			if (rte_pmd_bsdtap_write(r, buf, o.len) == static_cast<ssize_t>(o.len)) {
				count++;
			} else if (rte_errno == EHOSTDOWN) {
				fprintf(stderr, "zc_reader: the unit went away\n");
				goto out;
			}
			break;
		}
		case mode::send: {
			if (held < o.burst) {
				unsigned want = o.burst - held;
				if (rte_pktmbuf_alloc_bulk(pool, pkts + held, want) == 0) {
					for (unsigned i = held; i < o.burst; i++) {
						rte_mbuf *m = pkts[i];
						m->data_len = static_cast<uint16_t>(o.len);
						m->pkt_len = o.len;
						memcpy(rte_pktmbuf_mtod(m, void *), buf, o.len);
					}
					held = o.burst;
				}
			}
			uint16_t n =
			    rte_pmd_bsdtap_send_burst(r, pkts, static_cast<uint16_t>(held));
			if (n > 0) {
				memmove(pkts, pkts + n, (held - n) * sizeof(pkts[0]));
				held -= n;
				count += n;
			}
			break;
		}
		case mode::echo: {
			uint16_t n = rte_pmd_bsdtap_recv_burst(r, pkts, o.burst);
			if (n == 0) {
				if (!idle(r, o, &spins))
					goto out;
				break;
			}
			spins = 0;
			uint16_t s = rte_pmd_bsdtap_send_burst(r, pkts, n);
			if (s < n)
				rte_pktmbuf_free_bulk(pkts + s, n - s);
			count += s;
			break;
		}
		}
	}
out:
	report(count);
	if (held > 0)
		rte_pktmbuf_free_bulk(pkts, held);
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	int n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "zc_reader: EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= n;
	argv += n;
	options o = parse(argc - 1, argv + 1);
	if (!mempool_ops_match()) {
		rte_eal_cleanup();
		return 1;
	}

	struct sigaction sa = {};
	sa.sa_handler = on_signal; /* no SA_RESTART: a sleeping wait returns EINTR */
	sigaction(SIGUSR1, &sa, nullptr);
	sigaction(SIGTERM, &sa, nullptr);
	sigaction(SIGINT, &sa, nullptr);

	int flags = o.m == mode::copy ? RTE_PMD_BSDTAP_O_NONBLOCK : 0;
	rte_pmd_bsdtap_reader *r = rte_pmd_bsdtap_open(o.unit.c_str(), 0, flags);
	if (r == nullptr) {
		fprintf(stderr, "zc_reader: open %s: %s\n", o.unit.c_str(),
			rte_strerror(rte_errno));
		rte_eal_cleanup();
		return 1;
	}
	int rc = run(r, o);
	rte_pmd_bsdtap_close(&r);
	rte_eal_cleanup();
	return rc;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Round-trip latency through a bsdtap unit's echo reader, for
 * bench/compare.sh: a DPDK primary that owns the port (the application)
 * sends one 64-byte frame carrying a sequence number, busy-polls its rx
 * queue until the frame comes back, and repeats.
 *
 *   rtt [EAL args, e.g. --vdev=net_bsdtap0,reader=echo] -- [--port NAME]
 *       [--probes N] [--idle-probes M] [--gap-us G] [--len 64]
 *
 * Two series: "busy", N probes back to back (the echo reader never idles
 * long enough to sleep), then "sleeping", M probes each after a gap of G
 * microseconds (default 1000), long enough for the reader to go to sleep, so
 * that every probe includes its wakeup. The driver's tx_reader_wakeups xstat
 * counts the wakeups; it is printed per probe as the evidence of which case
 * was measured. One line per series:
 *
 *   rtt busy probes N lost L p50_ns X p90_ns X p99_ns X p999_ns X max_ns X wakeups_per_probe W
 *
 * With --rate R (frames per second), a third series, "paced": bursts of
 * --burst B frames (default 32) at R for --rate-seconds S (default 3), as a
 * paced generator sends (testpmd's txonly cannot be paced), each frame
 * carrying its send time; every echo is timed, and the driver's
 * tx_devq_full_errors xstat says how many the devq refused:
 *
 *   rtt paced rate R burst B sent N echoed E devq_full D p50_ns X p90_ns X
 *       p99_ns X p999_ns X max_ns X
 *
 * The reader may be built in (reader=echo) or another process (reader=none
 * and a secondary echo reader, to be started once rtt printed "started"):
 * rtt waits up to 30 s for the link, which is up while a reader holds the
 * unit, and prints "ready" before probing.
 */

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

namespace
{

/* A probe not back after this long is counted lost (and its late echo is
 * recognised by its sequence number and dropped). */
static constexpr uint64_t probe_timeout_us = 100000;
static constexpr unsigned warmup_probes = 1000;
static constexpr uint32_t seq_offset = 14;
static constexpr uint32_t ts_offset = seq_offset + 8; /* paced: the send time */

struct options {
	std::string port = "net_bsdtap0";
	unsigned probes = 100000;
	unsigned idle_probes = 5000;
	unsigned gap_us = 1000;
	unsigned len = 64;
	unsigned rate = 0; /* paced series off */
	unsigned burst = 32;
	unsigned rate_seconds = 3;
};

[[noreturn]] void usage(const char *why)
{
	fprintf(stderr,
		"rtt: %s\nusage: rtt [EAL args] -- [--port NAME] [--probes N] [--idle-probes M] "
		"[--gap-us G] [--len N] [--rate PPS [--burst B] [--rate-seconds S]]\n",
		why);
	exit(2);
}

options parse(int argc, char **argv)
{
	options o;
	for (int i = 0; i < argc; i++) {
		std::string a = argv[i];
		if (i + 1 >= argc)
			usage(("missing value for " + a).c_str());
		const char *v = argv[++i];
		char *end = nullptr;
		unsigned long n = strtoul(v, &end, 10);
		bool num = *end == '\0' && *v != '\0';
		if (a == "--port")
			o.port = v;
		else if (a == "--probes" && num && n >= 1 && n <= 100000000)
			o.probes = static_cast<unsigned>(n);
		else if (a == "--idle-probes" && num && n <= 100000000)
			o.idle_probes = static_cast<unsigned>(n);
		else if (a == "--gap-us" && num && n <= 10000000)
			o.gap_us = static_cast<unsigned>(n);
		else if (a == "--len" && num && n >= ts_offset + 8 && n <= 1514)
			o.len = static_cast<unsigned>(n);
		else if (a == "--rate" && num && n <= 100000000)
			o.rate = static_cast<unsigned>(n);
		else if (a == "--burst" && num && n >= 1 && n <= 256)
			o.burst = static_cast<unsigned>(n);
		else if (a == "--rate-seconds" && num && n >= 1 && n <= 3600)
			o.rate_seconds = static_cast<unsigned>(n);
		else
			usage(("bad argument " + a + " " + v).c_str());
	}
	return o;
}

/* The q quantile of sorted samples (0 when there are none). */
uint64_t percentile(const std::vector<uint64_t> &ns, double q)
{
	if (ns.empty())
		return 0;
	return ns[static_cast<size_t>(q * static_cast<double>(ns.size() - 1))];
}

struct prober {
	uint16_t port;
	rte_mempool *pool;
	unsigned len;
	uint64_t seq = 0;
	uint64_t hz = rte_get_timer_hz();
	uint64_t xstat_id = UINT64_MAX;
	uint64_t full_id = UINT64_MAX;

	uint64_t xstat(uint64_t id)
	{
		uint64_t v = 0;
		if (id != UINT64_MAX)
			rte_eth_xstats_get_by_id(port, &id, &v, 1);
		return v;
	}
	uint64_t wakeups() { return xstat(xstat_id); }

	void frame(rte_mbuf *m, uint64_t s, uint64_t ts)
	{
		uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
		memset(p, 0xff, 6);
		memset(p + 6, 0x02, 6);
		p[12] = 0x88;
		p[13] = 0xb5; /* local experimental ethertype */
		memcpy(p + seq_offset, &s, sizeof(s));
		memcpy(p + ts_offset, &ts, sizeof(ts));
		m->data_len = static_cast<uint16_t>(len);
		m->pkt_len = len;
	}

	/* One round trip in timer cycles, or UINT64_MAX when lost. */
	uint64_t probe()
	{
		rte_mbuf *m = rte_pktmbuf_alloc(pool);
		if (m == nullptr)
			return UINT64_MAX;
		const uint64_t s = ++seq;
		frame(m, s, 0);
		const uint64_t t0 = rte_get_timer_cycles();
		if (rte_eth_tx_burst(port, 0, &m, 1) != 1) {
			rte_pktmbuf_free(m);
			return UINT64_MAX;
		}
		const uint64_t deadline = t0 + probe_timeout_us * hz / 1000000;
		for (;;) {
			rte_mbuf *in[32];
			uint16_t n = rte_eth_rx_burst(port, 0, in, 32);
			const uint64_t t1 = rte_get_timer_cycles();
			bool mine = false;
			for (uint16_t i = 0; i < n; i++) {
				uint64_t got = 0;
				const auto *d = rte_pktmbuf_mtod(in[i], const uint8_t *);
				if (in[i]->data_len >= seq_offset + sizeof(got))
					memcpy(&got, d + seq_offset, sizeof(got));
				mine |= got == s;
			}
			rte_pktmbuf_free_bulk(in, n);
			if (mine)
				return t1 - t0;
			if (t1 > deadline)
				return UINT64_MAX;
		}
	}

	/* Bursts of burst frames at rate frames per second for seconds; each
	 * echo timed from the send time it carries. A burst the generator is
	 * late for is sent at once (the schedule is kept, not restarted). */
	void paced(unsigned rate, unsigned burst, unsigned seconds)
	{
		std::vector<uint64_t> ns;
		ns.reserve(static_cast<size_t>(rate) * seconds);
		uint64_t sent = 0, echoed = 0;
		const uint64_t f0 = xstat(full_id);
		const uint64_t period = hz * burst / rate;
		uint64_t next = rte_get_timer_cycles();
		const uint64_t end = next + hz * seconds;
		const uint64_t drain = end + hz / 10; /* stragglers */
		for (;;) {
			uint64_t now = rte_get_timer_cycles();
			if (now >= next && now < end) {
				rte_mbuf *out[256];
				if (rte_pktmbuf_alloc_bulk(pool, out, burst) == 0) {
					for (unsigned i = 0; i < burst; i++)
						frame(out[i], ++seq, now);
					uint16_t k = rte_eth_tx_burst(port, 0, out,
								      static_cast<uint16_t>(burst));
					rte_pktmbuf_free_bulk(out + k, burst - k);
					sent += burst;
				}
				next += period;
			}
			rte_mbuf *in[32];
			uint16_t n = rte_eth_rx_burst(port, 0, in, 32);
			if (n > 0) {
				const uint64_t t1 = rte_get_timer_cycles();
				for (uint16_t i = 0; i < n; i++) {
					uint64_t ts = 0;
					if (in[i]->data_len >= ts_offset + sizeof(ts))
						memcpy(&ts,
						       rte_pktmbuf_mtod(in[i], const uint8_t *) +
							   ts_offset,
						       sizeof(ts));
					if (ts != 0 && ts <= t1) {
						ns.push_back((t1 - ts) * 1000000000u / hz);
						echoed++;
					}
				}
				rte_pktmbuf_free_bulk(in, n);
			}
			if (now >= drain)
				break;
		}
		const uint64_t full = xstat(full_id) - f0;
		std::sort(ns.begin(), ns.end());
		auto pct = [&ns](double q) { return percentile(ns, q); };
		printf("rtt paced rate %u burst %u sent %" PRIu64 " echoed %" PRIu64
		       " devq_full %" PRIu64 " p50_ns %" PRIu64 " p90_ns %" PRIu64
		       " p99_ns %" PRIu64 " p999_ns %" PRIu64 " max_ns %" PRIu64 "\n",
		       rate, burst, sent, echoed, full, pct(0.5), pct(0.9), pct(0.99), pct(0.999),
		       ns.empty() ? 0 : ns.back());
		fflush(stdout);
	}

	void series(const char *name, unsigned probes, unsigned gap_us)
	{
		std::vector<uint64_t> ns;
		ns.reserve(probes);
		unsigned lost = 0;
		const uint64_t w0 = wakeups();
		for (unsigned i = 0; i < probes; i++) {
			if (gap_us > 0)
				usleep(gap_us);
			uint64_t c = probe();
			if (c == UINT64_MAX)
				lost++;
			else
				ns.push_back(c * 1000000000u / hz);
		}
		const uint64_t w1 = wakeups();
		std::sort(ns.begin(), ns.end());
		auto pct = [&ns](double q) { return percentile(ns, q); };
		printf("rtt %s probes %u lost %u p50_ns %" PRIu64 " p90_ns %" PRIu64
		       " p99_ns %" PRIu64 " p999_ns %" PRIu64 " max_ns %" PRIu64
		       " wakeups_per_probe %.3f\n",
		       name, probes, lost, pct(0.5), pct(0.9), pct(0.99), pct(0.999),
		       ns.empty() ? 0 : ns.back(),
		       xstat_id == UINT64_MAX
			   ? -1.0
			   : static_cast<double>(w1 - w0) / static_cast<double>(probes));
		fflush(stdout);
	}
};

} // namespace

int main(int argc, char **argv)
{
	int n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "rtt: EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= n;
	argv += n;
	options o = parse(argc - 1, argv + 1);

	prober p;
	p.len = o.len;
	if (rte_eth_dev_get_port_by_name(o.port.c_str(), &p.port) != 0) {
		fprintf(stderr, "rtt: no port %s\n", o.port.c_str());
		return 1;
	}
	p.pool = rte_pktmbuf_pool_create("rtt_pool", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					 static_cast<int>(rte_socket_id()));
	rte_eth_conf conf{};
	if (p.pool == nullptr || rte_eth_dev_configure(p.port, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup(p.port, 0, 1024, rte_socket_id(), nullptr, p.pool) != 0 ||
	    rte_eth_tx_queue_setup(p.port, 0, 1024, rte_socket_id(), nullptr) != 0 ||
	    rte_eth_dev_start(p.port) != 0) {
		fprintf(stderr, "rtt: cannot set up port %s: %s\n", o.port.c_str(),
			rte_strerror(rte_errno));
		return 1;
	}
	if (rte_eth_xstats_get_id_by_name(p.port, "tx_reader_wakeups", &p.xstat_id) != 0)
		p.xstat_id = UINT64_MAX;
	if (rte_eth_xstats_get_id_by_name(p.port, "tx_devq_full_errors", &p.full_id) != 0)
		p.full_id = UINT64_MAX;
	/* A secondary-process reader can attach from here on. */
	printf("started\n");
	fflush(stdout);

	rte_eth_link link{};
	for (int i = 0; i < 3000; i++) {
		if (rte_eth_link_get_nowait(p.port, &link) == 0 &&
		    link.link_status == RTE_ETH_LINK_UP)
			break;
		usleep(10000);
	}
	if (link.link_status != RTE_ETH_LINK_UP) {
		fprintf(stderr, "rtt: link of %s still down after 30 s: no reader\n",
			o.port.c_str());
		return 1;
	}
	printf("ready\n");
	fflush(stdout);

	for (unsigned i = 0; i < warmup_probes; i++)
		p.probe();
	p.series("busy", o.probes, 0);
	if (o.idle_probes > 0)
		p.series("sleeping", o.idle_probes, o.gap_us);
	if (o.rate > 0)
		p.paced(o.rate, o.burst, o.rate_seconds);

	rte_eth_dev_stop(p.port);
	rte_eth_dev_close(p.port);
	rte_eal_cleanup();
	return 0;
}

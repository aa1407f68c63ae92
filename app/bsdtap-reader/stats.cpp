/* SPDX-License-Identifier: BSD-3-Clause */
#include "stats.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "common.h"

namespace bsdtap_app
{

namespace
{

/* The application may reset its stats: a counter that went back restarted at 0. */
void advance(uint64_t now, uint64_t *prev, uint64_t *acc)
{
	*acc += now >= *prev ? now - *prev : now;
	*prev = now;
}

/*
 * Bytes read. The zero-copy sink does not touch the frames, so it takes them
 * from the port's byte counter of its queue: what the application queued for
 * it (frames still in the devq at exit, or purged, are in it).
 */
bool bytes_from_port(const options &o)
{
	return o.mode == run_mode::sink && !o.copy && !o.exact_bytes;
}

uint64_t read_bytes(const options &o, const totals &t, port_stats *ps)
{
	return bytes_from_port(o) ? ps->drops().queue_bytes : t.rd_bytes.get();
}

void print_rate_line(FILE *msg, const char *what, uint64_t frames, uint64_t bytes, double secs)
{
	double mpps = secs > 0 ? static_cast<double>(frames) / secs / 1e6 : 0;
	double gbps = secs > 0 ? static_cast<double>(bytes) * 8 / secs / 1e9 : 0;
	fprintf(msg, "  %-8s %12" PRIu64 " frames %14" PRIu64 " bytes  %8.3f Mpps  %7.3f Gbit/s\n",
		what, frames, bytes, mpps, gbps);
}

} // namespace

uint64_t handled(const options &o, const totals &t)
{
	return t.rd_frames.get() + (o.mode == run_mode::echo ? 0 : t.wr_frames.get());
}

void port_stats::attach(int port, uint16_t queue)
{
	port_ = port;
	queue_ = queue;
	if (port < 0 || rte_eth_dev_get_name_by_port(static_cast<uint16_t>(port), name_) != 0)
		port_ = -1;
	/* The queue's own byte count is an xstat: rte_eth_stats lost its
	 * per-queue arrays in DPDK 25.11. */
	char xname[RTE_ETH_XSTATS_NAME_SIZE];
	snprintf(xname, sizeof(xname), "tx_q%u_bytes", queue);
	have_qbytes_ = port_ >= 0 && rte_eth_xstats_get_id_by_name(static_cast<uint16_t>(port_),
								   xname, &qbytes_id_) == 0;
	read();
	acc_ = port_drops{};
}

port_drops port_stats::drops()
{
	read();
	return acc_;
}

void port_stats::read()
{
	char now[RTE_ETH_NAME_MAX_LEN];
	rte_eth_stats st;
	if (port_ < 0 || gone_->load() ||
	    rte_eth_dev_get_name_by_port(static_cast<uint16_t>(port_), now) != 0 ||
	    strcmp(now, name_) != 0 || rte_eth_stats_get(static_cast<uint16_t>(port_), &st) != 0)
		return;
	advance(st.oerrors, &prev_.devq_full, &acc_.devq_full);
	advance(st.imissed, &prev_.inq_full, &acc_.inq_full);
	advance(st.rx_nombuf, &prev_.nombuf, &acc_.nombuf);
	uint64_t qbytes;
	if (have_qbytes_ &&
	    rte_eth_xstats_get_by_id(static_cast<uint16_t>(port_), &qbytes_id_, &qbytes, 1) == 1)
		advance(qbytes, &prev_.queue_bytes, &acc_.queue_bytes);
}

bool progress::tick(const run_state &s, port_stats *ps, double now)
{
	const options &o = s.o;
	if (now - last_t_ < 1.0)
		return false;
	uint64_t f = handled(o, s.tot);
	double dt = now - last_t_;
	uint64_t b = last_bytes_;
	if (!o.quiet) {
		/* Only for the line: a quiet reader makes no ethdev call here. */
		b = read_bytes(o, s.tot, ps) +
		    (o.mode == run_mode::echo ? 0 : s.tot.wr_bytes.get());
		port_drops pd = ps->drops();
		uint64_t drops = pd.devq_full + pd.inq_full + pd.nombuf + s.tot.local_drops.get();
		fprintf(s.msg,
			"%s %s:%u %6.1f s  frames %" PRIu64
			"  %.3f Mpps  %.3f Gbit/s  drops %" PRIu64 "\n",
			o.mode_name.c_str(), o.unit.c_str(), o.queue, now - t0_, f,
			static_cast<double>(f - last_frames_) / dt / 1e6,
			static_cast<double>(b - last_bytes_) * 8 / dt / 1e9, drops);
		fflush(s.msg);
	}
	last_t_ = now;
	last_frames_ = f;
	last_bytes_ = b;
	return true;
}

void print_totals(const run_state &s, const char *why, double secs, port_stats *ps)
{
	const options &o = s.o;
	const totals &t = s.tot;
	port_drops d = ps->drops();
	uint64_t devq_full = d.devq_full, inq_full = d.inq_full, nombuf = d.nombuf;
	uint64_t local = t.local_drops.get();
	fprintf(s.msg, "%s %s:%u: stopped (%s) after %.2f s\n", o.mode_name.c_str(), o.unit.c_str(),
		o.queue, why, secs);
	print_rate_line(s.msg, "read", t.rd_frames.get(), read_bytes(o, t, ps), secs);
	print_rate_line(s.msg, "written", t.wr_frames.get(), t.wr_bytes.get(), secs);
	if (o.mode == run_mode::dump)
		fprintf(s.msg, "  dumped   %12" PRIu64 " frames to %s\n", t.dumped.get(),
			o.out.c_str());
	fprintf(s.msg,
		"  drops    %" PRIu64 " (devq full %" PRIu64 ", inq full %" PRIu64
		", no mbuf %" PRIu64 ", reader %" PRIu64 ")\n",
		devq_full + inq_full + nombuf + local, devq_full, inq_full, nombuf, local);
	fflush(s.msg);
}

} // namespace bsdtap_app

/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BSDTAP_APP_STATS_H
#define BSDTAP_APP_STATS_H

/* What the program counts, the port's counters it reads, and the lines it
 * prints of them: the progress line once a second, the totals on exit. */

#include <atomic>
#include <cstdint>

#include <rte_ethdev.h>

#include "options.h"

namespace bsdtap_app
{

struct run_state;

/* One writer (the worker), read by the main thread: relaxed loads and stores. */
struct counter {
	std::atomic<uint64_t> v{0};
	void add(uint64_t n)
	{
		v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
	}
	uint64_t get() const { return v.load(std::memory_order_relaxed); }
};

struct totals {
	counter rd_frames, rd_bytes; /* taken from the devq: what the application sent */
	counter wr_frames, wr_bytes; /* given to the inq: what the application receives */
	counter local_drops;	     /* frames this program had to drop */
	counter dumped;		     /* dump: frames wholly written to the file */
};

/* Frames handled so far: read plus written, an echoed frame counting once. */
uint64_t handled(const options &o, const totals &t);

/* The port's drop counters, and the bytes queued on the reader's queue. */
struct port_drops {
	uint64_t devq_full = 0, inq_full = 0, nombuf = 0;
	uint64_t queue_bytes = 0;
};

/*
 * The port's counters, read with rte_eth_stats_get(). In a secondary
 * process an ethdev call on a port the primary has closed runs the driver
 * on freed data, so look first: once the worker saw the unit go (gone), or
 * the port's name in the shared ethdev data changed (the primary zeroes it
 * on release), keep the last values read.
 */
class port_stats
{
public:
	explicit port_stats(const std::atomic<bool> &gone) : gone_(&gone) {}
	void attach(int port, uint16_t queue);
	/* Since attach(). */
	port_drops drops();

private:
	void read();

	const std::atomic<bool> *gone_;
	int port_ = -1;
	bool have_qbytes_ = false;
	uint64_t qbytes_id_ = 0;
	uint16_t queue_ = 0;
	char name_[RTE_ETH_NAME_MAX_LEN] = "";
	port_drops prev_, acc_;
};

/* The progress line, at most once a second. */
class progress
{
public:
	explicit progress(double t0) : t0_(t0), last_t_(t0) {}
	/* When the next line is due. */
	double next() const { return last_t_ + 1.0; }
	/* At now, once a second has passed since the last line: prints the
	 * line (not with --quiet) and returns true. */
	bool tick(const run_state &s, port_stats *ps, double now);

private:
	double t0_, last_t_;
	uint64_t last_frames_ = 0, last_bytes_ = 0;
};

/* The totals on exit; why is the reason it stopped. */
void print_totals(const run_state &s, const char *why, double secs, port_stats *ps);

} // namespace bsdtap_app

#endif

/* SPDX-License-Identifier: BSD-3-Clause */
/* replay: the frames of a capture file written into the unit. */

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <ctime>

#include <rte_errno.h>

#include "common.h"

namespace bsdtap_app
{

namespace
{

void sleep_until(double t)
{
	double d = t - now_s();
	if (d <= 0)
		return;
	d = std::min(d, 0.1); /* look at the stop flag at least every 100 ms */
	timespec ts;
	ts.tv_sec = static_cast<time_t>(d);
	ts.tv_nsec = static_cast<long>((d - static_cast<double>(ts.tv_sec)) * 1e9);
	nanosleep(&ts, nullptr);
}

} // namespace

bool load_replay(run_state *s)
{
	frame_set &fs = s->replay;
	std::string err;
	if (!load_capture(s->o.in, &fs, &err)) {
		fprintf(stderr, "bsdtap-reader: %s\n", err.c_str());
		return false;
	}
	fprintf(s->msg, "replay: %zu frames loaded from %s", fs.frames.size(), s->o.in.c_str());
	if (fs.skipped > 0)
		fprintf(s->msg, " (%" PRIu64 " longer than %u bytes skipped)", fs.skipped,
			RTE_PMD_BSDTAP_MRU);
	if (fs.empty > 0)
		fprintf(s->msg, " (%" PRIu64 " empty records skipped)", fs.empty);
	fprintf(s->msg, "\n");
	if (!fs.cut.empty())
		fprintf(stderr,
			"bsdtap-reader: warning: %s: the last record is cut short (%s); "
			"replaying the %zu complete frames before it\n",
			s->o.in.c_str(), fs.cut.c_str(), fs.frames.size());
	return true;
}
end_t run_replay(worker_ctx &c)
{
	const options &o = c.o;
	rte::bsdtap::reader &r = c.r;
	const frame_set &fs = c.s.replay;
	size_t next = 0;
	uint64_t sent = 0; /* frames attempted, for the rate */
	double t0 = now_s();
	while (!c.stopping()) {
		if (c.count_reached())
			return end_t::finished;
		uint64_t n = c.want(c.tot.wr_frames.get());
		if (o.rate > 0) {
			/* Frame k is due at t0 + k / rate: send what is due, up to a burst. */
			uint64_t due = static_cast<uint64_t>((now_s() - t0) * o.rate) + 1;
			if (due <= sent) {
				sleep_until(t0 + static_cast<double>(sent) / o.rate);
				continue;
			}
			n = std::min<uint64_t>(n, due - sent);
		}
		for (uint64_t i = 0; i < n; i++) {
			if (next == fs.frames.size()) {
				if (!o.loop)
					return end_t::finished;
				next = 0;
			}
			const auto &f = fs.frames[next++];
			sent++;
			ssize_t w = r.write(fs.data.data() + f.first, f.second);
			if (w >= 0) {
				c.tot.wr_frames.add(1);
				c.tot.wr_bytes.add(f.second);
			} else if (rte_errno == EHOSTDOWN) {
				return end_t::gone;
			} else if (rte_errno != ENOBUFS) {
				/* ENOBUFS is in the port's rx_nombuf already. */
				c.tot.local_drops.add(1);
			}
		}
		if (next == fs.frames.size() && !o.loop)
			return end_t::finished;
	}
	return end_t::stopped;
}

} // namespace bsdtap_app

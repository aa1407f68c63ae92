/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BSDTAP_APP_COMMON_H
#define BSDTAP_APP_COMMON_H

/* What the main thread and the modes share: the run's state, the worker's
 * context, the modes' entry points and their end codes. */

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>

#include <pthread.h>

#include "rte_pmd_bsdtap.hpp"

#include "options.h"
#include "pcap_read.h"
#include "stats.h"

namespace bsdtap_app
{

/* The state of one run, made by main() before the worker starts. */
struct run_state {
	explicit run_state(const options &opts) : o(opts) {}
	const options &o;
	FILE *msg = stdout; /* progress and totals: stderr when the dump is stdout */
	totals tot;
	std::atomic<bool> stop{false}; /* the main thread tells the worker to stop */
	std::atomic<bool> gone{false}; /* the worker saw the unit go away */
	frame_set replay;	       /* replay: loaded before EAL starts */
	pthread_t main_thread{};       /* woken by the worker's SIGUSR1 when it ends */
};

/* What the worker ran into. */
enum class end_t { stopped, gone, finished, failed };

/* The worker's context, handed to the mode it runs. */
struct worker_ctx {
	worker_ctx(run_state &state, rte::bsdtap::reader &reader)
	    : s(state), o(state.o), r(reader), tot(state.tot)
	{
	}

	run_state &s;
	const options &o;
	rte::bsdtap::reader &r;
	totals &tot;
	std::string error; /* set with end_t::failed */

	/* idle_wait()'s state. */
	uint64_t idle_since = 0, seen = 0;
	bool timed_out = false; /* the last sleep ended with nothing */

	/* The loops' test: relaxed, the main thread's store is seen soon enough. */
	bool stopping() const { return s.stop.load(std::memory_order_relaxed); }
	bool count_reached() const { return o.count != 0 && handled(o, tot) >= o.count; }
	/* A loop that ended on the stop flag or on --count. */
	end_t stopped_or_finished() const
	{
		return s.stop.load() ? end_t::stopped : end_t::finished;
	}
	/* The next burst's size: --burst, less near --count (done so far). */
	uint16_t want(uint64_t done) const;
	/* Nothing to do: poll on for a while, then sleep; false when the unit is gone. */
	bool idle_wait();
};

double now_s();

end_t run_sink(worker_ctx &c);
end_t run_echo(worker_ctx &c);
end_t run_dump(worker_ctx &c);
end_t run_replay(worker_ctx &c);
end_t run_bridge(worker_ctx &c);

/* Loads --in into s->replay and says so; false (the error printed) when
 * the file cannot be replayed. */
bool load_replay(run_state *s);

} // namespace bsdtap_app

#endif

/* SPDX-License-Identifier: BSD-3-Clause */
#include "common.h"

#include <algorithm>
#include <cerrno>
#include <ctime>

#include <rte_cycles.h>

namespace bsdtap_app
{

namespace
{

/* Idle polling before sleeping, in microseconds. */
constexpr uint64_t idle_spin_us = 50;

} // namespace

double now_s()
{
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

uint16_t worker_ctx::want(uint64_t done) const
{
	if (o.count == 0)
		return static_cast<uint16_t>(o.burst);
	uint64_t left = o.count > done ? o.count - done : 0;
	return static_cast<uint16_t>(std::min<uint64_t>(left, o.burst));
}

/* Poll on for a short while (no syscall, no PAUSE: the next burst of a
 * loaded generator is microseconds away, and a reader that sleeps makes
 * the generator pay a wakeup per burst), then sleep in
 * rte_pmd_bsdtap_wait(). The idle period is the time since the last frame
 * handled: empty polls between bursts of a busy generator must not add up
 * to a sleep. */
bool worker_ctx::idle_wait()
{
	const uint64_t spin = rte_get_tsc_hz() / 1000000 * idle_spin_us;
	const uint64_t moved = tot.rd_frames.get() + tot.wr_frames.get() + tot.local_drops.get();
	uint64_t now = rte_get_tsc_cycles();
	if (moved != seen) {
		timed_out = false;
		idle_since = now;
		seen = moved;
	}
	if (idle_since == 0)
		idle_since = now;
	/* After a sleep that timed out there is nothing to poll for: sleep on
	 * (the timeout is only there to look at the stop flag). */
	if (!timed_out && now - idle_since < spin)
		return true;
	idle_since = 0;
	int w = r.wait(100);
	timed_out = w == 0;
	return w != -EHOSTDOWN;
}

} // namespace bsdtap_app

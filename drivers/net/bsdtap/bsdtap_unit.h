/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BSDTAP_UNIT_H
#define BSDTAP_UNIT_H

/*
 * A unit's effects on its port: what the original's character device did to
 * its ifnet (C06 up_on_open's start and C43's stop, C09's destruction of a
 * cloned unit, C28 TAPSIFINFO's MTU, VMIO_SIOCSIFFLAGS). They are ethdev
 * control calls on the application's port, and ethdev control calls are not
 * thread-safe: so they all run in one context, EAL's interrupt thread in the
 * primary, one at a time, each under the port's lock, which the application
 * can take around its own control calls (rte_pmd_bsdtap_port_lock()) so
 * that none of them runs in the middle of its configure, start or stop.
 * Secondary processes send theirs to the primary over rte_mp.
 */

#include <cstdint>

namespace bsdtap
{

struct unit;

enum class port_effect : uint8_t {
	start_for_open, /* C06: up_on_open on a stopped port */
	stop_for_close, /* C43: the last close stops what the open started; then C09 */
	set_info,	/* C28: arg is the MTU (the reader stores the baud rate after) */
	set_flags,	/* VMIO_SIOCSIFFLAGS: arg is the flags */
};

/* Primary: run effect e on u's port. wait: return its result (0 or a
 * negative errno) once it ran; otherwise post it and return 0. A caller that
 * holds the port's lock on this thread runs it at once, in its own thread. A
 * wait ends early with -ENODEV if the port is closed meanwhile. */
int port_effect_run(unit *u, port_effect e, int arg, bool wait) noexcept;

/* Primary, rte_mp: run e for a secondary and reply to it (the request msg
 * and its peer are copied) once it ran. */
int port_effect_for_peer(unit *u, port_effect e, int arg, const void *msg,
			 const char *peer) noexcept;

} // namespace bsdtap

#endif

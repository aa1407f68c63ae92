/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BSDTAP_UNIT_H
#define BSDTAP_UNIT_H

/*
 * A unit (bsdtap_internal.h has its state): its lifecycle, in
 * bsdtap_unit_life.cpp, and its effects on its port, in bsdtap_unit.cpp.
 */

#include <cstdint>

struct rte_eth_link;

namespace bsdtap
{

struct devargs;
struct queue;
struct unit;

/* ------------------------------------------------------------ lifecycle */

/* Creation and destruction. unit_create: a unit named name (net_bsdtapN)
 * with its rings and eventfds on socket, one reference held (the port's),
 * or nullptr. unit_free: frees one that is not listed in the registry;
 * unit_destroy: takes it out of the registry first. */
unit *unit_create(const char *name, uint32_t unit_no, const devargs &args, int socket) noexcept;
void unit_free(unit *u) noexcept;
void unit_destroy(unit *u) noexcept;
/* Drop a reference; true when it was the last (the unit is gone). */
bool unit_put(unit *u) noexcept;
/* Empty the devq (C39, C42). reader_gone: the queue's reader is dead or
 * closing, so nobody else dequeues: what a dead one left half done in the
 * rings is repaired first (see unit_purge_devq). */
void unit_purge_devq(queue *q, bool reader_gone = false) noexcept;
void unit_purge_inq(queue *q) noexcept;
/* Put back what a dead reader left half done in its rings (devq consumer,
 * retq and inq producer); only once that reader is known gone. */
void unit_repair_rings(queue *q) noexcept;
/* Free what readers handed back (retq, and in place: see
 * queue::inplace_from); the primary, any thread. */
void unit_purge_retq(queue *q) noexcept;
/* Re-evaluate the link and tell the application (LSC) if it changed. */
void unit_link_changed(unit *u) noexcept;
/* Wake a reader sleeping on q (state change, not a burst). */
void queue_wake(queue *q) noexcept;
bool unit_link_should_be_up(const unit *u) noexcept;
/* The link the port reports (fill_link): up while the port is started and
 * not closed, and a reader has the unit open or it is vmnet; link_template
 * is what probe reports first and what fill_link starts from. lsc_alarm
 * tells the application a change (EAL's interrupt thread; the port's close
 * runs a pending one itself). */
extern const struct rte_eth_link link_template;
void fill_link(const unit *u, struct rte_eth_link *link) noexcept;
void lsc_alarm(void *arg) noexcept;

/* A queue's open and close, the primary's half (for its own readers, for a
 * secondary's over rte_mp, and for a dead reader's, C45); pid is the
 * claimant (queue::opener_pid). queue_open_primary: 0, or -EBUSY when pid
 * no longer holds the claim; queue_close_primary: 0, or -ESRCH when it was
 * released already; *destroyed (if given): that dropped the unit's last
 * reference. queue_reap: releases q if its claimant's process is dead;
 * queue_purge_stale: purges what a tx queued on a queue nobody holds. */
int queue_open_primary(unit *u, queue *q, int32_t pid, bool builtin) noexcept;
int queue_close_primary(unit *u, queue *q, int32_t pid, bool *destroyed) noexcept;
bool queue_reap(unit *u, queue *q) noexcept;
void queue_purge_stale(unit *u, queue *q) noexcept;
/* Whether pid's process is gone (kill(pid, 0) finds no such process). */
bool pid_gone(int32_t pid) noexcept;

/* --------------------------------------------------------- port effects */

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

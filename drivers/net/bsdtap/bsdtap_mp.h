/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BSDTAP_MP_H
#define BSDTAP_MP_H

/*
 * The multi-process channel (rte_mp): a reader in a DPDK secondary process
 * gets its queue's wakeup eventfd from the primary, and tells the primary
 * about opens and closes, whose effects (LSC events, up_on_open, clone
 * destruction) belong to the primary. The primary also notices readers
 * whose process died without closing (C45).
 */

#include <cstdint>

struct rte_mp_msg;

namespace bsdtap
{

struct unit;

enum mp_op : uint32_t {
	MP_GET_EFD = 1,	 /* reply carries the queue's eventfd */
	MP_RELEASE,	 /* a secondary dropped a closed port's last reference */
	MP_OPS_NAMES,	 /* names of the primary's mempool ops, from index qid */
	MP_OPEN,	 /* a secondary claimed a queue: the primary opens it (reply: eventfd) */
	MP_CLOSE,	 /* a secondary closes a queue: the primary releases it */
	MP_REAP,	 /* a secondary found a queue claimed by a dead process */
	MP_GET_INTR_EFD, /* reply carries the queue's rx interrupt eventfd */
	MP_PORT_EFFECT,	 /* a secondary's reader asks for a port effect (bsdtap_unit.h) */
};

/* Primary: register the rte_mp action and start the dead-reader check. */
int mp_primary_init() noexcept;
/* Secondary: this process's copy of queue qid's eventfd, or -errno. */
int mp_get_efd(const unit *u, uint16_t qid) noexcept;
/* Secondary: this process's copy of the application's rx interrupt eventfd
 * of queue qid, or -errno. */
int mp_get_intr_efd(const unit *u, uint16_t qid) noexcept;
/* Secondary: order this process's mempool ops like the primary's. */
void mp_align_mempool_ops() noexcept;
/* Secondary: the primary's half of an open of queue qid claimed by pid;
 * returns this process's copy of the queue's eventfd, or -errno. */
int mp_open(const unit *u, uint16_t qid, int32_t pid) noexcept;
/* Secondary: the primary releases queue qid claimed by pid; 1 when that
 * dropped the unit's last reference, 0, or -errno. */
int mp_close(const unit *u, uint16_t qid, int32_t pid) noexcept;
/* Secondary: the primary releases queue qid if pid, its claimant, is dead. */
void mp_reap(const unit *u, uint16_t qid, int32_t pid) noexcept;
/* Secondary: the primary runs port effect e (a port_effect) with arg on
 * u's port, as for its own readers; its result, or -errno. */
int mp_port_effect(const unit *u, uint8_t e, int arg) noexcept;
/* Primary: answer a request (copied from the rte_mp handler) with result. */
int mp_reply_result(const struct rte_mp_msg *req, const char *peer, int32_t result) noexcept;
/* Primary: true on the rte_mp thread while it handles a request (port
 * effects asked for there do not wait for the port lock). */
bool mp_in_handler() noexcept;

/* Secondary: tell the primary; waits for it to act. */
void mp_notify(mp_op op, const unit *u, uint16_t qid) noexcept;

} // namespace bsdtap

#endif

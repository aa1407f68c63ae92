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

namespace bsdtap
{

struct unit;

enum mp_op : uint32_t {
	MP_GET_EFD = 1, /* reply carries the queue's eventfd */
	MP_OPENED,	/* a secondary opened a queue */
	MP_CLOSED,	/* a secondary closed a queue */
	MP_RELEASE,	/* a secondary dropped a closed port's last reference */
	MP_OPS_NAMES,	/* names of the primary's mempool ops, from index qid */
};

/* Primary: register the rte_mp action and start the dead-reader check. */
int mp_primary_init() noexcept;
/* Secondary: this process's copy of queue qid's eventfd, or -errno. */
int mp_get_efd(const unit *u, uint16_t qid) noexcept;
/* Secondary: order this process's mempool ops like the primary's. */
void mp_align_mempool_ops() noexcept;
/* Secondary: tell the primary; waits for it to act. */
void mp_notify(mp_op op, const unit *u, uint16_t qid) noexcept;

} // namespace bsdtap

#endif

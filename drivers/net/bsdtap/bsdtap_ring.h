/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BSDTAP_RING_H
#define BSDTAP_RING_H

/*
 * What the driver adds to rte_ring: a single producer's enqueue on the
 * ring's own indices (sp_view), the frame descriptors the tx writes beside
 * the devq's slots, and atomic looks at a ring from a thread that is
 * neither its producer nor its consumer.
 */

#include <cstdint>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_ring.h>

namespace bsdtap
{

/*
 * A single producer's own view of a ring it fills (the devq for the tx, the
 * retq for the reader): its head, and the consumer tail it last saw. rte_ring
 * loads the producer head and the consumer tail on every enqueue; the head
 * shares a line with the producer tail that the polling consumer keeps
 * reading, and the consumer moves its tail after every dequeue: two cache
 * lines from the other core per burst, most of what a burst cost against a
 * polling peer. The view's tail is a lower bound of the real one (a tail
 * only grows), so the room it gives is surely free; it is read again only
 * when that room is short: once per (capacity / burst) bursts while the
 * consumer keeps up. The ring's producer line is only stored to.
 * Consumers use rte_ring as before.
 */
struct sp_view {
	uint32_t head = 0;
	uint32_t tail_seen = 0;
};

/*
 * What a copying reader needs of a frame, written by the tx beside the devq
 * slot (same index) while a copying reader holds the queue (QF_DESC), before
 * it publishes the frame: the data address and length of a one-segment
 * frame, so that the reader never reads the mbuf header, a line the
 * generator's core then has to take back when it reuses the mbuf. len 0:
 * use the header (a chain). gen and pos say which frame it describes: the
 * reader takes a descriptor only for the generation it started and the ring
 * position of the frame in hand. Any other (left from an earlier reader, a
 * frame queued before the tx saw QF_DESC, an earlier pass of the ring) sends
 * it to the header. Zero-copy readers cost the tx nothing: no QF_DESC.
 */
struct frame_desc {
	const void *data;
	uint16_t len;
	uint16_t gen;
	uint32_t pos;
};

/* Room for want entries, as far as v knows; reads the tail when short
 * (reload; the devq's tx reloads through devq_refill instead). */
template <bool reload = true>
inline unsigned sp_room(const struct rte_ring *r, sp_view *v, unsigned want) noexcept
{
	uint32_t used = v->head - v->tail_seen;
	if (reload && unlikely(used > r->capacity || r->capacity - used < want)) {
		v->tail_seen = __atomic_load_n(&r->cons.tail, __ATOMIC_ACQUIRE);
		used = v->head - v->tail_seen;
	}
	return r->capacity - used;
}

/* Up to n entries (with all: n or none); returns how many went in. side(pos,
 * k) runs after the slots are written and before they are published: pos is
 * the ring position of the first of the k entries. */
struct sp_no_side {
	void operator()(uint32_t, unsigned) const noexcept {}
};
template <bool reload = true, typename Side = sp_no_side>
inline unsigned sp_enqueue(struct rte_ring *r, sp_view *v, void *const *objs, unsigned n,
			   bool all = false, Side side = Side()) noexcept
{
	const unsigned room = sp_room<reload>(r, v, n);
	if (unlikely(n > room))
		n = all ? 0 : room;
	if (unlikely(n == 0))
		return 0;
	auto **slots = reinterpret_cast<void **>(&r[1]);
	const uint32_t head = v->head;
	const uint32_t idx = head & r->mask;
	const uint32_t first = RTE_MIN(n, r->size - idx);
	for (uint32_t i = 0; i < first; i++)
		slots[idx + i] = objs[i];
	for (uint32_t i = first; i < n; i++)
		slots[i - first] = objs[i];
	side(head, n);
	v->head = head + n;
	r->prod.head = head + n;
	__atomic_store_n(&r->prod.tail, head + n, __ATOMIC_RELEASE);
	return n;
}

/* A view of r for a producer taking it over (nothing half-enqueued). */
inline sp_view sp_view_of(const struct rte_ring *r) noexcept
{
	sp_view v;
	v.head = __atomic_load_n(&r->prod.tail, __ATOMIC_ACQUIRE);
	v.tail_seen = __atomic_load_n(&r->cons.tail, __ATOMIC_ACQUIRE);
	return v;
}

/*
 * Whether a ring is empty, read from a thread that is neither its producer
 * nor its consumer (alarms, purges, interrupt arming). rte_ring_empty() uses
 * plain loads of the tails, a data race against the burst functions' atomic
 * stores; these loads are atomic, and acquire the producer's slots.
 */
inline bool ring_empty_now(const struct rte_ring *r) noexcept
{
	return __atomic_load_n(&r->prod.tail, __ATOMIC_ACQUIRE) ==
	       __atomic_load_n(&r->cons.tail, __ATOMIC_ACQUIRE);
}

/* Entries in a ring, read as ring_empty_now does (from either end). */
inline unsigned ring_count_now(const struct rte_ring *r) noexcept
{
	uint32_t n = (__atomic_load_n(&r->prod.tail, __ATOMIC_ACQUIRE) -
		      __atomic_load_n(&r->cons.tail, __ATOMIC_ACQUIRE)) &
		     r->mask;
	return n > r->capacity ? r->capacity : n;
}

} // namespace bsdtap

#endif

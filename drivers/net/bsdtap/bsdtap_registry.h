/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BSDTAP_REGISTRY_H
#define BSDTAP_REGISTRY_H

/* The process's list of units (the original's tap_listhead): looked up by
 * the reader's open by interface or ethdev name. Control path only. */

#include <cstdint>
#include <mutex>

namespace bsdtap
{

struct unit;

std::unique_lock<std::mutex> registry_lock() noexcept;
/* By interface name (tap0) or ethdev name (net_bsdtap0); closed (gone) units are skipped. */
unit *registry_find_locked(const char *name) noexcept;
void registry_add_locked(unit *u) noexcept;
void registry_remove(unit *u) noexcept;
/* Whether u is (still) listed: units stay listed until destroyed. */
bool registry_has_locked(const unit *u) noexcept;
/* Every listed unit, each with a reference taken (drop with unit_put). */
unsigned registry_take_all(unit **out, unsigned max) noexcept;
/* Lowest unit number >= from that no unit uses (the clone open, C09). */
uint32_t registry_free_unit_locked(uint32_t from) noexcept;

} // namespace bsdtap

#endif

/* SPDX-License-Identifier: BSD-3-Clause */
#include "bsdtap_registry.h"

#include <cstring>

#include <rte_ethdev.h>

#include "bsdtap_internal.h"

namespace bsdtap
{

namespace
{
std::mutex registry_mutex;
unit *units[RTE_MAX_ETHPORTS];
} // namespace

std::unique_lock<std::mutex> registry_lock() noexcept
{
	return std::unique_lock<std::mutex>(registry_mutex);
}

unit *registry_find_locked(const char *name) noexcept
{
	for (unit *u : units)
		if (u != nullptr && (u->uflags.load() & UF_GONE) == 0 &&
		    (strcmp(u->iface, name) == 0 || strcmp(u->name, name) == 0))
			return u;
	return nullptr;
}

void registry_add_locked(unit *u) noexcept
{
	for (unit *&slot : units)
		if (slot == nullptr) {
			slot = u;
			return;
		}
}

void registry_remove(unit *u) noexcept
{
	std::lock_guard<std::mutex> g(registry_mutex);
	for (unit *&slot : units)
		if (slot == u)
			slot = nullptr;
}

bool registry_has_locked(const unit *u) noexcept
{
	for (const unit *x : units)
		if (x == u)
			return true;
	return false;
}

unsigned registry_take_all(unit **out, unsigned max) noexcept
{
	std::lock_guard<std::mutex> g(registry_mutex);
	unsigned n = 0;
	for (unit *u : units) {
		if (u == nullptr || n >= max)
			continue;
		/* A unit whose last reference is being dropped is still listed
		 * until its destruction takes it out: taking a reference from
		 * zero would destroy it twice. */
		uint32_t c = u->refcnt.load();
		while (c != 0 && !u->refcnt.compare_exchange_weak(c, c + 1))
			;
		if (c != 0)
			out[n++] = u;
	}
	return n;
}

uint32_t registry_free_unit_locked(uint32_t from) noexcept
{
	for (uint32_t n = from;; n++) {
		bool used = false;
		/* A unit that is gone (closed, its memory held by a reader still
		 * open, or for a moment by the reaper's sweep) no longer has its
		 * number, as it no longer has its name (registry_find_locked). */
		for (unit *u : units)
			used = used || (u != nullptr && u->unit_no == n &&
					(u->uflags.load() & UF_GONE) == 0);
		if (!used)
			return n;
	}
}

} // namespace bsdtap

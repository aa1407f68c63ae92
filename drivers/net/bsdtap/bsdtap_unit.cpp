/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A unit's effects on its port, in one context: see bsdtap_unit.h. And the
 * port lock that the application shares (rte_pmd_bsdtap_port_lock()). The
 * rest of the unit's life is in bsdtap_unit_life.cpp.
 *
 * An effect is posted to EAL's interrupt thread as an alarm. There it takes
 * the port lock without waiting (an application holding it may itself wait
 * on the interrupt thread): when the lock is busy the alarm comes back a
 * millisecond later. A caller that wants the result waits for it, giving up
 * when the port starts closing (a built-in reader that waits here is joined
 * by the close). The conditions of an effect (is the port stopped, is this
 * the last close) are looked at when it runs, under the lock, not when it
 * was posted.
 */

#include "bsdtap_unit.h"

#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <new>

#include <rte_alarm.h>
#include <rte_bus_vdev.h>
#include <rte_eal.h>
#include <rte_interrupts.h>

#include "bsdtap_internal.h"
#include "bsdtap_log.h"
#include "bsdtap_mp.h"
#include "rte_pmd_bsdtap.h"

namespace bsdtap
{

namespace
{

/* One lock per port, in the primary's memory: the application and the
 * effects take it; recursive, so that an application thread that holds it
 * may also be a reader. */
std::recursive_mutex port_locks[RTE_MAX_ETHPORTS];
/* How deep this thread holds each port's lock: its effects then run inline. */
thread_local unsigned lock_depth[RTE_MAX_ETHPORTS];

/* How soon a busy port lock is tried again, in microseconds. */
constexpr uint64_t retry_us = 1000;

struct effect_req {
	unit *u = nullptr; /* a reference is held until the effect is done */
	uint16_t port = 0;
	port_effect e = port_effect::start_for_open;
	int arg = 0;
	/* 2 while a caller waits (it and the runner), else 1: the last frees. */
	std::atomic<int> refs{1};
	/* Published before the alarm is set, read first by the alarm: EAL's
	 * alarm list hands the request over under a lock that sanitizers do
	 * not see; this pair makes the hand-over explicit. */
	std::atomic<bool> posted{false};
	std::mutex m;
	std::condition_variable cv;
	bool done = false;
	int result = 0;
	/* For a secondary: its request and where to answer it. */
	bool reply = false;
	struct rte_mp_msg msg {
	};
	char peer[PATH_MAX] = {};
};

void req_put(effect_req *r) noexcept
{
	if (r->refs.fetch_sub(1) == 1) {
		unit_put(r->u);
		delete r;
	}
}

/* The ethdev calls themselves, under the port lock. */
int apply(unit *u, port_effect e, int arg) noexcept
{
	const uint16_t port = u->port_id;
	const uint32_t f = u->uflags.load();
	if ((f & (UF_GONE | UF_CLOSING)) != 0)
		return -ENODEV;
	int ret = 0;
	switch (e) {
	case port_effect::start_for_open:
		/* C06: an open of a stopped port starts it, if it is still
		 * stopped and still open by someone. */
		if ((f & UF_STARTED) == 0 && u->nb_open.load() > 0) {
			ret = rte_eth_dev_start(port);
			if (ret == 0)
				u->uflags.fetch_or(UF_CLOSEDOWN);
			else
				BSDTAP_LOG(WARNING, "%s: up_on_open: cannot start port %u: %s",
					   u->iface, port, rte_strerror(-ret));
		}
		unit_link_changed(u);
		break;
	case port_effect::stop_for_close:
		if (u->nb_open.load() != 0)
			break; /* opened again since */
		if ((f & UF_CLOSEDOWN) != 0) {
			/* C43: close stops what open started. */
			u->uflags.fetch_and(~UF_CLOSEDOWN);
			rte_eth_dev_stop(port);
			unit_link_changed(u);
		}
		if ((f & UF_CLONE) != 0) {
			/* C09: a cloned unit goes away with its last close. */
			char name[RTE_DEV_NAME_MAX_LEN];
			snprintf(name, sizeof(name), "%s", u->name);
			if (rte_eth_devices[port].data->dev_started)
				rte_eth_dev_stop(port);
			ret = rte_vdev_uninit(name);
			if (ret != 0)
				BSDTAP_LOG(ERR, "%s: cannot destroy cloned unit: %s", name,
					   rte_strerror(-ret));
		}
		break;
	case port_effect::set_info:
		ret = rte_eth_dev_set_mtu(port, static_cast<uint16_t>(arg));
		break;
	case port_effect::set_flags:
		/* Keep what cannot change, force UP and RUNNING (the original
		 * forgot RUNNING, L759-765): the port is started. */
		ret = (arg & RTE_PMD_BSDTAP_IFF_PROMISC) ? rte_eth_promiscuous_enable(port)
							 : rte_eth_promiscuous_disable(port);
		if (ret == 0)
			ret = (arg & RTE_PMD_BSDTAP_IFF_ALLMULTI)
				  ? rte_eth_allmulticast_enable(port)
				  : rte_eth_allmulticast_disable(port);
		if (ret == 0 && (u->uflags.load() & UF_STARTED) == 0)
			ret = rte_eth_dev_start(port);
		break;
	}
	return ret;
}

int apply_locked(unit *u, uint16_t port, port_effect e, int arg) noexcept
{
	lock_depth[port]++;
	int ret = apply(u, e, arg);
	lock_depth[port]--;
	return ret;
}

void finish(effect_req *r, int result) noexcept
{
	if (r->reply)
		mp_reply_result(&r->msg, r->peer, result);
	{
		std::lock_guard<std::mutex> lk(r->m);
		r->result = result;
		r->done = true;
	}
	r->cv.notify_all();
	req_put(r);
}

/* EAL's interrupt thread: run the effect if the port lock is free. */
void effect_alarm(void *arg) noexcept
{
	auto *r = static_cast<effect_req *>(arg);
	if (!r->posted.load(std::memory_order_acquire))
		return; /* cannot happen: set before the alarm */
	if ((r->u->uflags.load() & (UF_GONE | UF_CLOSING)) != 0) {
		finish(r, -ENODEV);
		return;
	}
	std::unique_lock<std::recursive_mutex> lk(port_locks[r->port], std::try_to_lock);
	if (!lk.owns_lock()) {
		if (rte_eal_alarm_set(retry_us, effect_alarm, r) != 0)
			finish(r, -ENOMEM);
		return;
	}
	finish(r, apply_locked(r->u, r->port, r->e, r->arg));
}

effect_req *make_req(unit *u, port_effect e, int arg) noexcept
{
	/* Process-local, and off every burst: the C++ heap. */
	auto *r = new (std::nothrow) effect_req;
	if (r == nullptr)
		return nullptr;
	u->refcnt.fetch_add(1);
	r->u = u;
	r->port = u->port_id;
	r->e = e;
	r->arg = arg;
	return r;
}

int post(effect_req *r) noexcept
{
	r->posted.store(true, std::memory_order_release);
	return rte_eal_alarm_set(1, effect_alarm, r);
}

} // namespace

int port_effect_run(unit *u, port_effect e, int arg, bool wait) noexcept
{
	const uint16_t port = u->port_id;
	if (lock_depth[port] > 0)
		return apply(u, e, arg); /* the caller holds the lock here */
	if (wait && rte_thread_is_intr()) {
		/* Already in the effects' context; nothing else runs here. */
		std::lock_guard<std::recursive_mutex> lk(port_locks[port]);
		return apply_locked(u, port, e, arg);
	}
	effect_req *r = make_req(u, e, arg);
	if (r == nullptr)
		return -ENOMEM;
	if (wait)
		r->refs.store(2);
	if (post(r) != 0) {
		if (wait)
			req_put(r);
		req_put(r);
		return -ENOMEM;
	}
	if (!wait)
		return 0;
	int ret;
	{
		std::unique_lock<std::mutex> lk(r->m);
		while (!r->done && (u->uflags.load() & (UF_GONE | UF_CLOSING)) == 0)
			r->cv.wait_for(lk, std::chrono::milliseconds(10));
		ret = r->done ? r->result : -ENODEV;
	}
	req_put(r);
	return ret;
}

int port_effect_for_peer(unit *u, port_effect e, int arg, const void *msg,
			 const char *peer) noexcept
{
	effect_req *r = make_req(u, e, arg);
	if (r == nullptr)
		return -ENOMEM;
	r->reply = true;
	memcpy(&r->msg, msg, sizeof(r->msg));
	snprintf(r->peer, sizeof(r->peer), "%s", peer);
	if (post(r) != 0) {
		r->reply = false;
		req_put(r);
		return -ENOMEM;
	}
	return 0;
}

} // namespace bsdtap

using namespace bsdtap;

int rte_pmd_bsdtap_port_lock(uint16_t port_id) noexcept
{
	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return -ENOTSUP;
	if (unit_of_port(port_id) == nullptr)
		return -ENODEV;
	port_locks[port_id].lock();
	lock_depth[port_id]++;
	return 0;
}

int rte_pmd_bsdtap_port_unlock(uint16_t port_id) noexcept
{
	if (port_id >= RTE_MAX_ETHPORTS || lock_depth[port_id] == 0)
		return -EPERM;
	lock_depth[port_id]--;
	port_locks[port_id].unlock();
	return 0;
}

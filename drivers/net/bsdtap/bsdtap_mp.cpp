/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Multi-process channel. Messages carry the unit's ethdev name and a queue;
 * the primary answers on its rte_mp thread. The unit state itself is in
 * shared memory: only what is process-local (the eventfd, ethdev control
 * calls, LSC callbacks) goes through here.
 */

#include "bsdtap_mp.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include <rte_alarm.h>
#include <rte_eal.h>
#include <rte_errno.h>

#include "bsdtap_internal.h"
#include "bsdtap_log.h"
#include "bsdtap_registry.h"

namespace bsdtap
{

/* Defined in bsdtap_reader.cpp: the primary's side of open and close. */
void queue_release(unit *u, queue *q, bool builtin) noexcept;
void unit_after_open(unit *u) noexcept;
void unit_after_close(unit *u) noexcept;
void unit_destroy(unit *u) noexcept;

namespace
{

constexpr const char mp_name[] = "bsdtap_mp";
/* How long a secondary waits for the primary to answer. */
constexpr int mp_timeout_s = 5;
/* Dead-reader check period: C45 asks for "within a second or two". */
constexpr uint64_t reaper_period_us = 500 * 1000;

struct mp_param {
	uint32_t op;
	uint16_t qid;
	int32_t result;
	uint64_t unit_addr; /* MP_RELEASE: the unit, same address in every process */
	char name[RTE_DEV_NAME_MAX_LEN];
};
static_assert(sizeof(mp_param) <= RTE_MP_MAX_PARAM_LEN);

int reply(const struct rte_mp_msg *req, const void *peer, int32_t result, int fd) noexcept
{
	struct rte_mp_msg msg {
	};
	snprintf(msg.name, sizeof(msg.name), "%s", mp_name);
	mp_param p;
	memcpy(&p, req->param, sizeof(p));
	p.result = result;
	memcpy(msg.param, &p, sizeof(p));
	msg.len_param = sizeof(p);
	if (fd >= 0) {
		msg.num_fds = 1;
		msg.fds[0] = fd;
	}
	return rte_mp_reply(&msg, static_cast<const char *>(peer));
}

int mp_handler(const struct rte_mp_msg *msg, const void *peer) noexcept
{
	if (msg->len_param != sizeof(mp_param))
		return reply(msg, peer, -EINVAL, -1);
	mp_param p;
	memcpy(&p, msg->param, sizeof(p));
	p.name[sizeof(p.name) - 1] = '\0';

	if (p.op == MP_RELEASE) {
		/* The secondary dropped the last reference of a closed port. */
		auto *u = reinterpret_cast<unit *>(static_cast<uintptr_t>(p.unit_addr));
		bool known;
		{
			auto reg = registry_lock();
			known = registry_has_locked(u);
		}
		if (!known)
			return reply(msg, peer, -ENOENT, -1);
		unit_destroy(u);
		return reply(msg, peer, 0, -1);
	}

	unit *u;
	{
		auto reg = registry_lock();
		u = registry_find_locked(p.name);
		if (u != nullptr)
			u->refcnt.fetch_add(1);
	}
	if (u == nullptr)
		return reply(msg, peer, -ENXIO, -1);
	int ret = 0, fd = -1;
	switch (p.op) {
	case MP_GET_EFD:
		if (p.qid < u->nb_queues)
			fd = u->q[p.qid].efd;
		else
			ret = -EINVAL;
		break;
	case MP_OPENED:
		unit_after_open(u);
		break;
	case MP_CLOSED:
		unit_after_close(u);
		break;
	default:
		ret = -ENOTSUP;
	}
	ret = reply(msg, peer, ret, fd) < 0 ? -EIO : ret;
	unit_put(u);
	return ret;
}

/* C45: a reader in another process that died without closing. Runs on
 * EAL's interrupt thread, off every burst; kill(pid, 0) probes the pid. */
void reaper(void *) noexcept
{
	unit *units[RTE_MAX_ETHPORTS];
	unsigned n = registry_take_all(units, RTE_MAX_ETHPORTS);
	const pid_t self = getpid();
	for (unsigned i = 0; i < n; i++) {
		unit *u = units[i];
		for (uint16_t k = 0; k < u->nb_queues; k++) {
			queue *q = &u->q[k];
			pid_t pid = q->opener_pid.load();
			if ((q->flags.load() & QF_OPEN) == 0 || pid <= 0 || pid == self)
				continue;
			if (kill(pid, 0) == 0 || errno != ESRCH)
				continue;
			/* Only one releaser: claim the pid slot first. */
			if (!q->opener_pid.compare_exchange_strong(pid, 0))
				continue;
			BSDTAP_LOG(NOTICE,
				   "%s: queue %u: reader pid %d died without closing; released",
				   u->iface, k, pid);
			queue_release(u, q, false);
			unit_after_close(u);
			unit_put(u); /* the dead handle's reference */
		}
		unit_put(u);
	}
	rte_eal_alarm_set(reaper_period_us, reaper, nullptr);
}

int request(mp_param *p, int *fd) noexcept
{
	struct rte_mp_msg msg {
	};
	snprintf(msg.name, sizeof(msg.name), "%s", mp_name);
	memcpy(msg.param, p, sizeof(*p));
	msg.len_param = sizeof(*p);
	struct rte_mp_reply rep {
	};
	struct timespec ts = {mp_timeout_s, 0};
	if (rte_mp_request_sync(&msg, &rep, &ts) != 0 || rep.nb_received != 1) {
		free(rep.msgs);
		return -EHOSTUNREACH; /* no primary answering */
	}
	const struct rte_mp_msg *r = &rep.msgs[0];
	mp_param back;
	memcpy(&back, r->param, sizeof(back));
	int ret = back.result;
	if (fd != nullptr)
		*fd = (ret == 0 && r->num_fds == 1) ? r->fds[0] : -1;
	else
		for (int i = 0; i < r->num_fds; i++)
			close(r->fds[i]);
	free(rep.msgs);
	return ret;
}

} // namespace

int mp_primary_init() noexcept
{
	static bool done;
	if (done)
		return 0;
	int ret = rte_mp_action_register(mp_name, mp_handler);
	if (ret != 0 && rte_errno != EEXIST && rte_errno != ENOTSUP) {
		BSDTAP_LOG(ERR, "cannot register the multi-process channel: %s",
			   rte_strerror(rte_errno));
		return -rte_errno;
	}
	rte_eal_alarm_set(reaper_period_us, reaper, nullptr);
	done = true;
	return 0;
}

int mp_get_efd(const unit *u, uint16_t qid) noexcept
{
	mp_param p{};
	p.op = MP_GET_EFD;
	p.qid = qid;
	snprintf(p.name, sizeof(p.name), "%s", u->name);
	int fd = -1;
	int ret = request(&p, &fd);
	if (ret < 0)
		return ret;
	return fd >= 0 ? fd : -EIO;
}

void mp_notify(mp_op op, const unit *u, uint16_t qid) noexcept
{
	mp_param p{};
	p.op = op;
	p.qid = qid;
	p.unit_addr = reinterpret_cast<uintptr_t>(u);
	snprintf(p.name, sizeof(p.name), "%s", u->name);
	int ret = request(&p, nullptr);
	if (ret < 0 && ret != -ENXIO)
		BSDTAP_LOG(WARNING, "%s: primary did not act on a %s: %s", u->iface,
			   op == MP_OPENED   ? "open"
			   : op == MP_CLOSED ? "close"
					     : "release",
			   rte_strerror(-ret));
}

} // namespace bsdtap

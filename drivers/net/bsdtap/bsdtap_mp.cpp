/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Multi-process channel. Messages carry the unit's ethdev name and a queue;
 * the primary answers on its rte_mp thread. The unit state itself is in
 * shared memory: only what is process-local (the eventfd, ethdev control
 * calls, LSC callbacks) goes through here. What the primary does for a
 * secondary's open, close or dead reader is the unit's (bsdtap_unit.h), as
 * for its own readers.
 */

#include "bsdtap_mp.h"
#include "bsdtap_unit.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <algorithm>

#include <rte_alarm.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mempool.h>
#include <rte_spinlock.h>

#include "bsdtap_internal.h"
#include "bsdtap_log.h"
#include "bsdtap_registry.h"

namespace bsdtap
{

namespace
{

constexpr const char mp_name[] = "bsdtap_mp";
/* How long a secondary waits for the primary to answer. */
constexpr int mp_timeout_s = 5;
/* Dead-reader check period: C45 asks for "within a second or two". */
constexpr uint64_t reaper_period_us = 500 * 1000;

struct mp_param {
	uint32_t op;
	uint16_t qid; /* MP_PORT_EFFECT: the port_effect */
	int32_t result;
	int32_t pid; /* MP_OPEN, MP_CLOSE, MP_REAP: the claimant; MP_PORT_EFFECT: the argument */
	uint64_t unit_addr; /* MP_RELEASE: the unit, same address in every process */
	char name[RTE_DEV_NAME_MAX_LEN];
};

/* MP_OPS_NAMES reply: a slice of the primary's mempool ops table. */
constexpr unsigned ops_per_msg = 5;
struct mp_ops_names {
	mp_param hdr;
	uint32_t total;
	uint32_t count;
	char names[ops_per_msg][RTE_MEMPOOL_OPS_NAMESIZE];
};
static_assert(sizeof(mp_ops_names) <= RTE_MP_MAX_PARAM_LEN);
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

thread_local bool in_handler;

int mp_handle(const struct rte_mp_msg *msg, const void *peer) noexcept;

int mp_handler(const struct rte_mp_msg *msg, const void *peer) noexcept
{
	in_handler = true;
	int ret = mp_handle(msg, peer);
	in_handler = false;
	return ret;
}

int mp_handle(const struct rte_mp_msg *msg, const void *peer) noexcept
{
	if (msg->len_param != sizeof(mp_param))
		return reply(msg, peer, -EINVAL, -1);
	mp_param p;
	memcpy(&p, msg->param, sizeof(p));
	p.name[sizeof(p.name) - 1] = '\0';

	if (p.op == MP_OPS_NAMES) {
		struct rte_mp_msg out {
		};
		snprintf(out.name, sizeof(out.name), "%s", mp_name);
		mp_ops_names r{};
		r.hdr = p;
		r.total = rte_mempool_ops_table.num_ops;
		for (unsigned i = p.qid; i < r.total && r.count < ops_per_msg; i++, r.count++)
			snprintf(r.names[r.count], sizeof(r.names[0]), "%s",
				 rte_mempool_ops_table.ops[i].name);
		memcpy(out.param, &r, sizeof(r));
		out.len_param = sizeof(r);
		return rte_mp_reply(&out, static_cast<const char *>(peer));
	}

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
	if (p.op == MP_PORT_EFFECT) {
		/* Answered once the effect ran, from the effects' context. */
		ret = p.qid <= static_cast<uint16_t>(port_effect::set_flags)
			  ? port_effect_for_peer(u, static_cast<port_effect>(p.qid), p.pid, msg,
						 static_cast<const char *>(peer))
			  : -EINVAL;
		if (ret != 0)
			ret = reply(msg, peer, ret, -1) < 0 ? -EIO : ret;
		unit_put(u);
		return ret;
	}
	const bool get_fd = p.op == MP_GET_EFD || p.op == MP_GET_INTR_EFD;
	if (!get_fd && p.op != MP_OPEN && p.op != MP_CLOSE && p.op != MP_REAP)
		ret = -ENOTSUP;
	else if (p.qid >= u->nb_queues)
		ret = -EINVAL;
	else if (!get_fd && p.pid <= 0)
		ret = -EINVAL;
	queue *q = ret == 0 ? &u->q[p.qid] : nullptr;
	switch (ret == 0 ? p.op : 0) {
	case MP_GET_EFD:
		fd = q->efd;
		break;
	case MP_GET_INTR_EFD:
		fd = q->intr_efd;
		break;
	case MP_OPEN:
		ret = queue_open_primary(u, q, p.pid, false);
		if (ret == 0)
			fd = q->efd;
		break;
	case MP_CLOSE: {
		/* The answer says whether that was the unit's last reference: the
		 * secondary then forgets it. */
		ret = queue_close_primary(u, q, p.pid, nullptr);
		bool last = unit_put(u);
		return reply(msg, peer, ret == 0 && last ? 1 : ret, -1) < 0 ? -EIO : 0;
	}
	case MP_REAP:
		if (q->opener_pid.load() == p.pid)
			queue_reap(u, q);
		break;
	default:
		break;
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
	for (unsigned i = 0; i < n; i++) {
		unit *u = units[i];
		for (uint16_t k = 0; k < u->nb_queues; k++) {
			queue *q = &u->q[k];
			/* Mbufs readers handed back while the tx was idle. */
			unit_purge_retq(q);
			/* A claim whose process is gone, wherever it died: in a
			 * dequeue, in its open (not counted yet), in its close. */
			queue_reap(u, q);
			queue_purge_stale(u, q);
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

int mp_reply_result(const struct rte_mp_msg *req, const char *peer, int32_t result) noexcept
{
	return reply(req, peer, result, -1);
}

bool mp_in_handler() noexcept
{
	return in_handler;
}

int mp_port_effect(const unit *u, uint8_t e, int arg) noexcept
{
	mp_param p{};
	p.op = MP_PORT_EFFECT;
	p.qid = e;
	p.pid = arg;
	snprintf(p.name, sizeof(p.name), "%s", u->name);
	return request(&p, nullptr);
}

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

/*
 * A mempool records its ops as an index into a per-process table, filled in
 * registration order. Debian's testpmd links some drivers directly, so one
 * of them registers its mempool ops before EAL loads the rest: index 3 is
 * ring_mp_mc there and ring_sp_sc in a plain secondary, which then
 * allocates and frees the primary's mbufs without the multi-producer and
 * multi-consumer protocol, corrupting the pool's ring. A secondary reader
 * allocates (write) and frees (read), so before any pool is used here the
 * table is put in the primary's order. Ops this process lacks leave their
 * slot empty (a pool using them cannot be used here, as before).
 */
void mp_align_mempool_ops() noexcept
{
	static bool done;
	if (done)
		return;
	done = true;
	char want[RTE_MEMPOOL_MAX_OPS_IDX][RTE_MEMPOOL_OPS_NAMESIZE] = {};
	unsigned total = 0;
	for (unsigned from = 0;;) {
		struct rte_mp_msg msg {
		};
		snprintf(msg.name, sizeof(msg.name), "%s", mp_name);
		mp_param p{};
		p.op = MP_OPS_NAMES;
		p.qid = static_cast<uint16_t>(from);
		memcpy(msg.param, &p, sizeof(p));
		msg.len_param = sizeof(p);
		struct rte_mp_reply rep {
		};
		struct timespec ts = {mp_timeout_s, 0};
		if (rte_mp_request_sync(&msg, &rep, &ts) != 0 || rep.nb_received != 1 ||
		    rep.msgs[0].len_param != sizeof(mp_ops_names)) {
			free(rep.msgs);
			BSDTAP_LOG(WARNING, "cannot read the primary's mempool ops order");
			return;
		}
		mp_ops_names r;
		memcpy(&r, rep.msgs[0].param, sizeof(r));
		free(rep.msgs);
		total = std::min<unsigned>(r.total, RTE_MEMPOOL_MAX_OPS_IDX);
		for (unsigned i = 0; i < r.count && from + i < total; i++)
			memcpy(want[from + i], r.names[i], RTE_MEMPOOL_OPS_NAMESIZE);
		from += r.count;
		if (r.count == 0 || from >= total)
			break;
	}
	auto &t = rte_mempool_ops_table;
	rte_spinlock_lock(&t.sl);
	bool same = t.num_ops >= total;
	for (unsigned i = 0; same && i < total; i++)
		same = strcmp(t.ops[i].name, want[i]) == 0;
	if (!same) {
		struct rte_mempool_ops old[RTE_MEMPOOL_MAX_OPS_IDX];
		bool used[RTE_MEMPOOL_MAX_OPS_IDX] = {};
		unsigned n_old = t.num_ops;
		memcpy(old, t.ops, sizeof(old));
		memset(t.ops, 0, sizeof(t.ops));
		unsigned missing = 0;
		for (unsigned i = 0; i < total; i++) {
			unsigned k = 0;
			while (k < n_old && (used[k] || strcmp(old[k].name, want[i]) != 0))
				k++;
			if (k < n_old) {
				t.ops[i] = old[k];
				used[k] = true;
			} else {
				missing++;
			}
		}
		unsigned n = total;
		for (unsigned k = 0; k < n_old && n < RTE_MEMPOOL_MAX_OPS_IDX; k++)
			if (!used[k])
				t.ops[n++] = old[k];
		t.num_ops = n;
		BSDTAP_LOG(NOTICE, "mempool ops put in the primary's order (%u of %u found here)",
			   total - missing, total);
	}
	rte_spinlock_unlock(&t.sl);
}

namespace
{

/* A request whose answer carries an fd: this process's copy, or -errno. */
int get_fd(const unit *u, uint16_t qid, mp_op op, int32_t pid = 0) noexcept
{
	mp_param p{};
	p.op = op;
	p.qid = qid;
	p.pid = pid;
	snprintf(p.name, sizeof(p.name), "%s", u->name);
	int fd = -1;
	int ret = request(&p, &fd);
	if (ret < 0)
		return ret;
	return fd >= 0 ? fd : -EIO;
}

} // namespace

int mp_get_efd(const unit *u, uint16_t qid) noexcept
{
	return get_fd(u, qid, MP_GET_EFD);
}

int mp_get_intr_efd(const unit *u, uint16_t qid) noexcept
{
	return get_fd(u, qid, MP_GET_INTR_EFD);
}

int mp_open(const unit *u, uint16_t qid, int32_t pid) noexcept
{
	return get_fd(u, qid, MP_OPEN, pid);
}

int mp_close(const unit *u, uint16_t qid, int32_t pid) noexcept
{
	mp_param p{};
	p.op = MP_CLOSE;
	p.qid = qid;
	p.pid = pid;
	snprintf(p.name, sizeof(p.name), "%s", u->name);
	int ret = request(&p, nullptr);
	if (ret < 0 && ret != -ENXIO)
		BSDTAP_LOG(WARNING, "%s: queue %u: the primary did not release it: %s", u->iface,
			   qid, rte_strerror(-ret));
	return ret;
}

void mp_reap(const unit *u, uint16_t qid, int32_t pid) noexcept
{
	mp_param p{};
	p.op = MP_REAP;
	p.qid = qid;
	p.pid = pid;
	snprintf(p.name, sizeof(p.name), "%s", u->name);
	request(&p, nullptr);
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
		BSDTAP_LOG(WARNING, "%s: primary did not act on a release (op %u): %s", u->iface,
			   static_cast<unsigned>(op), rte_strerror(-ret));
}

} // namespace bsdtap

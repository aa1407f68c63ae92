/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Built-in readers (reader=echo|sink|socket): a control thread of the
 * primary that holds every queue of the unit open through the reader API, so
 * that `dpdk-testpmd --vdev=net_bsdtap0,reader=echo` works with nothing else
 * running. echo is a loopback cable (devq -> inq, zero copy); sink frees.
 * Under load it polls; after a short idle spin it sleeps on the queues'
 * wakeup fds (TAP_RWAIT), so an idle port burns no core. reader=socket is
 * the socket endpoint (bsdtap_socket_reader.cpp), which opens the queues
 * only while a client is connected.
 */

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>

#include <numa.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_cycles.h>

#include "bsdtap_internal.h"
#include "bsdtap_log.h"
#include "bsdtap_reader_internal.h"
#include "bsdtap_socket_reader.h"
#include "bsdtap_unit.h"

namespace bsdtap
{

/* Frames moved per queue per round: eight of testpmd's default bursts (32). */
static constexpr uint16_t builtin_burst = 256;
/* The idle spin (reader_spin_us, default BSDTAP_READER_SPIN_US_DEFAULT) has
 * no rte_pause(): in a virtual machine PAUSE can cost microseconds
 * (pause-loop exiting), and a reader that falls that far behind lets the
 * devq fill. On a core shared with a busy thread (a traffic generator's
 * timer loop) the spin is what hurts: the scheduler takes the core away
 * mid-spin for the other thread's whole slice (ms), while a reader that
 * sleeps at once (reader_spin_us=0) is woken straight onto it. Yielding in
 * the spin (sched_yield) was measured worse still: doc/performance.md. */
/* Sleep bound: the stop request also wakes the thread; this is a backstop. */
static constexpr int sleep_ms = 200;

struct builtin {
	unit *u = nullptr;
	reader_kind kind = reader_kind::none;
	int numa_node = -1;
	int stop_fd = -1;
	std::atomic<bool> stop{false};
	ctrl_thread thread{};
	uint16_t nb = 0;
	rte_pmd_bsdtap_reader *r[BSDTAP_MAX_QUEUES] = {};
	sock_pump *sock = nullptr; /* reader=socket: the endpoint, in place of the thread */
};

namespace
{

unsigned move_once(builtin *b) noexcept
{
	struct rte_mbuf *pkts[builtin_burst];
	unsigned moved = 0;
	for (uint16_t i = 0; i < b->nb; i++) {
		if (b->kind == reader_kind::sink) {
			/* Consumed unseen: they go back where they lie. */
			moved +=
			    rte_pmd_bsdtap_visit_burst(b->r[i], builtin_burst, nullptr, nullptr);
			continue;
		}
		uint16_t n = rte_pmd_bsdtap_recv_burst(b->r[i], pkts, builtin_burst);
		if (n == 0)
			continue;
		moved += n;
		if (b->kind == reader_kind::echo) {
			uint16_t sent = rte_pmd_bsdtap_send_burst(b->r[i], pkts, n);
			if (sent < n) {
				/* The application is not draining its rx: the cable drops. */
				rte_pktmbuf_free_bulk(pkts + sent, n - sent);
				b->u->q[i].imissed.add(n - sent);
			}
		}
	}
	return moved;
}

void sleep_until_work(builtin *b) noexcept
{
	struct pollfd pfd[BSDTAP_MAX_QUEUES + 1];
	for (uint16_t i = 0; i < b->nb; i++) {
		unit_purge_retq(&b->u->q[i]); /* the tx may be idle too */
		if (reader_arm(b->r[i]))
			return; /* a frame came in while arming */
		pfd[i] = {reader_efd(b->r[i]), POLLIN, 0};
	}
	pfd[b->nb] = {b->stop_fd, POLLIN, 0};
	poll(pfd, b->nb + 1u, sleep_ms);
}

void builtin_main(void *arg) noexcept
{
	auto *b = static_cast<builtin *>(arg);
	/* Keep this thread's memory near the unit's rings. */
	if (b->numa_node >= 0 && numa_available() >= 0)
		numa_set_preferred(b->numa_node);
	/* reader_nice: on a core shared with a busy thread, a reader that
	 * outranks it is run as soon as it wakes (doc/performance.md). A
	 * refusal (no CAP_SYS_NICE for a negative value) leaves the thread as
	 * it was: the port works, the warning says why it is not favoured. */
	if (b->u->args.has_reader_nice &&
	    setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), b->u->args.reader_nice) != 0)
		BSDTAP_LOG(WARNING, "%s: reader_nice=%d not applied: %s", b->u->iface,
			   b->u->args.reader_nice, strerror(errno));
	const uint64_t spin_cycles = rte_get_tsc_hz() / 1000000 * b->u->args.reader_spin_us;
	uint64_t idle_since = 0;
	while (!b->stop.load(std::memory_order_relaxed)) {
		if (move_once(b) > 0) {
			idle_since = 0;
			continue;
		}
		uint64_t now = rte_get_tsc_cycles();
		if (idle_since == 0)
			idle_since = now;
		if (now - idle_since < spin_cycles)
			continue;
		idle_since = 0;
		sleep_until_work(b);
	}
}

void close_all(builtin *b) noexcept
{
	for (uint16_t i = 0; i < b->nb; i++)
		if (b->r[i] != nullptr)
			reader_close(&b->r[i]);
	if (b->stop_fd >= 0)
		close(b->stop_fd);
	delete b;
}

} // namespace

builtin *builtin_start(unit *u, reader_kind kind) noexcept
{
	auto *b = new (std::nothrow) builtin();
	if (b == nullptr) {
		rte_errno = ENOMEM;
		return nullptr;
	}
	b->u = u;
	b->kind = kind;
	if (kind == reader_kind::socket) {
		b->sock = socket_start(u);
		if (b->sock == nullptr) {
			delete b; /* rte_errno: socket_start's */
			return nullptr;
		}
		return b;
	}
	b->numa_node = u->q[0].devq != nullptr ? u->q[0].devq->memzone->socket_id : -1;
	b->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (b->stop_fd < 0) {
		int err = errno;
		close_all(b);
		rte_errno = err;
		return nullptr;
	}
	for (uint16_t i = 0; i < u->nb_queues; i++) {
		b->r[i] = reader_open(u->name, i, RTE_PMD_BSDTAP_O_NONBLOCK, true);
		if (b->r[i] == nullptr) {
			int err = rte_errno;
			BSDTAP_LOG(ERR, "%s: built-in reader cannot open queue %u: %s", u->iface, i,
				   rte_strerror(err));
			close_all(b);
			rte_errno = err;
			return nullptr;
		}
		b->nb = static_cast<uint16_t>(i + 1);
	}
	char name[RTE_MAX_THREAD_NAME_LEN];
	/* Thread names hold 15 characters: "btap-" and the interface name cut to fit. */
	snprintf(name, sizeof(name), "btap-%.10s", u->iface);
	int ret = ctrl_thread_create<builtin_main>(&b->thread, name, b);
	if (ret != 0) {
		int err = ret < 0 ? -ret : ret;
		BSDTAP_LOG(ERR, "%s: cannot create reader thread: %s", u->iface, rte_strerror(err));
		close_all(b);
		rte_errno = err;
		return nullptr;
	}
	return b;
}

void builtin_stop(builtin *b) noexcept
{
	if (b->sock != nullptr) {
		socket_stop(b->sock);
		delete b;
		return;
	}
	b->stop.store(true);
	efd_post(b->stop_fd);
	ctrl_thread_join(b->thread);
	close_all(b);
}

} // namespace bsdtap

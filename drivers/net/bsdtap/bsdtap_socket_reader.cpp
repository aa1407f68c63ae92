/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The socket endpoint (reader=socket): the unit's "/dev/tapN" for programs
 * that are not DPDK processes. A Unix socket per unit, one client at a time
 * (the original allows one open, C07), and a pump thread that is a built-in
 * reader like echo and sink: it opens the unit's queues through the reader
 * API when a client comes (link up, LSC) and closes them when it goes (link
 * down, devq purged).
 *
 *   devq[0..n-1] --recv_burst--> pump --sendmmsg / sendmsg--> client
 *   inq[0]       <---write()---- pump <--recvmmsg / recv----- client
 *
 * Framing, by the socket_type devarg:
 *   seqpacket  one message is one frame (the default);
 *   dgram      one datagram is one frame, QEMU's -netdev dgram; the client
 *              is the bound address that sent first (an empty datagram
 *              only says hello), until it sends an empty datagram (hang-up)
 *              or its socket is closed. The endpoint's socket is connected
 *              to the client's socket once, when it is taken: every send
 *              goes to that socket, never to a path looked up again (the
 *              client cannot redirect the pump's sends, made with the
 *              primary's rights, by swapping its path for a symlink), and
 *              other senders' datagrams are refused by the kernel (EPERM);
 *   stream     each frame is preceded by its length, 4 bytes big-endian,
 *              QEMU's -netdev stream.
 * Frames from the client are written with rte_pmd_bsdtap_write(), so they
 * count as a reader's writes do (C20-C25). A message longer than the MRU
 * (16384) is dropped and counted (C22); a stream length prefix above the
 * MRU or below an Ethernet header cannot be resynchronised: the client is
 * dropped. The pump never blocks: every socket call is non-blocking, and it
 * sleeps in poll() on the queues' wakeup eventfds (TAP_RWAIT), the socket
 * and its stop eventfd. What a full socket refuses of a batch is dropped
 * and counted (txfull=drop) or kept (backpressure); then the pump takes
 * nothing more off the devqs until the socket can take more, so that a slow
 * client fills the devq as any slow reader does (C12).
 *
 * Every counter it writes (socket_* xstats) has the pump as its one writer.
 */

#include "bsdtap_socket_reader.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <new>

#include <arpa/inet.h>
#include <numa.h>
#include <poll.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <linux/unix_diag.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "bsdtap_framing.h"
#include "bsdtap_offload.h"
#include "bsdtap_internal.h"
#include "bsdtap_log.h"
#include "bsdtap_reader_internal.h"
#include "bsdtap_unit.h"

namespace bsdtap
{

namespace
{

/* Frames per batch in each direction. The pump and its client often share
 * a core: every batch costs the client a wakeup and both a context switch,
 * so batches are four of testpmd's bursts. */
constexpr uint16_t burst = 128;
/* A frame of more segments than this is copied into one buffer first. */
constexpr unsigned max_seg_iov = 16;
/* iovecs one sendmsg() takes (the kernel's UIO_MAXIOV). */
constexpr unsigned max_iov = 1024;
constexpr size_t mru = RTE_PMD_BSDTAP_MRU;
/* Empty rounds (each a non-blocking receive) before sleeping in poll(). */
constexpr unsigned idle_rounds = 32;
/* poll() bound: the stop eventfd wakes the pump; this is a backstop. */
constexpr int sleep_ms = 200;
/* How often a dgram client is checked for life: while the endpoint is
 * connected to it, a newcomer's datagrams are refused until then. */
constexpr int64_t dgram_check_ms = 50;
/* Busy rounds between two looks for clients waiting to be refused, and
 * between two tries of a full socket. */
constexpr unsigned refuse_every = 256;
constexpr unsigned full_retry_every = 16;
/* Client sockets' send buffer: the frames in flight to a slow client. */
constexpr int client_sndbuf = 1 << 20;

int64_t now_ms() noexcept
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

int sock_type_of(socket_kind k) noexcept
{
	switch (k) {
	case socket_kind::dgram:
		return SOCK_DGRAM;
	case socket_kind::stream:
		return SOCK_STREAM;
	default:
		return SOCK_SEQPACKET;
	}
}

bool is_would_block(int err) noexcept
{
	return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS || err == ENOMEM;
}

} // namespace

struct sock_pump {
	unit *u = nullptr;
	socket_kind type = socket_kind::seqpacket;
	bool drop_when_full = true; /* txfull=drop; backpressure keeps frames in the devq */
	int numa_node = -1;
	char path[BSDTAP_SOCKET_PATH_SIZE] = {};
	dev_t path_dev = 0; /* the socket file this pump made: removed only if still it */
	ino_t path_ino = 0;

	int lfd = -1;	   /* listening socket (seqpacket, stream); the bound socket (dgram) */
	int cfd = -1;	   /* the client's connection; dgram: lfd while a client is held */
	bool lost = false; /* a send found the client gone */
	bool full = false; /* the socket took no more: wait until it can (POLLOUT) */
	struct sockaddr_un peer {
	}; /* dgram: the client's address */
	socklen_t peer_len = 0;
	uint32_t peer_ino = 0;	  /* dgram: the client's socket (inode), 0 if unknown */
	int64_t peer_checked = 0; /* dgram: last liveness check */
	int sndbuf = 0;		  /* dgram: the socket's send buffer, bytes */

	int stop_fd = -1;
	std::atomic<bool> stop{false};
	ctrl_thread thread{};

	uint16_t nb = 0; /* queues held while a client is connected */
	rte_pmd_bsdtap_reader *r[BSDTAP_MAX_QUEUES] = {};
	uint16_t rr = 0; /* first queue of the next devq round */

	/* devq -> client: one batch in flight, out[head..n). */
	struct rte_mbuf *out[burst] = {};
	uint16_t out_q[burst] = {};   /* queue each frame came from, for its counters */
	uint32_t out_len[burst] = {}; /* bytes of each frame (sum of its segments) */
	uint32_t out_be[burst] = {};  /* stream: the length prefixes, big-endian */
	/* socket_vnet_hdr: each frame's virtio-net header, sent before it. */
	uint8_t out_vh[burst][sizeof(rte_pmd_bsdtap_vnet_hdr_mrg)] = {};
	bool out_lin[burst] = {}; /* the frame was copied into lin */
	uint16_t out_n = 0, out_head = 0;
	struct rte_mbuf *done[burst] = {}; /* sent or dropped, to hand back in bulk */
	uint16_t done_q[burst] = {};	   /* the queue each came from */
	uint16_t ndone = 0;
	size_t out_done = 0; /* stream: bytes of out[head] (prefix included) already sent */
	struct iovec out_iov[burst * (max_seg_iov + 2)] = {};
	struct mmsghdr out_msg[burst] = {};
	uint8_t *lin = nullptr; /* burst * fmax */

	/* socket_vnet_hdr: the header's length (0: none); the longest frame
	 * (64 KiB with the header, for GSO frames); a message's room. */
	uint32_t vh = 0;
	size_t fmax = mru;
	size_t slot = mru;

	/* client -> inq */
	uint8_t *in = nullptr; /* burst * slot (messages) or stream_rx_size (stream) */
	size_t in_len = 0;     /* stream: bytes held */
	struct mmsghdr in_msg[burst] = {};
	struct iovec in_iov[burst] = {};
	struct sockaddr_un in_addr[burst] = {};
};

namespace
{

bool have_client(const sock_pump *p) noexcept
{
	return p->cfd >= 0;
}

/* Client events count on queue 0's socket counters. */
sock_stats &sq0(sock_pump *p) noexcept
{
	return p->u->sock[0];
}

/* ------------------------------------------------------------ queues */

void close_queues(sock_pump *p) noexcept
{
	for (uint16_t i = p->out_head; i < p->out_n; i++) {
		p->u->sock[p->out_q[i]].tx_dropped.add(1);
		rte_pktmbuf_free(p->out[i]);
	}
	if (p->ndone > 0)
		rte_pktmbuf_free_bulk(p->done, p->ndone);
	p->ndone = 0;
	p->out_n = p->out_head = 0;
	p->out_done = 0;
	for (uint16_t i = 0; i < p->nb; i++)
		if (p->r[i] != nullptr)
			reader_close(&p->r[i]);
	p->nb = 0;
	p->rr = 0;
}

/* A client came: hold every queue of the unit, as the other built-in
 * readers do. Fails (rte_errno EBUSY) when a reader holds one already. */
bool open_queues(sock_pump *p) noexcept
{
	for (uint16_t i = 0; i < p->u->nb_queues; i++) {
		p->r[i] = reader_open(p->u->name, i, RTE_PMD_BSDTAP_O_NONBLOCK, true);
		if (p->r[i] == nullptr) {
			int err = rte_errno;
			BSDTAP_LOG(WARNING, "%s: socket client refused: queue %u: %s", p->u->iface,
				   i, rte_strerror(err));
			close_queues(p);
			rte_errno = err;
			return false;
		}
		p->nb = static_cast<uint16_t>(i + 1);
	}
	/* The unit's vnet-header mode, for the pump's reads and writes; its
	 * last close ends it. */
	int vh = static_cast<int>(p->vh);
	if (vh != 0 && rte_pmd_bsdtap_ioctl(p->r[0], RTE_PMD_BSDTAP_TAPSVNETHDR, &vh) != 0) {
		close_queues(p);
		rte_errno = EINVAL;
		return false;
	}
	return true;
}

/* ----------------------------------------------------------- clients */

/* A zero-length datagram is a hang-up (QEMU's dgram backend reads it as the
 * end of the connection). Sent only on the endpoint's socket while it is
 * connected to the client: never to a path. */
void dgram_hangup(int fd) noexcept
{
	struct msghdr mh = {};
	ssize_t n = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	RTE_SET_USED(n);
}

/* dgram: the endpoint's socket takes datagrams from anyone again. */
void dgram_unconnect(int fd) noexcept
{
	struct sockaddr sa = {};
	sa.sa_family = AF_UNSPEC;
	int ret = connect(fd, &sa, sizeof(sa));
	RTE_SET_USED(ret);
}

void disconnect(sock_pump *p, const char *why) noexcept
{
	if (!have_client(p))
		return;
	BSDTAP_LOG(INFO, "%s: socket client %s", p->u->iface, why);
	if (p->type == socket_kind::dgram) {
		dgram_unconnect(p->lfd);
		p->peer_len = 0;
		p->peer_ino = 0;
	} else {
		close(p->cfd);
	}
	p->cfd = -1;
	p->lost = false;
	p->full = false;
	p->in_len = 0;
	close_queues(p);
}

void set_sndbuf(int fd) noexcept
{
	int v = client_sndbuf;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
}

bool peer_hung_up(int fd) noexcept;
unsigned pump_in(sock_pump *p) noexcept;

/* The client hung up: deliver what it sent before it went, then let it go
 * (its end of file disconnects it). */
void drain_departed(sock_pump *p) noexcept
{
	for (unsigned i = 0; have_client(p) && i < 100000; i++)
		pump_in(p);
	disconnect(p, "disconnected");
}

/* seqpacket, stream: take every waiting connection; the first becomes the
 * client if there is none, the others are closed at once, unread. */
void accept_clients(sock_pump *p) noexcept
{
	for (;;) {
		int fd = accept4(p->lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		/* A client that closed just before this one connected (a program
		 * run again at once) has not been seen to go yet: finish it first. */
		if (have_client(p) && peer_hung_up(p->cfd))
			drain_departed(p);
		if (have_client(p) || !open_queues(p)) {
			close(fd); /* busy: the client reads end-of-file */
			sq0(p).refused.add(1);
			BSDTAP_LOG(DEBUG, "%s: socket client refused", p->u->iface);
			continue;
		}
		set_sndbuf(fd);
		p->cfd = fd;
		sq0(p).accepted.add(1);
		BSDTAP_LOG(INFO, "%s: socket client connected", p->u->iface);
	}
}

bool same_addr(const struct sockaddr_un *a, socklen_t alen, const struct sockaddr_un *b,
	       socklen_t blen) noexcept;

/* dgram: does a socket still answer at this address? A probe connect()
 * fails with ECONNREFUSED (or ENOENT) once the socket there is closed; a
 * live client that connected its socket to the endpoint answers EPERM.
 * Only a fallback (see dgram_peer_alive): the path may lead elsewhere now. */
bool dgram_alive(const struct sockaddr_un *addr, socklen_t len) noexcept
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true; /* cannot tell: keep the client */
	int ret = connect(fd, reinterpret_cast<const struct sockaddr *>(addr), len);
	int err = errno;
	close(fd);
	return ret == 0 || (err != ECONNREFUSED && err != ENOENT && err != ENOTDIR);
}

/*
 * One sock_diag query for the Unix socket of inode ino: 1 it exists (a
 * closed socket leaves the table at once, even while the endpoint's
 * connection still refers to it), 0 it does not, -1 cannot tell (no
 * sock_diag here). With peer, also the inode of its peer; with vfs, the
 * inode and device of the file it is bound to (zero when it has none).
 */
int unix_diag_query(uint32_t ino, uint32_t *peer, struct unix_diag_vfs *vfs = nullptr) noexcept
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -1;
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req r;
	} req = {};
	req.nlh.nlmsg_len = sizeof(req);
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST;
	req.r.sdiag_family = AF_UNIX;
	req.r.udiag_states = ~0u;
	req.r.udiag_ino = ino;
	req.r.udiag_show =
	    (peer != nullptr ? UDIAG_SHOW_PEER : 0) | (vfs != nullptr ? UDIAG_SHOW_VFS : 0);
	req.r.udiag_cookie[0] = req.r.udiag_cookie[1] = ~0u; /* no cookie */
	struct timeval tv = {0, 100 * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	alignas(struct nlmsghdr) char buf[512];
	ssize_t n = -1;
	if (send(fd, &req, sizeof(req), 0) == static_cast<ssize_t>(sizeof(req)))
		n = recv(fd, buf, sizeof(buf), 0);
	close(fd);
	auto *h = reinterpret_cast<struct nlmsghdr *>(buf);
	if (n < 0 || !NLMSG_OK(h, static_cast<uint32_t>(n)))
		return -1;
	if (h->nlmsg_type == NLMSG_ERROR) {
		const auto *e = static_cast<const struct nlmsgerr *>(NLMSG_DATA(h));
		return e->error == -ENOENT ? 0 : -1;
	}
	if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(struct unix_diag_msg)))
		return -1;
	const auto *m = static_cast<const struct unix_diag_msg *>(NLMSG_DATA(h));
	if (m->udiag_ino != ino)
		return -1;
	if (peer != nullptr)
		*peer = 0;
	if (vfs != nullptr)
		*vfs = {};
	int len = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
	for (auto *a = reinterpret_cast<const struct rtattr *>(m + 1); RTA_OK(a, len);
	     a = RTA_NEXT(a, len)) {
		if (peer != nullptr && a->rta_type == UNIX_DIAG_PEER &&
		    RTA_PAYLOAD(a) >= static_cast<int>(sizeof(uint32_t)))
			memcpy(peer, RTA_DATA(a), sizeof(uint32_t));
		if (vfs != nullptr && a->rta_type == UNIX_DIAG_VFS &&
		    RTA_PAYLOAD(a) >= static_cast<int>(sizeof(*vfs)))
			memcpy(vfs, RTA_DATA(a), sizeof(*vfs));
	}
	return 1;
}

/* dgram: is the client's socket still open? Asked of the socket itself (by
 * inode) where sock_diag answers, else of its address. */
bool dgram_peer_alive(sock_pump *p) noexcept
{
	p->peer_checked = now_ms();
	if (p->peer_ino != 0) {
		int r = unix_diag_query(p->peer_ino, nullptr);
		if (r >= 0)
			return r == 1;
	}
	return dgram_alive(&p->peer, p->peer_len);
}

/*
 * dgram: a bound, live sender becomes the client. The endpoint's socket is
 * connected to it here, once: the kernel then holds that socket, and every
 * later send goes there whatever its path becomes. The connection is
 * checked to lead where the datagram came from (getpeername: the bound
 * name of the socket connected to), so a path swapped between the hello
 * and the connect is refused too. Datagrams that a dead client left
 * queued are dropped here without a word.
 */
bool dgram_adopt(sock_pump *p, const struct sockaddr_un *from, socklen_t len) noexcept
{
	if (len <= offsetof(struct sockaddr_un, sun_path)) {
		/* An unbound sender cannot be answered. */
		sq0(p).refused.add(1);
		return false;
	}
	if (from->sun_path[0] != '\0' && from->sun_path[0] != '/') {
		/* A relative name means the client's directory, not ours. */
		BSDTAP_LOG(WARNING, "%s: dgram client refused: relative address %.*s", p->u->iface,
			   static_cast<int>(len - offsetof(struct sockaddr_un, sun_path)),
			   from->sun_path);
		sq0(p).refused.add(1);
		return false;
	}
	if (connect(p->lfd, reinterpret_cast<const struct sockaddr *>(from), len) != 0)
		return false; /* its socket is closed: a dead client's datagram */
	struct sockaddr_un got {
	};
	socklen_t got_len = sizeof(got);
	if (getpeername(p->lfd, reinterpret_cast<struct sockaddr *>(&got), &got_len) != 0 ||
	    !same_addr(&got, got_len, from, len)) {
		BSDTAP_LOG(WARNING,
			   "%s: dgram client refused: its address no longer leads to the socket "
			   "that sent from it",
			   p->u->iface);
		dgram_unconnect(p->lfd);
		sq0(p).refused.add(1);
		return false;
	}
	if (!open_queues(p)) {
		dgram_hangup(p->lfd);
		dgram_unconnect(p->lfd);
		sq0(p).refused.add(1);
		return false;
	}
	struct stat st;
	uint32_t peer = 0;
	if (fstat(p->lfd, &st) == 0 &&
	    unix_diag_query(static_cast<uint32_t>(st.st_ino), &peer) == 1)
		p->peer_ino = peer;
	memcpy(&p->peer, from, len);
	p->peer_len = len;
	p->peer_checked = now_ms();
	p->cfd = p->lfd;
	sq0(p).accepted.add(1);
	BSDTAP_LOG(INFO, "%s: dgram client connected", p->u->iface);
	return true;
}

bool same_addr(const struct sockaddr_un *a, socklen_t alen, const struct sockaddr_un *b,
	       socklen_t blen) noexcept
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

/* ---------------------------------------------------- devq -> client */

/* Frame i is done with: counted, and its mbufs freed with the batch's. */
void out_free(sock_pump *p, uint16_t i, bool sent) noexcept
{
	sock_stats &q = p->u->sock[p->out_q[i]];
	if (sent)
		q.tx_frames.add(1);
	else
		q.tx_dropped.add(1);
	p->done_q[p->ndone] = p->out_q[i];
	p->done[p->ndone++] = p->out[i];
	p->out[i] = nullptr;
}

/* Hand the batch's mbufs back to the tx lcores that sent them, one burst per
 * queue (rte_pmd_bsdtap_free_burst): they free them into their own mempool
 * caches. The pump is not an lcore and has no cache: each of its frees
 * would be a trip to the pool's ring. */
void free_done(sock_pump *p) noexcept
{
	uint16_t i = 0;
	while (i < p->ndone) {
		uint16_t q = p->done_q[i], j = i + 1;
		while (j < p->ndone && p->done_q[j] == q)
			j++;
		rte_pmd_bsdtap_free_burst(p->r[q], p->done + i, static_cast<uint16_t>(j - i));
		i = j;
	}
	p->ndone = 0;
}

/* The iovecs of frame i from byte skip on (the stream prefix counted). */
unsigned frame_iov(sock_pump *p, uint16_t i, size_t skip, struct iovec *iov) noexcept
{
	unsigned k = 0;
	if (p->type == socket_kind::stream) {
		if (skip < 4) {
			iov[k++] = {reinterpret_cast<char *>(&p->out_be[i]) + skip, 4 - skip};
			skip = 0;
		} else {
			skip -= 4;
		}
	}
	if (p->vh != 0) {
		if (skip < p->vh) {
			iov[k++] = {p->out_vh[i] + skip, p->vh - skip};
			skip = 0;
		} else {
			skip -= p->vh;
		}
	}
	if (p->out_lin[i]) {
		iov[k++] = {p->lin + i * p->fmax + skip, p->out_len[i] - skip};
		return k;
	}
	for (struct rte_mbuf *s = p->out[i]; s != nullptr; s = s->next) {
		size_t len = s->data_len;
		if (len == 0)
			continue; /* C19: an empty segment is not the end */
		if (skip >= len) {
			skip -= len;
			continue;
		}
		iov[k++] = {rte_pktmbuf_mtod_offset(s, char *, skip), len - skip};
		skip = 0;
	}
	return k;
}

/* dgram: every datagram the socket sent and the client has not read yet
 * counts against its one send buffer, whoever it went to. Frames stop at
 * half of it, so that a client that does not read leaves room for the
 * empty datagrams that refuse other senders (a batch is well under half). */
bool dgram_send_queue_full(const sock_pump *p) noexcept
{
	int outq = 0;
	return ioctl(p->lfd, SIOCOUTQ, &outq) == 0 && outq > p->sndbuf / 2;
}

/* After a failed send: true to retry (EINTR); else the socket is full, or
 * the client is gone (p->lost), and the pump waits for it to drain. */
bool send_failed(sock_pump *p) noexcept
{
	if (errno == EINTR)
		return true;
	if (!is_would_block(errno))
		p->lost = true;
	p->full = true;
	return false;
}

/* Sends what is pending. Returns the frames completed; sets p->lost when
 * the client is gone. Frames the socket cannot take stay pending. */
unsigned send_pending(sock_pump *p) noexcept
{
	unsigned done = 0;
	while (p->out_head < p->out_n && !p->lost) {
		if (p->type == socket_kind::stream) {
			unsigned k = 0;
			size_t offered = 0;
			/* A prefix and at most max_seg_iov segments per frame. */
			for (uint16_t i = p->out_head;
			     i < p->out_n && k + 2 + max_seg_iov <= max_iov; i++) {
				size_t skip = i == p->out_head ? p->out_done : 0;
				k += frame_iov(p, i, skip, p->out_iov + k);
				offered += 4 + p->vh + p->out_len[i] - skip;
			}
			struct msghdr mh = {};
			mh.msg_iov = p->out_iov;
			mh.msg_iovlen = k;
			ssize_t w = sendmsg(p->cfd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (w < 0) {
				if (send_failed(p))
					continue;
				break;
			}
			size_t left = static_cast<size_t>(w);
			while (left > 0 && p->out_head < p->out_n) {
				size_t total = 4 + p->vh + p->out_len[p->out_head] - p->out_done;
				if (left < total) {
					p->out_done += left;
					break;
				}
				left -= total;
				p->out_done = 0;
				out_free(p, p->out_head++, true);
				done++;
			}
			if (static_cast<size_t>(w) < offered) {
				p->full = true; /* a short write */
				break;
			}
		} else {
			unsigned k = 0, nmsg = 0;
			for (uint16_t i = p->out_head; i < p->out_n; i++, nmsg++) {
				unsigned c = frame_iov(p, i, 0, p->out_iov + k);
				struct msghdr &mh = p->out_msg[nmsg].msg_hdr;
				mh = {};
				mh.msg_iov = p->out_iov + k;
				mh.msg_iovlen = c;
				/* dgram: no address, the endpoint is connected to
				 * the client's socket (dgram_adopt). */
				k += c;
			}
			if (p->type == socket_kind::dgram && dgram_send_queue_full(p)) {
				p->full = true;
				break;
			}
			int n = sendmmsg(p->cfd, p->out_msg, nmsg, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0) {
				if (send_failed(p))
					continue;
				break;
			}
			for (int i = 0; i < n; i++)
				out_free(p, p->out_head++, true);
			done += static_cast<unsigned>(n);
			/* sendmmsg stops at the first failure without saying which:
			 * the next call tells (EAGAIN, or the client's end). */
		}
	}
	if (p->out_head == p->out_n) {
		p->out_head = p->out_n = 0;
		p->out_done = 0;
	}
	return done;
}

/* txfull=drop: what the socket did not take is dropped, except the rest of
 * a stream frame already begun, which must follow its first bytes. */
void drop_unsent(sock_pump *p) noexcept
{
	uint16_t keep = p->out_head + (p->out_done > 0 ? 1 : 0);
	for (uint16_t i = keep; i < p->out_n; i++)
		out_free(p, i, false);
	p->out_n = keep;
	if (p->out_head == p->out_n)
		p->out_head = p->out_n = 0;
}

/* Take a batch off the devqs, round robin from p->rr; frames of no bytes or
 * over the MRU are dropped (no client could take them whole). */
unsigned take_batch(sock_pump *p) noexcept
{
	uint16_t n = 0;
	for (uint16_t k = 0; k < p->nb && n < burst; k++) {
		uint16_t qi = static_cast<uint16_t>((p->rr + k) % p->nb);
		uint16_t got = rte_pmd_bsdtap_recv_burst(p->r[qi], p->out + n, burst - n);
		for (uint16_t j = n; j < n + got; j++)
			p->out_q[j] = qi;
		n = static_cast<uint16_t>(n + got);
	}
	p->rr = static_cast<uint16_t>((p->rr + 1) % p->nb);
	/* The headers and the data were written on the tx core: ask for every
	 * header first, then for each frame's data as its header is read, so
	 * that the misses overlap here instead of queueing one by one in the
	 * kernel's copy of the batch. */
	for (uint16_t i = 0; i < n; i++)
		rte_prefetch0(p->out[i]);
	uint16_t kept = 0;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = p->out[i];
		size_t len = 0;
		unsigned segs = 0;
		if (likely(m->nb_segs == 1)) {
			/* No look at next: it is on the header's second line. */
			len = m->data_len;
			segs = len > 0;
			rte_prefetch0(rte_pktmbuf_mtod(m, void *));
		} else {
			for (const struct rte_mbuf *s = m; s != nullptr; s = s->next) {
				len += s->data_len;
				segs += s->data_len > 0;
			}
		}
		if (len == 0 || len > p->fmax) {
			p->u->sock[p->out_q[i]].tx_dropped.add(1);
			rte_pktmbuf_free(m);
			continue;
		}
		p->out[kept] = m;
		p->out_q[kept] = p->out_q[i];
		p->out_len[kept] = static_cast<uint32_t>(len);
		p->out_be[kept] = htonl(static_cast<uint32_t>(p->vh + len));
		if (p->vh != 0) {
			rte_pmd_bsdtap_vnet_hdr_mrg h;
			vnet_hdr_of(m, &h.hdr);
			h.num_buffers = 1;
			memcpy(p->out_vh[kept], &h, sizeof(h));
		}
		p->out_lin[kept] = segs > max_seg_iov;
		if (p->out_lin[kept]) {
			uint8_t *dst = p->lin + kept * p->fmax;
			for (const struct rte_mbuf *s = m; s != nullptr; s = s->next) {
				memcpy(dst, rte_pktmbuf_mtod(s, const void *), s->data_len);
				dst += s->data_len;
			}
		}
		kept++;
	}
	p->out_head = 0;
	p->out_n = kept;
	p->out_done = 0;
	return n;
}

/* One round of devq -> client. Returns the frames moved or dropped. Once
 * the socket is full the pump takes nothing more off the devqs until poll()
 * says it can write: a client too slow for the application then lets the
 * devq fill, and tx burst drops (oerrors) or pushes back (txfull), as with
 * any slow reader, instead of the pump spinning on a full socket. */
unsigned pump_out_batch(sock_pump *p) noexcept
{
	if (p->full)
		return 0;
	unsigned work = 0;
	if (p->out_head < p->out_n) {
		work += send_pending(p);
		if (p->out_head < p->out_n) {
			if (!p->drop_when_full || p->lost)
				return work; /* the frames wait for the socket */
			drop_unsent(p);
			if (p->out_head < p->out_n)
				return work; /* the rest of a stream frame waits */
		}
	}
	free_done(p); /* the last batch's, before the next one's */
	unsigned taken = take_batch(p);
	if (taken == 0)
		return work;
	work += taken;
	send_pending(p);
	/* txfull=drop: what the full socket refused of this batch is dropped
	 * and counted; backpressure: it waits. */
	if (p->out_head < p->out_n && p->drop_when_full && !p->lost)
		drop_unsent(p);
	return work;
}

unsigned pump_out(sock_pump *p) noexcept
{
	unsigned work = pump_out_batch(p);
	free_done(p);
	return work;
}

/* ---------------------------------------------------- client -> inq */

void deliver(sock_pump *p, const uint8_t *frame, size_t len) noexcept
{
	sq0(p).rx_frames.add(1);
	/* The reader's write: EIO, ENOBUFS, runts and a full inq are counted
	 * by it (C22-C25); nothing here waits. */
	ssize_t n = rte_pmd_bsdtap_write(p->r[0], frame, len);
	RTE_SET_USED(n);
}

bool peer_hung_up(int fd) noexcept
{
	struct pollfd pfd = {fd, POLLRDHUP, 0};
	return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

/* seqpacket and dgram: a batch of messages, one frame each. */
unsigned pump_in_msgs(sock_pump *p) noexcept
{
	const bool dgram = p->type == socket_kind::dgram;
	int fd = dgram ? p->lfd : p->cfd;
	for (uint16_t i = 0; i < burst; i++) {
		p->in_iov[i] = {p->in + i * p->slot, p->slot};
		struct msghdr &mh = p->in_msg[i].msg_hdr;
		mh = {};
		mh.msg_iov = &p->in_iov[i];
		mh.msg_iovlen = 1;
		if (dgram) {
			mh.msg_name = &p->in_addr[i];
			mh.msg_namelen = sizeof(p->in_addr[i]);
		}
	}
	int n = recvmmsg(fd, p->in_msg, burst, MSG_DONTWAIT, nullptr);
	if (n < 0) {
		if (!dgram && errno != EINTR && !is_would_block(errno))
			disconnect(p, "connection error");
		return 0;
	}
	for (int i = 0; i < n; i++) {
		const struct msghdr &mh = p->in_msg[i].msg_hdr;
		size_t len = p->in_msg[i].msg_len;
		const msg_verdict v = msg_classify(len, mh.msg_flags);
		if (dgram) {
			const auto *from = static_cast<const struct sockaddr_un *>(mh.msg_name);
			const bool from_client = have_client(p) && same_addr(from, mh.msg_namelen,
									     &p->peer, p->peer_len);
			if (have_client(p) && !from_client) {
				/* Queued before the endpoint was connected to the
				 * client: dropped (an answer would need its path). */
				if (dgram_peer_alive(p)) {
					sq0(p).refused.add(1);
					continue;
				}
				disconnect(p, "gone (its socket is closed)");
			}
			if (!have_client(p)) {
				/* Any datagram makes its sender the client; an empty one
				 * does only that (a client that only reads says hello). */
				if (!dgram_adopt(p, from, mh.msg_namelen) ||
				    v == msg_verdict::empty)
					continue;
			} else if (v == msg_verdict::empty) {
				disconnect(p, "hung up (empty datagram)");
				continue;
			}
		} else if (v == msg_verdict::empty) {
			/* End of file fills the rest of the batch with empty entries;
			 * an empty message is a write of 0 bytes (C21). */
			if (i == n - 1 && peer_hung_up(fd)) {
				disconnect(p, "disconnected");
				return static_cast<unsigned>(n);
			}
			continue;
		}
		if (v == msg_verdict::too_long) {
			sq0(p).rx_bad.add(1); /* C22: over the MRU, refused */
			continue;
		}
		if (have_client(p))
			deliver(p, p->in + static_cast<size_t>(i) * p->slot, len);
	}
	return static_cast<unsigned>(n);
}

/* stream: read what is there, cut frames at their length prefixes. */
unsigned pump_in_stream(sock_pump *p) noexcept
{
	ssize_t got = recv(p->cfd, p->in + p->in_len, stream_rx_size - p->in_len, MSG_DONTWAIT);
	if (got == 0) {
		disconnect(p, "disconnected");
		return 1;
	}
	if (got < 0) {
		if (errno != EINTR && !is_would_block(errno))
			disconnect(p, "connection error");
		return 0;
	}
	p->in_len += static_cast<size_t>(got);
	const stream_cut_result cut = stream_cut(
	    p->in, p->in_len, [p](const uint8_t *frame, size_t len) { deliver(p, frame, len); },
	    p->vh);
	const unsigned frames = cut.frames;
	if (cut.bad) {
		sq0(p).rx_bad.add(1);
		BSDTAP_LOG(WARNING, "%s: stream client sent a frame length of %u: dropped",
			   p->u->iface, cut.bad_len);
		disconnect(p, "dropped for a bad length prefix");
		return frames + 1;
	}
	const size_t off = cut.used;
	if (off > 0) {
		memmove(p->in, p->in + off, p->in_len - off);
		p->in_len -= off;
	}
	return frames + 1;
}

unsigned pump_in(sock_pump *p) noexcept
{
	return p->type == socket_kind::stream ? pump_in_stream(p) : pump_in_msgs(p);
}

/* -------------------------------------------------------------- loop */

/* Waiting connections while a client is served: refuse them. */
void refuse_waiting(sock_pump *p) noexcept
{
	if (p->type != socket_kind::dgram)
		accept_clients(p);
}

/* Sleep until a frame is queued, the client sends or leaves, a connection
 * waits, the socket can take the pending frames, or stop. */
void sleep_until_work(sock_pump *p) noexcept
{
	struct pollfd pfd[BSDTAP_MAX_QUEUES + 3];
	nfds_t n = 0;
	const bool pending = p->out_head < p->out_n || p->full;
	if (have_client(p) && !pending) {
		for (uint16_t i = 0; i < p->nb; i++) {
			unit_purge_retq(&p->u->q[i]); /* the tx may be idle too */
			if (reader_arm(p->r[i]))
				return; /* a frame came in while arming */
			pfd[n++] = {reader_efd(p->r[i]), POLLIN, 0};
		}
	}
	const nfds_t cidx = n;
	if (have_client(p) && p->type != socket_kind::dgram)
		pfd[n++] = {p->cfd,
			    static_cast<short>(POLLIN | POLLRDHUP | (pending ? POLLOUT : 0)), 0};
	/* dgram: one socket for the client and the strangers. Connected to
	 * the client, its POLLOUT covers the client's queue too (the kernel
	 * waits on the peer's queue for a connected datagram socket), so a
	 * full socket is waited for, not retried blind: a 1 ms retry left the
	 * core idle a quarter of the time under load. */
	const bool dgram_out = p->type == socket_kind::dgram && have_client(p) && pending;
	const nfds_t lidx = n;
	pfd[n++] = {p->lfd, static_cast<short>(POLLIN | (dgram_out ? POLLOUT : 0)), 0};
	pfd[n++] = {p->stop_fd, POLLIN, 0};
	int timeout = sleep_ms;
	if (p->type == socket_kind::dgram && have_client(p))
		/* Look at the client's life now and then (dgram_check_ms). */
		timeout = static_cast<int>(dgram_check_ms);
	int ready = poll(pfd, n, timeout);
	if (p->type == socket_kind::dgram) {
		if (ready == 0 || (ready > 0 && (pfd[lidx].revents & POLLOUT) != 0))
			p->full = false; /* room, or try again after the pause */
	} else if (ready > 0 && cidx < lidx && (pfd[cidx].revents & POLLOUT) != 0) {
		p->full = false;
	}
	if (ready > 0 && p->type != socket_kind::dgram && (pfd[lidx].revents & POLLIN) != 0)
		accept_clients(p);
}

uint32_t pump_main(sock_pump *p) noexcept
{
	if (p->numa_node >= 0 && numa_available() >= 0)
		numa_set_preferred(p->numa_node);
	unsigned idle = 0, busy = 0;
	while (!p->stop.load(std::memory_order_relaxed)) {
		if (!have_client(p)) {
			idle = 0;
			if (p->type == socket_kind::dgram)
				pump_in_msgs(p); /* the first sender becomes the client */
			if (!have_client(p))
				sleep_until_work(p);
			continue;
		}
		unsigned work = pump_out(p);
		if (p->lost) {
			disconnect(p, "gone (send failed)");
			continue;
		}
		work += pump_in(p);
		if (!have_client(p))
			continue;
		if (p->type == socket_kind::dgram && now_ms() - p->peer_checked >= dgram_check_ms &&
		    !dgram_peer_alive(p)) {
			disconnect(p, "gone (its socket is closed)");
			continue;
		}
		if (work > 0) {
			idle = 0;
			if (++busy % refuse_every == 0)
				refuse_waiting(p);
			/* Busy with the client's frames: look at the full socket again
			 * now and then rather than only when idle. */
			if (p->full && busy % full_retry_every == 0)
				p->full = false;
			continue;
		}
		/* A full socket: nothing to do until the client reads, and the
		 * client shares the core, so let it run now rather than after
		 * idle_rounds more receive calls. */
		if (!p->full && ++idle < idle_rounds)
			continue; /* each round already made a receive call */
		idle = 0;
		sleep_until_work(p);
	}
	if (have_client(p)) {
		if (p->type == socket_kind::dgram)
			dgram_hangup(p->lfd);
		disconnect(p, "hung up: the port is closing");
	}
	return 0;
}

void pump_thread(void *arg) noexcept
{
	pump_main(static_cast<sock_pump *>(arg));
}

/* ---------------------------------------------------------- endpoint */

/* Is a socket at this path served by someone? Tried with each type, since
 * a stale file may come from a run with another socket_type. */
bool path_in_use(const struct sockaddr_un *sa) noexcept
{
	for (int t : {SOCK_SEQPACKET, SOCK_STREAM, SOCK_DGRAM}) {
		int fd = socket(AF_UNIX, t | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return true;
		int ret = connect(fd, reinterpret_cast<const struct sockaddr *>(sa), sizeof(*sa));
		int err = errno;
		close(fd);
		if (ret == 0 || (err != ECONNREFUSED && err != EPROTOTYPE && err != ENOENT))
			return true; /* EAGAIN: a full backlog is someone's too */
	}
	return false;
}

bool make_dir(const char *dir) noexcept
{
	if (mkdir(dir, 0755) == 0 || errno == EEXIST) {
		struct stat st;
		if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
			return true;
		errno = ENOTDIR;
	}
	return false;
}

void remove_socket_file(sock_pump *p) noexcept
{
	struct stat st;
	if (p->path[0] != '\0' && lstat(p->path, &st) == 0 && st.st_dev == p->path_dev &&
	    st.st_ino == p->path_ino)
		unlink(p->path);
}

/*
 * Give the socket file just bound at path the devargs' mode and owner. The
 * endpoint may run as root in a directory that other users can write, and
 * they could swap the name for a link to another file between the bind and
 * here: so nothing is changed by name. The name is opened without following
 * a link (O_PATH), checked to be this socket's own file (its inode as
 * sock_diag reports the socket's binding; where sock_diag cannot tell, a
 * socket owned by this user), and changed through that descriptor only.
 * Returns 0 or an errno, with *what naming the step that failed; *st is
 * the file's status; *ours says whether the name leads to this socket (only
 * then may a failed endpoint remove it).
 */
int set_socket_file_perms(int fd, const char *path, const devargs &a, struct stat *st,
			  const char **what, bool *ours) noexcept
{
	*what = "open";
	*ours = false;
	int pfd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0)
		return errno;
	int err = 0;
	struct stat sock_st;
	struct unix_diag_vfs vfs = {};
	if (fstat(pfd, st) != 0 || fstat(fd, &sock_st) != 0) {
		err = errno;
		*what = "stat";
	} else if (!S_ISSOCK(st->st_mode) || st->st_uid != geteuid() ||
		   (unix_diag_query(static_cast<uint32_t>(sock_st.st_ino), nullptr, &vfs) == 1 &&
		    (vfs.udiag_vfs_ino != st->st_ino ||
		     vfs.udiag_vfs_dev != ((major(st->st_dev) << 20) | minor(st->st_dev))))) {
		err = EPERM;
		*what = "check (the name no longer leads to the socket bound there) of";
	} else {
		*ours = true;
		/* chmod through the descriptor's /proc link acts on its inode. */
		char self[48];
		snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
		if (chmod(self, a.sock_mode) != 0) {
			err = errno;
			*what = "chmod";
		} else if ((a.has_owner || a.has_group) &&
			   fchownat(pfd, "", a.has_owner ? a.owner : static_cast<uid_t>(-1),
				    a.has_group ? a.group : static_cast<gid_t>(-1),
				    AT_EMPTY_PATH) != 0) {
			err = errno;
			*what = "chown";
		} else if (fstat(pfd, st) != 0) {
			err = errno;
			*what = "stat";
		}
	}
	close(pfd);
	return err;
}

int make_endpoint(sock_pump *p) noexcept
{
	const devargs &a = p->u->args;
	const char *iface = p->u->iface;
	if (a.path[0] != '\0') {
		snprintf(p->path, sizeof(p->path), "%s", a.path);
	} else {
		if (!make_dir(BSDTAP_SOCKET_DIR)) {
			int err = errno;
			BSDTAP_LOG(ERR, "%s: cannot create %s: %s", iface, BSDTAP_SOCKET_DIR,
				   strerror(err));
			return -err;
		}
		snprintf(p->path, sizeof(p->path), "%s/%s", BSDTAP_SOCKET_DIR, iface);
	}
	struct sockaddr_un sa = {};
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, p->path, strlen(p->path));

	struct stat st;
	if (lstat(p->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			BSDTAP_LOG(ERR, "%s: %s exists and is not a socket", iface, p->path);
			return -EEXIST;
		}
		if (path_in_use(&sa)) {
			BSDTAP_LOG(ERR, "%s: %s is in use by another process", iface, p->path);
			return -EADDRINUSE;
		}
		unlink(p->path); /* left by a process that died */
	}

	int fd = socket(AF_UNIX, sock_type_of(p->type) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	int err = 0;
	const char *what = "bind";
	if (bind(fd, reinterpret_cast<struct sockaddr *>(&sa), sizeof(sa)) != 0) {
		err = errno;
		close(fd);
		BSDTAP_LOG(ERR, "%s: cannot bind %s: %s", iface, p->path, strerror(err));
		return -err;
	}
	/* Permissions before anyone can connect: listen() comes after them. */
	bool ours = false;
	err = set_socket_file_perms(fd, p->path, a, &st, &what, &ours);
	if (err == 0 && p->type != socket_kind::dgram && listen(fd, 16) != 0) {
		err = errno;
		what = "listen";
	}
	if (err != 0) {
		BSDTAP_LOG(ERR, "%s: %s %s: %s", iface, what, p->path, strerror(err));
		/* Only this socket's file is removed, never what a swap put there
		 * (unlink does not follow a link; a swap after the check costs
		 * the swapper only their own entry). */
		if (ours)
			unlink(p->path);
		close(fd);
		return -err;
	}
	p->path_dev = st.st_dev;
	p->path_ino = st.st_ino;
	if (p->type == socket_kind::dgram) {
		/* Whatever was sent before the permissions held is not a client's. */
		char c;
		while (recv(fd, &c, 1, MSG_DONTWAIT) >= 0) {
		}
		set_sndbuf(fd);
		socklen_t len = sizeof(p->sndbuf);
		if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &p->sndbuf, &len) != 0)
			p->sndbuf = INT_MAX;
	}
	p->lfd = fd;
	return 0;
}

void destroy(sock_pump *p) noexcept
{
	if (p->lfd >= 0) {
		remove_socket_file(p);
		close(p->lfd);
	}
	if (p->stop_fd >= 0)
		close(p->stop_fd);
	delete[] p->lin;
	delete[] p->in;
	delete p;
}

} // namespace

sock_pump *socket_start(unit *u) noexcept
{
	auto *p = new (std::nothrow) sock_pump();
	if (p == nullptr) {
		rte_errno = ENOMEM;
		return nullptr;
	}
	p->u = u;
	p->type = u->args.sock_type;
	p->drop_when_full = u->args.txfull == txfull_mode::drop;
	p->numa_node = u->q[0].devq != nullptr ? u->q[0].devq->memzone->socket_id : -1;
	p->vh = u->args.sock_vnet_hdr;
	p->fmax = p->vh != 0 ? RTE_PMD_BSDTAP_GSO_MAX : mru;
	p->slot = p->vh + p->fmax;
	p->lin = new (std::nothrow) uint8_t[burst * p->fmax];
	p->in = new (std::nothrow)
	    uint8_t[p->type == socket_kind::stream ? stream_rx_size : burst * p->slot];
	p->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->lin == nullptr || p->in == nullptr || p->stop_fd < 0) {
		int err = p->stop_fd < 0 ? errno : ENOMEM;
		BSDTAP_LOG(ERR, "%s: socket reader: %s", u->iface, strerror(err));
		destroy(p);
		rte_errno = err;
		return nullptr;
	}
	int err = make_endpoint(p);
	if (err != 0) {
		destroy(p);
		rte_errno = -err;
		return nullptr;
	}
	char name[RTE_MAX_THREAD_NAME_LEN];
	snprintf(name, sizeof(name), "btap-%.10s", u->iface);
	int ret = ctrl_thread_create<pump_thread>(&p->thread, name, p);
	if (ret != 0) {
		BSDTAP_LOG(ERR, "%s: cannot create socket reader thread: %s", u->iface,
			   rte_strerror(ret < 0 ? -ret : ret));
		destroy(p);
		rte_errno = ret < 0 ? -ret : ret;
		return nullptr;
	}
	BSDTAP_LOG(INFO, "%s: %s socket endpoint at %s, mode %04o, vnet header %u", u->iface,
		   socket_kind_name(p->type), p->path, u->args.sock_mode, p->vh);
	return p;
}

void socket_stop(sock_pump *p) noexcept
{
	p->stop.store(true);
	efd_post(p->stop_fd);
	ctrl_thread_join(p->thread);
	destroy(p);
}

} // namespace bsdtap

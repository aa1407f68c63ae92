/* SPDX-License-Identifier: BSD-3-Clause */
/* bridge: frames both ways between the unit and a Linux tap interface. */

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include <poll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_mbuf.h>

#include "common.h"
#include "linux_tap.h"

namespace bsdtap_app
{

namespace
{

/* The plain bridge's buffer: a frame of either side, up to 64 KiB. */
constexpr size_t frame_buf_len = 65536;

/* Waits up to 100 ms for the unit's fd or the tap's: 1 with p's revents
 * saying which, 0 for nothing (or a signal), -1 when poll failed (in
 * c.error). */
int wait_both(worker_ctx &c, int ufd, int tfd, pollfd p[2])
{
	p[0] = {ufd, POLLIN, 0};
	p[1] = {tfd, POLLIN, 0};
	int n = poll(p, 2, 100);
	if (n < 0 && errno != EINTR) {
		c.error = std::string("poll: ") + strerror(errno);
		return -1;
	}
	return n > 0 ? 1 : 0;
}

/* The plain bridge: one frame per read and write each way, no header. */
end_t bridge_plain(worker_ctx &c, linux_tap &tap)
{
	const options &o = c.o;
	rte::bsdtap::reader &r = c.r;
	int ufd = r.fd();
	std::vector<uint8_t> buf(frame_buf_len);
	rte_mbuf *pkts[max_burst];
	while (!c.stopping() && !c.count_reached()) {
		pollfd p[2];
		int n = wait_both(c, ufd, tap.fd(), p);
		if (n < 0)
			return end_t::failed;
		if (n == 0)
			continue;
		if ((p[0].revents & POLLIN) != 0) {
			/* The application to the kernel. */
			uint16_t k = r.recv_burst(pkts, static_cast<uint16_t>(o.burst));
			if (k == 0 && r.wait(0) == -EHOSTDOWN)
				return end_t::gone;
			uint64_t bytes = 0;
			for (uint16_t i = 0; i < k; i++) {
				const rte_mbuf *m = pkts[i];
				const void *d = m->pkt_len <= buf.size()
						    ? rte_pktmbuf_read(m, 0, m->pkt_len, buf.data())
						    : nullptr;
				if (d == nullptr || ::write(tap.fd(), d, m->pkt_len) < 0)
					c.tot.local_drops.add(1); /* the tap is down, or full */
				bytes += m->pkt_len;
			}
			rte_pktmbuf_free_bulk(pkts, k);
			c.tot.rd_frames.add(k);
			c.tot.rd_bytes.add(bytes);
		}
		if ((p[1].revents & (POLLERR | POLLHUP)) != 0) {
			c.error = std::string("tap interface ") + tap.name() + " failed";
			return end_t::failed;
		}
		if ((p[1].revents & POLLIN) != 0) {
			/* The kernel to the application: up to a burst, then look again. */
			for (unsigned i = 0; i < o.burst; i++) {
				ssize_t len = ::read(tap.fd(), buf.data(), buf.size());
				if (len < 0)
					break; /* EAGAIN: drained */
				ssize_t w = r.write(buf.data(), static_cast<size_t>(len));
				if (w >= 0) {
					c.tot.wr_frames.add(1);
					c.tot.wr_bytes.add(static_cast<uint64_t>(len));
				} else if (rte_errno == EHOSTDOWN) {
					return end_t::gone;
				} else if (rte_errno != ENOBUFS) {
					c.tot.local_drops.add(1); /* EIO: longer than the MRU */
				}
			}
		}
	}
	return c.stopped_or_finished();
}

/*
 * The vnet-header bridge: each read of either side gives the header and the
 * frame, each write takes them, so the header passes unchanged both ways
 * (the kernel's checksum and segmentation requests reach the application,
 * and the application's reach the kernel). The unit side uses the copying
 * read (rte_pmd_bsdtap_read_burst), which puts the header in front of the
 * frame: the buffer goes to the tap's write() as it is. Byte counts are
 * frame bytes, without the header.
 */
end_t bridge_vnet(worker_ctx &c, linux_tap &tap)
{
	const options &o = c.o;
	rte::bsdtap::reader &r = c.r;
	const size_t hlen = static_cast<size_t>(o.vnet_hdr_len);
	const size_t slot = RTE_PMD_BSDTAP_GSO_MAX + hlen;
	int ufd = r.fd();
	/* A burst of slots for the unit's reads, one more for the tap's. */
	std::vector<uint8_t> buf(slot * (o.burst + 1));
	std::vector<iovec> iov(o.burst);
	std::vector<size_t> lens(o.burst);
	for (unsigned i = 0; i < o.burst; i++)
		iov[i] = {buf.data() + slot * i, slot};
	uint8_t *tbuf = buf.data() + slot * o.burst;
	while (!c.stopping() && !c.count_reached()) {
		pollfd p[2];
		int n = wait_both(c, ufd, tap.fd(), p);
		if (n < 0)
			return end_t::failed;
		if (n == 0)
			continue;
		if ((p[0].revents & POLLIN) != 0) {
			/* The application to the kernel. The fd is readable: the
			 * burst read does not sleep. */
			int k =
			    r.read_burst(iov.data(), lens.data(), static_cast<uint16_t>(o.burst));
			if (k < 0 && rte_errno == EHOSTDOWN)
				return end_t::gone;
			uint64_t bytes = 0;
			for (int i = 0; i < k; i++) {
				if (lens[i] < hlen ||
				    ::write(tap.fd(), iov[i].iov_base, lens[i]) < 0)
					c.tot.local_drops.add(1); /* the tap is down, full, or
								     refused the header */
				bytes += lens[i] >= hlen ? lens[i] - hlen : 0;
			}
			if (k > 0) {
				c.tot.rd_frames.add(static_cast<uint64_t>(k));
				c.tot.rd_bytes.add(bytes);
			}
		}
		if ((p[1].revents & (POLLERR | POLLHUP)) != 0) {
			c.error = std::string("tap interface ") + tap.name() + " failed";
			return end_t::failed;
		}
		if ((p[1].revents & POLLIN) != 0) {
			/* The kernel to the application: up to a burst, then look again. */
			for (unsigned i = 0; i < o.burst; i++) {
				ssize_t len = ::read(tap.fd(), tbuf, slot);
				if (len < 0)
					break; /* EAGAIN: drained */
				ssize_t w = r.write(tbuf, static_cast<size_t>(len));
				if (w >= 0) {
					c.tot.wr_frames.add(1);
					c.tot.wr_bytes.add(static_cast<uint64_t>(len) - hlen);
				} else if (rte_errno == EHOSTDOWN) {
					return end_t::gone;
				} else if (rte_errno != ENOBUFS) {
					c.tot.local_drops.add(1); /* EIO, EINVAL: a header or
								     length the unit refused */
				}
			}
		}
	}
	return c.stopped_or_finished();
}

/* TAPSVNETHDR on the unit: every queue's reads and writes carry the header. */
bool set_unit_vnet_hdr(worker_ctx &c)
{
	const options &o = c.o;
	int len = o.vnet_hdr_len;
	int rc = c.r.ioctl(RTE_PMD_BSDTAP_TAPSVNETHDR, &len);
	if (rc != 0) {
		c.error =
		    o.unit + ": the driver refused TAPSVNETHDR " + std::to_string(o.vnet_hdr_len) +
		    " (the vnet-header mode): " + strerror(-rc) +
		    (rc == -ENOTTY ? " (this build of the driver has no vnet-header mode)" : "");
		return false;
	}
	int got = -1;
	rc = c.r.ioctl(RTE_PMD_BSDTAP_TAPGVNETHDR, &got);
	if (rc != 0 || got != o.vnet_hdr_len) {
		c.error = o.unit + ": TAPGVNETHDR after TAPSVNETHDR " +
			  std::to_string(o.vnet_hdr_len) + " gave " +
			  (rc != 0 ? std::string(strerror(-rc)) : std::to_string(got));
		return false;
	}
	return true;
}

} // namespace

end_t run_bridge(worker_ctx &c)
{
	const options &o = c.o;
	rte::bsdtap::reader &r = c.r;
	rte_pmd_bsdtap_info info{};
	r.ioctl(RTE_PMD_BSDTAP_TAPGIFINFO, &info);
	/* The unit first: a driver without the mode fails before a tap exists. */
	if (o.vnet_hdr_len != 0 && !set_unit_vnet_hdr(c))
		return end_t::failed;
	linux_tap tap;
	end_t end = end_t::failed;
	if (tap.create(o.tap, info.mtu, o.vnet_hdr_len, &c.error)) {
		fprintf(c.s.msg, "bridge: tap interface %s <-> %s queue %u (MTU %u", tap.name(),
			o.unit.c_str(), o.queue, info.mtu);
		if (o.vnet_hdr_len != 0)
			fprintf(c.s.msg, ", vnet header %d bytes, checksum and TSO offloads",
				o.vnet_hdr_len);
		fprintf(c.s.msg, ")\n");
		fflush(c.s.msg);
		end = o.vnet_hdr_len != 0 ? bridge_vnet(c, tap) : bridge_plain(c, tap);
	}
	if (o.vnet_hdr_len != 0 && end != end_t::gone) {
		/* The next reader of the unit gets plain frames again. */
		int zero = 0;
		r.ioctl(RTE_PMD_BSDTAP_TAPSVNETHDR, &zero);
	}
	return end;
}

} // namespace bsdtap_app

/* SPDX-License-Identifier: BSD-3-Clause */
/* sink: read and count, zero-copy (the mbufs handed back unread) or
 * copying (--copy). */

#include <cerrno>
#include <string>
#include <vector>

#include <sys/uio.h>

#include <rte_errno.h>

#include "common.h"

namespace bsdtap_app
{

end_t run_sink(worker_ctx &c)
{
	const options &o = c.o;
	rte::bsdtap::reader &r = c.r;
	if (o.copy) {
		int nb = 1;
		r.ioctl(RTE_PMD_BSDTAP_FIONBIO, &nb);
		/* One buffer per frame of a burst: copied out in one call. The
		 * stride is off a power of two by a cache line so that the starts
		 * of the buffers do not all fall in one cache set. */
		constexpr size_t stride = RTE_PMD_BSDTAP_MRU + RTE_CACHE_LINE_SIZE;
		std::vector<char> buf(size_t{o.burst} * stride);
		std::vector<iovec> iov(o.burst);
		std::vector<size_t> lens(o.burst);
		for (unsigned i = 0; i < o.burst; i++) {
			iov[i].iov_base = buf.data() + size_t{i} * stride;
			iov[i].iov_len = RTE_PMD_BSDTAP_MRU;
		}
		while (!c.stopping() && !c.count_reached()) {
			int n =
			    r.read_burst(iov.data(), lens.data(), c.want(c.tot.rd_frames.get()));
			if (n >= 0) {
				uint64_t bytes = 0;
				for (int i = 0; i < n; i++)
					bytes += lens[i];
				c.tot.rd_frames.add(static_cast<uint64_t>(n));
				c.tot.rd_bytes.add(bytes);
			} else if (rte_errno == EAGAIN) {
				if (!c.idle_wait())
					return end_t::gone;
			} else if (rte_errno == EHOSTDOWN) {
				return end_t::gone;
			} else if (rte_errno != EINTR) {
				c.error = std::string("read: ") + rte_strerror(rte_errno);
				return end_t::failed;
			}
		}
		return c.stopped_or_finished();
	}
	/* Visited in place: the frames stay in the port's ring and the
	 * primary's tx lcore frees them into its cache; without --exact-bytes
	 * they are consumed unseen (this core loads neither pointer nor header). */
	uint64_t bytes = 0;
	auto count = [&bytes](rte_mbuf *const *pkts, uint16_t k) {
		for (uint16_t i = 0; i < k; i++)
			bytes += pkts[i]->pkt_len;
	};
	while (!c.stopping() && !c.count_reached()) {
		uint16_t want = c.want(c.tot.rd_frames.get());
		uint16_t n = o.exact_bytes
				 ? r.visit_burst(want, count)
				 : rte_pmd_bsdtap_visit_burst(r.get(), want, nullptr, nullptr);
		if (n == 0) {
			if (!c.idle_wait())
				return end_t::gone;
			continue;
		}
		if (o.exact_bytes) {
			c.tot.rd_bytes.add(bytes);
			bytes = 0;
		}
		c.tot.rd_frames.add(n);
	}
	return c.stopped_or_finished();
}

} // namespace bsdtap_app

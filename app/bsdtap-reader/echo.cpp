/* SPDX-License-Identifier: BSD-3-Clause */
/* echo: every frame read goes back to the application, the same mbufs. */

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "common.h"

namespace bsdtap_app
{

end_t run_echo(worker_ctx &c)
{
	const options &o = c.o;
	rte::bsdtap::reader &r = c.r;
	rte_mbuf *pkts[max_burst];
	while (!c.stopping() && !c.count_reached()) {
		uint16_t n = r.recv_burst(pkts, c.want(c.tot.rd_frames.get()));
		if (n == 0) {
			if (!c.idle_wait())
				return end_t::gone;
			continue;
		}
		uint64_t bytes = 0;
		for (uint16_t i = 0; i < n; i++) {
			rte_mbuf *m = pkts[i];
			bytes += m->pkt_len;
			if (o.swap_mac && m->data_len >= sizeof(rte_ether_hdr)) {
				auto *eh = rte_pktmbuf_mtod(m, rte_ether_hdr *);
				rte_ether_addr tmp = eh->dst_addr;
				eh->dst_addr = eh->src_addr;
				eh->src_addr = tmp;
			}
		}
		c.tot.rd_frames.add(n);
		c.tot.rd_bytes.add(bytes);
		uint16_t sent = r.send_burst(pkts, n);
		uint64_t sent_bytes = 0;
		for (uint16_t i = sent; i < n; i++)
			sent_bytes += pkts[i]->pkt_len;
		sent_bytes = bytes - sent_bytes;
		if (sent < n) {
			/* The inq is full: drop, as a tap whose input queue is full does. */
			rte_pktmbuf_free_bulk(pkts + sent, n - sent);
			c.tot.local_drops.add(n - sent);
		}
		c.tot.wr_frames.add(sent);
		c.tot.wr_bytes.add(sent_bytes);
	}
	return c.stopped_or_finished();
}

} // namespace bsdtap_app

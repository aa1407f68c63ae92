/* SPDX-License-Identifier: BSD-3-Clause */
/* The smallest bsdtap program: the application sends a frame on tap0, a
 * reader reads it like read(2) on /dev/tap0 and writes it back, and the
 * application receives it. Build: cc tap_reader.c $(pkg-config --cflags
 * --libs libdpdk-bsdtap); run: ./a.out --no-huge --no-pci --vdev=net_bsdtap0 */
#include <stdio.h>
#include <string.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_errno.h>
#include <rte_pmd_bsdtap.h>

int main(int argc, char **argv)
{
	struct rte_eth_conf conf = {0};
	struct rte_mbuf *m;
	uint16_t port;
	char buf[RTE_PMD_BSDTAP_MRU];

	if (rte_eal_init(argc, argv) < 0 || rte_eth_dev_get_port_by_name("net_bsdtap0", &port))
		return 1;
	struct rte_mempool *mp = rte_pktmbuf_pool_create("pool", 255, 0, 0, 2048 + 128, 0);
	if (mp == NULL || rte_eth_dev_configure(port, 1, 1, &conf) ||
	    rte_eth_rx_queue_setup(port, 0, 64, 0, NULL, mp) ||
	    rte_eth_tx_queue_setup(port, 0, 64, 0, NULL) || rte_eth_dev_start(port))
		return 1;
	struct rte_pmd_bsdtap_reader *r = rte_pmd_bsdtap_open("tap0", 0, 0); /* open("/dev/tap0") */
	if (r == NULL) {
		fprintf(stderr, "open tap0: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	m = rte_pktmbuf_alloc(mp);
	memset(rte_pktmbuf_append(m, 60), 0xab, 60);
	rte_eth_tx_burst(port, 0, &m, 1);		      /* if_start */
	ssize_t n = rte_pmd_bsdtap_read(r, buf, sizeof(buf)); /* read(fd) */
	rte_pmd_bsdtap_write(r, buf, (size_t)n);	      /* write(fd) */
	uint16_t got = rte_eth_rx_burst(port, 0, &m, 1);      /* if_input */
	printf("read %zd bytes, application received %u frame(s)\n", n, got);
	if (got)
		rte_pktmbuf_free(m);
	rte_pmd_bsdtap_close(&r);
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	rte_eal_cleanup();
	return n == 60 && got == 1 ? 0 : 1;
}

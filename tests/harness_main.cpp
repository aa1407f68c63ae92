/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * main() of the single-process test binaries: EAL without hugepages, the
 * shared pool, every test. Binaries with a main of their own (secondary
 * processes, hugepages) link the harness without this file.
 */
#include "harness.h"

#include <string>

#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

int main(int argc, char **argv)
{
	::testing::InitGoogleTest(&argc, argv);
	std::string prefix = "bsdtap-test-" + std::to_string(getpid());
	const char *eal[] = {
	    "bsdtap-tests",	    "--no-huge",    "--no-pci", "-m", "512",
	    "--file-prefix",	    prefix.c_str(), "-l",	"0",  "--log-level",
	    "pmd.net.bsdtap:notice"};
	if (rte_eal_init(static_cast<int>(RTE_DIM(eal)), const_cast<char **>(eal)) < 0) {
		fprintf(stderr, "EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	/* 2 KiB data room: frames above that become chains, as in real pools. */
	rte_mempool *mp = rte_pktmbuf_pool_create("bt_pool", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
						  rte_socket_id());
	if (mp == nullptr) {
		fprintf(stderr, "mempool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	bt::set_pool(mp);
	int ret = RUN_ALL_TESTS();
	rte_eal_cleanup();
	/* EAL leaves its runtime directory behind; each run has its own. */
	bt::remove_runtime_files(prefix);
	return ret;
}

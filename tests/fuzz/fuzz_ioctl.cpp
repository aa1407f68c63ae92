/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the argument checks of rte_pmd_bsdtap_ioctl(), on a reader
 * of a real unit. The initializer starts EAL (no hugepages, its own file
 * prefix) and a started net_bsdtap0 port; each input opens a reader on
 * tap0, makes its calls and closes it.
 *
 * Input: calls, each one control byte and the argument's bytes:
 *   bits 0-4  the request (0 and 19-31 are not requests: -ENOTTY);
 *   bit 5     a NULL argument;
 *   bit 6     the next byte becomes the request's top byte (a request number
 *             that only matches in its low bits is still unknown);
 *   then as many bytes as the request's argument has (an int, a struct
 *   rte_pmd_bsdtap_info, a MAC, the status buffer; 16 for an unknown
 *   one), in a buffer of exactly that size, so that a read or write past
 *   the argument is an AddressSanitizer report.
 * Nothing is transmitted on the port: a SIGIO owner the input sets is never
 * signalled.
 */

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "rte_pmd_bsdtap.h"

namespace
{

const char *const vdev_name = "net_bsdtap0";
const char *const unit_name = "tap0";
uint16_t g_port;
std::string g_prefix;
int g_logtype = -1;
uint32_t g_quiet_level = RTE_LOG_EMERG;

[[noreturn]] void fail(const char *what, unsigned long req, int ret)
{
	fprintf(stderr, "fuzz_ioctl: request %#lx returned %d: %s\n", req, ret, what);
	abort();
}

size_t arg_size(unsigned long req)
{
	switch (req) {
	case RTE_PMD_BSDTAP_TAPSIFINFO:
	case RTE_PMD_BSDTAP_TAPGIFINFO:
		return sizeof(rte_pmd_bsdtap_info);
	case RTE_PMD_BSDTAP_SIOCGIFADDR:
	case RTE_PMD_BSDTAP_SIOCSIFADDR:
		return RTE_ETHER_ADDR_LEN;
	case RTE_PMD_BSDTAP_SIOCGIFSTATUS:
		return RTE_PMD_BSDTAP_STATUS_LEN;
	case RTE_PMD_BSDTAP_TAPSDEBUG:
	case RTE_PMD_BSDTAP_TAPGDEBUG:
	case RTE_PMD_BSDTAP_FIONBIO:
	case RTE_PMD_BSDTAP_FIOASYNC:
	case RTE_PMD_BSDTAP_FIONREAD:
	case RTE_PMD_BSDTAP_FIOSETOWN:
	case RTE_PMD_BSDTAP_FIOGETOWN:
	case RTE_PMD_BSDTAP_TIOCSPGRP:
	case RTE_PMD_BSDTAP_TIOCGPGRP:
	case RTE_PMD_BSDTAP_SIOCGIFFLAGS:
	case RTE_PMD_BSDTAP_VMIO_SIOCSIFFLAGS:
	case RTE_PMD_BSDTAP_TAPSVNETHDR:
	case RTE_PMD_BSDTAP_TAPGVNETHDR:
		return sizeof(int);
	default:
		return 16;
	}
}

bool known(unsigned long req)
{
	return req >= RTE_PMD_BSDTAP_TAPSIFINFO && req <= RTE_PMD_BSDTAP_TAPGVNETHDR;
}

int as_int(const uint8_t *p)
{
	int v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* What a call that succeeded must have left in its argument. */
void check_result(rte_pmd_bsdtap_reader *r, unsigned long req, const uint8_t *arg,
		  const uint8_t *given)
{
	switch (req) {
	case RTE_PMD_BSDTAP_TAPGIFINFO: {
		rte_pmd_bsdtap_info info;
		memcpy(&info, arg, sizeof(info));
		if (info.type != RTE_PMD_BSDTAP_IFT_ETHER || info.dummy != 0 || info.baudrate == 0)
			fail("TAPGIFINFO: not an Ethernet interface with a speed", req, 0);
		break;
	}
	case RTE_PMD_BSDTAP_SIOCGIFSTATUS:
		if (memchr(arg, '\0', RTE_PMD_BSDTAP_STATUS_LEN) == nullptr)
			fail("SIOCGIFSTATUS: status not terminated", req, 0);
		break;
	case RTE_PMD_BSDTAP_SIOCGIFFLAGS: {
		const int must = RTE_PMD_BSDTAP_IFF_BROADCAST | RTE_PMD_BSDTAP_IFF_SIMPLEX |
				 RTE_PMD_BSDTAP_IFF_MULTICAST;
		if ((as_int(arg) & must) != must)
			fail("SIOCGIFFLAGS: a flag that cannot change is missing", req, 0);
		break;
	}
	case RTE_PMD_BSDTAP_SIOCSIFADDR: {
		uint8_t mac[RTE_ETHER_ADDR_LEN];
		if (rte_pmd_bsdtap_ioctl(r, RTE_PMD_BSDTAP_SIOCGIFADDR, mac) != 0 ||
		    memcmp(mac, given, sizeof(mac)) != 0)
			fail("SIOCSIFADDR: SIOCGIFADDR does not return the address set", req, 0);
		break;
	}
	case RTE_PMD_BSDTAP_FIOSETOWN: {
		int owner = 0;
		if (rte_pmd_bsdtap_ioctl(r, RTE_PMD_BSDTAP_FIOGETOWN, &owner) != 0 ||
		    owner != as_int(given))
			fail("FIOSETOWN: FIOGETOWN does not return the owner set", req, 0);
		break;
	}
	case RTE_PMD_BSDTAP_TIOCSPGRP: {
		int pgrp = 0;
		if (rte_pmd_bsdtap_ioctl(r, RTE_PMD_BSDTAP_TIOCGPGRP, &pgrp) != 0 ||
		    pgrp != as_int(given))
			fail("TIOCSPGRP: TIOCGPGRP does not return the group set", req, 0);
		break;
	}
	case RTE_PMD_BSDTAP_TAPSVNETHDR: {
		int len = -1;
		const int want = as_int(given);
		if (want != 0 && want != 10 && want != 12)
			fail("TAPSVNETHDR: a length other than 0, 10 or 12 taken", req, 0);
		if (rte_pmd_bsdtap_ioctl(r, RTE_PMD_BSDTAP_TAPGVNETHDR, &len) != 0 || len != want)
			fail("TAPSVNETHDR: TAPGVNETHDR does not return the length set", req, 0);
		break;
	}
	case RTE_PMD_BSDTAP_TAPGVNETHDR: {
		const int len = as_int(arg);
		if (len != 0 && len != 10 && len != 12)
			fail("TAPGVNETHDR: not a header length", req, 0);
		break;
	}
	case RTE_PMD_BSDTAP_TAPSDEBUG: {
		int level = 0;
		if (rte_pmd_bsdtap_ioctl(r, RTE_PMD_BSDTAP_TAPGDEBUG, &level) != 0 ||
		    level != as_int(given))
			fail("TAPSDEBUG: TAPGDEBUG does not return the level set", req, 0);
		/* Back to quiet: a debug level would flood the run. */
		rte_log_set_level(g_logtype, g_quiet_level);
		break;
	}
	default:
		break;
	}
}

void call(rte_pmd_bsdtap_reader *r, const uint8_t *&p, const uint8_t *end)
{
	const uint8_t c = *p++;
	unsigned long req = c & 0x1f;
	const bool null_arg = (c & 0x20) != 0;
	if ((c & 0x40) != 0 && p < end)
		req |= static_cast<unsigned long>(*p++) << (sizeof(unsigned long) * 8 - 8);
	const size_t n = arg_size(req);
	/* Exactly n bytes: AddressSanitizer sees one past. */
	std::unique_ptr<uint8_t[]> arg(new uint8_t[n]);
	std::unique_ptr<uint8_t[]> given(new uint8_t[n]);
	const size_t take = std::min(n, static_cast<size_t>(end - p));
	memset(arg.get(), 0, n);
	memcpy(arg.get(), p, take);
	p += take;
	memcpy(given.get(), arg.get(), n);
	int ret = rte_pmd_bsdtap_ioctl(r, req, null_arg ? nullptr : arg.get());
	if (ret > 0)
		fail("a positive return", req, ret);
	if (!known(req)) {
		if (ret != -ENOTTY)
			fail("an unknown request not refused with -ENOTTY", req, ret);
		return;
	}
	if (null_arg) {
		if (ret != -EINVAL)
			fail("a NULL argument not refused with -EINVAL", req, ret);
		return;
	}
	if (ret == 0) {
		check_result(r, req, arg.get(), given.get());
	} else if (req == RTE_PMD_BSDTAP_TAPSVNETHDR) {
		const int want = as_int(given.get());
		if (ret != -EINVAL || want == 0 || want == 10 || want == 12)
			fail("TAPSVNETHDR: a valid length refused, or not with -EINVAL", req, ret);
	} else if (req != RTE_PMD_BSDTAP_TAPSIFINFO && req != RTE_PMD_BSDTAP_TAPSDEBUG &&
		   req != RTE_PMD_BSDTAP_FIOSETOWN && req != RTE_PMD_BSDTAP_TIOCSPGRP &&
		   req != RTE_PMD_BSDTAP_VMIO_SIOCSIFFLAGS)
		fail("a request that cannot fail failed", req, ret);
}

void cleanup()
{
	rte_eth_dev_stop(g_port);
	rte_vdev_uninit(vdev_name);
	rte_eal_cleanup();
	std::error_code ec;
	std::filesystem::remove_all("/var/run/dpdk/" + g_prefix, ec);
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
	const char *env = getenv("BSDTAP_FUZZ_PREFIX");
	g_prefix =
	    env != nullptr && *env != '\0' ? env : "bsdtap-fuzz-ioctl-" + std::to_string(getpid());
	const char *log = getenv("BSDTAP_FUZZ_LOG");
	const bool verbose = log != nullptr && strcmp(log, "1") == 0;
	const char *eal[] = {"fuzz_ioctl",
			     "--no-huge",
			     "--no-pci",
			     "-m",
			     "256",
			     "--file-prefix",
			     g_prefix.c_str(),
			     "-l",
			     "0",
			     "--log-level",
			     verbose ? "debug" : "error"};
	if (rte_eal_init(static_cast<int>(RTE_DIM(eal)), const_cast<char **>(eal)) < 0) {
		fprintf(stderr, "fuzz_ioctl: EAL init failed: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	g_logtype = rte_log_register("pmd.net.bsdtap");
	g_quiet_level = verbose ? RTE_LOG_DEBUG : RTE_LOG_EMERG;
	rte_log_set_level(g_logtype, g_quiet_level);
	rte_mempool *mp = rte_pktmbuf_pool_create("fuzz_pool", 1023, 0, 0,
						  RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	rte_eth_conf conf{};
	if (mp == nullptr || rte_vdev_init(vdev_name, "") != 0 ||
	    rte_eth_dev_get_port_by_name(vdev_name, &g_port) != 0 ||
	    rte_eth_dev_configure(g_port, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup(g_port, 0, 256, rte_socket_id(), nullptr, mp) != 0 ||
	    rte_eth_tx_queue_setup(g_port, 0, 256, rte_socket_id(), nullptr) != 0 ||
	    rte_eth_dev_start(g_port) != 0) {
		fprintf(stderr, "fuzz_ioctl: port setup failed: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	atexit(cleanup);
	return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rte_pmd_bsdtap_reader *r = rte_pmd_bsdtap_open(unit_name, 0, RTE_PMD_BSDTAP_O_NONBLOCK);
	if (r == nullptr) {
		fprintf(stderr, "fuzz_ioctl: open %s: %s\n", unit_name, rte_strerror(rte_errno));
		abort();
	}
	const uint8_t *p = data, *end = data + size;
	while (p < end)
		call(r, p, end);
	/* The next input starts from the same unit. */
	int zero = 0;
	rte_pmd_bsdtap_ioctl(r, RTE_PMD_BSDTAP_FIOSETOWN, &zero);
	rte_pmd_bsdtap_ioctl(r, RTE_PMD_BSDTAP_FIOASYNC, &zero);
	rte_eth_dev_set_mtu(g_port, RTE_ETHER_MTU);
	rte_log_set_level(g_logtype, g_quiet_level);
	rte_pmd_bsdtap_close(&r);
	return 0;
}

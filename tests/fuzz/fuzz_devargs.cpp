/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: devargs_parse(), the vdev argument string of a unit. The
 * input is the string (up to its first NUL). A parse that succeeds must
 * leave a devargs every later user can trust; one that fails must say
 * -EINVAL or -ERANGE. Log lines are off (BSDTAP_FUZZ_LOG=1 shows them).
 */

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <rte_ether.h>
#include <rte_log.h>

#include "bsdtap_devargs.h"

/* The driver's logtype (bsdtap_ethdev.cpp registers it; not linked here). */
int bsdtap_logtype;

namespace
{

[[noreturn]] void fail(const char *what, const char *args)
{
	fprintf(stderr, "fuzz_devargs: %s for devargs \"%s\"\n", what, args);
	abort();
}

bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

void check(const char *args, const bsdtap::devargs &a)
{
	using bsdtap::reader_kind;
	using bsdtap::socket_kind;
	if (a.queues < 1 || a.queues > BSDTAP_MAX_QUEUES)
		fail("queues out of range", args);
	if (a.ring_size < BSDTAP_RING_SIZE_MIN || a.ring_size > BSDTAP_RING_SIZE_MAX)
		fail("ring_size out of range", args);
	size_t n = strnlen(a.iface, sizeof(a.iface));
	if (n == sizeof(a.iface))
		fail("iface not terminated", args);
	for (size_t i = 0; i < n; i++)
		if (!name_char(a.iface[i]))
			fail("iface with a character a name cannot have", args);
	if (strcmp(a.iface, ".") == 0 || strcmp(a.iface, "..") == 0)
		fail("iface '.' or '..'", args);
	n = strnlen(a.path, sizeof(a.path));
	if (n == sizeof(a.path))
		fail("path not terminated", args);
	if (n > 0 && (a.path[0] != '/' || a.path[n - 1] == '/'))
		fail("path not absolute or naming a directory", args);
	if (a.has_mac && (rte_is_multicast_ether_addr(&a.mac) || rte_is_zero_ether_addr(&a.mac)))
		fail("mac not unicast", args);
	if (a.sock_mode > 0777)
		fail("socket_mode above 0777", args);
	if ((a.has_owner && a.owner == UINT32_MAX) || (a.has_group && a.group == UINT32_MAX))
		fail("owner or group (uid_t)-1", args);
	if (a.reader == reader_kind::socket && a.up_on_open)
		fail("up_on_open with reader=socket", args);
	if (a.reader != reader_kind::socket &&
	    (n != 0 || a.sock_type != socket_kind::seqpacket || a.has_owner || a.has_group))
		fail("socket devargs without reader=socket", args);
}

/* Field by field: the padding between them is not part of a parse. */
bool same(const bsdtap::devargs &a, const bsdtap::devargs &b)
{
	return strcmp(a.iface, b.iface) == 0 && a.queues == b.queues &&
	       a.ring_size == b.ring_size && a.has_mac == b.has_mac &&
	       (!a.has_mac || rte_is_same_ether_addr(&a.mac, &b.mac)) && a.reader == b.reader &&
	       a.txfull == b.txfull && a.vmnet == b.vmnet && a.up_on_open == b.up_on_open &&
	       a.user_open == b.user_open && strcmp(a.path, b.path) == 0 &&
	       a.sock_type == b.sock_type && a.has_owner == b.has_owner &&
	       a.has_group == b.has_group && (!a.has_owner || a.owner == b.owner) &&
	       (!a.has_group || a.group == b.group) && a.sock_mode == b.sock_mode;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
	const char *log = getenv("BSDTAP_FUZZ_LOG");
	bool on = log != nullptr && strcmp(log, "1") == 0;
	bsdtap_logtype = rte_log_register_type_and_pick_level("pmd.net.bsdtap", RTE_LOG_NOTICE);
	rte_log_set_level(bsdtap_logtype, on ? RTE_LOG_DEBUG : RTE_LOG_EMERG);
	return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const std::string args(reinterpret_cast<const char *>(data), size);
	bsdtap::devargs a;
	int ret = bsdtap::devargs_parse(args.c_str(), &a);
	if (ret == 0)
		check(args.c_str(), a);
	else if (ret != -EINVAL && ret != -ERANGE)
		fail("an error other than -EINVAL and -ERANGE", args.c_str());
	/* The same string parses the same way again (no state kept between). */
	bsdtap::devargs b;
	if (bsdtap::devargs_parse(args.c_str(), &b) != ret || (ret == 0 && !same(a, b)))
		fail("a second parse differs", args.c_str());
	return 0;
}

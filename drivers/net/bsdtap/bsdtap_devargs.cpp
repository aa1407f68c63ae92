/* SPDX-License-Identifier: BSD-3-Clause */
/* Devargs: one strict handler per key. Empty values, trailing junk and
 * out-of-range numbers are refused with a log line naming key and value. */

#include "bsdtap_devargs.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <grp.h>
#include <pwd.h>

#include <rte_kvargs.h>

#include "bsdtap_log.h"

namespace bsdtap
{

namespace
{

const char *const valid_arguments[] = {ETH_BSDTAP_IFACE_ARG,
				       ETH_BSDTAP_QUEUES_ARG,
				       ETH_BSDTAP_RING_SIZE_ARG,
				       ETH_BSDTAP_MAC_ARG,
				       ETH_BSDTAP_READER_ARG,
				       ETH_BSDTAP_TXFULL_ARG,
				       ETH_BSDTAP_MODE_ARG,
				       ETH_BSDTAP_UP_ON_OPEN_ARG,
				       ETH_BSDTAP_USER_OPEN_ARG,
				       ETH_BSDTAP_PATH_ARG,
				       ETH_BSDTAP_SOCKET_TYPE_ARG,
				       ETH_BSDTAP_OWNER_ARG,
				       ETH_BSDTAP_GROUP_ARG,
				       ETH_BSDTAP_SOCKET_MODE_ARG,
				       ETH_BSDTAP_SOCKET_VNET_HDR_ARG,
				       ETH_BSDTAP_READER_SPIN_US_ARG,
				       ETH_BSDTAP_READER_NICE_ARG,
				       nullptr};

/* The keys that only mean something with reader=socket. */
const char *const builtin_keys[] = {ETH_BSDTAP_READER_SPIN_US_ARG, ETH_BSDTAP_READER_NICE_ARG};
const char *const socket_keys[] = {ETH_BSDTAP_PATH_ARG,	       ETH_BSDTAP_SOCKET_TYPE_ARG,
				   ETH_BSDTAP_OWNER_ARG,       ETH_BSDTAP_GROUP_ARG,
				   ETH_BSDTAP_SOCKET_MODE_ARG, ETH_BSDTAP_SOCKET_VNET_HDR_ARG};

/* The handler's own error, so that -ERANGE survives rte_kvargs_process's -1. */
thread_local int handler_err;

int bad(const char *key, const char *value, const char *why, int err) noexcept
{
	handler_err = err;
	BSDTAP_LOG(ERR, "invalid devarg %s=%s: %s", key, value ? value : "", why);
	return err;
}

/* Strict unsigned decimal in [lo, hi]. */
int parse_uint(const char *key, const char *value, unsigned long lo, unsigned long hi,
	       unsigned long *out) noexcept
{
	if (value == nullptr || *value == '\0')
		return bad(key, value, "empty value", -EINVAL);
	for (const char *p = value; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return bad(key, value, "not a decimal number", -EINVAL);
	errno = 0;
	char *end = nullptr;
	unsigned long v = strtoul(value, &end, 10);
	if (errno == ERANGE || v < lo || v > hi) {
		BSDTAP_LOG(ERR, "invalid devarg %s=%s: out of range [%lu, %lu]", key, value, lo,
			   hi);
		handler_err = -ERANGE;
		return -ERANGE;
	}
	*out = v;
	return 0;
}

int parse_bool(const char *key, const char *value, bool *out) noexcept
{
	if (value != nullptr && strcmp(value, "0") == 0)
		*out = false;
	else if (value != nullptr && strcmp(value, "1") == 0)
		*out = true;
	else
		return bad(key, value, "expected 0 or 1", -EINVAL);
	return 0;
}

int h_iface(const char *key, const char *value, void *opaque) noexcept
{
	auto *a = static_cast<devargs *>(opaque);
	if (value == nullptr || *value == '\0')
		return bad(key, value, "empty value", -EINVAL);
	if (strlen(value) >= sizeof(a->iface))
		return bad(key, value, "longer than IFNAMSIZ-1", -ERANGE);
	/* Not names (the kernel refuses them too): and a name may end up in a
	 * path, where they would mean a directory. */
	if (strcmp(value, ".") == 0 || strcmp(value, "..") == 0)
		return bad(key, value, "'.' and '..' are not interface names", -EINVAL);
	for (const char *p = value; *p != '\0'; p++) {
		bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			  (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.';
		if (!ok)
			return bad(key, value, "only letters, digits, '_', '-' and '.' allowed",
				   -EINVAL);
	}
	strcpy(a->iface, value);
	return 0;
}

int h_queues(const char *key, const char *value, void *opaque) noexcept
{
	unsigned long v = 0;
	int ret = parse_uint(key, value, 1, BSDTAP_MAX_QUEUES, &v);
	if (ret == 0)
		static_cast<devargs *>(opaque)->queues = static_cast<uint16_t>(v);
	return ret;
}

int h_reader_spin_us(const char *key, const char *value, void *opaque) noexcept
{
	unsigned long v = 0;
	int ret = parse_uint(key, value, 0, BSDTAP_READER_SPIN_US_MAX, &v);
	if (ret == 0)
		static_cast<devargs *>(opaque)->reader_spin_us = static_cast<uint32_t>(v);
	return ret;
}

/* A signed decimal in setpriority()'s range. */
int h_reader_nice(const char *key, const char *value, void *opaque) noexcept
{
	if (value == nullptr || *value == '\0')
		return bad(key, value, "empty value", -EINVAL);
	const char *digits = *value == '-' ? value + 1 : value;
	if (*digits == '\0')
		return bad(key, value, "not a decimal number", -EINVAL);
	for (const char *p = digits; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return bad(key, value, "not a decimal number", -EINVAL);
	errno = 0;
	long v = strtol(value, nullptr, 10);
	if (errno == ERANGE || v < BSDTAP_READER_NICE_MIN || v > BSDTAP_READER_NICE_MAX) {
		BSDTAP_LOG(ERR, "invalid devarg %s=%s: out of range [%d, %d]", key, value,
			   BSDTAP_READER_NICE_MIN, BSDTAP_READER_NICE_MAX);
		handler_err = -ERANGE;
		return -ERANGE;
	}
	auto *a = static_cast<devargs *>(opaque);
	a->has_reader_nice = true;
	a->reader_nice = static_cast<int8_t>(v);
	return 0;
}

int h_ring_size(const char *key, const char *value, void *opaque) noexcept
{
	unsigned long v = 0;
	int ret = parse_uint(key, value, BSDTAP_RING_SIZE_MIN, BSDTAP_RING_SIZE_MAX, &v);
	if (ret == 0)
		static_cast<devargs *>(opaque)->ring_size = static_cast<uint32_t>(v);
	return ret;
}

int h_mac(const char *key, const char *value, void *opaque) noexcept
{
	auto *a = static_cast<devargs *>(opaque);
	if (value == nullptr || *value == '\0')
		return bad(key, value, "empty value", -EINVAL);
	/* Exactly xx:xx:xx:xx:xx:xx; rte_ether_unformat_addr also takes other forms. */
	if (strlen(value) != 17)
		return bad(key, value, "expected xx:xx:xx:xx:xx:xx", -EINVAL);
	for (int i = 0; i < 17; i++) {
		char c = value[i];
		bool hex =
		    (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
		if ((i % 3 == 2) ? c != ':' : !hex)
			return bad(key, value, "expected xx:xx:xx:xx:xx:xx", -EINVAL);
	}
	if (rte_ether_unformat_addr(value, &a->mac) != 0)
		return bad(key, value, "expected xx:xx:xx:xx:xx:xx", -EINVAL);
	if (rte_is_multicast_ether_addr(&a->mac) || rte_is_zero_ether_addr(&a->mac))
		return bad(key, value, "not a unicast address", -EINVAL);
	a->has_mac = true;
	return 0;
}

int h_reader(const char *key, const char *value, void *opaque) noexcept
{
	auto *a = static_cast<devargs *>(opaque);
	if (value != nullptr && strcmp(value, "none") == 0)
		a->reader = reader_kind::none;
	else if (value != nullptr && strcmp(value, "echo") == 0)
		a->reader = reader_kind::echo;
	else if (value != nullptr && strcmp(value, "sink") == 0)
		a->reader = reader_kind::sink;
	else if (value != nullptr && strcmp(value, "socket") == 0)
		a->reader = reader_kind::socket;
	else
		return bad(key, value, "expected none, echo, sink or socket", -EINVAL);
	return 0;
}

int h_txfull(const char *key, const char *value, void *opaque) noexcept
{
	auto *a = static_cast<devargs *>(opaque);
	if (value != nullptr && strcmp(value, "drop") == 0)
		a->txfull = txfull_mode::drop;
	else if (value != nullptr && strcmp(value, "backpressure") == 0)
		a->txfull = txfull_mode::backpressure;
	else
		return bad(key, value, "expected drop or backpressure", -EINVAL);
	return 0;
}

int h_mode(const char *key, const char *value, void *opaque) noexcept
{
	auto *a = static_cast<devargs *>(opaque);
	if (value != nullptr && strcmp(value, "tap") == 0)
		a->vmnet = false;
	else if (value != nullptr && strcmp(value, "vmnet") == 0)
		a->vmnet = true;
	else
		return bad(key, value, "expected tap or vmnet", -EINVAL);
	return 0;
}

int h_up_on_open(const char *key, const char *value, void *opaque) noexcept
{
	return parse_bool(key, value, &static_cast<devargs *>(opaque)->up_on_open);
}

int h_user_open(const char *key, const char *value, void *opaque) noexcept
{
	return parse_bool(key, value, &static_cast<devargs *>(opaque)->user_open);
}

int h_path(const char *key, const char *value, void *opaque) noexcept
{
	auto *a = static_cast<devargs *>(opaque);
	if (value == nullptr || *value == '\0')
		return bad(key, value, "empty value", -EINVAL);
	if (value[0] != '/')
		return bad(key, value, "not an absolute path", -EINVAL);
	if (strlen(value) >= sizeof(a->path))
		return bad(key, value, "longer than a Unix socket path (107 bytes)", -ERANGE);
	size_t len = strlen(value);
	if (value[len - 1] == '/')
		return bad(key, value, "names a directory, not a socket", -EINVAL);
	strcpy(a->path, value);
	return 0;
}

int h_socket_type(const char *key, const char *value, void *opaque) noexcept
{
	auto *a = static_cast<devargs *>(opaque);
	if (value != nullptr && strcmp(value, "seqpacket") == 0)
		a->sock_type = socket_kind::seqpacket;
	else if (value != nullptr && strcmp(value, "dgram") == 0)
		a->sock_type = socket_kind::dgram;
	else if (value != nullptr && strcmp(value, "stream") == 0)
		a->sock_type = socket_kind::stream;
	else
		return bad(key, value, "expected seqpacket, dgram or stream", -EINVAL);
	return 0;
}

bool all_digits(const char *v) noexcept
{
	for (const char *p = v; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/* A user or group: a decimal id (up to 2^32-2) or a name the system knows. */
int parse_id(const char *key, const char *value, bool user, uint32_t *out) noexcept
{
	if (value == nullptr || *value == '\0')
		return bad(key, value, "empty value", -EINVAL);
	if (all_digits(value)) {
		unsigned long v = 0;
		/* (uid_t)-1 means "unchanged" to chown: not an id. */
		int ret = parse_uint(key, value, 0, UINT32_MAX - 1, &v);
		if (ret == 0)
			*out = static_cast<uint32_t>(v);
		return ret;
	}
	char buf[16384];
	int err;
	if (user) {
		struct passwd pw, *res = nullptr;
		err = getpwnam_r(value, &pw, buf, sizeof(buf), &res);
		if (err == 0 && res != nullptr) {
			*out = res->pw_uid;
			return 0;
		}
	} else {
		struct group gr, *res = nullptr;
		err = getgrnam_r(value, &gr, buf, sizeof(buf), &res);
		if (err == 0 && res != nullptr) {
			*out = res->gr_gid;
			return 0;
		}
	}
	return bad(key, value, user ? "no such user" : "no such group", -EINVAL);
}

int h_owner(const char *key, const char *value, void *opaque) noexcept
{
	auto *a = static_cast<devargs *>(opaque);
	int ret = parse_id(key, value, true, &a->owner);
	a->has_owner = ret == 0;
	return ret;
}

int h_group(const char *key, const char *value, void *opaque) noexcept
{
	auto *a = static_cast<devargs *>(opaque);
	int ret = parse_id(key, value, false, &a->group);
	a->has_group = ret == 0;
	return ret;
}

/* Octal permission bits, 0 to 0777 (no setuid, setgid or sticky bit). */
int h_socket_mode(const char *key, const char *value, void *opaque) noexcept
{
	if (value == nullptr || *value == '\0')
		return bad(key, value, "empty value", -EINVAL);
	unsigned long v = 0;
	for (const char *p = value; *p != '\0'; p++) {
		if (*p < '0' || *p > '7')
			return bad(key, value, "not an octal number", -EINVAL);
		v = v * 8 + static_cast<unsigned long>(*p - '0');
		if (v > 0777) {
			handler_err = -ERANGE;
			BSDTAP_LOG(ERR, "invalid devarg %s=%s: out of range [0, 0777]", key, value);
			return -ERANGE;
		}
	}
	static_cast<devargs *>(opaque)->sock_mode = static_cast<uint16_t>(v);
	return 0;
}

/* The vnet header length of the socket's messages: 0, 10 or 12. */
int h_socket_vnet_hdr(const char *key, const char *value, void *opaque) noexcept
{
	if (value == nullptr || *value == '\0')
		return bad(key, value, "empty value", -EINVAL);
	if (strcmp(value, "0") != 0 && strcmp(value, "10") != 0 && strcmp(value, "12") != 0)
		return bad(key, value, "expected 0, 10 or 12 (the virtio-net header's length)",
			   -EINVAL);
	static_cast<devargs *>(opaque)->sock_vnet_hdr = static_cast<uint8_t>(atoi(value));
	return 0;
}

struct handler {
	const char *key;
	arg_handler_t fn;
};

const handler handlers[] = {
    {ETH_BSDTAP_IFACE_ARG, h_iface},
    {ETH_BSDTAP_QUEUES_ARG, h_queues},
    {ETH_BSDTAP_RING_SIZE_ARG, h_ring_size},
    {ETH_BSDTAP_MAC_ARG, h_mac},
    {ETH_BSDTAP_READER_ARG, h_reader},
    {ETH_BSDTAP_TXFULL_ARG, h_txfull},
    {ETH_BSDTAP_MODE_ARG, h_mode},
    {ETH_BSDTAP_UP_ON_OPEN_ARG, h_up_on_open},
    {ETH_BSDTAP_USER_OPEN_ARG, h_user_open},
    {ETH_BSDTAP_PATH_ARG, h_path},
    {ETH_BSDTAP_SOCKET_TYPE_ARG, h_socket_type},
    {ETH_BSDTAP_OWNER_ARG, h_owner},
    {ETH_BSDTAP_GROUP_ARG, h_group},
    {ETH_BSDTAP_SOCKET_MODE_ARG, h_socket_mode},
    {ETH_BSDTAP_SOCKET_VNET_HDR_ARG, h_socket_vnet_hdr},
    {ETH_BSDTAP_READER_SPIN_US_ARG, h_reader_spin_us},
    {ETH_BSDTAP_READER_NICE_ARG, h_reader_nice},
};

} // namespace

devargs devargs_defaults() noexcept
{
	devargs a{};
	a.queues = 1;
	a.ring_size = BSDTAP_RING_SIZE_DEFAULT;
	a.reader = reader_kind::none;
	a.txfull = txfull_mode::drop;
	a.sock_type = socket_kind::seqpacket;
	a.sock_mode = BSDTAP_SOCKET_MODE_DEFAULT;
	a.reader_spin_us = BSDTAP_READER_SPIN_US_DEFAULT;
	return a;
}

const char *reader_kind_name(reader_kind k) noexcept
{
	switch (k) {
	case reader_kind::echo:
		return "echo";
	case reader_kind::sink:
		return "sink";
	case reader_kind::socket:
		return "socket";
	default:
		return "none";
	}
}

const char *socket_kind_name(socket_kind k) noexcept
{
	switch (k) {
	case socket_kind::dgram:
		return "dgram";
	case socket_kind::stream:
		return "stream";
	default:
		return "seqpacket";
	}
}

/* rte_kvargs skips empty items (",", "queues=1,"): a stray comma is most
 * likely a value lost on the way, so it is refused, naming where. Commas
 * inside a bracketed list value are not item separators. */
static bool has_empty_item(const char *args) noexcept
{
	int depth = 0;
	size_t item = 0, len = 0, i = 0;
	for (;; i++) {
		char c = args[i];
		if (c == '[')
			depth++;
		else if (c == ']' && depth > 0)
			depth--;
		if ((c == ',' && depth == 0) || c == '\0') {
			if (len == 0) {
				BSDTAP_LOG(ERR, "devargs \"%s\": item %zu is empty (a stray ',')",
					   args, item + 1);
				return true;
			}
			if (c == '\0')
				return false;
			item++;
			len = 0;
			continue;
		}
		len++;
	}
}

int devargs_parse(const char *args, devargs *out) noexcept
{
	*out = devargs_defaults();
	if (args == nullptr || *args == '\0')
		return 0;
	if (has_empty_item(args))
		return -EINVAL;
	struct rte_kvargs *kv = rte_kvargs_parse(args, valid_arguments);
	if (kv == nullptr) {
		BSDTAP_LOG(
		    ERR,
		    "cannot parse devargs \"%s\" (unknown key or bad syntax); keys: "
		    "iface queues ring_size mac reader txfull mode up_on_open user_open path "
		    "socket_type owner group socket_mode socket_vnet_hdr",
		    args);
		return -EINVAL;
	}
	int ret = 0;
	for (const handler &h : handlers) {
		unsigned int n = rte_kvargs_count(kv, h.key);
		if (n > 1) {
			BSDTAP_LOG(ERR, "devarg %s given %u times", h.key, n);
			ret = -EINVAL;
			break;
		}
		/* A key given without '=' arrives with a NULL value; the handler refuses it. */
		handler_err = -EINVAL;
		if (n == 1 && rte_kvargs_process(kv, h.key, h.fn, out) != 0) {
			ret = handler_err;
			break;
		}
	}
	if (ret == 0 && out->reader != reader_kind::socket) {
		for (const char *k : socket_keys) {
			if (rte_kvargs_count(kv, k) != 0) {
				BSDTAP_LOG(ERR, "devarg %s needs reader=socket", k);
				ret = -EINVAL;
				break;
			}
		}
	}
	if (ret == 0 && out->reader != reader_kind::echo && out->reader != reader_kind::sink) {
		for (const char *k : builtin_keys) {
			if (rte_kvargs_count(kv, k) != 0) {
				BSDTAP_LOG(ERR, "devarg %s needs reader=echo or reader=sink", k);
				ret = -EINVAL;
				break;
			}
		}
	}
	/* A socket client comes and goes when it likes: with up_on_open its
	 * departure would stop the port under the application's lcores. */
	if (ret == 0 && out->reader == reader_kind::socket && out->up_on_open) {
		BSDTAP_LOG(ERR, "devarg up_on_open=1 cannot go with reader=socket: a client "
				"leaving would stop the port while the application runs it");
		ret = -EINVAL;
	}
	/* user_open widens the socket's default permissions as it lets other
	 * users open the unit; socket_mode overrides both. */
	if (ret == 0 && out->user_open && rte_kvargs_count(kv, ETH_BSDTAP_SOCKET_MODE_ARG) == 0)
		out->sock_mode = BSDTAP_SOCKET_MODE_OPEN;
	rte_kvargs_free(kv);
	return ret;
}

} // namespace bsdtap

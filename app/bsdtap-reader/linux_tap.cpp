/* SPDX-License-Identifier: BSD-3-Clause */
#include "linux_tap.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_tun.h>

namespace bsdtap_app
{

linux_tap::~linux_tap()
{
	if (fd_ >= 0)
		::close(fd_);
}

bool linux_tap::create(const std::string &name, uint16_t mtu, int vnet_len, std::string *err)
{
	fd_ = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd_ < 0) {
		*err = std::string("/dev/net/tun: ") + strerror(errno);
		return false;
	}
	ifreq ifr{};
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (vnet_len != 0)
		ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_VNET_HDR);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name.c_str());
	if (ioctl(fd_, TUNSETIFF, &ifr) != 0) {
		*err = "cannot create tap interface " + name +
		       (vnet_len != 0 ? " with IFF_VNET_HDR: " : ": ") + strerror(errno);
		return false;
	}
	snprintf(name_, sizeof(name_), "%s", ifr.ifr_name);
	if (vnet_len != 0) {
		int len = vnet_len;
		if (ioctl(fd_, TUNSETVNETHDRSZ, &len) != 0) {
			*err = std::string("tap interface ") + name_ + ": TUNSETVNETHDRSZ " +
			       std::to_string(vnet_len) + " failed: " + strerror(errno);
			return false;
		}
		unsigned int offload = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
		if (ioctl(fd_, TUNSETOFFLOAD, offload) != 0) {
			*err = std::string("tap interface ") + name_ +
			       ": TUNSETOFFLOAD (checksum, TSO4, TSO6) failed: " + strerror(errno);
			return false;
		}
	}
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		*err = std::string("socket: ") + strerror(errno);
		return false;
	}
	bool ok = true;
	if (mtu != 0) {
		ifreq m{};
		snprintf(m.ifr_name, sizeof(m.ifr_name), "%s", name_);
		m.ifr_mtu = mtu;
		if (ioctl(s, SIOCSIFMTU, &m) != 0)
			fprintf(stderr, "bsdtap-reader: %s: cannot set MTU %u: %s\n", name_, mtu,
				strerror(errno));
	}
	ifreq f{};
	snprintf(f.ifr_name, sizeof(f.ifr_name), "%s", name_);
	if (ioctl(s, SIOCGIFFLAGS, &f) == 0) {
		f.ifr_flags = static_cast<short>(f.ifr_flags | IFF_UP);
		ok = ioctl(s, SIOCSIFFLAGS, &f) == 0;
	} else {
		ok = false;
	}
	if (!ok)
		*err = std::string("cannot bring ") + name_ + " up: " + strerror(errno);
	::close(s);
	return ok;
}

} // namespace bsdtap_app

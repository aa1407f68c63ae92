/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BSDTAP_APP_LINUX_TAP_H
#define BSDTAP_APP_LINUX_TAP_H

/* A Linux tap interface (/dev/net/tun), the kernel's side of the bridge. */

#include <cstdint>
#include <string>

#include <net/if.h>

namespace bsdtap_app
{

class linux_tap
{
public:
	linux_tap() = default;
	linux_tap(const linux_tap &) = delete;
	linux_tap &operator=(const linux_tap &) = delete;
	~linux_tap();
	int fd() const { return fd_; }
	const char *name() const { return name_; }

	/* Creates the interface (its fd non-blocking), sets its MTU when mtu
	 * is not 0 and brings it up. vnet_len: 0, or the virtio-net header
	 * length (10 or 12) every read and write of the tap's fd then carries,
	 * with the checksum and TCP segmentation offloads on, so that the
	 * kernel hands over 64 KiB frames with partial checksums and takes
	 * them. */
	bool create(const std::string &name, uint16_t mtu, int vnet_len, std::string *err);

private:
	int fd_ = -1;
	char name_[IFNAMSIZ] = {};
};

} // namespace bsdtap_app

#endif

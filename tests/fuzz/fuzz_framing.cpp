/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the framing of the socket endpoint (bsdtap_framing.h).
 *
 * Input: one mode byte, then the mode's bytes.
 *   mode bit 0 = 0, stream: bytes 1-4 seed the split, the rest is what a
 *     client writes. The bytes reach a buffer of the pump's size in chunks,
 *     as recv() may return them (split anywhere: 1 byte up to 2^k bytes,
 *     k = mode bits 1-4), and are cut as the pump cuts them. The frames
 *     must be those of one plain reading of the whole input, the buffer must
 *     never fill without a whole frame in it (recv would return 0: a
 *     hang-up), and a bad prefix must end the stream where the reading ends.
 *     Mode bit 5: each frame carries a 12-byte vnet header
 *     (socket_vnet_hdr=12), so the limits are the header's and 64 KiB.
 *   mode bit 0 = 1, messages: records of a 2-byte big-endian length; each
 *     becomes one datagram of that many bytes, sent over a Unix dgram
 *     socket pair and received into an MRU-sized buffer as the pump does.
 *     The verdict must be: empty for 0 bytes, a frame of exactly the length
 *     up to the MRU, too long above it.
 */

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include <sys/socket.h>
#include <unistd.h>

#include "bsdtap_framing.h"

namespace
{

using bsdtap::stream_prefix_len;

[[noreturn]] void fail(const char *what)
{
	fprintf(stderr, "fuzz_framing: %s\n", what);
	abort();
}

struct frame_ref {
	size_t off; /* in the stream */
	size_t len;
	bool operator==(const frame_ref &o) const { return off == o.off && len == o.len; }
};

/* The framing read plainly, without the pump's buffer: frames up to the
 * first incomplete one or the first bad prefix (*bad). */
std::vector<frame_ref> read_plain(const uint8_t *s, size_t n, uint32_t vh, bool *bad)
{
	const uint32_t max = vh + (vh != 0 ? RTE_PMD_BSDTAP_GSO_MAX : RTE_PMD_BSDTAP_MRU);
	std::vector<frame_ref> out;
	size_t off = 0;
	*bad = false;
	while (n - off >= 4) {
		uint32_t len = (uint32_t{s[off]} << 24) | (uint32_t{s[off + 1]} << 16) |
			       (uint32_t{s[off + 2]} << 8) | uint32_t{s[off + 3]};
		if (len < vh + 14 || len > max) {
			*bad = true;
			break;
		}
		if (n - off - 4 < len)
			break;
		out.push_back({off + 4, len});
		off += 4 + len;
	}
	return out;
}

/* The pump's receive buffer (one, as the pump has one per endpoint). */
uint8_t g_buf[bsdtap::stream_rx_size];

void run_stream(uint8_t mode, const uint8_t *data, size_t size)
{
	if (size < 4)
		return;
	uint32_t seed;
	memcpy(&seed, data, 4);
	const uint8_t *s = data + 4;
	const size_t n = size - 4;
	const size_t max_chunk = size_t{1} << ((mode >> 1) & 15);
	const uint32_t vh = (mode & 0x20) != 0 ? 12 : 0;

	bool plain_bad;
	const std::vector<frame_ref> want = read_plain(s, n, vh, &plain_bad);

	std::vector<frame_ref> got;
	size_t fed = 0, held = 0, base = 0; /* base: stream offset of g_buf[0] */
	bool bad = false;
	while (fed < n && !bad) {
		seed = seed * 1103515245u + 12345u;
		size_t chunk = 1 + (seed >> 8) % max_chunk;
		const size_t room = sizeof(g_buf) - held;
		if (room == 0)
			fail("stream buffer full without a whole frame (recv would read 0 bytes)");
		chunk = std::min({chunk, room, n - fed});
		memcpy(g_buf + held, s + fed, chunk);
		fed += chunk;
		held += chunk;
		const bsdtap::stream_cut_result r = bsdtap::stream_cut(
		    g_buf, held,
		    [&](const uint8_t *f, size_t len) {
			    if (f < g_buf + stream_prefix_len || f + len > g_buf + held)
				    fail("frame outside the bytes held");
			    if (!bsdtap::stream_len_ok(static_cast<uint32_t>(len), vh))
				    fail("frame of a length the prefix check refuses");
			    got.push_back({base + static_cast<size_t>(f - g_buf), len});
		    },
		    vh);
		if (r.used > held)
			fail("more bytes used than held");
		if (r.bad) {
			if (bsdtap::stream_len_ok(r.bad_len, vh))
				fail("a good length reported bad");
			bad = true;
			break;
		}
		memmove(g_buf, g_buf + r.used, held - r.used);
		held -= r.used;
		base += r.used;
	}
	if (bad != plain_bad)
		fail("bad prefix found in one reading and not the other");
	if (got != want)
		fail("frames differ from the plain reading");
}

int g_sv[2] = {-1, -1};

void run_messages(const uint8_t *data, size_t size)
{
	static std::vector<uint8_t> out(65536), in(RTE_PMD_BSDTAP_MRU);
	for (size_t i = 0; i + 2 <= size; i += 2) {
		size_t len = (size_t{data[i]} << 8) | data[i + 1];
		memset(out.data(), static_cast<int>(len & 0xff), len);
		if (send(g_sv[0], out.data(), len, 0) != static_cast<ssize_t>(len))
			fail("send on the socket pair failed");
		struct iovec iov = {in.data(), in.size()};
		struct mmsghdr m = {};
		m.msg_hdr.msg_iov = &iov;
		m.msg_hdr.msg_iovlen = 1;
		if (recvmmsg(g_sv[1], &m, 1, MSG_DONTWAIT, nullptr) != 1)
			fail("recvmmsg on the socket pair failed");
		const bsdtap::msg_verdict v = bsdtap::msg_classify(m.msg_len, m.msg_hdr.msg_flags);
		if (len == 0 && v != bsdtap::msg_verdict::empty)
			fail("an empty message not classified empty");
		if (len > 0 && len <= RTE_PMD_BSDTAP_MRU &&
		    (v != bsdtap::msg_verdict::frame || m.msg_len != len))
			fail("a message up to the MRU not a frame of its length");
		if (len > RTE_PMD_BSDTAP_MRU && v != bsdtap::msg_verdict::too_long)
			fail("a message over the MRU not classified too long");
	}
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, g_sv) != 0)
		fail("socketpair");
	int sz = 1 << 20;
	setsockopt(g_sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(g_sv[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if ((data[0] & 1) == 0)
		run_stream(data[0], data + 1, size - 1);
	else
		run_messages(data + 1, size - 1);
	return 0;
}

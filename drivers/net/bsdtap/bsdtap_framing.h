/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BSDTAP_FRAMING_H
#define BSDTAP_FRAMING_H

/*
 * The framing rules of the socket endpoint, as pure functions: the pump
 * applies them to what its socket calls return, and the fuzz targets to
 * arbitrary bytes. No socket, no unit, no DPDK state.
 *
 *   stream     a 4-byte big-endian length, then that many bytes of frame;
 *              a length above the MRU or below an Ethernet header cannot
 *              be resynchronised (the client is dropped);
 *   seqpacket,
 *   dgram      one message is one frame; an empty message and a message
 *              the kernel truncated (longer than the MRU) are not frames.
 */

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <rte_ether.h>

#include "rte_pmd_bsdtap.h"

namespace bsdtap
{

/* Bytes of a stream frame's length prefix. */
constexpr size_t stream_prefix_len = 4;

/* The pump's stream receive buffer: many small frames per read, and always
 * room for one whole frame with its prefix. */
constexpr size_t stream_rx_size = 256 * 1024;
static_assert(stream_rx_size >= stream_prefix_len + RTE_PMD_BSDTAP_MRU);

/* What stream_cut() found in a buffer. */
struct stream_cut_result {
	size_t used;	  /* bytes of whole frames (prefixes included) at the start */
	unsigned frames;  /* whole frames found */
	bool bad;	  /* stopped at a length prefix out of range */
	uint32_t bad_len; /* that length */
};

/* A length prefix a stream frame may carry (with a vnet header of vh
 * bytes in front of each frame: its length counts, and a GSO frame may be
 * up to 64 KiB). */
constexpr bool stream_len_ok(uint32_t len, uint32_t vh = 0) noexcept
{
	return len >= vh + RTE_ETHER_HDR_LEN &&
	       len <= vh + (vh != 0 ? RTE_PMD_BSDTAP_GSO_MAX : RTE_PMD_BSDTAP_MRU);
}
static_assert(stream_rx_size >= stream_prefix_len + 12 + RTE_PMD_BSDTAP_GSO_MAX);

/* Cuts the whole frames off the start of buf[0, len): calls
 * frame(data, frame_len) for each, in order. Stops at the first incomplete
 * frame (its bytes are not used: they wait for more) or at a bad prefix. */
template <typename F>
stream_cut_result stream_cut(const uint8_t *buf, size_t len, F &&frame, uint32_t vh = 0) noexcept
{
	stream_cut_result r{0, 0, false, 0};
	while (len - r.used >= stream_prefix_len) {
		uint32_t be;
		memcpy(&be, buf + r.used, stream_prefix_len);
		uint32_t flen = ntohl(be);
		if (!stream_len_ok(flen, vh)) {
			r.bad = true;
			r.bad_len = flen;
			break;
		}
		if (len - r.used - stream_prefix_len < flen)
			break;
		frame(buf + r.used + stream_prefix_len, static_cast<size_t>(flen));
		r.used += stream_prefix_len + flen;
		r.frames++;
	}
	return r;
}

/* One received message of a seqpacket or dgram socket. */
enum class msg_verdict : uint8_t {
	frame,	 /* deliver len bytes */
	empty,	 /* no bytes: a hello, a hang-up or end of file, by socket type */
	too_long /* the kernel cut it at the MRU: dropped and counted (C22) */
};

/* len and flags as recvmmsg() reports them (msg_len, msg_flags). */
constexpr msg_verdict msg_classify(size_t len, int flags) noexcept
{
	if (len == 0)
		return msg_verdict::empty;
	if ((flags & MSG_TRUNC) != 0)
		return msg_verdict::too_long;
	return msg_verdict::frame;
}

} // namespace bsdtap

#endif

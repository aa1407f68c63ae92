/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BSDTAP_APP_PCAP_READ_H
#define BSDTAP_APP_PCAP_READ_H

/* The capture file reader of 'bsdtap-reader replay': a whole pcap or
 * pcapng file of Ethernet frames (libpcap reads both) into memory. */

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace bsdtap_app
{

struct frame_set {
	std::vector<uint8_t> data;
	std::vector<std::pair<size_t, uint32_t>> frames; /* offset, length */
	uint64_t skipped = 0;				 /* longer than the MRU */
	uint64_t empty = 0;				 /* records of no bytes: not frames */
	std::string cut; /* the last record was cut short: libpcap's words */
};

/* Loads the file at path ('-': standard input). false with *err set when it
 * cannot be read, is not Ethernet, or holds no frame to replay; a file cut
 * short in its last record keeps the complete records before it (fs->cut). */
bool load_capture(const std::string &path, frame_set *fs, std::string *err);

/* The same from an open stream, which it closes; name is used in messages. */
bool load_capture_stream(FILE *f, const std::string &name, frame_set *fs, std::string *err);

} // namespace bsdtap_app

#endif

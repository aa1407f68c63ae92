/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the capture file reader of bsdtap-reader replay
 * (app/bsdtap-reader/pcap_read.cpp). The input is the file, pcap or
 * pcapng, read from memory. A load that succeeds must hold frames that
 * replay can write: at least one, each of 1 to MRU bytes, inside the
 * loaded data; one that fails must say why.
 */

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "bsdtap-reader/pcap_read.h"
#include "rte_pmd_bsdtap.h"

namespace
{

[[noreturn]] void fail(const char *what)
{
	fprintf(stderr, "fuzz_pcap: %s\n", what);
	abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* fmemopen needs a buffer it may treat as its own. */
	std::vector<uint8_t> copy(data, data + size);
	FILE *f = fmemopen(copy.empty() ? nullptr : copy.data(), copy.size(), "rb");
	if (f == nullptr)
		return 0;
	bsdtap_app::frame_set fs;
	std::string err;
	if (!bsdtap_app::load_capture_stream(f, "fuzz", &fs, &err)) {
		if (err.empty())
			fail("a load refused without a reason");
		return 0;
	}
	if (fs.frames.empty())
		fail("a load accepted with no frame");
	size_t total = 0;
	for (const auto &fr : fs.frames) {
		if (fr.second == 0 || fr.second > RTE_PMD_BSDTAP_MRU)
			fail("a frame of 0 bytes or over the MRU");
		if (fr.first != total || fr.first + fr.second > fs.data.size())
			fail("a frame outside the loaded data");
		total += fr.second;
	}
	if (total != fs.data.size())
		fail("loaded data not all frames");
	return 0;
}

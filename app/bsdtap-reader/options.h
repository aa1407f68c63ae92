/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BSDTAP_APP_OPTIONS_H
#define BSDTAP_APP_OPTIONS_H

/* The program's own arguments (after "--"): the mode and its options. */

#include <cstdint>
#include <cstdio>
#include <string>

namespace bsdtap_app
{

/* The largest --burst: the modes' mbuf arrays are this long. */
constexpr unsigned max_burst = 512;

enum class run_mode { none, sink, echo, dump, replay, bridge };

struct options {
	run_mode mode = run_mode::none;
	std::string mode_name;
	std::string unit = "tap0";
	uint16_t queue = 0;
	double duration = 0; /* 0: until a signal */
	uint64_t count = 0;  /* 0: no limit */
	unsigned burst = 32;
	int cpu = -1; /* -1: the process's affinity */
	bool copy = false;
	bool exact_bytes = false;
	bool swap_mac = false;
	bool loop = false;
	bool quiet = false;
	int vnet_hdr_len = 0; /* bridge: 0 (no vnet header), 10 or 12 */
	double rate = 0;      /* 0: as fast as possible */
	std::string out, in, tap;
};

void print_usage(FILE *f);

/* Parses argv[0..argc) into *o. A usage error exits with status 2, --help
 * with 0 (after the usage text). */
void parse_app_args(int argc, char **argv, options *o);

} // namespace bsdtap_app

#endif

/* SPDX-License-Identifier: BSD-3-Clause */
#include "options.h"

#include <cerrno>
#include <cstdlib>

#include <net/if.h>
#include <sched.h>

namespace bsdtap_app
{

namespace
{

const char *const usage_text =
    "Usage: bsdtap-reader [EAL args] -- <mode> [--unit NAME] [--queue N] [options]\n"
    "\n"
    "The reader of a net_bsdtap unit, run as a DPDK secondary process beside the\n"
    "application (the primary) that owns the port. Pass the primary's --file-prefix\n"
    "among the EAL args.\n"
    "\n"
    "Modes:\n"
    "  sink                  read and count frames (zero-copy bursts)\n"
    "  echo                  write every frame read back to the application\n"
    "  dump --out FILE       write the frames read to FILE: pcap, or pcapng when FILE\n"
    "                        ends in .pcapng; '-' is standard output (pcap)\n"
    "  replay --in FILE      write the frames of a pcap or pcapng file into the unit\n"
    "  bridge --tap NAME     create Linux tap interface NAME and move frames both\n"
    "                        ways between it and the unit\n"
    "\n"
    "Options:\n"
    "  --unit NAME           unit interface name (tap0, the default) or ethdev name\n"
    "  --queue N             queue pair to open (default 0)\n"
    "  --duration SEC        stop after SEC seconds (default: run until SIGINT/SIGTERM)\n"
    "  --count N             stop after N frames (read, or written by replay)\n"
    "  --burst N             frames per burst, 1-512 (default 32)\n"
    "  --cpu N               run the worker thread on CPU N (default: any CPU allowed)\n"
    "  --copy                sink: copy each frame into a buffer of its own (bursts of\n"
    "                        --burst frames, rte_pmd_bsdtap_read_burst) instead of\n"
    "                        taking the mbufs\n"
    "  --exact-bytes         sink: add up each frame's length (a cache miss per frame)\n"
    "                        instead of taking the byte count from the port's counter\n"
    "                        of the queue (bytes the application queued for it)\n"
    "  --swap-mac            echo: swap the source and destination MAC addresses\n"
    "  --vnet-hdr            bridge: pass frames with their virtio-net header both\n"
    "                        ways (IFF_VNET_HDR on the tap, TAPSVNETHDR on the unit):\n"
    "                        checksum and TCP segmentation offloads, 64 KiB frames\n"
    "  --vnet-hdr-len N      bridge: the header's length, 10 or 12 (default 12;\n"
    "                        implies --vnet-hdr)\n"
    "  --rate PPS            replay: frames per second (default: as fast as possible)\n"
    "  --loop                replay: start the file again at its end\n"
    "  --quiet               no progress line\n"
    "  --help                this text\n"
    "\n"
    "EAL defaults, each added unless the EAL args already have that option:\n"
    "  --proc-type=secondary --log-level=error --no-pci -l <first CPU allowed>\n"
    "\n"
    "Once a second a progress line shows the frames moved so far, the rate over\n"
    "the last second in Mpps and Gbit/s (frame bytes), and the drops. On exit the\n"
    "totals. Exit status: 0 done, 1 run-time error, 2 usage error.\n";

[[noreturn]] void usage_error(const std::string &what)
{
	fprintf(stderr, "bsdtap-reader: %s\nTry 'bsdtap-reader -- --help'.\n", what.c_str());
	exit(2);
}

bool parse_uint(const char *s, uint64_t max, uint64_t *v)
{
	char *end = nullptr;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || x > max)
		return false;
	*v = x;
	return true;
}

bool parse_double(const char *s, double *v)
{
	char *end = nullptr;
	errno = 0;
	double x = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(x >= 0))
		return false;
	*v = x;
	return true;
}

} // namespace

void print_usage(FILE *f)
{
	fputs(usage_text, f);
}

void parse_app_args(int argc, char **argv, options *o)
{
	for (int i = 0; i < argc; i++) {
		std::string a = argv[i];
		auto value = [&]() -> const char * {
			if (i + 1 >= argc)
				usage_error(a + " needs a value");
			return argv[++i];
		};
		uint64_t u = 0;
		if (a == "--help" || a == "-h") {
			print_usage(stdout);
			exit(0);
		} else if (a == "--unit") {
			o->unit = value();
		} else if (a == "--queue") {
			if (!parse_uint(value(), UINT16_MAX, &u))
				usage_error(std::string("bad --queue: ") + argv[i]);
			o->queue = static_cast<uint16_t>(u);
		} else if (a == "--duration") {
			if (!parse_double(value(), &o->duration))
				usage_error(std::string("bad --duration: ") + argv[i]);
		} else if (a == "--count") {
			if (!parse_uint(value(), UINT64_MAX, &o->count))
				usage_error(std::string("bad --count: ") + argv[i]);
		} else if (a == "--burst") {
			if (!parse_uint(value(), max_burst, &u) || u == 0)
				usage_error(std::string("bad --burst (1-512): ") + argv[i]);
			o->burst = static_cast<unsigned>(u);
		} else if (a == "--cpu") {
			if (!parse_uint(value(), CPU_SETSIZE - 1, &u))
				usage_error(std::string("bad --cpu: ") + argv[i]);
			o->cpu = static_cast<int>(u);
		} else if (a == "--rate") {
			if (!parse_double(value(), &o->rate))
				usage_error(std::string("bad --rate: ") + argv[i]);
		} else if (a == "--out") {
			o->out = value();
		} else if (a == "--in") {
			o->in = value();
		} else if (a == "--tap") {
			o->tap = value();
		} else if (a == "--copy") {
			o->copy = true;
		} else if (a == "--exact-bytes") {
			o->exact_bytes = true;
		} else if (a == "--swap-mac") {
			o->swap_mac = true;
		} else if (a == "--loop") {
			o->loop = true;
		} else if (a == "--vnet-hdr") {
			if (o->vnet_hdr_len == 0)
				o->vnet_hdr_len = 12;
		} else if (a == "--vnet-hdr-len") {
			if (!parse_uint(value(), 12, &u) || (u != 10 && u != 12))
				usage_error(std::string("bad --vnet-hdr-len (10 or 12): ") +
					    argv[i]);
			o->vnet_hdr_len = static_cast<int>(u);
		} else if (a == "--quiet") {
			o->quiet = true;
		} else if (a.size() > 0 && a[0] == '-') {
			usage_error(std::string("unknown option ") + argv[i]);
		} else if (o->mode == run_mode::none) {
			o->mode_name = a;
			if (a == "sink")
				o->mode = run_mode::sink;
			else if (a == "echo")
				o->mode = run_mode::echo;
			else if (a == "dump")
				o->mode = run_mode::dump;
			else if (a == "replay")
				o->mode = run_mode::replay;
			else if (a == "bridge")
				o->mode = run_mode::bridge;
			else
				usage_error(std::string("unknown mode ") + argv[i] +
					    " (sink, echo, dump, replay, bridge)");
		} else {
			usage_error(std::string("unexpected argument ") + argv[i]);
		}
	}
	if (o->mode == run_mode::none)
		usage_error("no mode given (sink, echo, dump, replay, bridge)");
	if (o->mode == run_mode::dump && o->out.empty())
		usage_error("dump needs --out FILE");
	if (o->mode == run_mode::replay && o->in.empty())
		usage_error("replay needs --in FILE");
	if (o->mode == run_mode::bridge && (o->tap.empty() || o->tap.size() >= IFNAMSIZ))
		usage_error("bridge needs --tap NAME (at most 15 characters)");
	if (o->copy && o->mode != run_mode::sink)
		usage_error("--copy is a sink option");
	if (o->exact_bytes && (o->mode != run_mode::sink || o->copy))
		usage_error("--exact-bytes is an option of the zero-copy sink");
	if (o->swap_mac && o->mode != run_mode::echo)
		usage_error("--swap-mac is an echo option");
	if (o->vnet_hdr_len != 0 && o->mode != run_mode::bridge)
		usage_error("--vnet-hdr and --vnet-hdr-len are bridge options");
	if ((o->loop || o->rate > 0) && o->mode != run_mode::replay)
		usage_error("--rate and --loop are replay options");
}

} // namespace bsdtap_app

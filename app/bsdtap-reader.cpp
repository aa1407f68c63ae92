/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bsdtap-reader: the reader of a net_bsdtap unit as a program of its own.
 *
 *   bsdtap-reader [EAL args] -- <mode> --unit tap0 [--queue N] [options]
 *
 * It is a DPDK secondary process: the application that owns the port (for
 * example dpdk-testpmd) is the primary, and this program opens one queue of
 * one of its units with the reader API, as a process opens /dev/tapN.
 *
 * Threads: the main thread initialises EAL, prints the progress line once a
 * second and handles signals; the worker thread opens the unit, moves the
 * frames and closes the unit. The worker is not an EAL thread on purpose:
 * its mbuf frees and allocations then bypass the per-lcore mempool caches,
 * which belong to the primary's lcores (lcore ids of different processes
 * may be equal, and two threads must never share a cache).
 */

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include <rte_cycles.h>

#include "rte_pmd_bsdtap.hpp"

#include "bsdtap-reader/pcap_read.h"

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

constexpr unsigned max_burst = 512;
constexpr size_t frame_buf_len = 65536;

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

/* Progress and totals go to standard output, unless the dump does. */
FILE *msg = stdout;

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
			fputs(usage_text, stdout);
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

/* ------------------------------------------------------------------ EAL */

bool has_opt(const std::vector<std::string> &args, std::initializer_list<const char *> names)
{
	for (const std::string &a : args)
		for (const char *n : names) {
			size_t len = strlen(n);
			/* "--opt", "--opt=value", and short options glued to a value ("-l0"). */
			if (a.compare(0, len, n) == 0 &&
			    (a.size() == len || a[len] == '=' || (n[1] != '-')))
				return true;
		}
	return false;
}

std::string opt_value(const std::vector<std::string> &args, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < args.size(); i++) {
		if (args[i] == name && i + 1 < args.size())
			return args[i + 1];
		if (args[i].compare(0, len, name) == 0 && args[i].size() > len &&
		    args[i][len] == '=')
			return args[i].substr(len + 1);
	}
	return "";
}

/* EAL's runtime directory rule (eal_create_runtime_dir): the config file a
 * running primary holds locked. */
std::string primary_config_path(const std::string &prefix)
{
	std::string dir = "/var/run";
	if (getuid() != 0) {
		const char *xdg = getenv("XDG_RUNTIME_DIR");
		dir = xdg != nullptr ? xdg : P_tmpdir;
	}
	return dir + "/dpdk/" + prefix + "/config";
}

/* -------------------------------------------------------------- counters */

/* One writer (the worker), read by the main thread: relaxed loads and stores. */
struct counter {
	std::atomic<uint64_t> v{0};
	void add(uint64_t n)
	{
		v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
	}
	uint64_t get() const { return v.load(std::memory_order_relaxed); }
};

struct totals {
	counter rd_frames, rd_bytes; /* taken from the devq: what the application sent */
	counter wr_frames, wr_bytes; /* given to the inq: what the application receives */
	counter local_drops;	     /* frames this program had to drop */
	counter dumped;		     /* dump: frames wholly written to the file */
};

totals g_tot;
std::atomic<bool> g_stop{false};
pthread_t g_main_thread;

std::atomic<bool> g_gone{false}; /* the worker saw the unit go away */

/* The port's drop counters, and the bytes queued on the reader's queue. */
struct port_drops {
	uint64_t devq_full = 0, inq_full = 0, nombuf = 0;
	uint64_t queue_bytes = 0;
};

/*
 * The port's counters, read with rte_eth_stats_get(). In a secondary
 * process an ethdev call on a port the primary has closed runs the driver
 * on freed data, so look first: once the worker saw the unit go, or the
 * port's name in the shared ethdev data changed (the primary zeroes it on
 * release), keep the last values read.
 */
class port_stats
{
public:
	void attach(int port, uint16_t queue)
	{
		port_ = port;
		queue_ = queue;
		if (port < 0 ||
		    rte_eth_dev_get_name_by_port(static_cast<uint16_t>(port), name_) != 0)
			port_ = -1;
		/* The queue's own byte count is an xstat: rte_eth_stats lost its
		 * per-queue arrays in DPDK 25.11. */
		char xname[RTE_ETH_XSTATS_NAME_SIZE];
		snprintf(xname, sizeof(xname), "tx_q%u_bytes", queue);
		have_qbytes_ =
		    port_ >= 0 && rte_eth_xstats_get_id_by_name(static_cast<uint16_t>(port_), xname,
								&qbytes_id_) == 0;
		read();
		acc_ = port_drops{};
	}
	/* Since attach(). */
	port_drops drops()
	{
		read();
		return acc_;
	}

private:
	/* The application may reset its stats: a counter that went back restarted at 0. */
	static void advance(uint64_t now, uint64_t *prev, uint64_t *acc)
	{
		*acc += now >= *prev ? now - *prev : now;
		*prev = now;
	}

	void read()
	{
		char now[RTE_ETH_NAME_MAX_LEN];
		rte_eth_stats st;
		if (port_ < 0 || g_gone.load() ||
		    rte_eth_dev_get_name_by_port(static_cast<uint16_t>(port_), now) != 0 ||
		    strcmp(now, name_) != 0 ||
		    rte_eth_stats_get(static_cast<uint16_t>(port_), &st) != 0)
			return;
		advance(st.oerrors, &prev_.devq_full, &acc_.devq_full);
		advance(st.imissed, &prev_.inq_full, &acc_.inq_full);
		advance(st.rx_nombuf, &prev_.nombuf, &acc_.nombuf);
		uint64_t qbytes;
		if (have_qbytes_ && rte_eth_xstats_get_by_id(static_cast<uint16_t>(port_),
							     &qbytes_id_, &qbytes, 1) == 1)
			advance(qbytes, &prev_.queue_bytes, &acc_.queue_bytes);
	}

	int port_ = -1;
	bool have_qbytes_ = false;
	uint64_t qbytes_id_ = 0;
	uint16_t queue_ = 0;
	char name_[RTE_ETH_NAME_MAX_LEN] = "";
	port_drops prev_, acc_;
};

double now_s()
{
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

/* ------------------------------------------------------------ the modes */

/* What the worker ran into. */
enum class end_t { stopped, gone, finished, failed };

struct worker_ctx {
	const options *o;
	rte::bsdtap::reader *r;
	std::string error; /* set with end_t::failed */
};

/* Frames handled so far: read plus written, an echoed frame counting once. */
uint64_t handled(const options &o)
{
	return g_tot.rd_frames.get() + (o.mode == run_mode::echo ? 0 : g_tot.wr_frames.get());
}

/*
 * Bytes read. The zero-copy sink does not touch the frames, so it takes them
 * from the port's byte counter of its queue: what the application queued for
 * it (frames still in the devq at exit, or purged, are in it).
 */
bool bytes_from_port(const options &o)
{
	return o.mode == run_mode::sink && !o.copy && !o.exact_bytes;
}

uint64_t read_bytes(const options &o, port_stats *ps)
{
	return bytes_from_port(o) ? ps->drops().queue_bytes : g_tot.rd_bytes.get();
}

bool count_reached(const options &o)
{
	return o.count != 0 && handled(o) >= o.count;
}

/* Idle polling before sleeping, in microseconds. */
constexpr uint64_t idle_spin_us = 50;

/* Nothing to do: poll on for a short while (no syscall, no PAUSE: the next
 * burst of a loaded generator is microseconds away, and a reader that
 * sleeps makes the generator pay a wakeup per burst), then sleep in
 * rte_pmd_bsdtap_wait(); false when the unit is gone. The idle period is
 * the time since the last frame handled: empty polls between bursts of a
 * busy generator must not add up to a sleep. */
bool idle_wait(rte::bsdtap::reader &r)
{
	static thread_local uint64_t idle_since, seen;
	static thread_local bool timed_out; /* the last sleep ended with nothing */
	const uint64_t spin = rte_get_tsc_hz() / 1000000 * idle_spin_us;
	const uint64_t progress =
	    g_tot.rd_frames.get() + g_tot.wr_frames.get() + g_tot.local_drops.get();
	uint64_t now = rte_get_tsc_cycles();
	if (progress != seen) {
		timed_out = false;
		idle_since = now;
		seen = progress;
	}
	if (idle_since == 0)
		idle_since = now;
	/* After a sleep that timed out there is nothing to poll for: sleep on
	 * (the timeout is only there to look at the stop flag). */
	if (!timed_out && now - idle_since < spin)
		return true;
	idle_since = 0;
	int w = r.wait(100);
	timed_out = w == 0;
	return w != -EHOSTDOWN;
}

uint16_t want(const options &o, uint64_t done)
{
	if (o.count == 0)
		return static_cast<uint16_t>(o.burst);
	uint64_t left = o.count > done ? o.count - done : 0;
	return static_cast<uint16_t>(std::min<uint64_t>(left, o.burst));
}

end_t run_sink(worker_ctx &c)
{
	const options &o = *c.o;
	rte::bsdtap::reader &r = *c.r;
	if (o.copy) {
		int nb = 1;
		r.ioctl(RTE_PMD_BSDTAP_FIONBIO, &nb);
		/* One buffer per frame of a burst: copied out in one call. The
		 * stride is off a power of two by a cache line so that the starts
		 * of the buffers do not all fall in one cache set. */
		constexpr size_t stride = RTE_PMD_BSDTAP_MRU + RTE_CACHE_LINE_SIZE;
		std::vector<char> buf(size_t{o.burst} * stride);
		std::vector<iovec> iov(o.burst);
		std::vector<size_t> lens(o.burst);
		for (unsigned i = 0; i < o.burst; i++) {
			iov[i].iov_base = buf.data() + size_t{i} * stride;
			iov[i].iov_len = RTE_PMD_BSDTAP_MRU;
		}
		while (!g_stop.load(std::memory_order_relaxed) && !count_reached(o)) {
			int n =
			    r.read_burst(iov.data(), lens.data(), want(o, g_tot.rd_frames.get()));
			if (n >= 0) {
				uint64_t bytes = 0;
				for (int i = 0; i < n; i++)
					bytes += lens[i];
				g_tot.rd_frames.add(static_cast<uint64_t>(n));
				g_tot.rd_bytes.add(bytes);
			} else if (rte_errno == EAGAIN) {
				if (!idle_wait(r))
					return end_t::gone;
			} else if (rte_errno == EHOSTDOWN) {
				return end_t::gone;
			} else if (rte_errno != EINTR) {
				c.error = std::string("read: ") + rte_strerror(rte_errno);
				return end_t::failed;
			}
		}
		return g_stop ? end_t::stopped : end_t::finished;
	}
	rte_mbuf *pkts[max_burst];
	while (!g_stop.load(std::memory_order_relaxed) && !count_reached(o)) {
		uint16_t n = r.recv_burst(pkts, want(o, g_tot.rd_frames.get()));
		if (n == 0) {
			if (!idle_wait(r))
				return end_t::gone;
			continue;
		}
		if (o.exact_bytes) {
			uint64_t bytes = 0;
			for (uint16_t i = 0; i < n; i++)
				bytes += pkts[i]->pkt_len;
			g_tot.rd_bytes.add(bytes);
		}
		/* Handed back: the primary's tx lcore frees them into its cache,
		 * and this core never loads their headers. */
		r.free_burst(pkts, n);
		g_tot.rd_frames.add(n);
	}
	return g_stop ? end_t::stopped : end_t::finished;
}

end_t run_echo(worker_ctx &c)
{
	const options &o = *c.o;
	rte::bsdtap::reader &r = *c.r;
	rte_mbuf *pkts[max_burst];
	while (!g_stop.load(std::memory_order_relaxed) && !count_reached(o)) {
		uint16_t n = r.recv_burst(pkts, want(o, g_tot.rd_frames.get()));
		if (n == 0) {
			if (!idle_wait(r))
				return end_t::gone;
			continue;
		}
		uint64_t bytes = 0;
		for (uint16_t i = 0; i < n; i++) {
			rte_mbuf *m = pkts[i];
			bytes += m->pkt_len;
			if (o.swap_mac && m->data_len >= sizeof(rte_ether_hdr)) {
				auto *eh = rte_pktmbuf_mtod(m, rte_ether_hdr *);
				rte_ether_addr tmp = eh->dst_addr;
				eh->dst_addr = eh->src_addr;
				eh->src_addr = tmp;
			}
		}
		g_tot.rd_frames.add(n);
		g_tot.rd_bytes.add(bytes);
		uint16_t sent = r.send_burst(pkts, n);
		uint64_t sent_bytes = 0;
		for (uint16_t i = sent; i < n; i++)
			sent_bytes += pkts[i]->pkt_len;
		sent_bytes = bytes - sent_bytes;
		if (sent < n) {
			/* The inq is full: drop, as a tap whose input queue is full does. */
			rte_pktmbuf_free_bulk(pkts + sent, n - sent);
			g_tot.local_drops.add(n - sent);
		}
		g_tot.wr_frames.add(sent);
		g_tot.wr_bytes.add(sent_bytes);
	}
	return g_stop ? end_t::stopped : end_t::finished;
}

/* ------------------------------------------------------- dump: pcap(ng) */

/*
 * A capture file, pcap or pcapng, written through a buffer of its own with
 * write(2), so that every error is seen (libpcap's dumper and stdio keep
 * them to themselves) and the count of frames actually in the file is
 * exact: a frame counts once all its bytes are written. On an error the
 * file (when it is a regular one) is cut back to its last whole frame, so
 * it stays a readable capture of what was counted.
 */
class capture_file
{
public:
	~capture_file() { close(); }

	bool open(const std::string &path, const std::string &ifname, std::string *err)
	{
		path_ = path;
		ng_ = path.size() > 7 && path.compare(path.size() - 7, 7, ".pcapng") == 0;
		if (path == "-") {
			fd_ = STDOUT_FILENO;
		} else {
			fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
			if (fd_ < 0) {
				*err = path + ": " + strerror(errno);
				return false;
			}
			own_ = true;
		}
		struct stat st;
		regular_ = fstat(fd_, &st) == 0 && S_ISREG(st.st_mode);
		if (ng_) {
			write_shb();
			write_idb(ifname);
		} else {
			write_pcap_header();
		}
		head_ = buf_.size(); /* not a frame: counted in no record */
		if (!flush()) {
			*err = error_text();
			return false;
		}
		return true;
	}

	bool write(const timespec &ts, const uint8_t *data, uint32_t caplen, uint32_t len)
	{
		if (!ng_) {
			/* pcap record header: seconds, microseconds, caplen, len. */
			uint32_t hdr[4] = {static_cast<uint32_t>(ts.tv_sec),
					   static_cast<uint32_t>(ts.tv_nsec / 1000), caplen, len};
			append(buf_, hdr, sizeof(hdr));
			append(buf_, data, caplen);
		} else {
			/* Enhanced Packet Block, timestamps in nanoseconds (if_tsresol 9). */
			uint64_t t = static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL +
				     static_cast<uint64_t>(ts.tv_nsec);
			uint32_t padded = (caplen + 3) & ~3u;
			uint32_t total = 32 + padded;
			uint32_t hdr[7] = {6,
					   total,
					   0,
					   static_cast<uint32_t>(t >> 32),
					   static_cast<uint32_t>(t),
					   caplen,
					   len};
			static const uint8_t zero[4] = {};
			append(buf_, hdr, sizeof(hdr));
			append(buf_, data, caplen);
			append(buf_, zero, padded - caplen);
			append(buf_, &total, 4);
		}
		ends_.push_back(buf_.size());
		return buf_.size() < flush_at || flush();
	}

	/* Writes what is buffered; false (errno kept) on an error. */
	bool flush()
	{
		size_t done = 0;
		while (done < buf_.size() && err_ == 0) {
			ssize_t w = ::write(fd_, buf_.data() + done, buf_.size() - done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				err_ = w < 0 ? errno : EIO;
			else
				done += static_cast<size_t>(w);
		}
		/* Frames whose every byte is in the file. */
		size_t whole = head_;
		size_t k = 0;
		while (k < ends_.size() && ends_[k] <= done)
			whole = ends_[k++];
		frames_ += k;
		if (err_ != 0 && regular_ && done > whole)
			RTE_SET_USED(ftruncate(fd_, static_cast<off_t>(written_ + whole)));
		written_ += err_ != 0 ? whole : done;
		buf_.clear();
		ends_.clear();
		head_ = 0;
		return err_ == 0;
	}

	bool close()
	{
		if (fd_ < 0)
			return err_ == 0;
		bool ok = flush();
		if (own_ && ::close(fd_) != 0 && ok) {
			err_ = errno;
			ok = false;
		}
		fd_ = -1;
		return ok;
	}

	/* Frames in the file. */
	uint64_t frames() const { return frames_; }
	std::string error_text() const
	{
		return path_ + ": write failed after " + std::to_string(frames_) +
		       " frames: " + strerror(err_);
	}

	static constexpr uint32_t snaplen = 65535;

private:
	/* Written in one write(2) once this much is buffered. */
	static constexpr size_t flush_at = 256 * 1024;

	void write_pcap_header()
	{
		const uint32_t magic = 0xa1b2c3d4; /* microsecond timestamps */
		const uint16_t version[2] = {2, 4};
		const uint32_t rest[4] = {0 /* thiszone */, 0 /* sigfigs */, snaplen,
					  1 /* LINKTYPE_ETHERNET */};
		append(buf_, &magic, 4);
		append(buf_, version, 4);
		append(buf_, rest, sizeof(rest));
	}

	static void append(std::vector<uint8_t> &b, const void *p, size_t n)
	{
		if (n == 0)
			return;
		size_t at = b.size();
		b.resize(at + n);
		memcpy(b.data() + at, p, n);
	}

	/* A pcapng option: code, length, value padded to 32 bits. */
	static void add_opt(std::vector<uint8_t> &b, uint16_t code, const void *v, uint16_t len)
	{
		append(b, &code, 2);
		append(b, &len, 2);
		append(b, v, len);
		b.resize((b.size() + 3) & ~static_cast<size_t>(3), 0);
	}

	void write_block(uint32_t type, const std::vector<uint8_t> &body)
	{
		uint32_t total = static_cast<uint32_t>(12 + body.size());
		append(buf_, &type, 4);
		append(buf_, &total, 4);
		append(buf_, body.data(), body.size());
		append(buf_, &total, 4);
	}

	/* Section Header Block, in this machine's byte order (the magic says which). */
	void write_shb()
	{
		std::vector<uint8_t> b;
		const uint32_t magic = 0x1A2B3C4D;
		const uint16_t version[2] = {1, 0};
		const int64_t section_len = -1; /* not given */
		append(b, &magic, 4);
		append(b, version, 4);
		append(b, &section_len, 8);
		static const char app[] = "bsdtap-reader";
		add_opt(b, 4 /* shb_userappl */, app, sizeof(app) - 1);
		add_opt(b, 0 /* opt_endofopt */, nullptr, 0);
		write_block(0x0A0D0D0A, b);
	}

	/* Interface Description Block: Ethernet, named after the unit, ns timestamps. */
	void write_idb(const std::string &ifname)
	{
		std::vector<uint8_t> b;
		const uint16_t linktype[2] = {1 /* LINKTYPE_ETHERNET */, 0};
		const uint32_t snap = snaplen;
		append(b, linktype, 4);
		append(b, &snap, 4);
		add_opt(b, 2 /* if_name */, ifname.data(), static_cast<uint16_t>(ifname.size()));
		const uint8_t tsresol = 9;
		add_opt(b, 9 /* if_tsresol */, &tsresol, 1);
		add_opt(b, 0 /* opt_endofopt */, nullptr, 0);
		write_block(1, b);
	}

	std::string path_;
	bool ng_ = false;
	int fd_ = -1;
	bool own_ = false;     /* opened here (not standard output): closed here */
	bool regular_ = false; /* a regular file: cut back to whole frames on an error */
	int err_ = 0;
	std::vector<uint8_t> buf_;
	std::vector<size_t> ends_; /* where each buffered frame ends in buf_ */
	size_t head_ = 0;	   /* bytes of buf_ that are the file's header */
	uint64_t frames_ = 0;	   /* frames wholly written */
	uint64_t written_ = 0;	   /* bytes in the file */
};

end_t run_dump(worker_ctx &c)
{
	const options &o = *c.o;
	rte::bsdtap::reader &r = *c.r;
	capture_file file;
	if (!file.open(o.out, o.unit, &c.error))
		return end_t::failed;
	std::vector<uint8_t> buf(capture_file::snaplen);
	rte_mbuf *pkts[max_burst];
	end_t end = end_t::stopped;
	while (!g_stop.load(std::memory_order_relaxed)) {
		if (count_reached(o)) {
			end = end_t::finished;
			break;
		}
		uint16_t n = r.recv_burst(pkts, want(o, g_tot.rd_frames.get()));
		if (n == 0) {
			if (!idle_wait(r)) {
				end = end_t::gone;
				break;
			}
			continue;
		}
		timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t bytes = 0;
		bool ok = true;
		for (uint16_t i = 0; i < n && ok; i++) {
			const rte_mbuf *m = pkts[i];
			uint32_t caplen = std::min<uint32_t>(m->pkt_len, capture_file::snaplen);
			const auto *p = static_cast<const uint8_t *>(
			    rte_pktmbuf_read(m, 0, caplen, buf.data()));
			ok = p != nullptr && file.write(ts, p, caplen, m->pkt_len);
			bytes += m->pkt_len;
		}
		rte_pktmbuf_free_bulk(pkts, n);
		g_tot.rd_frames.add(n);
		g_tot.rd_bytes.add(bytes);
		if (!ok)
			break;
	}
	bool ok = file.close();
	g_tot.dumped.add(file.frames());
	if (!ok) {
		c.error = file.error_text();
		end = end_t::failed;
	}
	return end;
}

/* ------------------------------------------------------------- replay */

using bsdtap_app::frame_set;
using bsdtap_app::load_capture;

/* Loaded before EAL starts, so that a bad file fails early. */
frame_set g_replay;

void sleep_until(double t)
{
	double d = t - now_s();
	if (d <= 0)
		return;
	d = std::min(d, 0.1); /* look at the stop flag at least every 100 ms */
	timespec ts;
	ts.tv_sec = static_cast<time_t>(d);
	ts.tv_nsec = static_cast<long>((d - static_cast<double>(ts.tv_sec)) * 1e9);
	nanosleep(&ts, nullptr);
}

end_t run_replay(worker_ctx &c)
{
	const options &o = *c.o;
	rte::bsdtap::reader &r = *c.r;
	const frame_set &fs = g_replay;
	size_t next = 0;
	uint64_t sent = 0; /* frames attempted, for the rate */
	double t0 = now_s();
	while (!g_stop.load(std::memory_order_relaxed)) {
		if (count_reached(o))
			return end_t::finished;
		uint64_t n = want(o, g_tot.wr_frames.get());
		if (o.rate > 0) {
			/* Frame k is due at t0 + k / rate: send what is due, up to a burst. */
			uint64_t due = static_cast<uint64_t>((now_s() - t0) * o.rate) + 1;
			if (due <= sent) {
				sleep_until(t0 + static_cast<double>(sent) / o.rate);
				continue;
			}
			n = std::min<uint64_t>(n, due - sent);
		}
		for (uint64_t i = 0; i < n; i++) {
			if (next == fs.frames.size()) {
				if (!o.loop)
					return end_t::finished;
				next = 0;
			}
			const auto &f = fs.frames[next++];
			sent++;
			ssize_t w = r.write(fs.data.data() + f.first, f.second);
			if (w >= 0) {
				g_tot.wr_frames.add(1);
				g_tot.wr_bytes.add(f.second);
			} else if (rte_errno == EHOSTDOWN) {
				return end_t::gone;
			} else if (rte_errno != ENOBUFS) {
				/* ENOBUFS is in the port's rx_nombuf already. */
				g_tot.local_drops.add(1);
			}
		}
		if (next == fs.frames.size() && !o.loop)
			return end_t::finished;
	}
	return end_t::stopped;
}

/* ------------------------------------------------------------- bridge */

class linux_tap
{
public:
	~linux_tap()
	{
		if (fd_ >= 0)
			::close(fd_);
	}
	int fd() const { return fd_; }
	const char *name() const { return name_; }

	/* vnet_len: 0, or the virtio-net header length (10 or 12) every read
	 * and write of the tap's fd then carries, with the checksum and TCP
	 * segmentation offloads on, so that the kernel hands over 64 KiB
	 * frames with partial checksums and takes them. */
	bool create(const std::string &name, uint16_t mtu, int vnet_len, std::string *err)
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
				*err = std::string("tap interface ") + name_ +
				       ": TUNSETVNETHDRSZ " + std::to_string(vnet_len) +
				       " failed: " + strerror(errno);
				return false;
			}
			unsigned int offload = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
			if (ioctl(fd_, TUNSETOFFLOAD, offload) != 0) {
				*err = std::string("tap interface ") + name_ +
				       ": TUNSETOFFLOAD (checksum, TSO4, TSO6) failed: " +
				       strerror(errno);
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
				fprintf(stderr, "bsdtap-reader: %s: cannot set MTU %u: %s\n", name_,
					mtu, strerror(errno));
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

private:
	int fd_ = -1;
	char name_[IFNAMSIZ] = {};
};

/* The plain bridge: one frame per read and write each way, no header. */
end_t bridge_plain(worker_ctx &c, linux_tap &tap)
{
	const options &o = *c.o;
	rte::bsdtap::reader &r = *c.r;
	int ufd = r.fd();
	std::vector<uint8_t> buf(frame_buf_len);
	rte_mbuf *pkts[max_burst];
	while (!g_stop.load(std::memory_order_relaxed) && !count_reached(o)) {
		pollfd p[2] = {{ufd, POLLIN, 0}, {tap.fd(), POLLIN, 0}};
		int n = poll(p, 2, 100);
		if (n < 0 && errno != EINTR) {
			c.error = std::string("poll: ") + strerror(errno);
			return end_t::failed;
		}
		if (n <= 0)
			continue;
		if ((p[0].revents & POLLIN) != 0) {
			/* The application to the kernel. */
			uint16_t k = r.recv_burst(pkts, static_cast<uint16_t>(o.burst));
			if (k == 0 && r.wait(0) == -EHOSTDOWN)
				return end_t::gone;
			uint64_t bytes = 0;
			for (uint16_t i = 0; i < k; i++) {
				const rte_mbuf *m = pkts[i];
				const void *d = m->pkt_len <= buf.size()
						    ? rte_pktmbuf_read(m, 0, m->pkt_len, buf.data())
						    : nullptr;
				if (d == nullptr || ::write(tap.fd(), d, m->pkt_len) < 0)
					g_tot.local_drops.add(1); /* the tap is down, or full */
				bytes += m->pkt_len;
			}
			rte_pktmbuf_free_bulk(pkts, k);
			g_tot.rd_frames.add(k);
			g_tot.rd_bytes.add(bytes);
		}
		if ((p[1].revents & (POLLERR | POLLHUP)) != 0) {
			c.error = std::string("tap interface ") + tap.name() + " failed";
			return end_t::failed;
		}
		if ((p[1].revents & POLLIN) != 0) {
			/* The kernel to the application: up to a burst, then look again. */
			for (unsigned i = 0; i < o.burst; i++) {
				ssize_t len = ::read(tap.fd(), buf.data(), buf.size());
				if (len < 0)
					break; /* EAGAIN: drained */
				ssize_t w = r.write(buf.data(), static_cast<size_t>(len));
				if (w >= 0) {
					g_tot.wr_frames.add(1);
					g_tot.wr_bytes.add(static_cast<uint64_t>(len));
				} else if (rte_errno == EHOSTDOWN) {
					return end_t::gone;
				} else if (rte_errno != ENOBUFS) {
					g_tot.local_drops.add(1); /* EIO: longer than the MRU */
				}
			}
		}
	}
	return g_stop ? end_t::stopped : end_t::finished;
}

/*
 * The vnet-header bridge: each read of either side gives the header and the
 * frame, each write takes them, so the header passes unchanged both ways
 * (the kernel's checksum and segmentation requests reach the application,
 * and the application's reach the kernel). The unit side uses the copying
 * read (rte_pmd_bsdtap_read_burst), which puts the header in front of the
 * frame: the buffer goes to the tap's write() as it is. Byte counts are
 * frame bytes, without the header.
 */
end_t bridge_vnet(worker_ctx &c, linux_tap &tap)
{
	const options &o = *c.o;
	rte::bsdtap::reader &r = *c.r;
	const size_t hlen = static_cast<size_t>(o.vnet_hdr_len);
	const size_t slot = RTE_PMD_BSDTAP_GSO_MAX + hlen;
	int ufd = r.fd();
	/* A burst of slots for the unit's reads, one more for the tap's. */
	std::vector<uint8_t> buf(slot * (o.burst + 1));
	std::vector<iovec> iov(o.burst);
	std::vector<size_t> lens(o.burst);
	for (unsigned i = 0; i < o.burst; i++)
		iov[i] = {buf.data() + slot * i, slot};
	uint8_t *tbuf = buf.data() + slot * o.burst;
	while (!g_stop.load(std::memory_order_relaxed) && !count_reached(o)) {
		pollfd p[2] = {{ufd, POLLIN, 0}, {tap.fd(), POLLIN, 0}};
		int n = poll(p, 2, 100);
		if (n < 0 && errno != EINTR) {
			c.error = std::string("poll: ") + strerror(errno);
			return end_t::failed;
		}
		if (n <= 0)
			continue;
		if ((p[0].revents & POLLIN) != 0) {
			/* The application to the kernel. The fd is readable: the
			 * burst read does not sleep. */
			int k =
			    r.read_burst(iov.data(), lens.data(), static_cast<uint16_t>(o.burst));
			if (k < 0 && rte_errno == EHOSTDOWN)
				return end_t::gone;
			uint64_t bytes = 0;
			for (int i = 0; i < k; i++) {
				if (lens[i] < hlen ||
				    ::write(tap.fd(), iov[i].iov_base, lens[i]) < 0)
					g_tot.local_drops.add(1); /* the tap is down, full, or
								     refused the header */
				bytes += lens[i] >= hlen ? lens[i] - hlen : 0;
			}
			if (k > 0) {
				g_tot.rd_frames.add(static_cast<uint64_t>(k));
				g_tot.rd_bytes.add(bytes);
			}
		}
		if ((p[1].revents & (POLLERR | POLLHUP)) != 0) {
			c.error = std::string("tap interface ") + tap.name() + " failed";
			return end_t::failed;
		}
		if ((p[1].revents & POLLIN) != 0) {
			/* The kernel to the application: up to a burst, then look again. */
			for (unsigned i = 0; i < o.burst; i++) {
				ssize_t len = ::read(tap.fd(), tbuf, slot);
				if (len < 0)
					break; /* EAGAIN: drained */
				ssize_t w = r.write(tbuf, static_cast<size_t>(len));
				if (w >= 0) {
					g_tot.wr_frames.add(1);
					g_tot.wr_bytes.add(static_cast<uint64_t>(len) - hlen);
				} else if (rte_errno == EHOSTDOWN) {
					return end_t::gone;
				} else if (rte_errno != ENOBUFS) {
					g_tot.local_drops.add(1); /* EIO, EINVAL: a header or
								     length the unit refused */
				}
			}
		}
	}
	return g_stop ? end_t::stopped : end_t::finished;
}

/* TAPSVNETHDR on the unit: every queue's reads and writes carry the header. */
bool set_unit_vnet_hdr(worker_ctx &c)
{
	const options &o = *c.o;
	int len = o.vnet_hdr_len;
	int rc = c.r->ioctl(RTE_PMD_BSDTAP_TAPSVNETHDR, &len);
	if (rc != 0) {
		c.error =
		    o.unit + ": the driver refused TAPSVNETHDR " + std::to_string(o.vnet_hdr_len) +
		    " (the vnet-header mode): " + strerror(-rc) +
		    (rc == -ENOTTY ? " (this build of the driver has no vnet-header mode)" : "");
		return false;
	}
	int got = -1;
	rc = c.r->ioctl(RTE_PMD_BSDTAP_TAPGVNETHDR, &got);
	if (rc != 0 || got != o.vnet_hdr_len) {
		c.error = o.unit + ": TAPGVNETHDR after TAPSVNETHDR " +
			  std::to_string(o.vnet_hdr_len) + " gave " +
			  (rc != 0 ? std::string(strerror(-rc)) : std::to_string(got));
		return false;
	}
	return true;
}

end_t run_bridge(worker_ctx &c)
{
	const options &o = *c.o;
	rte::bsdtap::reader &r = *c.r;
	rte_pmd_bsdtap_info info{};
	r.ioctl(RTE_PMD_BSDTAP_TAPGIFINFO, &info);
	/* The unit first: a driver without the mode fails before a tap exists. */
	if (o.vnet_hdr_len != 0 && !set_unit_vnet_hdr(c))
		return end_t::failed;
	linux_tap tap;
	end_t end = end_t::failed;
	if (tap.create(o.tap, info.mtu, o.vnet_hdr_len, &c.error)) {
		fprintf(msg, "bridge: tap interface %s <-> %s queue %u (MTU %u", tap.name(),
			o.unit.c_str(), o.queue, info.mtu);
		if (o.vnet_hdr_len != 0)
			fprintf(msg, ", vnet header %d bytes, checksum and TSO offloads",
				o.vnet_hdr_len);
		fprintf(msg, ")\n");
		fflush(msg);
		end = o.vnet_hdr_len != 0 ? bridge_vnet(c, tap) : bridge_plain(c, tap);
	}
	if (o.vnet_hdr_len != 0 && end != end_t::gone) {
		/* The next reader of the unit gets plain frames again. */
		int zero = 0;
		r.ioctl(RTE_PMD_BSDTAP_TAPSVNETHDR, &zero);
	}
	return end;
}

/* ------------------------------------------------------------- worker */

struct open_result {
	int err = 0; /* rte_errno of the open, or 0 */
	int port = -1;
};

void restore_affinity(const cpu_set_t &cpus)
{
	pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus);
}

struct worker_result {
	end_t end = end_t::stopped;
	std::string error;
};

void worker(const options *o, const cpu_set_t *cpus, std::promise<open_result> *opened,
	    port_stats *ps, worker_result *res)
{
	restore_affinity(*cpus);
	rte::bsdtap::reader r(o->unit.c_str(), o->queue, 0);
	open_result orr;
	if (!r) {
		orr.err = rte_errno;
		opened->set_value(orr);
		return;
	}
	orr.port = r.port_id();
	/* The counters' starting point: right after the open emptied the devq,
	 * before the first frame is taken. */
	ps->attach(orr.port, o->queue);
	fprintf(msg, "%s: %s queue %u open (port %d, pid %d)\n", o->mode_name.c_str(),
		o->unit.c_str(), o->queue, orr.port, getpid());
	fflush(msg);
	opened->set_value(orr);
	worker_ctx c{o, &r, ""};
	switch (o->mode) {
	case run_mode::sink:
		res->end = run_sink(c);
		break;
	case run_mode::echo:
		res->end = run_echo(c);
		break;
	case run_mode::dump:
		res->end = run_dump(c);
		break;
	case run_mode::replay:
		res->end = run_replay(c);
		break;
	case run_mode::bridge:
		res->end = run_bridge(c);
		break;
	case run_mode::none:
		break;
	}
	res->error = c.error;
	if (res->end == end_t::gone)
		g_gone.store(true);
	r.close(); /* here, not in the main thread: the close frees mbufs */
	pthread_kill(g_main_thread, SIGUSR1); /* wake the main thread */
}

std::string open_error(const options &o, int err)
{
	std::string q = std::to_string(o.queue);
	switch (err) {
	case ENXIO: {
		std::string ports;
		uint16_t pid;
		RTE_ETH_FOREACH_DEV(pid)
		{
			char name[RTE_ETH_NAME_MAX_LEN];
			if (rte_eth_dev_get_name_by_port(pid, name) == 0 &&
			    strncmp(name, "net_bsdtap", 10) == 0)
				ports += std::string(ports.empty() ? "" : ", ") + name;
		}
		return "no such unit " + o.unit +
		       (ports.empty() ? " (the primary has no bsdtap port)"
				      : " (bsdtap ports of the primary: " + ports + ")");
	}
	case EBUSY:
		return o.unit + " queue " + q + " is open by another reader";
	case EINVAL:
		return o.unit + " has no queue " + q;
	case EPERM:
		return o.unit +
		       ": permission denied (another user's primary, and user_open is off)";
	default:
		return o.unit + " queue " + q + ": " + rte_strerror(err);
	}
}

void print_rate_line(const char *what, uint64_t frames, uint64_t bytes, double secs)
{
	double mpps = secs > 0 ? static_cast<double>(frames) / secs / 1e6 : 0;
	double gbps = secs > 0 ? static_cast<double>(bytes) * 8 / secs / 1e9 : 0;
	fprintf(msg, "  %-8s %12" PRIu64 " frames %14" PRIu64 " bytes  %8.3f Mpps  %7.3f Gbit/s\n",
		what, frames, bytes, mpps, gbps);
}

/* EAL's arguments: our defaults, then the user's (which win). */
std::vector<std::string> eal_args(const char *argv0, const std::vector<std::string> &user,
				  const cpu_set_t &cpus)
{
	std::vector<std::string> eal = {argv0};
	if (!has_opt(user, {"--proc-type"}))
		eal.emplace_back("--proc-type=secondary");
	eal.emplace_back("--log-level=error"); /* a later --log-level of the user's wins */
	if (!has_opt(user, {"--no-pci", "-a", "--allow", "-b", "--block"}))
		eal.emplace_back("--no-pci");
	if (!has_opt(user, {"-l", "-c", "--lcores"})) {
		/* The main thread only waits; the worker is not an EAL thread. */
		int first = 0;
		while (first < CPU_SETSIZE - 1 && !CPU_ISSET(first, &cpus))
			first++;
		eal.emplace_back("-l");
		eal.emplace_back(std::to_string(first));
	}
	eal.insert(eal.end(), user.begin(), user.end());
	return eal;
}

void no_primary(const std::string &prefix)
{
	fprintf(stderr, "bsdtap-reader: no DPDK primary process with file prefix %s is running\n",
		prefix.c_str());
}

/* The main thread's loop: progress once a second until a signal, the
 * duration, the worker's end or the primary's exit. Returns why it
 * stopped, or nullptr when the worker ended on its own. */
const char *monitor(const options &o, port_stats *ps, bool secondary, const sigset_t &sigs,
		    double t0, bool *primary_died)
{
	double last_t = t0;
	uint64_t last_frames = 0, last_bytes = 0;
	for (;;) {
		double next = last_t + 1.0;
		if (o.duration > 0)
			next = std::min(next, t0 + o.duration);
		double d = std::max(0.0, next - now_s());
		timespec ts;
		ts.tv_sec = static_cast<time_t>(d);
		ts.tv_nsec = static_cast<long>((d - static_cast<double>(ts.tv_sec)) * 1e9);
		int sig = sigtimedwait(&sigs, nullptr, &ts);
		if (sig == SIGINT)
			return "SIGINT";
		if (sig == SIGTERM)
			return "SIGTERM";
		if (sig == SIGUSR1) {
			/* The worker ended; a unit that went away with the primary
			 * (a secondary's sleeping read notices that too) says so. */
			if (secondary && rte_eal_primary_proc_alive(nullptr) == 0) {
				*primary_died = true;
				return "the primary process exited";
			}
			return nullptr;
		}
		double now = now_s();
		if (o.duration > 0 && now - t0 >= o.duration)
			return "duration";
		if (now - last_t < 1.0)
			continue;
		uint64_t f = handled(o);
		double dt = now - last_t;
		uint64_t b = last_bytes;
		if (!o.quiet) {
			/* Only for the line: a quiet reader makes no ethdev call here. */
			b = read_bytes(o, ps) +
			    (o.mode == run_mode::echo ? 0 : g_tot.wr_bytes.get());
			port_drops pd = ps->drops();
			uint64_t drops =
			    pd.devq_full + pd.inq_full + pd.nombuf + g_tot.local_drops.get();
			fprintf(msg,
				"%s %s:%u %6.1f s  frames %" PRIu64
				"  %.3f Mpps  %.3f Gbit/s  drops %" PRIu64 "\n",
				o.mode_name.c_str(), o.unit.c_str(), o.queue, now - t0, f,
				static_cast<double>(f - last_frames) / dt / 1e6,
				static_cast<double>(b - last_bytes) * 8 / dt / 1e9, drops);
			fflush(msg);
		}
		last_t = now;
		last_frames = f;
		last_bytes = b;
		if (secondary && rte_eal_primary_proc_alive(nullptr) == 0) {
			*primary_died = true;
			return "the primary process exited";
		}
	}
}

const char *end_reason(const options &o, end_t end)
{
	switch (end) {
	case end_t::gone:
		return "the unit went away: the application closed the port";
	case end_t::finished:
		return o.mode == run_mode::replay && o.count == 0 ? "end of file" : "count";
	case end_t::failed:
		return "error";
	case end_t::stopped:
		break;
	}
	return "stopped";
}

void print_totals(const options &o, const char *why, double secs, port_stats *ps)
{
	port_drops d = ps->drops();
	uint64_t devq_full = d.devq_full, inq_full = d.inq_full, nombuf = d.nombuf;
	uint64_t local = g_tot.local_drops.get();
	fprintf(msg, "%s %s:%u: stopped (%s) after %.2f s\n", o.mode_name.c_str(), o.unit.c_str(),
		o.queue, why, secs);
	print_rate_line("read", g_tot.rd_frames.get(), read_bytes(o, ps), secs);
	print_rate_line("written", g_tot.wr_frames.get(), g_tot.wr_bytes.get(), secs);
	if (o.mode == run_mode::dump)
		fprintf(msg, "  dumped   %12" PRIu64 " frames to %s\n", g_tot.dumped.get(),
			o.out.c_str());
	fprintf(msg,
		"  drops    %" PRIu64 " (devq full %" PRIu64 ", inq full %" PRIu64
		", no mbuf %" PRIu64 ", reader %" PRIu64 ")\n",
		devq_full + inq_full + nombuf + local, devq_full, inq_full, nombuf, local);
	fflush(msg);
}

} // namespace

int main(int argc, char **argv)
{
	/* Split: EAL args before "--", ours after. Without "--", all are ours. */
	int sep = -1;
	for (int i = 1; i < argc && sep < 0; i++)
		if (strcmp(argv[i], "--") == 0)
			sep = i;
	std::vector<std::string> user_eal;
	for (int i = 1; i < sep; i++) {
		user_eal.emplace_back(argv[i]);
		if (user_eal.back() == "--help" || user_eal.back() == "-h") {
			fputs(usage_text, stdout);
			return 0;
		}
	}
	int app_first = sep > 0 ? sep + 1 : 1;
	if (app_first >= argc) {
		fputs(usage_text, stderr);
		return 2;
	}
	options o;
	parse_app_args(argc - app_first, argv + app_first, &o);
	if (o.mode == run_mode::dump && o.out == "-")
		msg = stderr;

	/* The worker gets the CPUs this process may use; EAL pins the main thread. */
	cpu_set_t cpus;
	CPU_ZERO(&cpus);
	sched_getaffinity(0, sizeof(cpus), &cpus);
	cpu_set_t worker_cpus = cpus;
	if (o.cpu >= 0) {
		if (!CPU_ISSET(o.cpu, &cpus)) {
			fprintf(stderr, "bsdtap-reader: CPU %d is not available to this process\n",
				o.cpu);
			return 2;
		}
		CPU_ZERO(&worker_cpus);
		CPU_SET(o.cpu, &worker_cpus);
	}

	std::vector<std::string> eal = eal_args(argv[0], user_eal, cpus);
	std::string proc_type = opt_value(eal, "--proc-type");
	bool secondary = proc_type == "secondary";
	std::string prefix = opt_value(user_eal, "--file-prefix");
	if (prefix.empty())
		prefix = "rte";

	/* EAL's own words for a missing primary are obscure: look first. */
	std::string config = primary_config_path(prefix);
	if (secondary && rte_eal_primary_proc_alive(config.c_str()) == 0) {
		no_primary(prefix);
		return 1;
	}

	/* The capture is loaded once the primary is known to be there, and
	 * before EAL starts, so that a bad file fails early. */
	if (o.mode == run_mode::replay) {
		std::string err;
		if (!load_capture(o.in, &g_replay, &err)) {
			fprintf(stderr, "bsdtap-reader: %s\n", err.c_str());
			return 1;
		}
		fprintf(msg, "replay: %zu frames loaded from %s", g_replay.frames.size(),
			o.in.c_str());
		if (g_replay.skipped > 0)
			fprintf(msg, " (%" PRIu64 " longer than %u bytes skipped)",
				g_replay.skipped, RTE_PMD_BSDTAP_MRU);
		if (g_replay.empty > 0)
			fprintf(msg, " (%" PRIu64 " empty records skipped)", g_replay.empty);
		fprintf(msg, "\n");
		if (!g_replay.cut.empty())
			fprintf(stderr,
				"bsdtap-reader: warning: %s: the last record is cut short (%s); "
				"replaying the %zu complete frames before it\n",
				o.in.c_str(), g_replay.cut.c_str(), g_replay.frames.size());
	}

	/* Signals go to the main thread only: block them before EAL makes threads. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN); /* a file size limit is a write error (EFBIG), not a death */
	g_main_thread = pthread_self();

	std::vector<char *> eal_argv;
	for (std::string &a : eal)
		eal_argv.push_back(a.data());
	if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
		int err = rte_errno;
		if (secondary && rte_eal_primary_proc_alive(config.c_str()) == 0)
			no_primary(prefix);
		else if (secondary)
			fprintf(stderr,
				"bsdtap-reader: cannot initialise DPDK as a secondary of file "
				"prefix %s: %s\n",
				prefix.c_str(), rte_strerror(err));
		else
			fprintf(stderr, "bsdtap-reader: cannot initialise DPDK: %s\n",
				rte_strerror(err));
		return 1;
	}

	std::promise<open_result> opened;
	std::future<open_result> opened_f = opened.get_future();
	worker_result res;
	port_stats ps;
	std::thread th(worker, &o, &worker_cpus, &opened, &ps, &res);
	open_result orr = opened_f.get();
	if (orr.err != 0) {
		th.join();
		fprintf(stderr, "bsdtap-reader: %s\n", open_error(o, orr.err).c_str());
		rte_eal_cleanup();
		return 1;
	}

	const double t0 = now_s();
	bool primary_died = false;
	const char *why = monitor(o, &ps, secondary, sigs, t0, &primary_died);
	if (primary_died)
		g_gone.store(true); /* no ethdev calls on the dead primary's port */
	g_stop.store(true);
	th.join();
	print_totals(o, why != nullptr ? why : end_reason(o, res.end), now_s() - t0, &ps);
	int rc = primary_died ? 1 : 0;
	if (res.end == end_t::failed) {
		fprintf(stderr, "bsdtap-reader: %s\n", res.error.c_str());
		rc = 1;
	}
	rte_eal_cleanup();
	return rc;
}

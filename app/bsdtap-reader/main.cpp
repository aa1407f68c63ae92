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
 * This file: EAL's arguments and start, the worker thread, the main
 * thread's wait and the exit status. The modes are in files of their own
 * (sink.cpp, ...), sharing common.h.
 *
 * Threads: the main thread initialises EAL, prints the progress line once a
 * second and handles signals; the worker thread opens the unit, moves the
 * frames and closes the unit. The worker is not an EAL thread on purpose:
 * its mbuf frees and allocations then bypass the per-lcore mempool caches,
 * which belong to the primary's lcores (lcore ids of different processes
 * may be equal, and two threads must never share a cache).
 */

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

#include "common.h"

/* No global state: the run's is in main()'s run_state, and signals are
 * taken by sigtimedwait() in the main thread, so no handler needs any. */

namespace bsdtap_app
{

namespace
{

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

void worker(run_state *s, const cpu_set_t *cpus, std::promise<open_result> *opened, port_stats *ps,
	    worker_result *res)
{
	const options *o = &s->o;
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
	fprintf(s->msg, "%s: %s queue %u open (port %d, pid %d)\n", o->mode_name.c_str(),
		o->unit.c_str(), o->queue, orr.port, getpid());
	fflush(s->msg);
	opened->set_value(orr);
	worker_ctx c(*s, r);
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
		s->gone.store(true);
	r.close(); /* here, not in the main thread: the close frees mbufs */
	pthread_kill(s->main_thread, SIGUSR1); /* wake the main thread */
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
const char *monitor(const run_state &s, port_stats *ps, bool secondary, const sigset_t &sigs,
		    double t0, bool *primary_died)
{
	const options &o = s.o;
	progress line(t0);
	for (;;) {
		double next = line.next();
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
		if (!line.tick(s, ps, now))
			continue;
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

} // namespace
} // namespace bsdtap_app

int main(int argc, char **argv)
{
	using namespace bsdtap_app;

	/* Split: EAL args before "--", ours after. Without "--", all are ours. */
	int sep = -1;
	for (int i = 1; i < argc && sep < 0; i++)
		if (strcmp(argv[i], "--") == 0)
			sep = i;
	std::vector<std::string> user_eal;
	for (int i = 1; i < sep; i++) {
		user_eal.emplace_back(argv[i]);
		if (user_eal.back() == "--help" || user_eal.back() == "-h") {
			print_usage(stdout);
			return 0;
		}
	}
	int app_first = sep > 0 ? sep + 1 : 1;
	if (app_first >= argc) {
		print_usage(stderr);
		return 2;
	}
	options o;
	parse_app_args(argc - app_first, argv + app_first, &o);
	run_state s(o);
	if (o.mode == run_mode::dump && o.out == "-")
		s.msg = stderr;

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
	if (o.mode == run_mode::replay && !load_replay(&s))
		return 1;

	/* Signals go to the main thread only: block them before EAL makes threads. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN); /* a file size limit is a write error (EFBIG), not a death */
	s.main_thread = pthread_self();

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
	port_stats ps(s.gone);
	std::thread th(worker, &s, &worker_cpus, &opened, &ps, &res);
	open_result orr = opened_f.get();
	if (orr.err != 0) {
		th.join();
		fprintf(stderr, "bsdtap-reader: %s\n", open_error(o, orr.err).c_str());
		rte_eal_cleanup();
		return 1;
	}

	const double t0 = now_s();
	bool primary_died = false;
	const char *why = monitor(s, &ps, secondary, sigs, t0, &primary_died);
	if (primary_died)
		s.gone.store(true); /* no ethdev calls on the dead primary's port */
	s.stop.store(true);
	th.join();
	print_totals(s, why != nullptr ? why : end_reason(o, res.end), now_s() - t0, &ps);
	int rc = primary_died ? 1 : 0;
	if (res.end == end_t::failed) {
		fprintf(stderr, "bsdtap-reader: %s\n", res.error.c_str());
		rc = 1;
	}
	rte_eal_cleanup();
	return rc;
}

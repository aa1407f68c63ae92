/* SPDX-License-Identifier: BSD-3-Clause */
#include "harness.h"

#include <atomic>
#include <cstring>
#include <fstream>
#include <sstream>

#include <climits>
#include <cstdlib>
#include <dirent.h>
#include <filesystem>
#include <glob.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ethdev_driver.h>
#include <rte_bus_vdev.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_memzone.h>

namespace bt
{

namespace
{
rte_mempool *g_pool;
std::atomic<unsigned> g_unit{100};
} // namespace

rte_mempool *pool()
{
	return g_pool;
}

void set_pool(rte_mempool *mp)
{
	g_pool = mp;
}

void lsc_unregister(uint16_t port, rte_eth_dev_cb_fn cb, void *arg)
{
	while (rte_eth_dev_callback_unregister(port, RTE_ETH_EVENT_INTR_LSC, cb, arg) == -EAGAIN)
		std::this_thread::yield();
}

unsigned in_use(rte_mempool *mp)
{
	return rte_mempool_in_use_count(mp ? mp : g_pool);
}

rte_eth_stats stats(uint16_t port)
{
	rte_eth_stats s{};
	rte_eth_stats_get(port, &s);
	return s;
}

int lsc_count(uint16_t, rte_eth_event_type, void *arg, void *)
{
	static_cast<std::atomic<int> *>(arg)->fetch_add(1);
	return 0;
}

uint64_t xstat(uint16_t port, const char *name)
{
	uint64_t id, v = UINT64_MAX;
	if (rte_eth_xstats_get_id_by_name(port, name, &id) == 0)
		rte_eth_xstats_get_by_id(port, &id, &v, 1);
	return v;
}

int link_status(uint16_t port)
{
	rte_eth_link link{};
	if (rte_eth_link_get_nowait(port, &link) != 0)
		return -1;
	return link.link_status;
}

std::vector<long> thread_stat(const std::string &comm, std::initializer_list<int> fields)
{
	DIR *d = opendir("/proc/self/task");
	std::vector<long> out;
	while (dirent *e = readdir(d)) {
		if (e->d_name[0] == '.')
			continue;
		std::string base = std::string("/proc/self/task/") + e->d_name;
		std::ifstream c(base + "/comm");
		std::string name;
		std::getline(c, name);
		if (name != comm)
			continue;
		std::ifstream st(base + "/stat");
		std::string stat((std::istreambuf_iterator<char>(st)), {});
		/* comm may hold spaces: count from the ")"; the text after it is
		 * field 3. */
		std::istringstream rest(stat.substr(stat.rfind(')') + 2));
		std::vector<std::string> f(3);
		for (std::string v; rest >> v;)
			f.push_back(v);
		for (int k : fields)
			out.push_back(k < static_cast<int>(f.size()) ? std::stol(f[k]) : 0);
		break;
	}
	closedir(d);
	return out;
}

long thread_ticks(const std::string &comm)
{
	std::vector<long> v = thread_stat(comm, {14, 15}); /* utime, stime */
	return v.empty() ? -1 : v[0] + v[1];
}

std::string unique_name()
{
	return "net_bsdtap" + std::to_string(g_unit.fetch_add(1));
}

int create(const std::string &name, const std::string &args)
{
	int ret = rte_vdev_init(name.c_str(), args.c_str());
	if (ret != 0)
		return ret;
	uint16_t port;
	ret = rte_eth_dev_get_port_by_name(name.c_str(), &port);
	return ret != 0 ? ret : port;
}

int configure(uint16_t port, uint16_t nq, rte_mempool *mp)
{
	rte_eth_conf conf{};
	int ret = rte_eth_dev_configure(port, nq, nq, &conf);
	for (uint16_t q = 0; ret == 0 && q < nq; q++)
		ret = rte_eth_rx_queue_setup(port, q, 256, rte_socket_id(), nullptr,
					     mp ? mp : g_pool);
	for (uint16_t q = 0; ret == 0 && q < nq; q++)
		ret = rte_eth_tx_queue_setup(port, q, 256, rte_socket_id(), nullptr);
	return ret;
}

int configure_start(uint16_t port, uint16_t nq, rte_mempool *mp)
{
	int ret = configure(port, nq, mp);
	return ret == 0 ? rte_eth_dev_start(port) : ret;
}

bool started(uint16_t port)
{
	return rte_eth_devices[port].data->dev_started != 0;
}

int destroy(const std::string &name)
{
	uint16_t port;
	if (rte_eth_dev_get_port_by_name(name.c_str(), &port) == 0) {
		rte_eth_dev_info info;
		if (rte_eth_dev_info_get(port, &info) == 0)
			rte_eth_dev_stop(port);
	}
	return rte_vdev_uninit(name.c_str());
}

std::vector<uint8_t> frame(size_t len, uint32_t seq)
{
	std::vector<uint8_t> f(len);
	for (size_t i = 0; i < len; i++)
		f[i] = static_cast<uint8_t>(i * 7 + seq);
	static const uint8_t hdr[14] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
					0,    0,    0,	  0,	1,    0x88, 0xb5};
	memcpy(f.data(), hdr, std::min(len, sizeof(hdr)));
	if (len >= 18)
		memcpy(f.data() + 14, &seq, 4);
	return f;
}

rte_mbuf *mbuf_of(const std::vector<uint8_t> &data, uint16_t seg, rte_mempool *mp)
{
	mp = mp ? mp : g_pool;
	uint16_t room = rte_pktmbuf_data_room_size(mp) - RTE_PKTMBUF_HEADROOM;
	if (seg == 0 || seg > room)
		seg = room;
	rte_mbuf *head = nullptr, *prev = nullptr;
	size_t off = 0;
	do {
		rte_mbuf *m = rte_pktmbuf_alloc(mp);
		if (m == nullptr) {
			rte_pktmbuf_free(head);
			return nullptr;
		}
		size_t c = std::min<size_t>(seg, data.size() - off);
		memcpy(rte_pktmbuf_mtod(m, void *), data.data() + off, c);
		m->data_len = static_cast<uint16_t>(c);
		off += c;
		if (head == nullptr) {
			head = m;
		} else {
			prev->next = m;
			head->nb_segs++;
		}
		prev = m;
	} while (off < data.size());
	head->pkt_len = static_cast<uint32_t>(data.size());
	return head;
}

std::vector<uint8_t> bytes_of(const rte_mbuf *m)
{
	std::vector<uint8_t> out;
	for (; m != nullptr; m = m->next) {
		const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
		out.insert(out.end(), p, p + m->data_len);
	}
	return out;
}

uint16_t tx1(uint16_t port, uint16_t q, rte_mbuf *m)
{
	return rte_eth_tx_burst(port, q, &m, 1);
}

std::vector<rte_mbuf *> rx_wait(uint16_t port, uint16_t q, size_t n, int timeout_ms)
{
	std::vector<rte_mbuf *> out;
	eventually(
	    [&] {
		    rte_mbuf *b[32];
		    uint16_t k = rte_eth_rx_burst(port, q, b, 32);
		    out.insert(out.end(), b, b + k);
		    return out.size() >= n;
	    },
	    timeout_ms);
	return out;
}

void free_all(std::vector<rte_mbuf *> &v)
{
	for (rte_mbuf *m : v)
		rte_pktmbuf_free(m);
	v.clear();
}

unsigned memzones()
{
	/* Not ethdev's own port data: from DPDK 23.11 on it is made with the
	 * process's first port and freed with its last, so it comes and goes
	 * with the application's ports, not with a unit's. */
	unsigned n = 0;
	rte_memzone_walk(
	    [](const rte_memzone *mz, void *arg) {
		    if (strcmp(mz->name, "rte_eth_dev_data") != 0)
			    ++*static_cast<unsigned *>(arg);
	    },
	    &n);
	return n;
}

static unsigned entries(const char *dir)
{
	unsigned n = 0;
	DIR *d = opendir(dir);
	if (d == nullptr)
		return 0;
	while (dirent *e = readdir(d))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

unsigned threads()
{
	return entries("/proc/self/task");
}

unsigned fds()
{
	return entries("/proc/self/fd") - 1; /* the walk's own */
}

void remove_runtime_files(const std::string &prefix)
{
	glob_t g;
	std::string pat = "/dev/hugepages/" + prefix + "map_*";
	if (glob(pat.c_str(), 0, nullptr, &g) == 0)
		for (size_t i = 0; i < g.gl_pathc; i++)
			unlink(g.gl_pathv[i]);
	globfree(&g);
	std::error_code ec;
	std::filesystem::remove_all("/var/run/dpdk/" + prefix, ec);
}

int eal_init_secondary(const char *argv0, const char *prefix)
{
	const char *eal[] = {
	    argv0, "--proc-type=secondary", "--file-prefix", prefix, "--no-pci", "-l",
	    "1",   "--log-level",	    "error"};
	return rte_eal_init(static_cast<int>(RTE_DIM(eal)), const_cast<char **>(eal));
}

namespace
{
std::string g_sock_dir;
pid_t g_sock_dir_owner = 0;

/* The socket directory goes with the process that made it (not with a
 * forked child that exits). */
void remove_sock_dir()
{
	if (!g_sock_dir.empty() && getpid() == g_sock_dir_owner) {
		std::error_code ec;
		std::filesystem::remove_all(g_sock_dir, ec);
	}
}
} // namespace

const std::string &sock_dir()
{
	static std::string dir = [] {
		char cwd[PATH_MAX];
		std::string base = getcwd(cwd, sizeof(cwd)) != nullptr ? cwd : ".";
		if (base.size() > 64) {
			const char *t = getenv("TMPDIR");
			base = t != nullptr && *t != '\0' ? t : P_tmpdir;
		}
		std::string tmpl = base + "/bsdtap-sock-XXXXXX";
		if (mkdtemp(tmpl.data()) == nullptr)
			return std::string();
		g_sock_dir = tmpl;
		g_sock_dir_owner = getpid();
		atexit(remove_sock_dir);
		return tmpl;
	}();
	return dir;
}

bool Child::start(const std::vector<std::string> &args, const std::string &path)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return false;
	char tmpl[] = "/tmp/bsdtap-child-err-XXXXXX";
	int efd = mkstemp(tmpl);
	if (efd < 0) {
		close(p[0]);
		close(p[1]);
		return false;
	}
	err_path = tmpl;
	std::vector<char *> argv;
	for (const std::string &a : args)
		argv.push_back(const_cast<char *>(a.c_str()));
	argv.push_back(nullptr);
	const std::string exe = path.empty() ? "/proc/self/exe" : path;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(efd, 2);
		execv(exe.c_str(), argv.data());
		_exit(127);
	}
	close(p[1]);
	close(efd);
	out = p[0];
	return pid > 0;
}

bool Child::expect(const char *word, int timeout_ms)
{
	std::string line;
	char ch;
	while (true) {
		pollfd pfd = {out, POLLIN, 0};
		if (poll(&pfd, 1, timeout_ms) != 1 || read(out, &ch, 1) != 1)
			return false;
		if (ch == '\n')
			return line == word;
		line += ch;
	}
}

int Child::wait_exit(int timeout_ms)
{
	int st = 0;
	auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
	for (;;) {
		pid_t w = waitpid(pid, &st, timeout_ms < 0 ? 0 : WNOHANG);
		if (w == pid)
			break;
		if (w < 0)
			return -1;
		if (std::chrono::steady_clock::now() > end)
			return -1;
		std::this_thread::sleep_for(std::chrono::milliseconds(5));
	}
	pid = -1; /* out stays open: what the child wrote last can still be read */
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

std::string Child::err() const
{
	std::ifstream f(err_path);
	return std::string((std::istreambuf_iterator<char>(f)), {});
}

Child::~Child()
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		wait_exit();
	}
	if (out >= 0)
		close(out);
	if (!err_path.empty())
		unlink(err_path.c_str());
}

void PortTest::SetUp()
{
	start_in_use_ = in_use();
}

void PortTest::TearDown()
{
	for (auto it = ports_.rbegin(); it != ports_.rend(); ++it)
		EXPECT_EQ(destroy(*it), 0) << *it;
	ports_.clear();
	/* mbuf accounting: nothing this test moved is left anywhere. */
	EXPECT_TRUE(eventually([&] { return in_use() == start_in_use_; }))
	    << "mbufs in use: " << in_use() << ", at start: " << start_in_use_;
}

int PortTest::make(const std::string &name, const std::string &args, bool start, uint16_t nq)
{
	int port = create(name, args);
	if (port < 0)
		return port;
	ports_.push_back(name);
	if (start) {
		int ret = configure_start(static_cast<uint16_t>(port), nq);
		if (ret != 0)
			return ret;
	}
	return port;
}

rte_pmd_bsdtap_reader *PortTest::make_with_reader(int &port, const std::string &args)
{
	std::string name = unique_name();
	port = make(name, args);
	EXPECT_GE(port, 0);
	return port < 0 ? nullptr : rte_pmd_bsdtap_open(name.c_str(), 0, 0);
}

} // namespace bt

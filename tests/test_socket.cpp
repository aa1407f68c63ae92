/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The socket endpoint (reader=socket): its devargs, frames both ways byte
 * for byte for each socket type, one client at a time, clients that close,
 * die or send garbage, the link and its LSC events, txfull, and an idle pump
 * that sleeps. The clients here are plain sockets in this process (and, for
 * the killed client, a forked child), as a non-DPDK program would be.
 */

#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <rte_bus_vdev.h>
#include <rte_errno.h>

#include "frames.h"
#include "harness.h"
#include "rte_pmd_bsdtap.h"

/*
 * The endpoint's bind() as the tests see it. Armed with a path, it does
 * right after the bind what a user who controls the socket's directory
 * would try to do in the window before the endpoint sets the file's mode
 * and owner (the widest window such a user could hope to win), so the
 * race is tested deterministically: replace the socket with a symlink to
 * g_swap_target, or with a socket of that user's own (g_swap_impostor).
 */
namespace
{
std::string g_swap_path, g_swap_target;
int g_swap_impostor = -1; /* an unbound socket to bind in the endpoint's place */
} // namespace

extern "C" int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	using bind_fn = int (*)(int, const struct sockaddr *, socklen_t);
	static const auto real = reinterpret_cast<bind_fn>(dlsym(RTLD_NEXT, "bind"));
	int ret = real(fd, sa, len);
	const auto *un = reinterpret_cast<const struct sockaddr_un *>(sa);
	if (ret == 0 && sa->sa_family == AF_UNIX && !g_swap_path.empty() &&
	    strncmp(un->sun_path, g_swap_path.c_str(), sizeof(un->sun_path)) == 0) {
		int err = errno;
		unlink(g_swap_path.c_str());
		if (g_swap_impostor >= 0)
			(void)real(g_swap_impostor, sa, len);
		else
			(void)symlink(g_swap_target.c_str(), g_swap_path.c_str());
		errno = err;
	}
	return ret;
}

namespace
{

/* ------------------------------------------------------------ helpers */

using bt::sock_dir;

std::atomic<unsigned> g_serial{0};

std::string new_path(const char *prefix = "s")
{
	return sock_dir() + "/" + prefix + std::to_string(g_serial.fetch_add(1));
}

using bt::link_status;

bool link_becomes(uint16_t port, uint8_t status, int timeout_ms = 3000)
{
	return bt::eventually([&] { return link_status(port) == status; }, timeout_ms);
}

using bt::stats;

int sock_type(const std::string &t)
{
	return t == "dgram" ? SOCK_DGRAM : t == "stream" ? SOCK_STREAM : SOCK_SEQPACKET;
}

sockaddr_un addr_of(const std::string &path)
{
	sockaddr_un sa{};
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path.c_str(), std::min(path.size(), sizeof(sa.sun_path) - 1));
	return sa;
}

/* A client of the endpoint, as any program would write it. */
struct client {
	int fd = -1;
	std::string type;
	std::string bound; /* dgram: the client's own address */

	client() = default;
	client(const client &) = delete;
	client &operator=(const client &) = delete;
	~client() { close(); }

	/* 0, or the errno of socket/bind/connect. dgram: the endpoint is
	 * connected to the client it holds, so the kernel refuses others'
	 * connect (EPERM) until the pump has seen that one go (within
	 * dgram_check_ms of its close): wait retries that long. */
	int open(const std::string &path, const std::string &t, bool wait = true)
	{
		type = t;
		fd = socket(AF_UNIX, sock_type(t) | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return errno;
		if (t == "dgram") {
			bound = new_path("c");
			sockaddr_un me = addr_of(bound);
			if (bind(fd, reinterpret_cast<sockaddr *>(&me), sizeof(me)) != 0)
				return errno;
		}
		sockaddr_un sa = addr_of(path);
		for (int i = 0;; i++) {
			if (connect(fd, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) == 0)
				return 0;
			if (errno != EPERM || !wait || t != "dgram" || i == 2000)
				return errno;
			usleep(1000);
		}
	}

	void close()
	{
		if (fd >= 0)
			::close(fd);
		fd = -1;
		if (!bound.empty())
			unlink(bound.c_str());
		bound.clear();
	}

	/* Bytes sent (the frame, not its prefix), or -errno. */
	ssize_t send(const std::vector<uint8_t> &f)
	{
		ssize_t n;
		if (type == "stream") {
			uint32_t be = htonl(static_cast<uint32_t>(f.size()));
			iovec iov[2] = {{&be, 4}, {const_cast<uint8_t *>(f.data()), f.size()}};
			n = writev(fd, iov, 2);
			return n < 0 ? -errno : n - 4;
		}
		n = ::send(fd, f.data(), f.size(), MSG_NOSIGNAL);
		return n < 0 ? -errno : n;
	}

	bool wait_readable(int timeout_ms)
	{
		pollfd p = {fd, POLLIN, 0};
		return poll(&p, 1, timeout_ms) > 0;
	}

	bool read_exact(uint8_t *buf, size_t len, int timeout_ms)
	{
		size_t got = 0;
		while (got < len) {
			if (!wait_readable(timeout_ms))
				return false;
			ssize_t n = ::recv(fd, buf + got, len - got, 0);
			if (n <= 0)
				return false;
			got += static_cast<size_t>(n);
		}
		return true;
	}

	/* 1: a frame in out; 0: end of file or hang-up; -1: nothing in time. */
	int recv(std::vector<uint8_t> &out, int timeout_ms = 2000, size_t bufsize = 65536)
	{
		out.clear();
		if (!wait_readable(timeout_ms))
			return -1;
		if (type == "stream") {
			uint32_t be;
			if (!read_exact(reinterpret_cast<uint8_t *>(&be), 4, timeout_ms))
				return 0;
			out.resize(ntohl(be));
			return read_exact(out.data(), out.size(), timeout_ms) ? 1 : 0;
		}
		out.resize(bufsize);
		ssize_t n = ::recv(fd, out.data(), out.size(), 0);
		if (n <= 0)
			return n == 0 ? 0 : -1;
		out.resize(static_cast<size_t>(n));
		return 1;
	}
};

/* A test's port with its endpoint; the socket path is fresh for each. */
class SocketTest : public bt::PortTest
{
protected:
	std::string path_;
	std::string name_;
	int port_ = -1;
	std::atomic<int> lsc_{0};
	bool lsc_registered_ = false;

	void TearDown() override
	{
		if (lsc_registered_)
			bt::lsc_unregister(static_cast<uint16_t>(port_), bt::lsc_count, &lsc_);
		bt::PortTest::TearDown();
	}

	/* Creates and starts the port; returns its id or -errno. */
	int endpoint(const std::string &type, const std::string &extra = "", uint16_t nq = 1)
	{
		path_ = new_path();
		name_ = bt::unique_name();
		std::string args = "reader=socket,socket_type=" + type + ",path=" + path_;
		if (nq > 1)
			args += ",queues=" + std::to_string(nq);
		if (!extra.empty())
			args += "," + extra;
		port_ = make(name_, args, true, nq);
		return port_;
	}

	void count_lsc()
	{
		ASSERT_EQ(rte_eth_dev_callback_register(static_cast<uint16_t>(port_),
							RTE_ETH_EVENT_INTR_LSC, bt::lsc_count,
							&lsc_),
			  0);
		lsc_registered_ = true;
	}

	/* Connects c and makes it the client: dgram clients announce themselves
	 * with a first frame, which the application then receives (or, with
	 * empty_hello, with an empty datagram). */
	void attach(client &c, const std::string &type, bool empty_hello = false)
	{
		const uint16_t port = static_cast<uint16_t>(port_);
		uint64_t accepted = bt::xstat(port, "socket_clients_accepted");
		ASSERT_EQ(c.open(path_, type), 0) << strerror(errno);
		if (type == "dgram" && empty_hello) {
			ASSERT_EQ(c.send({}), 0);
		} else if (type == "dgram") {
			ASSERT_EQ(c.send(bt::frame(60, 0xd6)), 60);
			auto got = bt::rx_wait(static_cast<uint16_t>(port_), 0, 1);
			ASSERT_EQ(got.size(), 1u);
			bt::free_all(got);
		}
		ASSERT_TRUE(link_becomes(static_cast<uint16_t>(port_), RTE_ETH_LINK_UP))
		    << "the link did not follow the client";
		/* The link is up with the first queue; the client is counted once
		 * the pump holds every queue (a tx before that is C10's). */
		ASSERT_TRUE(bt::eventually([&] {
			return bt::xstat(port, "socket_clients_accepted") > accepted;
		})) << "the pump did not take the client";
	}

	/* One frame each way, checked byte for byte. */
	void exchange(client &c, uint32_t seq, size_t len = 100)
	{
		auto f = bt::frame(len, seq);
		ASSERT_EQ(bt::tx1(static_cast<uint16_t>(port_), 0, bt::mbuf_of(f)), 1);
		std::vector<uint8_t> got;
		ASSERT_EQ(c.recv(got), 1);
		EXPECT_EQ(got, f);
		auto g = bt::frame(len, seq + 1000);
		ASSERT_EQ(c.send(g), static_cast<ssize_t>(len));
		auto m = bt::rx_wait(static_cast<uint16_t>(port_), 0, 1);
		ASSERT_EQ(m.size(), 1u);
		EXPECT_EQ(bt::bytes_of(m[0]), g);
		bt::free_all(m);
	}
};

class Types : public SocketTest, public ::testing::WithParamInterface<const char *>
{
};

/* ------------------------------------------------------------ devargs */

struct BadArg {
	const char *args;
	int err;
};

class SocketDevargsBad : public bt::PortTest, public ::testing::WithParamInterface<BadArg>
{
};

TEST_P(SocketDevargsBad, ProbeFails)
{
	std::string name = bt::unique_name();
	int ret = rte_vdev_init(name.c_str(), GetParam().args);
	EXPECT_EQ(ret, GetParam().err) << GetParam().args;
	uint16_t port;
	EXPECT_NE(rte_eth_dev_get_port_by_name(name.c_str(), &port), 0);
	if (ret == 0)
		rte_vdev_uninit(name.c_str());
}

INSTANTIATE_TEST_SUITE_P(
    Keys, SocketDevargsBad,
    ::testing::Values(
	BadArg{"reader=echo,path=/x/y", -EINVAL}, BadArg{"path=/x/y", -EINVAL},
	BadArg{"reader=sink,socket_type=dgram", -EINVAL}, BadArg{"owner=0", -EINVAL},
	BadArg{"group=0", -EINVAL}, BadArg{"socket_mode=0600", -EINVAL},
	BadArg{"reader=socket,path=", -EINVAL}, BadArg{"reader=socket,path", -EINVAL},
	BadArg{"reader=socket,path=relative/s", -EINVAL},
	BadArg{"reader=socket,path=/a/dir/", -EINVAL},
	BadArg{"reader=socket,path=/"
	       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	       -ERANGE},
	BadArg{"reader=socket,socket_type=", -EINVAL},
	BadArg{"reader=socket,socket_type=raw", -EINVAL},
	BadArg{"reader=socket,socket_type=SEQPACKET", -EINVAL},
	BadArg{"reader=socket,socket_type=dgram,socket_type=stream", -EINVAL},
	BadArg{"reader=socket,socket_mode=", -EINVAL},
	BadArg{"reader=socket,socket_mode=0800", -EINVAL},
	BadArg{"reader=socket,socket_mode=rw", -EINVAL},
	BadArg{"reader=socket,socket_mode=-600", -EINVAL},
	BadArg{"reader=socket,socket_mode=01000", -ERANGE},
	BadArg{"reader=socket,socket_mode=4755", -ERANGE}, BadArg{"reader=socket,owner=", -EINVAL},
	BadArg{"reader=socket,owner=no-such-user-bsdtap", -EINVAL},
	BadArg{"reader=socket,owner=4294967295", -ERANGE},
	BadArg{"reader=socket,owner=99999999999999999999", -ERANGE},
	BadArg{"reader=socket,group=no-such-group-bsdtap", -EINVAL},
	BadArg{"reader=socket,group=1x", -EINVAL}, BadArg{"reader=socket,mode=0600", -EINVAL},
	BadArg{"reader=socket,up_on_open=1", -EINVAL}, BadArg{"reader=sock", -EINVAL},
	BadArg{"reader=socket,socket_vnet_hdr=11", -EINVAL},
	BadArg{"reader=socket,socket_vnet_hdr=", -EINVAL},
	BadArg{"reader=echo,socket_vnet_hdr=12", -EINVAL}));

class SocketDevargs : public SocketTest
{
};

TEST_F(SocketDevargs, DefaultsAreSeqpacketOwnerOnly)
{
	ASSERT_GE(endpoint("seqpacket"), 0);
	struct stat st;
	ASSERT_EQ(lstat(path_.c_str(), &st), 0);
	EXPECT_TRUE(S_ISSOCK(st.st_mode));
	EXPECT_EQ(st.st_mode & 07777, 0600u);
	EXPECT_EQ(st.st_uid, geteuid());
	/* Default type: a seqpacket client connects. */
	std::string p = bt::unique_name();
	std::string path = new_path();
	ASSERT_GE(make(p, "reader=socket,path=" + path), 0);
	client c;
	EXPECT_EQ(c.open(path, "seqpacket"), 0);
	client s;
	EXPECT_EQ(s.open(path, "stream"), EPROTOTYPE);
}

TEST_F(SocketDevargs, ModeOwnerGroupApplied)
{
	/* chown to another user needs privilege. */
	std::string extra = "socket_mode=0640";
	uid_t uid = geteuid();
	gid_t gid = getegid();
	if (geteuid() == 0) {
		uid = 1;
		gid = 2;
		extra += ",owner=1,group=2";
	}
	ASSERT_GE(endpoint("stream", extra), 0);
	struct stat st;
	ASSERT_EQ(lstat(path_.c_str(), &st), 0);
	EXPECT_EQ(st.st_mode & 07777, 0640u);
	EXPECT_EQ(st.st_uid, uid);
	EXPECT_EQ(st.st_gid, gid);
}

TEST_F(SocketDevargs, OwnerAndGroupByName)
{
	if (geteuid() != 0)
		GTEST_SKIP() << "chown needs root";
	ASSERT_GE(endpoint("dgram", "owner=root,group=root,socket_mode=0"), 0);
	struct stat st;
	ASSERT_EQ(lstat(path_.c_str(), &st), 0);
	EXPECT_EQ(st.st_mode & 07777, 0u);
	EXPECT_EQ(st.st_uid, 0u);
}

TEST_F(SocketDevargs, UserOpenWidensTheDefault)
{
	ASSERT_GE(endpoint("seqpacket", "user_open=1"), 0);
	struct stat st;
	ASSERT_EQ(lstat(path_.c_str(), &st), 0);
	EXPECT_EQ(st.st_mode & 07777, 0666u);
	std::string p = bt::unique_name(), path = new_path();
	ASSERT_GE(make(p, "reader=socket,user_open=1,socket_mode=0660,path=" + path), 0);
	ASSERT_EQ(lstat(path.c_str(), &st), 0);
	EXPECT_EQ(st.st_mode & 07777, 0660u);
}

TEST_F(SocketDevargs, DefaultPathUnderRunIsCreatedAndRemoved)
{
	if (access("/run", W_OK) != 0)
		GTEST_SKIP() << "no write access to /run";
	std::string name = bt::unique_name();
	std::string iface = "sockdef" + name.substr(strlen("net_bsdtap"));
	std::string path = std::string("/run/bsdtap/") + iface;
	ASSERT_GE(make(name, "reader=socket,iface=" + iface), 0);
	struct stat st;
	ASSERT_EQ(lstat(path.c_str(), &st), 0) << path;
	EXPECT_TRUE(S_ISSOCK(st.st_mode));
	ASSERT_EQ(bt::destroy(name), 0);
	ports_.clear();
	EXPECT_NE(lstat(path.c_str(), &st), 0) << "socket file left behind";
}

TEST_F(SocketDevargs, StaleSocketFileIsReplaced)
{
	std::string path = new_path();
	{
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		sockaddr_un sa = addr_of(path);
		ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)), 0);
		close(fd); /* the file stays: a process that died */
	}
	ASSERT_GE(make(bt::unique_name(), "reader=socket,path=" + path), 0);
	client c;
	EXPECT_EQ(c.open(path, "seqpacket"), 0);
}

TEST_F(SocketDevargs, LivePathOrNonSocketRefused)
{
	std::string path = new_path();
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	sockaddr_un sa = addr_of(path);
	ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)), 0);
	ASSERT_EQ(listen(fd, 1), 0);
	std::string name = bt::unique_name();
	/* probe says why: another process serves that path */
	EXPECT_EQ(rte_vdev_init(name.c_str(), ("reader=socket,path=" + path).c_str()), -EADDRINUSE);
	struct stat st;
	EXPECT_EQ(lstat(path.c_str(), &st), 0) << "someone else's socket was removed";
	close(fd);
	unlink(path.c_str());

	std::string file = new_path("f");
	std::ofstream(file) << "not a socket";
	name = bt::unique_name();
	EXPECT_EQ(rte_vdev_init(name.c_str(), ("reader=socket,path=" + file).c_str()), -EEXIST);
	EXPECT_EQ(lstat(file.c_str(), &st), 0);
	unlink(file.c_str());

	name = bt::unique_name();
	EXPECT_EQ(rte_vdev_init(name.c_str(),
				("reader=socket,path=" + sock_dir() + "/no/such/dir/s").c_str()),
		  -ENOENT);
}

/* -------------------------------------------------- frames both ways */

TEST_P(Types, FramesBothWaysByteForByte)
{
	const std::string type = GetParam();
	ASSERT_GE(endpoint(type), 0);
	uint16_t port = static_cast<uint16_t>(port_);
	count_lsc();
	EXPECT_EQ(link_status(port), RTE_ETH_LINK_DOWN) << "up with no client";
	client c;
	ASSERT_NO_FATAL_FAILURE(attach(c, type));
	EXPECT_TRUE(bt::eventually([&] { return lsc_.load() >= 1; })) << "no LSC event";

	/* Application to client: runt, minimum, MTU, chains, the MRU. */
	const size_t sizes[] = {1, 14, 60, 1514, 2049, 9000, 16384};
	uint32_t seq = 0;
	for (size_t len : sizes) {
		auto f = bt::frame(len, seq++);
		/* 2049 and 16384 go as chains of 1000-byte segments. */
		ASSERT_EQ(bt::tx1(port, 0, bt::mbuf_of(f, len > 2048 ? 1000 : 0)), 1);
		std::vector<uint8_t> got;
		ASSERT_EQ(c.recv(got), 1) << "frame of " << len;
		EXPECT_EQ(got, f) << "frame of " << len;
	}
	/* A chain of more than 16 segments is copied, not lost. */
	auto f = bt::frame(3000, 77);
	ASSERT_EQ(bt::tx1(port, 0, bt::mbuf_of(f, 100)), 1);
	std::vector<uint8_t> got;
	ASSERT_EQ(c.recv(got), 1);
	EXPECT_EQ(got, f);

	/* Client to application. */
	for (size_t len : {size_t{14}, size_t{60}, size_t{1514}, size_t{2049}, size_t{16384}}) {
		auto g = bt::frame(len, seq++);
		ASSERT_EQ(c.send(g), static_cast<ssize_t>(len));
		auto m = bt::rx_wait(port, 0, 1);
		ASSERT_EQ(m.size(), 1u) << "frame of " << len;
		EXPECT_EQ(bt::bytes_of(m[0]), g) << "frame of " << len;
		bt::free_all(m);
	}
	/* A burst of 200 each way keeps its order. */
	for (uint32_t i = 0; i < 200; i++)
		ASSERT_EQ(c.send(bt::frame(64, 5000 + i)), 64);
	auto m = bt::rx_wait(port, 0, 200);
	ASSERT_EQ(m.size(), 200u);
	for (uint32_t i = 0; i < 200; i++)
		EXPECT_EQ(bt::bytes_of(m[i]), bt::frame(64, 5000 + i));
	bt::free_all(m);
	for (uint32_t i = 0; i < 200; i++)
		ASSERT_EQ(bt::tx1(port, 0, bt::mbuf_of(bt::frame(64, 9000 + i))), 1);
	for (uint32_t i = 0; i < 200; i++) {
		ASSERT_EQ(c.recv(got), 1) << i;
		ASSERT_EQ(got, bt::frame(64, 9000 + i)) << i;
	}

	EXPECT_EQ(bt::xstat(port, "socket_clients_accepted"), 1u);
	EXPECT_EQ(bt::xstat(port, "socket_tx_frames"), 208u);
	EXPECT_EQ(bt::xstat(port, "socket_tx_dropped_frames"), 0u);
	EXPECT_EQ(bt::xstat(port, "socket_rx_frames"), 205u + (type == "dgram" ? 1 : 0));
	EXPECT_EQ(stats(port).ierrors, 0u);

	int before = lsc_.load();
	c.close();
	if (type == "dgram")
		EXPECT_TRUE(link_becomes(port, RTE_ETH_LINK_DOWN, 4000));
	else
		EXPECT_TRUE(link_becomes(port, RTE_ETH_LINK_DOWN));
	EXPECT_TRUE(bt::eventually([&] { return lsc_.load() > before; })) << "no LSC event";
	/* No reader: the application's frames are freed and counted (C10). */
	ASSERT_EQ(bt::tx1(port, 0, bt::mbuf_of(bt::frame(60))), 1);
	EXPECT_EQ(bt::xstat(port, "tx_no_reader_packets"), 1u);
}

TEST_P(Types, SecondClientRefusedUntilTheFirstCloses)
{
	const std::string type = GetParam();
	ASSERT_GE(endpoint(type), 0);
	uint16_t port = static_cast<uint16_t>(port_);
	client a;
	ASSERT_NO_FATAL_FAILURE(attach(a, type));
	client b;
	std::vector<uint8_t> got;
	/* dgram: the endpoint is connected to the first: the kernel refuses
	 * the second's connect and its sends (EPERM). The others: accepted
	 * and closed at once, end of file. */
	if (type == "dgram") {
		EXPECT_EQ(b.open(path_, type, false), EPERM);
		sockaddr_un sa = addr_of(path_);
		EXPECT_EQ(sendto(b.fd, "x", 1, 0, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)),
			  -1);
		EXPECT_EQ(errno, EPERM);
	} else {
		ASSERT_EQ(b.open(path_, type), 0);
		EXPECT_EQ(b.recv(got), 0) << "the second client was not refused";
		EXPECT_TRUE(bt::eventually(
		    [&] { return bt::xstat(port, "socket_clients_refused") == 1u; }));
	}
	b.close();
	ASSERT_NO_FATAL_FAILURE(exchange(a, 1)); /* the first is not disturbed */
	EXPECT_EQ(stats(port).ipackets, type == "dgram" ? 2u : 1u);
	a.close();
	ASSERT_TRUE(link_becomes(port, RTE_ETH_LINK_DOWN, 4000));
	client c;
	ASSERT_NO_FATAL_FAILURE(attach(c, type));
	ASSERT_NO_FATAL_FAILURE(exchange(c, 2));
	EXPECT_EQ(bt::xstat(port, "socket_clients_accepted"), 2u);
	if (type == "dgram") {
		/* A new sender takes over from one that went away (as soon as the
		 * pump has seen it go: client::open waits for that). */
		c.close();
		client d;
		ASSERT_NO_FATAL_FAILURE(attach(d, type));
		ASSERT_NO_FATAL_FAILURE(exchange(d, 3));
		/* An empty datagram hangs up. */
		ASSERT_EQ(d.send({}), 0);
		EXPECT_TRUE(link_becomes(port, RTE_ETH_LINK_DOWN, 500));
	}
}

TEST_P(Types, BackToBackClientsEachGetIn)
{
	/* A program run again at once: each run connects right after the last
	 * one closed, and what the last one sent before closing still arrives. */
	const std::string type = GetParam();
	ASSERT_GE(endpoint(type), 0);
	uint16_t port = static_cast<uint16_t>(port_);
	auto c = std::make_unique<client>();
	ASSERT_NO_FATAL_FAILURE(attach(*c, type));
	for (uint32_t run = 0; run < 20; run++) {
		ASSERT_NO_FATAL_FAILURE(exchange(*c, run * 10)) << "run " << run;
		for (uint32_t i = 0; i < 5; i++)
			ASSERT_EQ(c->send(bt::frame(80, run * 10 + i + 1)), 80);
		c = std::make_unique<client>(); /* closes the last one, then connects */
		ASSERT_EQ(c->open(path_, type), 0);
		if (type == "dgram") {
			ASSERT_EQ(c->send({}), 0); /* hello */
		}
		auto m = bt::rx_wait(port, 0, 5);
		ASSERT_EQ(m.size(), 5u) << "run " << run;
		for (uint32_t i = 0; i < 5; i++)
			EXPECT_EQ(bt::bytes_of(m[i]), bt::frame(80, run * 10 + i + 1));
		bt::free_all(m);
		/* Frames the application sends before the pump took the new client
		 * would find no reader: wait for it. */
		ASSERT_TRUE(bt::eventually([&] {
			return bt::xstat(port, "socket_clients_accepted") == run + 2u;
		})) << "run "
		    << run << ": the new client was not taken";
	}
	ASSERT_NO_FATAL_FAILURE(exchange(*c, 999));
	EXPECT_EQ(bt::xstat(port, "socket_clients_refused"), 0u);
	EXPECT_EQ(bt::xstat(port, "socket_clients_accepted"), 21u);
}

TEST_P(Types, KilledClientReleasesTheUnit)
{
	const std::string type = GetParam();
	ASSERT_GE(endpoint(type), 0);
	uint16_t port = static_cast<uint16_t>(port_);
	std::string own = new_path("k");
	sockaddr_un me = addr_of(own), srv = addr_of(path_);
	int st = sock_type(type);
	auto f = bt::frame(60, 42);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		/* The child: a client that connects, says hello, and waits to die. */
		int fd = socket(AF_UNIX, st, 0);
		if (st == SOCK_DGRAM &&
		    bind(fd, reinterpret_cast<sockaddr *>(&me), sizeof(me)) != 0)
			_exit(1);
		if (connect(fd, reinterpret_cast<sockaddr *>(&srv), sizeof(srv)) != 0)
			_exit(2);
		if (st == SOCK_DGRAM && send(fd, f.data(), f.size(), 0) != 60)
			_exit(3);
		for (;;)
			pause();
	}
	ASSERT_TRUE(link_becomes(port, RTE_ETH_LINK_UP)) << "the child never connected";
	auto m = bt::rx_wait(port, 0, type == "dgram" ? 1 : 0, 200);
	bt::free_all(m);
	kill(pid, SIGKILL);
	int status;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	unlink(own.c_str());
	ASSERT_TRUE(link_becomes(port, RTE_ETH_LINK_DOWN, 4000))
	    << "the dead client holds the unit";
	client c;
	ASSERT_NO_FATAL_FAILURE(attach(c, type));
	ASSERT_NO_FATAL_FAILURE(exchange(c, 3));
}

TEST_P(Types, PortCloseHangsUpAndRemovesTheFile)
{
	const std::string type = GetParam();
	ASSERT_GE(endpoint(type), 0);
	client c;
	ASSERT_NO_FATAL_FAILURE(attach(c, type));
	ASSERT_EQ(bt::destroy(name_), 0);
	ports_.clear();
	std::vector<uint8_t> got;
	EXPECT_EQ(c.recv(got), 0) << "no end of file or hang-up datagram";
	struct stat st;
	EXPECT_NE(lstat(path_.c_str(), &st), 0) << "socket file left behind";
}

TEST_P(Types, IdlePumpSleeps)
{
	const std::string type = GetParam();
	std::string extra = "iface=sidle" + std::to_string(g_serial.fetch_add(1));
	ASSERT_GE(endpoint(type, extra), 0);
	std::string comm = "btap-" + extra.substr(strlen("iface="));
	client c;
	ASSERT_NO_FATAL_FAILURE(attach(c, type));
	ASSERT_NO_FATAL_FAILURE(exchange(c, 1));
	std::this_thread::sleep_for(std::chrono::milliseconds(100));
	long before = bt::thread_ticks(comm);
	ASSERT_GE(before, 0) << "pump thread not found";
	std::this_thread::sleep_for(std::chrono::milliseconds(1000));
	long after = bt::thread_ticks(comm);
	EXPECT_LE(after - before, 3) << "the pump burns CPU while idle";
	ASSERT_NO_FATAL_FAILURE(exchange(c, 2)); /* and it wakes up */
}

/* socket_vnet_hdr=12: every message is the virtio-net header and a frame.
 * The application's TSO request reaches the client as one GSO frame; the
 * client's GSO frame reaches an application without LRO as MSS segments
 * with their checksums. */
TEST_P(Types, VnetHeaderCarriesGsoFramesBothWays)
{
	using namespace bt::frames;
	const std::string type = GetParam();
	path_ = new_path();
	name_ = bt::unique_name();
	port_ = bt::create(name_, "reader=socket,socket_type=" + type + ",path=" + path_ +
				      ",socket_vnet_hdr=12");
	ASSERT_GE(port_, 0);
	ports_.push_back(name_);
	const uint16_t port = static_cast<uint16_t>(port_);
	rte_eth_conf conf{};
	conf.txmode.offloads = RTE_ETH_TX_OFFLOAD_TCP_TSO;
	ASSERT_EQ(rte_eth_dev_configure(port, 1, 1, &conf), 0);
	ASSERT_EQ(rte_eth_rx_queue_setup(port, 0, 1024, rte_socket_id(), nullptr, bt::pool()), 0);
	ASSERT_EQ(rte_eth_tx_queue_setup(port, 0, 256, rte_socket_id(), nullptr), 0);
	ASSERT_EQ(rte_eth_dev_start(port), 0);
	client c;
	ASSERT_NO_FATAL_FAILURE(attach(c, type, true)); /* a frame needs a header now */

	spec s{.proto = TCP, .payload = 20000};
	auto f = build(s, false);
	rte_mbuf *m = request(
	    f, s, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_SEG, 1024, 1448);
	ASSERT_NE(m, nullptr);
	ASSERT_EQ(bt::tx1(port, 0, m), 1);
	std::vector<uint8_t> got;
	ASSERT_EQ(c.recv(got, 2000, 70000), 1);
	ASSERT_EQ(got.size(), 12 + f.size());
	auto h = hdr_of(got);
	EXPECT_EQ(h.gso_type, RTE_PMD_BSDTAP_VNET_HDR_GSO_TCPV4);
	EXPECT_EQ(h.gso_size, 1448);
	EXPECT_EQ(h.flags, RTE_PMD_BSDTAP_VNET_HDR_F_NEEDS_CSUM);
	std::vector<uint8_t> frame(got.begin() + 12, got.end());
	finish(frame, h);
	EXPECT_EQ(frame, build(s, true));

	spec big{.proto = TCP, .payload = 40000};
	auto g = build(big, true);
	rte_pmd_bsdtap_vnet_hdr_mrg vh{};
	vh.hdr = tcp_vnet_hdr(big, 1448);
	std::vector<uint8_t> msg(sizeof(vh));
	memcpy(msg.data(), &vh, sizeof(vh));
	auto part = partial(g, big);
	msg.insert(msg.end(), part.begin(), part.end());
	ASSERT_EQ(c.send(msg), static_cast<ssize_t>(msg.size()));
	const size_t nseg = (big.payload + 1447) / 1448;
	auto rx = bt::rx_wait(port, 0, nseg);
	ASSERT_EQ(rx.size(), nseg);
	std::vector<std::vector<uint8_t>> segs;
	for (rte_mbuf *r : rx)
		segs.push_back(bt::bytes_of(r));
	bt::free_all(rx);
	check_segments(segs, g, big, 1448);
	EXPECT_EQ(stats(port).ierrors, 0u);
}

INSTANTIATE_TEST_SUITE_P(Socket, Types, ::testing::Values("seqpacket", "dgram", "stream"));

TEST_F(SocketTest, DgramHelloLetsAReadOnlyClientIn)
{
	ASSERT_GE(endpoint("dgram"), 0);
	uint16_t port = static_cast<uint16_t>(port_);
	client c;
	ASSERT_EQ(c.open(path_, "dgram"), 0);
	ASSERT_EQ(c.send({}), 0); /* hello: no frame */
	ASSERT_TRUE(link_becomes(port, RTE_ETH_LINK_UP));
	auto f = bt::frame(90, 7);
	ASSERT_EQ(bt::tx1(port, 0, bt::mbuf_of(f)), 1);
	std::vector<uint8_t> got;
	ASSERT_EQ(c.recv(got), 1);
	EXPECT_EQ(got, f);
	EXPECT_EQ(stats(port).ipackets, 0u);
	EXPECT_EQ(bt::xstat(port, "socket_rx_frames"), 0u);
	/* A second client is refused by the kernel: the endpoint is connected
	 * to the first. */
	client d;
	EXPECT_EQ(d.open(path_, "dgram", false), EPERM);
	/* Goodbye. */
	ASSERT_EQ(c.send({}), 0);
	EXPECT_TRUE(link_becomes(port, RTE_ETH_LINK_DOWN, 500));
}

/*
 * A dgram client swaps its address for a symlink to a socket only root may
 * write, while the primary (and so the pump) runs as root: the pump's sends
 * must go only to the socket it accepted, never where the path now leads.
 * The client runs as nobody in a forked child. Odd rounds swap right after
 * the hello, before the pump may have taken the client (it is then refused:
 * its address no longer leads to the socket that sent); even rounds swap
 * once it holds the client (which keeps getting the frames).
 */
TEST_F(SocketTest, DgramClientCannotRedirectTheRootPumpBySymlink)
{
	if (geteuid() != 0)
		GTEST_SKIP()
		    << "needs root: the victim socket is root's, the client runs as nobody";
	const uid_t nobody = 65534;
	const gid_t nogroup = 65534;
	ASSERT_GE(endpoint("dgram", "socket_mode=0666"), 0);
	const uint16_t port = static_cast<uint16_t>(port_);
	struct stat dst;
	ASSERT_EQ(stat(sock_dir().c_str(), &dst), 0);
	ASSERT_EQ(chmod(sock_dir().c_str(), 0711), 0); /* nobody may reach the endpoint */
	const std::string cdir = new_path("nobody"), vdir = new_path("root");
	ASSERT_EQ(mkdir(cdir.c_str(), 0700), 0);
	ASSERT_EQ(chown(cdir.c_str(), nobody, nogroup), 0);
	ASSERT_EQ(mkdir(vdir.c_str(), 0700), 0);
	const std::string vpath = vdir + "/victim";
	int victim = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	ASSERT_GE(victim, 0);
	sockaddr_un va = addr_of(vpath);
	ASSERT_EQ(bind(victim, reinterpret_cast<sockaddr *>(&va), sizeof(va)), 0);
	ASSERT_EQ(chmod(vpath.c_str(), 0600), 0);
	const sockaddr_un ea = addr_of(path_);
	unsigned adopted = 0;
	for (int round = 0; round < 20; round++) {
		const bool early = round % 2 == 1;
		const std::string me = cdir + "/c" + std::to_string(round);
		const sockaddr_un ma = addr_of(me);
		const uint64_t acc0 = bt::xstat(port, "socket_clients_accepted");
		const uint64_t ref0 = bt::xstat(port, "socket_clients_refused");
		int to_child[2], from_child[2];
		ASSERT_EQ(pipe(to_child), 0);
		ASSERT_EQ(pipe(from_child), 0);
		pid_t pid = fork();
		if (pid == 0) {
			/* Syscalls only from here: the parent has threads. */
			close(to_child[1]);
			close(from_child[0]);
			char ch;
			if (setgroups(0, nullptr) != 0 || setgid(nogroup) != 0 ||
			    setuid(nobody) != 0)
				_exit(3);
			int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
			if (fd < 0 ||
			    bind(fd, reinterpret_cast<const sockaddr *>(&ma), sizeof(ma)) != 0)
				_exit(4);
			for (int i = 0;
			     connect(fd, reinterpret_cast<const sockaddr *>(&ea), sizeof(ea)) != 0;
			     i++) {
				if (errno != EPERM || i == 2000)
					_exit(5);
				usleep(1000);
			}
			if (send(fd, "", 0, 0) != 0) /* hello */
				_exit(6);
			if (early &&
			    (unlink(me.c_str()) != 0 || symlink(vpath.c_str(), me.c_str()) != 0))
				_exit(7);
			if (write(from_child[1], "h", 1) != 1 || read(to_child[0], &ch, 1) != 1)
				_exit(8);
			if (!early &&
			    (unlink(me.c_str()) != 0 || symlink(vpath.c_str(), me.c_str()) != 0))
				_exit(7);
			if (write(from_child[1], "w", 1) != 1 || read(to_child[0], &ch, 1) != 1)
				_exit(8);
			int got = 0;
			char buf[2048];
			struct pollfd pf = {fd, POLLIN, 0};
			while (poll(&pf, 1, 200) == 1 &&
			       recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
				got++;
			ssize_t n = send(fd, "", 0, 0); /* goodbye */
			(void)n;
			_exit(got == 5 ? 0 : got == 0 ? 1 : 2);
		}
		ASSERT_GT(pid, 0);
		close(to_child[0]);
		close(from_child[1]);
		char ch = 0;
		ASSERT_EQ(read(from_child[0], &ch, 1), 1) << "round " << round;
		/* Early, the pump may also find no socket at the path (between the
		 * unlink and the symlink): the hello is then a dead client's. Not
		 * early, the client must be taken: wait for that alone (a refusal
		 * counted meanwhile can be the last round's goodbye, sent from a
		 * path that is a symlink now, which ended the wait too soon under
		 * load). */
		bool seen = bt::eventually(
		    [&] {
			    return bt::xstat(port, "socket_clients_accepted") > acc0 ||
				   (early && bt::xstat(port, "socket_clients_refused") > ref0);
		    },
		    early ? 300 : 10000);
		const bool taken = bt::xstat(port, "socket_clients_accepted") > acc0;
		if (!early) {
			EXPECT_TRUE(seen && taken)
			    << "round " << round << ": the client was not taken";
		}
		ASSERT_EQ(write(to_child[1], "s", 1), 1);
		ASSERT_EQ(read(from_child[0], &ch, 1), 1);
		for (uint8_t i = 0; i < 5; i++)
			ASSERT_EQ(bt::tx1(port, 0, bt::mbuf_of(bt::frame(80, i))), 1);
		usleep(100 * 1000);
		char vbuf[2048];
		EXPECT_EQ(recv(victim, vbuf, sizeof(vbuf), 0), -1)
		    << "round " << round << ": the root-only socket got the client's frames";
		ASSERT_EQ(write(to_child[1], "q", 1), 1);
		int st = 0;
		ASSERT_EQ(waitpid(pid, &st, 0), pid);
		ASSERT_TRUE(WIFEXITED(st)) << "round " << round;
		/* Taken: it got the 5 frames, whatever its path became. */
		EXPECT_EQ(WEXITSTATUS(st), taken ? 0 : 1) << "round " << round;
		adopted += taken;
		close(to_child[1]);
		close(from_child[0]);
		ASSERT_TRUE(link_becomes(port, RTE_ETH_LINK_DOWN)) << "round " << round;
	}
	printf("%u of 20 clients taken (10 swapped their path once held)\n", adopted);
	close(victim);
	chmod(sock_dir().c_str(), dst.st_mode & 07777);
}

/*
 * The endpoint runs as root with its path in a directory another user
 * (nobody) controls. That user swaps the socket for a symlink to a file only
 * root may change, as fast as it can, while the endpoint is made again and
 * again: root must never change that file's mode or owner, each endpoint is
 * made or refused with an error and leaves no port behind, and once the
 * user stops, the endpoint is made with the mode and owner asked.
 */
TEST_F(SocketTest, RootEndpointNeverChmodsThroughASwappedPath)
{
	if (geteuid() != 0)
		GTEST_SKIP() << "needs root: the endpoint is root's, the swapper runs as nobody";
	const uid_t nobody = 65534;
	const gid_t nogroup = 65534;
	struct stat dst;
	ASSERT_EQ(stat(sock_dir().c_str(), &dst), 0);
	ASSERT_EQ(chmod(sock_dir().c_str(), 0711), 0);
	const std::string cdir = new_path("nobody"), vdir = new_path("root");
	ASSERT_EQ(mkdir(cdir.c_str(), 0755), 0);
	ASSERT_EQ(chown(cdir.c_str(), nobody, nogroup), 0);
	ASSERT_EQ(mkdir(vdir.c_str(), 0700), 0);
	const std::string victim = vdir + "/victim", spath = cdir + "/ep";
	int vfd = open(victim.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	ASSERT_GE(vfd, 0);
	close(vfd);
	int stop[2];
	ASSERT_EQ(pipe(stop), 0);
	pid_t pid = fork();
	if (pid == 0) {
		/* Syscalls only from here: the parent has threads. */
		close(stop[1]);
		if (setgroups(0, nullptr) != 0 || setgid(nogroup) != 0 || setuid(nobody) != 0)
			_exit(3);
		struct pollfd pf = {stop[0], POLLIN, 0};
		for (unsigned i = 0;; i++) {
			if ((i & 1023) == 0 && poll(&pf, 1, 0) != 0)
				_exit(0);
			struct stat st;
			if (lstat(spath.c_str(), &st) != 0)
				continue;
			if (S_ISSOCK(st.st_mode)) {
				if (unlink(spath.c_str()) == 0)
					(void)symlink(victim.c_str(), spath.c_str());
			} else if (S_ISLNK(st.st_mode)) {
				(void)unlink(spath.c_str()); /* so that the next bind can happen */
			}
		}
	}
	ASSERT_GT(pid, 0);
	close(stop[0]);
	const std::string args =
	    "reader=socket,socket_type=seqpacket,socket_mode=0666,owner=nobody,"
	    "path=" +
	    spath;
	unsigned made = 0, refused = 0;
	for (int i = 0; i < 300; i++) {
		const std::string name = bt::unique_name();
		int port = bt::create(name, args);
		if (port >= 0) {
			made++;
			EXPECT_EQ(bt::destroy(name), 0);
		} else {
			refused++;
			uint16_t id;
			EXPECT_NE(rte_eth_dev_get_port_by_name(name.c_str(), &id), 0)
			    << "a refused endpoint left its port";
		}
		struct stat vs;
		ASSERT_EQ(stat(victim.c_str(), &vs), 0);
		ASSERT_EQ(vs.st_mode & 07777, 0600u)
		    << "round " << i << ": root chmod'ed the victim";
		ASSERT_EQ(vs.st_uid, 0u) << "round " << i << ": root chown'ed the victim";
	}
	close(stop[1]);
	int st = 0;
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	printf("%u endpoints made, %u refused while the path was swapped\n", made, refused);
	unlink(spath.c_str());
	const std::string name = bt::unique_name();
	ASSERT_GE(bt::create(name, args), 0);
	struct stat ss;
	ASSERT_EQ(lstat(spath.c_str(), &ss), 0);
	EXPECT_TRUE(S_ISSOCK(ss.st_mode));
	EXPECT_EQ(ss.st_mode & 07777, 0666u);
	EXPECT_EQ(ss.st_uid, nobody);
	EXPECT_EQ(bt::destroy(name), 0);
	unlink(victim.c_str());
	rmdir(vdir.c_str());
	rmdir(cdir.c_str());
	chmod(sock_dir().c_str(), dst.st_mode & 07777);
}

/*
 * The same swaps, won every time (the bind hook above): the socket replaced
 * by a symlink to root's file, or by another user's socket, between the
 * endpoint's bind and its chmod/chown. Neither file may change; the
 * endpoint is refused with an error and leaves no port behind.
 */
TEST_F(SocketTest, EndpointSetsModeOnlyOnTheSocketItBound)
{
	if (geteuid() != 0)
		GTEST_SKIP() << "needs root: the owner devarg and the impostor's owner";
	const uid_t nobody = 65534;
	const std::string vdir = new_path("root");
	ASSERT_EQ(mkdir(vdir.c_str(), 0700), 0);
	const std::string victim = vdir + "/victim", spath = new_path("swapped");
	int vfd = open(victim.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	ASSERT_GE(vfd, 0);
	close(vfd);
	const std::string args =
	    "reader=socket,socket_type=seqpacket,socket_mode=0666,owner=nobody,"
	    "path=" +
	    spath;
	for (int impostor = 0; impostor < 2; impostor++) {
		g_swap_path = spath;
		g_swap_target = victim;
		g_swap_impostor =
		    impostor != 0 ? socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0) : -1;
		const std::string name = bt::unique_name();
		int port = bt::create(name, args);
		const int ifd = g_swap_impostor;
		g_swap_path.clear();
		g_swap_impostor = -1;
		EXPECT_LT(port, 0) << (impostor ? "impostor" : "symlink")
				   << ": the endpoint was made on a swapped name";
		if (port >= 0) {
			EXPECT_EQ(bt::destroy(name), 0);
		}
		uint16_t id;
		EXPECT_NE(rte_eth_dev_get_port_by_name(name.c_str(), &id), 0);
		struct stat vs;
		ASSERT_EQ(stat(victim.c_str(), &vs), 0);
		EXPECT_EQ(vs.st_mode & 07777, 0600u) << "root changed the symlink's target's mode";
		EXPECT_EQ(vs.st_uid, 0u) << "root changed the symlink's target's owner";
		if (ifd >= 0) {
			struct stat is;
			ASSERT_EQ(lstat(spath.c_str(), &is), 0);
			EXPECT_TRUE(S_ISSOCK(is.st_mode));
			EXPECT_NE(is.st_uid, nobody) << "root gave the impostor's socket away";
			close(ifd);
		}
		unlink(spath.c_str());
	}
	/* No swap: the endpoint is made with the mode and owner asked. */
	const std::string name = bt::unique_name();
	ASSERT_GE(bt::create(name, args), 0);
	struct stat ss;
	ASSERT_EQ(lstat(spath.c_str(), &ss), 0);
	EXPECT_EQ(ss.st_mode & 07777, 0666u);
	EXPECT_EQ(ss.st_uid, nobody);
	EXPECT_EQ(bt::destroy(name), 0);
	unlink(victim.c_str());
	rmdir(vdir.c_str());
}

/* ------------------------------------------------------- bad input */

class Messages : public SocketTest, public ::testing::WithParamInterface<const char *>
{
};

TEST_P(Messages, OversizeRefusedRuntCountedClientStays)
{
	const std::string type = GetParam();
	ASSERT_GE(endpoint(type), 0);
	uint16_t port = static_cast<uint16_t>(port_);
	client c;
	ASSERT_NO_FATAL_FAILURE(attach(c, type));
	int big = 1 << 20;
	setsockopt(c.fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	/* C22: over 16384 is refused (counted, dropped), 16384 is a frame. */
	ASSERT_EQ(c.send(bt::frame(16385, 1)), 16385);
	ASSERT_EQ(c.send(bt::frame(16384, 2)), 16384);
	auto m = bt::rx_wait(port, 0, 1);
	ASSERT_EQ(m.size(), 1u);
	EXPECT_EQ(bt::bytes_of(m[0]), bt::frame(16384, 2));
	bt::free_all(m);
	EXPECT_EQ(bt::xstat(port, "socket_rx_bad_frames"), 1u);
	/* C25: a runt is counted as an input error, not delivered. */
	ASSERT_EQ(c.send(bt::frame(10, 3)), 10);
	EXPECT_TRUE(bt::eventually([&] { return stats(port).ierrors == 1u; }));
	/* C21: an empty seqpacket message delivers nothing and ends nothing. */
	if (type == "seqpacket") {
		ASSERT_EQ(c.send({}), 0);
	}
	ASSERT_NO_FATAL_FAILURE(exchange(c, 4));
	EXPECT_EQ(stats(port).ipackets, type == "dgram" ? 3u : 2u);
}

TEST_P(Messages, ShortReceiveBufferTruncates)
{
	/* C17: what fits, the rest of the frame dropped, the next frame whole. */
	const std::string type = GetParam();
	ASSERT_GE(endpoint(type), 0);
	uint16_t port = static_cast<uint16_t>(port_);
	client c;
	ASSERT_NO_FATAL_FAILURE(attach(c, type));
	auto f1 = bt::frame(300, 1), f2 = bt::frame(80, 2);
	ASSERT_EQ(bt::tx1(port, 0, bt::mbuf_of(f1)), 1);
	ASSERT_EQ(bt::tx1(port, 0, bt::mbuf_of(f2)), 1);
	std::vector<uint8_t> got;
	ASSERT_EQ(c.recv(got, 2000, 100), 1);
	EXPECT_EQ(got, std::vector<uint8_t>(f1.begin(), f1.begin() + 100));
	ASSERT_EQ(c.recv(got), 1);
	EXPECT_EQ(got, f2);
}

INSTANTIATE_TEST_SUITE_P(Socket, Messages, ::testing::Values("seqpacket", "dgram"));

class Stream : public SocketTest
{
};

TEST_F(Stream, BadLengthPrefixDropsTheClientOnly)
{
	ASSERT_GE(endpoint("stream"), 0);
	uint16_t port = static_cast<uint16_t>(port_);
	uint64_t bad = 0;
	for (uint32_t len : {16385u, 0xffffffffu, 13u, 0u}) {
		client c;
		ASSERT_NO_FATAL_FAILURE(attach(c, "stream"));
		ASSERT_NO_FATAL_FAILURE(exchange(c, len & 0xff));
		uint32_t be = htonl(len);
		ASSERT_EQ(write(c.fd, &be, 4), 4);
		std::vector<uint8_t> got;
		EXPECT_EQ(c.recv(got), 0) << "length " << len << ": client not dropped";
		EXPECT_EQ(bt::xstat(port, "socket_rx_bad_frames"), ++bad);
		ASSERT_TRUE(link_becomes(port, RTE_ETH_LINK_DOWN)) << len;
	}
	client c;
	ASSERT_NO_FATAL_FAILURE(attach(c, "stream"));
	ASSERT_NO_FATAL_FAILURE(exchange(c, 9));
}

TEST_F(Stream, FramesSplitAnywhereAreJoined)
{
	ASSERT_GE(endpoint("stream"), 0);
	uint16_t port = static_cast<uint16_t>(port_);
	client c;
	ASSERT_NO_FATAL_FAILURE(attach(c, "stream"));
	/* Three frames in one buffer, written a few bytes at a time. */
	std::vector<uint8_t> wire;
	std::vector<std::vector<uint8_t>> frames = {bt::frame(60, 1), bt::frame(3000, 2),
						    bt::frame(14, 3)};
	for (auto &f : frames) {
		uint32_t be = htonl(static_cast<uint32_t>(f.size()));
		auto *b = reinterpret_cast<uint8_t *>(&be);
		wire.insert(wire.end(), b, b + 4);
		wire.insert(wire.end(), f.begin(), f.end());
	}
	for (size_t off = 0; off < wire.size();) {
		size_t n = std::min<size_t>(off < 8 ? 1 : 777, wire.size() - off);
		ASSERT_EQ(write(c.fd, wire.data() + off, n), static_cast<ssize_t>(n));
		off += n;
		std::this_thread::sleep_for(std::chrono::milliseconds(2));
	}
	auto m = bt::rx_wait(port, 0, 3);
	ASSERT_EQ(m.size(), 3u);
	for (size_t i = 0; i < 3; i++)
		EXPECT_EQ(bt::bytes_of(m[i]), frames[i]);
	bt::free_all(m);
}

/* ------------------------------------------------------- queues, txfull */

class Pump : public SocketTest
{
};

TEST_F(Pump, EveryTxQueueReachesTheClientRxGoesToQueueZero)
{
	ASSERT_GE(endpoint("seqpacket", "", 3), 0);
	uint16_t port = static_cast<uint16_t>(port_);
	client c;
	ASSERT_NO_FATAL_FAILURE(attach(c, "seqpacket"));
	for (uint16_t q = 0; q < 3; q++)
		ASSERT_EQ(bt::tx1(port, q, bt::mbuf_of(bt::frame(70, q))), 1);
	std::vector<bool> seen(3);
	for (int i = 0; i < 3; i++) {
		std::vector<uint8_t> got;
		ASSERT_EQ(c.recv(got), 1);
		for (uint16_t q = 0; q < 3; q++)
			if (got == bt::frame(70, q))
				seen[q] = true;
	}
	EXPECT_TRUE(seen[0] && seen[1] && seen[2]);
	ASSERT_EQ(c.send(bt::frame(70, 9)), 70);
	auto m = bt::rx_wait(port, 0, 1);
	EXPECT_EQ(m.size(), 1u);
	bt::free_all(m);
	EXPECT_EQ(bt::xstat(port, "rx_q0_packets"), 1u);
}

TEST_F(Pump, QueueHeldByAReaderRefusesClients)
{
	ASSERT_GE(endpoint("seqpacket"), 0);
	uint16_t port = static_cast<uint16_t>(port_);
	rte_pmd_bsdtap_reader *r = rte_pmd_bsdtap_open(name_.c_str(), 0, 0);
	ASSERT_NE(r, nullptr);
	client a;
	ASSERT_EQ(a.open(path_, "seqpacket"), 0);
	std::vector<uint8_t> got;
	EXPECT_EQ(a.recv(got), 0) << "a client got a queue a reader holds";
	EXPECT_EQ(bt::xstat(port, "socket_clients_refused"), 1u);
	ASSERT_EQ(rte_pmd_bsdtap_close(&r), 0);
	client b;
	ASSERT_NO_FATAL_FAILURE(attach(b, "seqpacket"));
	ASSERT_NO_FATAL_FAILURE(exchange(b, 1));
}

TEST_F(Pump, SlowClientDropsAreCountedNeverStall)
{
	ASSERT_GE(endpoint("seqpacket", "ring_size=64"), 0);
	uint16_t port = static_cast<uint16_t>(port_);
	client c;
	ASSERT_NO_FATAL_FAILURE(attach(c, "seqpacket"));
	/* The client reads nothing: the socket fills, what it refuses of a
	 * batch is dropped, then the devq fills and tx burst drops. Every tx
	 * call still takes its frame at once. */
	const unsigned n = 3000;
	for (unsigned i = 0; i < n; i++)
		ASSERT_EQ(bt::tx1(port, 0, bt::mbuf_of(bt::frame(9000, i))), 1) << i;
	auto sent = [&] { return bt::xstat(port, "socket_tx_frames"); };
	auto dropped = [&] { return bt::xstat(port, "socket_tx_dropped_frames"); };
	auto oerr = [&] { return stats(port).oerrors; };
	EXPECT_GT(oerr(), 0u);
	/* What was sent arrives in order, and then what waited in the devq. */
	std::vector<uint8_t> got;
	uint64_t k = 0;
	uint32_t last = 0;
	while (c.recv(got, 300, 16384) == 1) {
		uint32_t seq;
		memcpy(&seq, got.data() + 14, 4);
		if (k > 0) {
			EXPECT_GT(seq, last);
		}
		last = seq;
		k++;
	}
	EXPECT_EQ(sent() + dropped() + oerr(), n)
	    << sent() << " + " << dropped() << " + " << oerr();
	EXPECT_EQ(k, sent());
	ASSERT_NO_FATAL_FAILURE(exchange(c, 1));
}

TEST_F(Pump, BackpressureKeepsFramesInTheDevq)
{
	ASSERT_GE(endpoint("stream", "ring_size=64,txfull=backpressure"), 0);
	uint16_t port = static_cast<uint16_t>(port_);
	client c;
	ASSERT_NO_FATAL_FAILURE(attach(c, "stream"));
	/* The client reads nothing: the socket, then the devq fill, and tx
	 * burst takes fewer. Nothing is dropped anywhere. */
	uint32_t accepted = 0;
	int refusals = 0;
	for (uint32_t i = 0; refusals < 50 && i < 100000; i++) {
		rte_mbuf *m = bt::mbuf_of(bt::frame(9000, accepted));
		if (bt::tx1(port, 0, m) == 1) {
			accepted++;
			refusals = 0;
		} else {
			rte_pktmbuf_free(m);
			refusals++;
			std::this_thread::sleep_for(std::chrono::milliseconds(1));
		}
	}
	ASSERT_EQ(refusals, 50) << "tx never pushed back";
	std::vector<uint8_t> got;
	for (uint32_t i = 0; i < accepted; i++) {
		ASSERT_EQ(c.recv(got), 1) << i << " of " << accepted;
		uint32_t seq;
		memcpy(&seq, got.data() + 14, 4);
		ASSERT_EQ(seq, i);
	}
	EXPECT_EQ(bt::xstat(port, "socket_tx_dropped_frames"), 0u);
	EXPECT_EQ(stats(port).oerrors, 0u);
	ASSERT_NO_FATAL_FAILURE(exchange(c, 1));
}

} // namespace

/* Remove this run's socket directory once every test is done. */
class SockDirCleanup : public ::testing::Environment
{
public:
	void TearDown() override
	{
		if (!sock_dir().empty())
			rmdir(sock_dir().c_str());
	}
};

const auto *const g_cleanup = ::testing::AddGlobalTestEnvironment(new SockDirCleanup);

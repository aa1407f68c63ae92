/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel-side reader of bench/compare.sh's net_tap path: an AF_PACKET
 * socket bound to one interface, reading through a TPACKET_V3 receive ring
 * (the fastest way the kernel hands frames to a process: one poll() per
 * block of frames, no copy per read call), counting frames.
 *
 *   afpacket_reader IFNAME [--write]
 *
 * Prints "ready" once the ring is mapped; on SIGUSR1 one line
 * "count FRAMES ns CLOCK_MONOTONIC_NS drops KERNEL_DROPS"; on SIGTERM or
 * SIGINT the same line and exits 0. Needs CAP_NET_RAW.
 *
 * --write: the reverse path's writer instead. Sends 64-byte broadcast frames
 * out of IFNAME as fast as the kernel takes them: sendmmsg() of 32 frames a
 * call, the qdisc bypassed (PACKET_QDISC_BYPASS), so each frame goes
 * straight to the driver (for a tap: to the queue its fd reads). Counts the
 * frames the kernel accepted; same "ready" and "count" lines.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

/* 64 blocks of 1 MiB: room for about 600k small frames, so that a slow
 * reader loses frames to a full ring only after a long stall. */
#define BLOCK_SIZE (1u << 20)
#define BLOCK_NR 64u
#define FRAME_SIZE 2048u
/* A block is handed over when full or after this many ms. */
#define BLOCK_TIMEOUT_MS 10

static volatile sig_atomic_t report_req;
static volatile sig_atomic_t stop_req;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		report_req = 1;
	else
		stop_req = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t drops;

static void report(int fd, uint64_t count)
{
	struct tpacket_stats_v3 st;
	socklen_t len = sizeof(st);
	/* Reading the statistics resets them: accumulate. */
	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
		drops += st.tp_drops;
	printf("count %" PRIu64 " ns %" PRIu64 " drops %" PRIu64 "\n", count, now_ns(), drops);
	fflush(stdout);
}

#define WRITE_BATCH 32
#define WRITE_LEN 64

static int run_writer(unsigned ifindex)
{
	int fd = socket(AF_PACKET, SOCK_RAW, 0); /* no protocol: receives nothing */
	if (fd < 0) {
		fprintf(stderr, "afpacket_reader: socket: %s\n", strerror(errno));
		return 1;
	}
	int v = 1;
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &v, sizeof(v));
	struct sockaddr_ll sll;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = (int)ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
		fprintf(stderr, "afpacket_reader: bind: %s\n", strerror(errno));
		return 1;
	}
	static uint8_t frame[WRITE_LEN];
	memset(frame, 0xff, 6);				  /* broadcast */
	memcpy(frame + 6, "\x02\x00\x00\x00\xbe\x02", 6); /* local source */
	frame[12] = 0x08;				  /* IPv4 ethertype */
	struct iovec iov[WRITE_BATCH];
	struct mmsghdr msg[WRITE_BATCH];
	memset(msg, 0, sizeof(msg));
	for (int i = 0; i < WRITE_BATCH; i++) {
		iov[i].iov_base = frame;
		iov[i].iov_len = sizeof(frame);
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	printf("ready\n");
	fflush(stdout);
	uint64_t count = 0;
	while (!stop_req) {
		if (report_req) {
			report_req = 0;
			printf("count %" PRIu64 " ns %" PRIu64 " drops 0\n", count, now_ns());
			fflush(stdout);
		}
		int n = sendmmsg(fd, msg, WRITE_BATCH, 0);
		if (n > 0)
			count += (uint64_t)n;
		else if (n < 0 && errno != EINTR && errno != ENOBUFS && errno != EAGAIN) {
			fprintf(stderr, "afpacket_reader: sendmmsg: %s\n", strerror(errno));
			return 1;
		}
	}
	printf("count %" PRIu64 " ns %" PRIu64 " drops 0\n", count, now_ns());
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	int write_mode = argc == 3 && strcmp(argv[2], "--write") == 0;
	if (argc != 2 && !write_mode) {
		fprintf(stderr, "usage: %s IFNAME [--write]\n", argv[0]);
		return 2;
	}
	unsigned ifindex = if_nametoindex(argv[1]);
	if (ifindex == 0) {
		fprintf(stderr, "afpacket_reader: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (write_mode) {
		struct sigaction wa;
		memset(&wa, 0, sizeof(wa));
		wa.sa_handler = on_signal;
		sigaction(SIGUSR1, &wa, NULL);
		sigaction(SIGTERM, &wa, NULL);
		sigaction(SIGINT, &wa, NULL);
		return run_writer(ifindex);
	}
	int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (fd < 0) {
		fprintf(stderr, "afpacket_reader: socket: %s\n", strerror(errno));
		return 1;
	}
	int v = TPACKET_V3;
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) != 0) {
		fprintf(stderr, "afpacket_reader: PACKET_VERSION: %s\n", strerror(errno));
		return 1;
	}
	/* Only what arrives on the interface, not what the host sends out of it. */
	v = 1;
	setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &v, sizeof(v));
	struct tpacket_req3 req;
	memset(&req, 0, sizeof(req));
	req.tp_block_size = BLOCK_SIZE;
	req.tp_block_nr = BLOCK_NR;
	req.tp_frame_size = FRAME_SIZE;
	req.tp_frame_nr = BLOCK_SIZE / FRAME_SIZE * BLOCK_NR;
	req.tp_retire_blk_tov = BLOCK_TIMEOUT_MS;
	if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) != 0) {
		fprintf(stderr, "afpacket_reader: PACKET_RX_RING: %s\n", strerror(errno));
		return 1;
	}
	size_t map_len = (size_t)BLOCK_SIZE * BLOCK_NR;
	uint8_t *ring = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, fd, 0);
	if (ring == MAP_FAILED)
		ring = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (ring == MAP_FAILED) {
		fprintf(stderr, "afpacket_reader: mmap: %s\n", strerror(errno));
		return 1;
	}
	struct sockaddr_ll sll;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
		fprintf(stderr, "afpacket_reader: bind %s: %s\n", argv[1], strerror(errno));
		return 1;
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR */
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	/* Frames that came before the measurement do not count. */
	struct tpacket_stats_v3 st;
	socklen_t slen = sizeof(st);
	getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &slen);
	printf("ready\n");
	fflush(stdout);

	uint64_t count = 0, bytes = 0;
	unsigned blk = 0;
	while (!stop_req) {
		if (report_req) {
			report_req = 0;
			report(fd, count);
		}
		struct tpacket_block_desc *bd =
		    (struct tpacket_block_desc *)(ring + (size_t)blk * BLOCK_SIZE);
		if ((__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
		     TP_STATUS_USER) == 0) {
			struct pollfd p = {fd, POLLIN | POLLERR, 0};
			poll(&p, 1, 100);
			continue;
		}
		/* Walk the block's frames as a reader would, looking at each length. */
		uint32_t n = bd->hdr.bh1.num_pkts;
		struct tpacket3_hdr *h =
		    (struct tpacket3_hdr *)((uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt);
		for (uint32_t i = 0; i < n; i++) {
			bytes += h->tp_snaplen;
			h = (struct tpacket3_hdr *)((uint8_t *)h + h->tp_next_offset);
		}
		count += n;
		__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		blk = (blk + 1) % BLOCK_NR;
	}
	report(fd, count);
	fprintf(stderr, "afpacket_reader: %" PRIu64 " frames, %" PRIu64 " bytes\n", count, bytes);
	munmap(ring, map_len);
	close(fd);
	return 0;
}

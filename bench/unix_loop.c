/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel's own limit for bench/compare.sh's socket paths: a bare
 * Unix-socket loop of one type, with no DPDK and no driver. A sender thread
 * writes 64-byte messages as the socket endpoint's pump does (sendmmsg of
 * 128 messages, non-blocking, poll() for room) and the main thread reads
 * them as examples/socket_client does (recvmmsg of 32 into 16 KiB buffers,
 * non-blocking, poll() when empty), over a socketpair. Run both on one core
 * (taskset), as the pump and the client share the reader core there.
 *
 * With -r CPU the sender's frames come from another core, as the pump's do:
 * a writer thread on CPU fills a pool of frame slots (2 KiB apart, as mbufs
 * are), each written once and handed to the sender by an index, and spins
 * while the pool is full, as a generator at full rate does; the sender hands
 * slots back once they are sent. Without -r it sends one local buffer.
 *
 *   unix_loop -t seqpacket|dgram [-s SECONDS] [-w WARMUP_SECONDS] [-l LEN] [-r CPU]
 *
 * Prints one line: "unix_loop type T writer-cpu C len L frames N seconds S
 * mpps X" (C -1: no writer), the messages received during the S seconds
 * after the warm-up.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SEND_BATCH 128 /* the pump's batch */
#define RECV_BATCH 32  /* the client's batch */
#define RECV_BUF 16384 /* the client's buffer per message (the unit's MRU) */
#define MAX_LEN 1514

static atomic_int stop;
static int fds[2];
static unsigned msg_len = 64;

/* -r: the frame pool, its producer (the writer) and consumer (the sender). */
#define POOL_FRAMES 4096 /* a power of two, the devq's size order */
#define POOL_STRIDE 2048
static char *pool;
static _Atomic unsigned pool_prod, pool_cons;
static int writer_cpu = -1;

static void *writer(void *arg)
{
	(void)arg;
	cpu_set_t cs;
	CPU_ZERO(&cs);
	CPU_SET(writer_cpu, &cs);
	if (pthread_setaffinity_np(pthread_self(), sizeof(cs), &cs) != 0) {
		fprintf(stderr, "unix_loop: cannot move the writer to CPU %d\n", writer_cpu);
		exit(1);
	}
	unsigned prod = 0;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		unsigned cons = atomic_load_explicit(&pool_cons, memory_order_acquire);
		unsigned room = POOL_FRAMES - (prod - cons);
		if (room == 0)
			continue; /* full: spin, as a generator does */
		for (unsigned i = 0; i < room && i < 32; i++, prod++)
			memset(pool + (size_t)(prod % POOL_FRAMES) * POOL_STRIDE, (int)prod,
			       msg_len);
		atomic_store_explicit(&pool_prod, prod, memory_order_release);
	}
	return NULL;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *sender(void *arg)
{
	(void)arg;
	static char frame[MAX_LEN];
	struct iovec iov[SEND_BATCH];
	struct mmsghdr msg[SEND_BATCH];
	memset(frame, 0xa5, sizeof(frame));
	memset(msg, 0, sizeof(msg));
	for (int i = 0; i < SEND_BATCH; i++) {
		iov[i] = (struct iovec){frame, msg_len};
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		unsigned cons = 0, want = SEND_BATCH;
		if (pool != NULL) {
			cons = atomic_load_explicit(&pool_cons, memory_order_relaxed);
			want = atomic_load_explicit(&pool_prod, memory_order_acquire) - cons;
			if (want == 0)
				continue;
			if (want > SEND_BATCH)
				want = SEND_BATCH;
			/* Asked for ahead of the kernel's copy, as the pump does. */
			for (unsigned i = 0; i < want; i++) {
				iov[i].iov_base =
				    pool + (size_t)((cons + i) % POOL_FRAMES) * POOL_STRIDE;
				__builtin_prefetch(iov[i].iov_base);
			}
		}
		int n = sendmmsg(fds[0], msg, want, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			if (pool != NULL)
				atomic_store_explicit(&pool_cons, cons + (unsigned)n,
						      memory_order_release);
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != ENOBUFS && errno != EINTR) {
			perror("unix_loop: sendmmsg");
			exit(1);
		}
		struct pollfd p = {fds[0], POLLOUT, 0};
		poll(&p, 1, 100);
	}
	return NULL;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: unix_loop -t seqpacket|dgram [-s SECONDS] [-w WARMUP] [-l LEN] [-r CPU]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int type = -1;
	const char *type_name = NULL;
	double seconds = 5, warmup = 1;
	int opt;
	while ((opt = getopt(argc, argv, "t:s:w:l:r:")) != -1) {
		switch (opt) {
		case 't':
			type_name = optarg;
			if (strcmp(optarg, "seqpacket") == 0)
				type = SOCK_SEQPACKET;
			else if (strcmp(optarg, "dgram") == 0)
				type = SOCK_DGRAM;
			else
				usage();
			break;
		case 's':
			seconds = atof(optarg);
			break;
		case 'w':
			warmup = atof(optarg);
			break;
		case 'l':
			msg_len = (unsigned)atoi(optarg);
			if (msg_len < 1 || msg_len > MAX_LEN)
				usage();
			break;
		case 'r':
			writer_cpu = atoi(optarg);
			if (writer_cpu < 0 || writer_cpu >= CPU_SETSIZE)
				usage();
			break;
		default:
			usage();
		}
	}
	if (type < 0 || seconds <= 0 || warmup < 0)
		usage();
	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds) != 0) {
		perror("unix_loop: socketpair");
		return 1;
	}
	char *buf = malloc((size_t)RECV_BATCH * RECV_BUF);
	if (buf == NULL)
		return 1;
	struct iovec iov[RECV_BATCH];
	struct mmsghdr msg[RECV_BATCH];
	pthread_t t, w;
	if (writer_cpu >= 0) {
		pool = calloc(POOL_FRAMES, POOL_STRIDE);
		if (pool == NULL || pthread_create(&w, NULL, writer, NULL) != 0) {
			fprintf(stderr, "unix_loop: cannot start the writer\n");
			return 1;
		}
	}
	if (pthread_create(&t, NULL, sender, NULL) != 0) {
		fprintf(stderr, "unix_loop: cannot start the sender\n");
		return 1;
	}
	const uint64_t t0 = now_ns();
	const uint64_t start = t0 + (uint64_t)(warmup * 1e9);
	const uint64_t end = start + (uint64_t)(seconds * 1e9);
	uint64_t frames = 0, t_start = 0, t_end = 0;
	int counting = 0;
	for (;;) {
		for (int i = 0; i < RECV_BATCH; i++) {
			iov[i] = (struct iovec){buf + (size_t)i * RECV_BUF, RECV_BUF};
			memset(&msg[i], 0, sizeof(msg[i]));
			msg[i].msg_hdr.msg_iov = &iov[i];
			msg[i].msg_hdr.msg_iovlen = 1;
		}
		int n = recvmmsg(fds[1], msg, RECV_BATCH, MSG_DONTWAIT, NULL);
		uint64_t now = now_ns();
		if (!counting && now >= start) {
			counting = 1;
			t_start = now;
		}
		if (n > 0) {
			if (counting)
				frames += (uint64_t)n;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			perror("unix_loop: recvmmsg");
			return 1;
		} else {
			struct pollfd p = {fds[1], POLLIN, 0};
			poll(&p, 1, 100);
		}
		if (now >= end) {
			t_end = now;
			break;
		}
	}
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	if (pool != NULL) {
		pthread_join(w, NULL);
		free(pool);
	}
	double s = (double)(t_end - t_start) / 1e9;
	printf("unix_loop type %s writer-cpu %d len %u frames %llu seconds %.3f mpps %.3f\n",
	       type_name, writer_cpu, msg_len, (unsigned long long)frames, s,
	       s > 0 ? (double)frames / s / 1e6 : 0.0);
	free(buf);
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A client of net_bsdtap's socket endpoint (reader=socket): a plain program,
 * no DPDK, that reads and writes the unit's frames like /dev/tapN, in
 * batches: sendmmsg/recvmmsg for seqpacket and dgram, one writev/read of
 * many length-prefixed frames for stream.
 *
 *   socket_client PATH [-t seqpacket|dgram|stream] [-m ping|rx|tx]
 *                 [-n FRAMES] [-s BYTES] [-d SECONDS] [-x]
 *
 * ping (default) sends FRAMES frames of BYTES bytes, up to 32 at a time, and
 *      expects each back byte for byte, as testpmd's io forwarding returns
 *      them (-x: with the MAC addresses swapped, as macswap returns them);
 *      exits 0 when all came back;
 * rx   receives for SECONDS (or until FRAMES) and prints frames per second;
 * tx   sends for SECONDS (or FRAMES frames) and prints frames per second.
 *
 * Build: cc -O2 -o socket_client socket_client.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MRU 16384 /* the largest frame a unit takes (TAPMRU) */
#define BATCH 32
#define STREAM_BUF (BATCH * (MRU + 4))

struct client {
	int fd;
	int stream;		     /* 4-byte big-endian length before each frame */
	int dgram;		     /* says hello and goodbye with an empty datagram */
	int hung_up;		     /* the endpoint ended it (or refused us) */
	unsigned char *buf;	     /* BATCH frames, MRU bytes each */
	unsigned char *sbuf;	     /* stream: bytes read, not yet cut */
	size_t slen;		     /* stream: bytes in sbuf */
	size_t soff;		     /* stream: bytes of sbuf already returned */
	struct mmsghdr msg[BATCH];   /* seqpacket, dgram */
	struct iovec iov[BATCH];     /* seqpacket, dgram */
	unsigned char *frame[BATCH]; /* what the last receive returned */
	size_t len[BATCH];
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int client_open(struct client *c, const char *path, const char *type)
{
	int t = SOCK_SEQPACKET;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	memset(c, 0, sizeof(*c));
	if (strcmp(type, "dgram") == 0)
		t = SOCK_DGRAM;
	else if (strcmp(type, "stream") == 0)
		t = SOCK_STREAM;
	else if (strcmp(type, "seqpacket") != 0)
		return -EINVAL;
	c->stream = t == SOCK_STREAM;
	c->dgram = t == SOCK_DGRAM;
	c->fd = socket(AF_UNIX, t, 0);
	if (c->fd < 0)
		return -errno;
	if (t == SOCK_DGRAM) {
		/* The endpoint answers the sender's address: bind one. With
		 * only the family, Linux picks a free abstract name (autobind). */
		struct sockaddr_un me = {.sun_family = AF_UNIX};
		if (bind(c->fd, (struct sockaddr *)&me, sizeof(sa_family_t)) != 0)
			return -errno;
	}
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return -errno;
	/* dgram: an empty datagram says hello, so that a client that only
	 * reads is known too. */
	if (t == SOCK_DGRAM && send(c->fd, "", 0, 0) != 0)
		return -errno;
	c->buf = malloc((size_t)BATCH * MRU);
	c->sbuf = malloc(STREAM_BUF);
	return c->buf != NULL && c->sbuf != NULL ? 0 : -ENOMEM;
}

/* Send n frames in one call; returns how many went, or -errno. */
static int client_send(struct client *c, unsigned char *const *f, const size_t *len, int n)
{
	struct iovec iov[2 * BATCH];
	uint32_t be[BATCH];

	if (c->stream) {
		size_t total = 0;
		for (int i = 0; i < n; i++) {
			be[i] = htonl((uint32_t)len[i]);
			iov[2 * i] = (struct iovec){&be[i], 4};
			iov[2 * i + 1] = (struct iovec){f[i], len[i]};
			total += 4 + len[i];
		}
		/* A blocking stream socket writes it all (or fails). */
		ssize_t w = writev(c->fd, iov, 2 * n);
		return w < 0 ? -errno : (size_t)w == total ? n : -EIO;
	}
	struct mmsghdr m[BATCH];
	memset(m, 0, sizeof(m));
	for (int i = 0; i < n; i++) {
		iov[i] = (struct iovec){f[i], len[i]};
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	int sent = sendmmsg(c->fd, m, (unsigned)n, 0);
	return sent < 0 ? -errno : sent;
}

/* Receive up to BATCH frames, waiting up to timeout_ms for the first:
 * c->frame[i], c->len[i]. Returns the count, 0 on timeout, -1 when the
 * endpoint hung up (end of file, or an empty datagram). */
static int client_recv(struct client *c, int timeout_ms)
{
	struct pollfd p = {c->fd, POLLIN, 0};

	if (c->hung_up)
		return -1;
	if (c->stream) {
		for (;;) {
			/* Whole frames in what was read, in place. */
			int n = 0;
			while (n < BATCH && c->slen - c->soff >= 4) {
				uint32_t be;
				memcpy(&be, c->sbuf + c->soff, 4);
				size_t len = ntohl(be);
				if (c->slen - c->soff - 4 < len)
					break;
				c->frame[n] = c->sbuf + c->soff + 4;
				c->len[n++] = len;
				c->soff += 4 + len;
			}
			if (n > 0)
				return n;
			memmove(c->sbuf, c->sbuf + c->soff, c->slen - c->soff);
			c->slen -= c->soff;
			c->soff = 0;
			if (poll(&p, 1, timeout_ms) <= 0)
				return 0;
			ssize_t r = read(c->fd, c->sbuf + c->slen, STREAM_BUF - c->slen);
			if (r <= 0) {
				c->hung_up = 1;
				return -1;
			}
			c->slen += (size_t)r;
		}
	}
	if (poll(&p, 1, timeout_ms) <= 0)
		return 0;
	for (int i = 0; i < BATCH; i++) {
		c->iov[i] = (struct iovec){c->buf + (size_t)i * MRU, MRU};
		memset(&c->msg[i], 0, sizeof(c->msg[i]));
		c->msg[i].msg_hdr.msg_iov = &c->iov[i];
		c->msg[i].msg_hdr.msg_iovlen = 1;
	}
	int n = recvmmsg(c->fd, c->msg, BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return n == 0 || errno == EAGAIN ? 0 : -1;
	for (int i = 0; i < n; i++) {
		c->frame[i] = c->buf + (size_t)i * MRU;
		c->len[i] = c->msg[i].msg_len;
		if (c->len[i] == 0) {
			/* End of file, or the endpoint's hang-up: busy, or closing. */
			c->hung_up = 1;
			return i > 0 ? i : -1;
		}
	}
	return n;
}

/* Leave: a dgram client says so with an empty datagram, so the endpoint
 * takes the next client at once; the others just close. */
static void client_close(struct client *c)
{
	if (c->dgram && !c->hung_up)
		send(c->fd, "", 0, MSG_DONTWAIT);
	close(c->fd);
	free(c->buf);
	free(c->sbuf);
}

/* Frame seq: broadcast destination, a local source, EtherType 0x88b5 (local
 * experimental), seq big-endian, then a pattern. */
static void make_frame(unsigned char *f, size_t len, uint32_t seq)
{
	static const unsigned char hdr[14] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
					      0x00, 0x00, 0x00, 0x00, 0x01, 0x88, 0xb5};
	uint32_t be = htonl(seq);

	for (size_t i = 0; i < len; i++)
		f[i] = (unsigned char)(i * 7 + seq);
	memcpy(f, hdr, len < 14 ? len : 14);
	if (len >= 18)
		memcpy(f + 14, &be, 4);
}

int main(int argc, char **argv)
{
	const char *type = "seqpacket", *mode = "ping";
	long count = 0, size = 64, seconds = 0;
	int swap = 0, opt;
	struct client c;

	while ((opt = getopt(argc, argv, "t:m:n:s:d:x")) != -1) {
		switch (opt) {
		case 't':
			type = optarg;
			break;
		case 'm':
			mode = optarg;
			break;
		case 'n':
			count = atol(optarg);
			break;
		case 's':
			size = atol(optarg);
			break;
		case 'd':
			seconds = atol(optarg);
			break;
		case 'x':
			swap = 1;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1 || size < 14 || size > MRU)
		goto usage;
	int err = client_open(&c, argv[optind], type);
	/* dgram: the endpoint's socket stays connected to the client before
	 * until it has read that one's goodbye, a moment after it was sent:
	 * a client started right after another retries for up to a second. */
	for (int tries = 0; err == -EPERM && strcmp(type, "dgram") == 0 && tries < 100; tries++) {
		close(c.fd);
		usleep(10000);
		err = client_open(&c, argv[optind], type);
	}
	if (err == -EPERM && strcmp(type, "dgram") == 0) {
		/* The endpoint's socket is connected to the client it serves. */
		fprintf(stderr, "%s: busy: the endpoint serves another client\n", argv[optind]);
		return 1;
	}
	if (err != 0) {
		fprintf(stderr, "%s: %s\n", argv[optind], strerror(-err));
		return 1;
	}
	if (count == 0 && seconds == 0)
		count = strcmp(mode, "ping") == 0 ? 1000 : 0;
	if (count == 0 && seconds == 0)
		seconds = 5;

	static unsigned char out[BATCH][MRU], want[MRU];
	unsigned char *f[BATCH];
	size_t len[BATCH];
	for (int i = 0; i < BATCH; i++) {
		f[i] = out[i];
		len[i] = (size_t)size;
	}
	double t0 = now(), end = seconds > 0 ? t0 + (double)seconds : 0;
	long done = 0, bad = 0;
	int rc = 0;

	if (strcmp(mode, "ping") == 0) {
		while (done < count) {
			int n = count - done < BATCH ? (int)(count - done) : BATCH;
			for (int i = 0; i < n; i++)
				make_frame(out[i], len[i], (uint32_t)(done + i));
			if (client_send(&c, f, len, n) != n) {
				perror("send");
				rc = 1;
				goto out;
			}
			for (int got = 0; got < n;) {
				int k = client_recv(&c, 2000);
				if (k <= 0) {
					fprintf(stderr, "ping: %ld of %ld frames came back%s\n",
						done + got, count, k < 0 ? " (hung up)" : "");
					rc = 1;
					goto out;
				}
				for (int i = 0; i < k; i++, got++) {
					make_frame(want, (size_t)size, (uint32_t)(done + got));
					if (swap) { /* macswap: destination and source swapped */
						unsigned char t[6];
						memcpy(t, want, 6);
						memcpy(want, want + 6, 6);
						memcpy(want + 6, t, 6);
					}
					bad += c.len[i] != (size_t)size ||
					       memcmp(c.frame[i], want, (size_t)size) != 0;
				}
			}
			done += n;
		}
		printf("ping: %ld frames of %ld bytes sent, %ld came back, %ld differed\n", count,
		       size, done, bad);
		rc = bad == 0 ? 0 : 1;
		goto out;
	}
	if (strcmp(mode, "rx") == 0) {
		double first = 0, last = 0;
		while ((count == 0 || done < count) && (end == 0 || now() < end)) {
			int k = client_recv(&c, 100);
			if (k < 0)
				break;
			if (k > 0 && first == 0)
				first = now();
			done += k;
			if (k > 0)
				last = now();
		}
		double dt = last > first ? last - first : 0;
		printf("rx: %ld frames in %.3f s, %.0f frames/s\n", done, dt,
		       dt > 0 ? (double)done / dt : 0.0);
		goto out;
	}
	if (strcmp(mode, "tx") == 0) {
		for (int i = 0; i < BATCH; i++)
			make_frame(out[i], len[i], (uint32_t)i);
		while ((count == 0 || done < count) && (end == 0 || now() < end)) {
			int n = count > 0 && count - done < BATCH ? (int)(count - done) : BATCH;
			int s = client_send(&c, f, len, n);
			if (s < 0) {
				fprintf(stderr, "send: %s\n", strerror(-s));
				rc = 1;
				goto out;
			}
			done += s;
		}
		double dt = now() - t0;
		printf("tx: %ld frames in %.3f s, %.0f frames/s\n", done, dt,
		       dt > 0 ? (double)done / dt : 0.0);
		goto out;
	}
	client_close(&c);
usage:
	fprintf(stderr,
		"usage: %s PATH [-t seqpacket|dgram|stream] [-m ping|rx|tx] [-n FRAMES]\n"
		"       [-s BYTES (14-16384)] [-d SECONDS] [-x (expect macswap)]\n",
		argv[0]);
	return 2;
out:
	client_close(&c);
	return rc;
}

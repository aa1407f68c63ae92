/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef RTE_PMD_BSDTAP_H
#define RTE_PMD_BSDTAP_H

/**
 * @file
 * The reader side of a net_bsdtap unit: what a process holding /dev/tapN
 * open could do, as a C API.
 *
 * A DPDK application transmits on a bsdtap port (the original's if_start)
 * and receives what the reader writes (if_input). A reader opens one queue
 * of a unit and then reads one frame per read, writes one frame per write,
 * polls a file descriptor for readability, moves mbufs in bursts without
 * copying, and controls the unit with the tap ioctls.
 *
 * Conventions: calls that create return a handle or NULL with rte_errno
 * set; read/write calls return a byte count or -1 with rte_errno set (the
 * errno read(2)/write(2) of /dev/tapN would give); every other call returns
 * 0 or a negative errno. A handle is used by one thread at a time.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#define RTE_PMD_BSDTAP_NOEXCEPT noexcept
#else
#define RTE_PMD_BSDTAP_NOEXCEPT
#endif

struct rte_mbuf;

/** Largest frame a reader may write (the original's TAPMRU). */
#define RTE_PMD_BSDTAP_MRU 16384

/** Units below this number are never handed out by the clone open. */
#define RTE_PMD_BSDTAP_PREALLOCATED_UNITS 4

/** Open flag: reads return EAGAIN instead of sleeping (O_NONBLOCK). */
#define RTE_PMD_BSDTAP_O_NONBLOCK 0x1

/** Opaque handle of an open unit queue (the open /dev/tapN). */
struct rte_pmd_bsdtap_reader;

/**
 * Open queue @p queue of a unit.
 *
 * @param unit
 *   The unit's interface name ("tap0") or its ethdev name ("net_bsdtap0").
 *   NULL or "" is the clone device: a new unit numbered at or above
 *   RTE_PMD_BSDTAP_PREALLOCATED_UNITS is created (primary process only) and
 *   destroyed again on its last close.
 * @param queue
 *   Queue pair index, below the unit's `queues` devarg.
 * @param flags
 *   0 or RTE_PMD_BSDTAP_O_NONBLOCK.
 * @return
 *   A handle, or NULL with rte_errno: ENXIO (no such unit), EINVAL (queue out
 *   of range, bad flags), EBUSY (that queue is already open), EPERM (caller's
 *   user differs from the primary's and `user_open` is off), ENOMEM.
 */
struct rte_pmd_bsdtap_reader *rte_pmd_bsdtap_open(const char *unit, uint16_t queue,
						  int flags) RTE_PMD_BSDTAP_NOEXCEPT;

/**
 * Close a handle and clear the caller's pointer. Purges the devq; the link
 * goes down (unless vmnet) and the application gets an LSC event.
 *
 * @return 0, or -EINVAL when @p r or *r is NULL.
 */
int rte_pmd_bsdtap_close(struct rte_pmd_bsdtap_reader **r) RTE_PMD_BSDTAP_NOEXCEPT;

/**
 * Read one frame. A buffer shorter than the frame gets what fits and the
 * rest of the frame is dropped; a zero-length buffer consumes one frame.
 *
 * @return bytes copied, or -1 with rte_errno: EHOSTDOWN (unit gone),
 *   EAGAIN (non-blocking and the devq is empty), EINTR (a signal interrupted
 *   a blocking read), EINVAL (bad arguments).
 */
ssize_t rte_pmd_bsdtap_read(struct rte_pmd_bsdtap_reader *r, void *buf,
			    size_t len) RTE_PMD_BSDTAP_NOEXCEPT;

/** Scatter variant of rte_pmd_bsdtap_read(); same return values. */
ssize_t rte_pmd_bsdtap_readv(struct rte_pmd_bsdtap_reader *r, const struct iovec *iov,
			     int iovcnt) RTE_PMD_BSDTAP_NOEXCEPT;

/**
 * Read up to @p n frames in one call, frame i into @p bufs[i] (at most
 * bufs[i].iov_len bytes; the rest of a longer frame is dropped, as with
 * rte_pmd_bsdtap_read()), its copied length into @p lens[i]. Blocks, unless
 * non-blocking, until one frame is there, then takes what is there without
 * waiting for more (recvmmsg(2) with MSG_WAITFORONE). The batch amortizes
 * the devq dequeue and the cross-core misses: much faster per frame than
 * calling rte_pmd_bsdtap_read() in a loop.
 *
 * @return frames read (1 to @p n; 0 when @p n is 0), or -1 with rte_errno
 *   as for rte_pmd_bsdtap_read().
 */
int rte_pmd_bsdtap_read_burst(struct rte_pmd_bsdtap_reader *r, const struct iovec *bufs,
			      size_t *lens, uint16_t n) RTE_PMD_BSDTAP_NOEXCEPT;

/**
 * Write one frame; the application's rx burst returns it whole.
 *
 * @return @p len, or -1 with rte_errno: EHOSTDOWN (unit gone, checked
 *   first), EIO (longer than RTE_PMD_BSDTAP_MRU), ENOBUFS (no mbuf; the
 *   port's rx_nombuf counts it), EINVAL. A frame shorter than an Ethernet
 *   header is accepted and counted in ierrors; a full inq drops the frame
 *   and counts imissed, as the original's input queue would.
 */
ssize_t rte_pmd_bsdtap_write(struct rte_pmd_bsdtap_reader *r, const void *buf,
			     size_t len) RTE_PMD_BSDTAP_NOEXCEPT;

/** Gather variant of rte_pmd_bsdtap_write(); same return values. */
ssize_t rte_pmd_bsdtap_writev(struct rte_pmd_bsdtap_reader *r, const struct iovec *iov,
			      int iovcnt) RTE_PMD_BSDTAP_NOEXCEPT;

/**
 * Zero-copy read: take up to @p n mbufs from the devq. Ownership passes to
 * the caller. Never blocks.
 *
 * @return mbufs taken (0 when empty or the unit is gone).
 */
uint16_t rte_pmd_bsdtap_recv_burst(struct rte_pmd_bsdtap_reader *r, struct rte_mbuf **pkts,
				   uint16_t n) RTE_PMD_BSDTAP_NOEXCEPT;

/**
 * Zero-copy read, done: hand back @p n mbufs taken with
 * rte_pmd_bsdtap_recv_burst() (or any of the port's mbufs) that the reader
 * has finished with. The application's next tx burst on that queue frees
 * them on its own lcore, into its mempool cache, so the mbuf headers never
 * have to be touched on the reader's core; rte_pmd_bsdtap_wait() frees what
 * is left when the reader goes to sleep. Cheaper than rte_pktmbuf_free_bulk()
 * for a reader on another core; same result.
 */
void rte_pmd_bsdtap_free_burst(struct rte_pmd_bsdtap_reader *r, struct rte_mbuf **pkts,
			       uint16_t n) RTE_PMD_BSDTAP_NOEXCEPT;

/**
 * What rte_pmd_bsdtap_visit_burst() calls with the frames it lends: @p pkts
 * are @p n of the port's mbufs, in order, to be read only.
 */
typedef void (*rte_pmd_bsdtap_visit_t)(void *arg, struct rte_mbuf *const *pkts, uint16_t n);

/**
 * Zero-copy read in place: lend up to @p n frames to @p fn without taking
 * them from the port. @p fn reads them (headers and data) and must not keep,
 * free, send or change them, nor block: a port stop or close waits for it to
 * return (a second at most, then it goes on without purging). When it
 * returns the frames are done with: the application's next tx burst on the
 * queue frees them on its own lcore, as if handed back with
 * rte_pmd_bsdtap_free_burst(), with no hand-back ring between (the fastest
 * way to consume frames). Until then they count against the queue's ring
 * size, like frames not read yet; a port stop or close frees them. @p fn is
 * called once, or twice where the ring wraps, in order. A reader killed
 * inside @p fn loses nothing: the frames it was lent are still the port's,
 * and its release purges them as a close does. With @p fn
 * NULL the frames are consumed unseen (a sink): the reader's core loads
 * nothing of them, not even their pointers.
 *
 * @return frames visited (0 when empty).
 */
uint16_t rte_pmd_bsdtap_visit_burst(struct rte_pmd_bsdtap_reader *r, uint16_t n,
				    rte_pmd_bsdtap_visit_t fn, void *arg) RTE_PMD_BSDTAP_NOEXCEPT;

/**
 * Zero-copy write: give up to @p n mbufs to the inq for the application's
 * rx burst. Mbufs not taken stay with the caller.
 *
 * @return mbufs taken.
 */
uint16_t rte_pmd_bsdtap_send_burst(struct rte_pmd_bsdtap_reader *r, struct rte_mbuf **pkts,
				   uint16_t n) RTE_PMD_BSDTAP_NOEXCEPT;

/**
 * A file descriptor that is readable exactly when the devq holds a frame
 * (or the unit is gone), for poll/select/epoll, level-triggered. The handle
 * owns it; do not close it. Only the handle's own read and burst calls keep
 * it accurate, so drain through them.
 *
 * @return the fd, or -EINVAL.
 */
int rte_pmd_bsdtap_fd(struct rte_pmd_bsdtap_reader *r) RTE_PMD_BSDTAP_NOEXCEPT;

/**
 * Sleep until the devq holds a frame, the unit goes away or @p timeout_ms
 * passes (-1: forever). The TAP_RWAIT protocol: the application writes the
 * wakeup only when a reader sleeps.
 *
 * @return 1 ready, 0 timeout, -EINTR, -EHOSTDOWN, -EINVAL.
 */
int rte_pmd_bsdtap_wait(struct rte_pmd_bsdtap_reader *r, int timeout_ms) RTE_PMD_BSDTAP_NOEXCEPT;

/** struct tapinfo of the original, with a 64-bit baudrate (bit/s). */
struct rte_pmd_bsdtap_info {
	uint64_t baudrate; /**< Link speed in bit/s; reported as the port's link speed. */
	uint16_t mtu;	   /**< Port MTU. */
	uint8_t type;	   /**< Interface type: only RTE_PMD_BSDTAP_IFT_ETHER. */
	uint8_t dummy;
};

/** The only interface type a unit has (IFT_ETHER). */
#define RTE_PMD_BSDTAP_IFT_ETHER 0x6

/** Interface flags as the original reports them (BSD values). */
#define RTE_PMD_BSDTAP_IFF_UP 0x1
#define RTE_PMD_BSDTAP_IFF_BROADCAST 0x2
#define RTE_PMD_BSDTAP_IFF_RUNNING 0x40
#define RTE_PMD_BSDTAP_IFF_PROMISC 0x100
#define RTE_PMD_BSDTAP_IFF_ALLMULTI 0x200
#define RTE_PMD_BSDTAP_IFF_SIMPLEX 0x800
#define RTE_PMD_BSDTAP_IFF_MULTICAST 0x8000
/** Flags a vmnet set-flags call cannot change (the original's IFF_CANTCHANGE subset). */
#define RTE_PMD_BSDTAP_IFF_CANTCHANGE                                                              \
	(RTE_PMD_BSDTAP_IFF_BROADCAST | RTE_PMD_BSDTAP_IFF_RUNNING | RTE_PMD_BSDTAP_IFF_SIMPLEX |  \
	 RTE_PMD_BSDTAP_IFF_MULTICAST)

/** Control requests for rte_pmd_bsdtap_ioctl(), named after the original's. */
enum rte_pmd_bsdtap_ioctl_req {
	RTE_PMD_BSDTAP_TAPSIFINFO = 1, /**< arg: const struct rte_pmd_bsdtap_info * */
	RTE_PMD_BSDTAP_TAPGIFINFO,     /**< arg: struct rte_pmd_bsdtap_info * */
	RTE_PMD_BSDTAP_TAPSDEBUG,      /**< arg: const int * (an rte_log level) */
	RTE_PMD_BSDTAP_TAPGDEBUG,      /**< arg: int * */
	RTE_PMD_BSDTAP_FIONBIO,	       /**< arg: const int * (non-zero: non-blocking) */
	RTE_PMD_BSDTAP_FIOASYNC,       /**< arg: const int * (non-zero: SIGIO on arrival) */
	RTE_PMD_BSDTAP_FIONREAD,     /**< arg: int *: length of the frame at the head, 0 if empty */
	RTE_PMD_BSDTAP_FIOSETOWN,    /**< arg: const int *: pid, or -pgid for a process group */
	RTE_PMD_BSDTAP_FIOGETOWN,    /**< arg: int * */
	RTE_PMD_BSDTAP_TIOCSPGRP,    /**< arg: const int *: process group id */
	RTE_PMD_BSDTAP_TIOCGPGRP,    /**< arg: int *: process group id */
	RTE_PMD_BSDTAP_SIOCGIFADDR,  /**< arg: uint8_t[6]: remote MAC */
	RTE_PMD_BSDTAP_SIOCSIFADDR,  /**< arg: const uint8_t[6]: remote MAC */
	RTE_PMD_BSDTAP_SIOCGIFFLAGS, /**< arg: int *: RTE_PMD_BSDTAP_IFF_* */
	RTE_PMD_BSDTAP_VMIO_SIOCSIFFLAGS, /**< arg: const int *: flags; UP and RUNNING forced */
	RTE_PMD_BSDTAP_SIOCGIFSTATUS,	  /**< arg: char[RTE_PMD_BSDTAP_STATUS_LEN] */
	RTE_PMD_BSDTAP_TAPSVNETHDR,	  /**< arg: const int *: header length, 0, 10 or 12 */
	RTE_PMD_BSDTAP_TAPGVNETHDR,	  /**< arg: int *: header length in use */
};

/**
 * The virtio-net header of the vnet-header mode (FreeBSD's TAPSVNETHDR,
 * Linux's IFF_VNET_HDR), in the machine's byte order. With a header length
 * of 10 (this struct) or 12 (this struct and num_buffers) set on a unit,
 * every read of every queue returns the header and then the frame, every
 * write takes the header and then the frame, and FIONREAD counts the header.
 *
 * Read: flags NEEDS_CSUM (the L4 checksum from csum_start, stored at
 * csum_start + csum_offset, is left to the reader: the field holds the
 * pseudo header's sum) or DATA_VALID (the frame's checksums were verified on
 * the way in); gso_type and gso_size when the frame is a TCP segmentation
 * request (an mbuf with RTE_MBUF_F_TX_TCP_SEG, or one that arrived as an
 * aggregate, RTE_MBUF_F_RX_LRO), which is then one frame of up to 64 KiB.
 *
 * Write: NEEDS_CSUM or DATA_VALID give the application the verdict
 * (RTE_MBUF_F_RX_L4_CKSUM_NONE or _GOOD where it enabled rx checksum
 * offload; otherwise NEEDS_CSUM's checksum is completed here), a gso_type
 * gives one frame of up to 64 KiB that the application receives whole
 * (RTE_MBUF_F_RX_LRO, tso_segsz) if it enabled RTE_ETH_RX_OFFLOAD_TCP_LRO,
 * or cut into gso_size segments with correct checksums if it did not.
 */
struct rte_pmd_bsdtap_vnet_hdr {
	uint8_t flags;	      /**< RTE_PMD_BSDTAP_VNET_HDR_F_* */
	uint8_t gso_type;     /**< RTE_PMD_BSDTAP_VNET_HDR_GSO_* */
	uint16_t hdr_len;     /**< Bytes of headers before the payload (a hint) */
	uint16_t gso_size;    /**< Payload bytes per segment */
	uint16_t csum_start;  /**< Where the L4 checksum's sum starts */
	uint16_t csum_offset; /**< Where from csum_start the checksum is stored */
};

/** The 12-byte form: num_buffers is 1 on read and ignored on write. */
struct rte_pmd_bsdtap_vnet_hdr_mrg {
	struct rte_pmd_bsdtap_vnet_hdr hdr;
	uint16_t num_buffers;
};

#define RTE_PMD_BSDTAP_VNET_HDR_F_NEEDS_CSUM 1
#define RTE_PMD_BSDTAP_VNET_HDR_F_DATA_VALID 2
#define RTE_PMD_BSDTAP_VNET_HDR_GSO_NONE 0
#define RTE_PMD_BSDTAP_VNET_HDR_GSO_TCPV4 1
#define RTE_PMD_BSDTAP_VNET_HDR_GSO_TCPV6 4
#define RTE_PMD_BSDTAP_VNET_HDR_GSO_ECN 0x80

/** Largest frame a vnet-header write or read may carry (a GSO frame). */
#define RTE_PMD_BSDTAP_GSO_MAX 65536

/**
 * The header a vnet-header read would give for @p m: for zero-copy readers
 * (rte_pmd_bsdtap_recv_burst), which get the mbuf itself. Writers that give
 * mbufs (rte_pmd_bsdtap_send_burst) say the same in the mbuf: the rx
 * checksum bits of ol_flags as their verdict, RTE_MBUF_F_RX_LRO and
 * tso_segsz for an aggregate.
 *
 * @return 0, or -EINVAL (NULL argument).
 */
int rte_pmd_bsdtap_vnet_hdr_from_mbuf(const struct rte_mbuf *m,
				      struct rte_pmd_bsdtap_vnet_hdr *h) RTE_PMD_BSDTAP_NOEXCEPT;

/** Buffer size for RTE_PMD_BSDTAP_SIOCGIFSTATUS (the original's IFSTATMAX). */
#define RTE_PMD_BSDTAP_STATUS_LEN 800

/**
 * The tap ioctls.
 *
 * @return 0, or -EHOSTDOWN (unit gone), -EINVAL (bad argument: NULL, MTU out
 *   of the port's range, type not Ethernet, unknown debug level), -ENOTTY
 *   (unknown request), or the error of the ethdev call it made.
 */
int rte_pmd_bsdtap_ioctl(struct rte_pmd_bsdtap_reader *r, unsigned long req,
			 void *arg) RTE_PMD_BSDTAP_NOEXCEPT;

/** Port id of the unit a handle has open, or -EINVAL. */
int rte_pmd_bsdtap_port_id(const struct rte_pmd_bsdtap_reader *r) RTE_PMD_BSDTAP_NOEXCEPT;

/** Unit number of the handle's unit (tapN), or -EINVAL. */
int rte_pmd_bsdtap_unit(const struct rte_pmd_bsdtap_reader *r) RTE_PMD_BSDTAP_NOEXCEPT;

/**
 * Take the lock under which the driver changes a bsdtap port on its own:
 * the start of `up_on_open` and the stop of the close that matches it, the
 * destruction of a cloned unit, the MTU of TAPSIFINFO and the flags of
 * VMIO_SIOCSIFFLAGS, whichever thread or process a reader runs them from.
 * Ethdev control calls are not thread-safe: an application that configures,
 * starts, stops or closes the port while readers may open or close it holds
 * this lock around those calls, and none of the driver's changes then runs
 * in the middle of them. They wait until the lock is released (a reader's
 * call that needs the result waits with them). Recursive: the holder may
 * also call the reader API. Primary process only.
 *
 * @return 0, -ENODEV (not a bsdtap port), or -ENOTSUP in a secondary.
 */
int rte_pmd_bsdtap_port_lock(uint16_t port_id) RTE_PMD_BSDTAP_NOEXCEPT;

/**
 * Release rte_pmd_bsdtap_port_lock() once.
 *
 * @return 0, or -EPERM when this thread does not hold the lock.
 */
int rte_pmd_bsdtap_port_unlock(uint16_t port_id) RTE_PMD_BSDTAP_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif /* RTE_PMD_BSDTAP_H */

/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef BSDTAP_DEVARGS_H
#define BSDTAP_DEVARGS_H

#include <cstdint>

#include <net/if.h>
#include <rte_ether.h>

/* Devarg keys; the list in RTE_PMD_REGISTER_PARAM_STRING and the guide match these. */
#define ETH_BSDTAP_IFACE_ARG "iface"
#define ETH_BSDTAP_QUEUES_ARG "queues"
#define ETH_BSDTAP_RING_SIZE_ARG "ring_size"
#define ETH_BSDTAP_MAC_ARG "mac"
#define ETH_BSDTAP_READER_ARG "reader"
#define ETH_BSDTAP_TXFULL_ARG "txfull"
#define ETH_BSDTAP_MODE_ARG "mode"
#define ETH_BSDTAP_UP_ON_OPEN_ARG "up_on_open"
#define ETH_BSDTAP_USER_OPEN_ARG "user_open"
/* The socket endpoint (reader=socket); refused with any other reader. */
#define ETH_BSDTAP_PATH_ARG "path"
#define ETH_BSDTAP_SOCKET_TYPE_ARG "socket_type"
#define ETH_BSDTAP_OWNER_ARG "owner"
#define ETH_BSDTAP_GROUP_ARG "group"
/* Not "mode": that key is the unit's tap|vmnet mode. */
#define ETH_BSDTAP_SOCKET_MODE_ARG "socket_mode"
#define ETH_BSDTAP_SOCKET_VNET_HDR_ARG "socket_vnet_hdr"
/* The built-in echo and sink readers' idle spin; refused with any other reader. */
#define ETH_BSDTAP_READER_SPIN_US_ARG "reader_spin_us"
#define ETH_BSDTAP_READER_NICE_ARG "reader_nice"

/* Queue pairs per unit. 16 covers every lcore layout of a 2x8-core box; raise with care:
 * each pair costs two rings and a cache-line-aligned queue block in shared memory. */
#define BSDTAP_MAX_QUEUES 16
/* devq/inq depth bounds (frames). 50 was classic BSD's ifqmaxlen, 250 later DragonFly's;
 * 1024 lets a 32-frame burst loop run without drops when the reader lags by a few bursts. */
#define BSDTAP_RING_SIZE_MIN 1
#define BSDTAP_RING_SIZE_MAX 65536
#define BSDTAP_RING_SIZE_DEFAULT 1024
/* The socket endpoint's path when the path devarg is not given: this
 * directory (created if missing) and the interface name. */
#define BSDTAP_SOCKET_DIR "/run/bsdtap"
/* sizeof(sockaddr_un::sun_path), with its terminating NUL. */
#define BSDTAP_SOCKET_PATH_SIZE 108
/* Owner-only, as the original's user_open=0; user_open=1 makes it 0666. */
#define BSDTAP_SOCKET_MODE_DEFAULT 0600
#define BSDTAP_SOCKET_MODE_OPEN 0666
/* How long a built-in reader polls an idle unit before it sleeps (us): long
 * enough to ride out the gap between two bursts of a loaded lcore without a
 * syscall, short enough not to burn a core when the application stops. */
#define BSDTAP_READER_SPIN_US_DEFAULT 50
#define BSDTAP_READER_SPIN_US_MAX 1000000
/* reader_nice: setpriority()'s range; unset, the thread keeps the process's. */
#define BSDTAP_READER_NICE_MIN (-20)
#define BSDTAP_READER_NICE_MAX 19

namespace bsdtap
{

enum class reader_kind : uint8_t { none, echo, sink, socket };
/* Framing of the socket endpoint: one message per frame (seqpacket, dgram)
 * or a 4-byte big-endian length before each frame (stream). */
enum class socket_kind : uint8_t { seqpacket, dgram, stream };
enum class txfull_mode : uint8_t { drop, backpressure };

struct devargs {
	char iface[IFNAMSIZ];
	uint16_t queues;
	uint32_t ring_size;
	bool has_mac;
	struct rte_ether_addr mac;
	reader_kind reader;
	txfull_mode txfull;
	bool vmnet;
	bool up_on_open;
	bool user_open;
	/* reader=socket. path empty: BSDTAP_SOCKET_DIR/<iface>. */
	char path[BSDTAP_SOCKET_PATH_SIZE];
	socket_kind sock_type;
	bool has_owner, has_group;
	uint32_t owner;		 /* uid */
	uint32_t group;		 /* gid */
	uint16_t sock_mode;	 /* permission bits of the socket file */
	uint8_t sock_vnet_hdr;	 /* 0, or the vnet header length every message carries */
	uint32_t reader_spin_us; /* reader=echo|sink: idle poll before sleeping */
	bool has_reader_nice;	 /* reader=echo|sink: the thread's nice value */
	int8_t reader_nice;
};

/* Defaults for a unit; iface stays empty (filled in as tap<unit>). */
devargs devargs_defaults() noexcept;

/* Parse a vdev argument string strictly. Returns 0, -EINVAL or -ERANGE; on
 * error a log line names the key and the value. */
int devargs_parse(const char *args, devargs *out) noexcept;

const char *reader_kind_name(reader_kind k) noexcept;
const char *socket_kind_name(socket_kind k) noexcept;

} // namespace bsdtap

#endif

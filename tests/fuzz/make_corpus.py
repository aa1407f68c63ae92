#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Writes the seed corpora of the fuzz targets into corpus/<target>/.

The seeds are small inputs written here by hand, one file each; the fuzz
runs start from them (and from any file added to the directories later,
such as the reproducer of a crash). Run again after changing a seed:
    tests/fuzz/make_corpus.py
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MRU = 16384


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def eth_frame(n, seq=0):
    """n bytes: broadcast destination, a local source, then a counter."""
    head = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    body = bytes((seq + i) & 0xFF for i in range(max(0, n - len(head))))
    return (head + body)[:n]


# ------------------------------------------------------------ devargs
def devargs():
    seeds = {
        "empty": "",
        "queues": "queues=16,ring_size=65536",
        "iface_mac": "iface=vpn0,mac=02:00:00:00:00:01",
        "socket": "reader=socket,path=/run/bsdtap/tap0,socket_type=stream,"
        "owner=0,group=root,socket_mode=0660",
        "socket_dgram": "reader=socket,socket_type=dgram,user_open=1",
        "modes": "reader=echo,txfull=backpressure,mode=vmnet,up_on_open=1,user_open=1",
        "sink": "reader=sink,queues=4",
        "stray_comma": "queues=1,",
        "twice": "queues=1,queues=2",
        "no_value": "iface",
        "brackets": "iface=[a,b],queues=2",
        "range": "ring_size=0,queues=17",
        "big_number": "ring_size=99999999999999999999999",
        "dot": "iface=..",
        "path_dir": "reader=socket,path=/run/",
        "mode_octal": "reader=socket,socket_mode=1777",
        "owner_max": "reader=socket,owner=4294967295",
        "builtin_idle": "reader=echo,reader_spin_us=0,reader_nice=-20",
    }
    for name, s in seeds.items():
        write("devargs", name, s)


# ------------------------------------------------------------ framing
def stream_seed(shift, seed, payload):
    """Stream mode (bit 0 clear); chunks of 1 to 2^shift bytes."""
    return bytes([(shift & 15) << 1]) + struct.pack("<I", seed) + payload


def prefixed(n, body=None):
    if body is None:
        body = eth_frame(n) if n <= MRU else b""
    return struct.pack(">I", n & 0xFFFFFFFF) + body


def framing():
    # The lengths the endpoint must handle at its edges: 0, 1 and 13 are
    # below an Ethernet header, 14 the least frame, 16384 the MRU, 16385
    # one over, 0xFFFFFFFF the largest a prefix can say.
    for n in (0, 1, 13, 14, 16384, 16385, 0xFFFFFFFF):
        body = eth_frame(n) if n <= MRU else b"\x00" * 16
        data = prefixed(n, body)
        # Byte by byte (a split at every point), and in large chunks.
        write("framing", "stream_len_%d_split1" % n, stream_seed(0, 1, data))
        write("framing", "stream_len_%d_chunks" % n, stream_seed(15, 7, data))
    many = b"".join(prefixed(n) for n in (14, 60, 1514, 9000, 14))
    write("framing", "stream_many", stream_seed(4, 42, many))
    write("framing", "stream_many_split1", stream_seed(0, 3, many))
    # A whole frame, then one cut short (waits), or a bad prefix (drop).
    write("framing", "stream_partial", stream_seed(3, 5, prefixed(60) + prefixed(1514)[:700]))
    write("framing", "stream_then_bad", stream_seed(2, 9, prefixed(60) + prefixed(13, b"x" * 13)))
    write("framing", "stream_prefix_cut", stream_seed(0, 1, prefixed(60) + b"\x00\x00"))
    # Messages: one 2-byte length per datagram.
    for n in (0, 1, 13, 14, 16384, 16385, 65535):
        write("framing", "msg_len_%d" % n, b"\x01" + struct.pack(">H", n))
    write("framing", "msg_mix", b"\x01" + b"".join(struct.pack(">H", n)
                                                 for n in (0, 60, 16384, 16385, 0, 1514)))


# ------------------------------------------------------------ pcap
def pcap_file(records, magic=0xA1B2C3D4, linktype=1, endian="<", cut=0):
    out = struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, 65535, linktype)
    for i, (caplen, wirelen) in enumerate(records):
        out += struct.pack(endian + "IIII", 1700000000 + i, i, caplen, wirelen)
        out += eth_frame(caplen, i)
    return out[:len(out) - cut] if cut else out


def pad4(b):
    return b + b"\x00" * (-len(b) % 4)


def ng_block(btype, body):
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def pcapng_file(frames, linktype=1, cut=0):
    shb = ng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    idb = ng_block(0x00000001, struct.pack("<HHI", linktype, 0, 65535))
    out = shb + idb
    for i, n in enumerate(frames):
        data = eth_frame(n, i)
        epb = struct.pack("<IIIII", 0, 0, i, n, n) + pad4(data)
        out += ng_block(0x00000006, epb)
    # A simple packet block too.
    data = eth_frame(60)
    out += ng_block(0x00000003, struct.pack("<I", 60) + pad4(data))
    return out[:len(out) - cut] if cut else out


def pcap():
    write("pcap", "pcap_frames", pcap_file([(60, 60), (1514, 1514), (14, 64)]))
    write("pcap", "pcap_empty_record", pcap_file([(0, 60), (60, 60)]))
    write("pcap", "pcap_over_mru", pcap_file([(60, 60), (16385, 16385), (16384, 16384)]))
    write("pcap", "pcap_nsec", pcap_file([(60, 60)], magic=0xA1B23C4D))
    write("pcap", "pcap_big_endian", pcap_file([(60, 60), (100, 100)], endian=">"))
    write("pcap", "pcap_cut", pcap_file([(60, 60), (1514, 1514)], cut=100))
    write("pcap", "pcap_cut_only", pcap_file([(1514, 1514)], cut=10))
    write("pcap", "pcap_not_ethernet", pcap_file([(60, 60)], linktype=101))
    write("pcap", "pcap_header_only", pcap_file([]))
    write("pcap", "pcapng_frames", pcapng_file([60, 1514, 14]))
    write("pcap", "pcapng_cut", pcapng_file([60, 1514], cut=30))
    write("pcap", "pcapng_not_ethernet", pcapng_file([60], linktype=101))


# ------------------------------------------------------------ ioctl
TAPSIFINFO, TAPGIFINFO, TAPSDEBUG, TAPGDEBUG, FIONBIO, FIOASYNC, FIONREAD, \
    FIOSETOWN, FIOGETOWN, TIOCSPGRP, TIOCGPGRP, SIOCGIFADDR, SIOCSIFADDR, \
    SIOCGIFFLAGS, VMIO_SIOCSIFFLAGS, SIOCGIFSTATUS = range(1, 17)
NULL_ARG = 0x20
HIGH_BYTE = 0x40


def i32(v):
    return struct.pack("<i", v)


def info(baud, mtu, typ=6):
    return struct.pack("<QHBB4x", baud, mtu, typ, 0)


def ioctl():
    def call(req, arg=b"", flags=0, high=None):
        b = bytes([req | flags])
        if high is not None:
            b += bytes([high])
        return b + arg

    write("ioctl", "info", call(TAPSIFINFO, info(10**9, 1500)) + call(TAPGIFINFO, b"\x00" * 16))
    write("ioctl", "info_bad", call(TAPSIFINFO, info(10**9, 67)) +
          call(TAPSIFINFO, info(0, 1500)) + call(TAPSIFINFO, info(1, 16371, 1)) +
          call(TAPSIFINFO, info(1, 16370)))
    write("ioctl", "debug", call(TAPSDEBUG, i32(8)) + call(TAPGDEBUG, i32(0)) +
          call(TAPSDEBUG, i32(0)) + call(TAPSDEBUG, i32(99)) + call(TAPSDEBUG, i32(-1)))
    write("ioctl", "fio", call(FIONBIO, i32(1)) + call(FIOASYNC, i32(1)) +
          call(FIONREAD, i32(0)) + call(FIOASYNC, i32(0)))
    write("ioctl", "owner", call(FIOSETOWN, i32(1)) + call(FIOGETOWN, i32(0)) +
          call(FIOSETOWN, i32(-2147483648)) + call(FIOSETOWN, i32(2147483647)) +
          call(FIOSETOWN, i32(0)))
    write("ioctl", "pgrp", call(TIOCSPGRP, i32(1)) + call(TIOCGPGRP, i32(0)) +
          call(TIOCSPGRP, i32(-2147483648)) + call(TIOCSPGRP, i32(-2147483647)) +
          call(TIOCSPGRP, i32(0)))
    write("ioctl", "addr", call(SIOCSIFADDR, b"\x02\x00\x00\x00\x00\x42") +
          call(SIOCGIFADDR, b"\x00" * 6))
    write("ioctl", "flags", call(SIOCGIFFLAGS, i32(0)) + call(VMIO_SIOCSIFFLAGS, i32(0x301)) +
          call(VMIO_SIOCSIFFLAGS, i32(0)) + call(VMIO_SIOCSIFFLAGS, i32(-1)))
    write("ioctl", "status", call(SIOCGIFSTATUS, b"\xff" * 800))
    write("ioctl", "unknown", call(0, b"\x00" * 16) + call(17, b"\x00" * 16) +
          call(31, b"\x00" * 16) + call(TAPGIFINFO, b"", high=1) +
          call(SIOCGIFSTATUS, b"", high=0x80))
    write("ioctl", "null", b"".join(call(r, flags=NULL_ARG) for r in range(0, 18)))
    write("ioctl", "short", call(SIOCGIFSTATUS))


def main():
    devargs()
    framing()
    pcap()
    ioctl()
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A client of net_bsdtap's socket endpoint (reader=socket), standard library only.

The endpoint is the unit's /dev/tapN for any program: one frame per message
(seqpacket, dgram) or per 4-byte big-endian length prefix (stream). Use it
as a module:

    from socket_client import Endpoint
    with Endpoint("/run/bsdtap/tap0") as ep:      # seqpacket by default
        ep.send(frame)                             # the application receives it
        frame = ep.recv(timeout=1.0)               # what the application sent

or from the command line:

    socket_client.py PATH [--type seqpacket|dgram|stream] [--mode ping|rx|tx]
                     [--count N] [--size BYTES] [--seconds S] [--macswap]

ping (default) sends frames and expects each back byte for byte, as
testpmd's io forwarding returns them (--macswap: with the MAC addresses
swapped); rx counts what arrives; tx sends.
"""

import argparse
import select
import socket
import struct
import sys
import time

MRU = 16384  # the largest frame a unit takes (TAPMRU)

_TYPES = {
    "seqpacket": socket.SOCK_SEQPACKET,
    "dgram": socket.SOCK_DGRAM,
    "stream": socket.SOCK_STREAM,
}


class HungUp(Exception):
    """The endpoint closed the connection: the port closed, or it was busy."""


class Endpoint:
    """One client connection to a unit's endpoint."""

    def __init__(self, path, type="seqpacket"):
        self.type = type
        self.sock = socket.socket(socket.AF_UNIX, _TYPES[type])
        self._buf = b""
        self.hung_up = False
        try:
            if type == "dgram":
                # The endpoint answers the sender's address: bind one. An
                # empty name makes Linux pick a free abstract one.
                self.sock.bind("")
            # dgram: while the endpoint serves another client its socket is
            # connected to that one, and the kernel refuses this connect
            # (PermissionError, EPERM): busy. The endpoint lets go of a
            # client a moment after its goodbye, so retry for up to a second.
            for tries in range(100):
                try:
                    self.sock.connect(path)
                    break
                except PermissionError:
                    if type != "dgram" or tries == 99:
                        raise
                    time.sleep(0.01)
            if type == "dgram":
                self.sock.send(b"")  # hello: a client that only reads is known too
        except OSError:
            self.sock.close()
            raise

    def close(self):
        """Leave. A dgram client says so with an empty datagram, so that the
        endpoint takes the next client at once."""
        if self.type == "dgram" and not self.hung_up and self.sock.fileno() >= 0:
            try:
                self.sock.send(b"", socket.MSG_DONTWAIT)
            except OSError:
                pass
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def fileno(self):
        return self.sock.fileno()

    def send(self, frame):
        """Send one frame (bytes); the application's rx burst returns it."""
        if self.type == "stream":
            self.sock.sendall(struct.pack("!I", len(frame)) + frame)
        else:
            self.sock.send(frame)

    def recv(self, timeout=None):
        """One frame, or None when none came within timeout seconds.

        Raises HungUp at end of file, or on the endpoint's empty datagram
        (dgram): the endpoint is busy with another client, or closing."""
        if self.type != "stream":
            if not self._wait(timeout):
                return None
            frame = self.sock.recv(MRU)
            if not frame:
                self.hung_up = True
                raise HungUp()
            return frame
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if len(self._buf) >= 4:
                (n,) = struct.unpack("!I", self._buf[:4])
                if len(self._buf) >= 4 + n:
                    frame, self._buf = self._buf[4 : 4 + n], self._buf[4 + n :]
                    return frame
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self._wait(left):
                return None
            data = self.sock.recv(1 << 18)
            if not data:
                self.hung_up = True
                raise HungUp()
            self._buf += data

    def _wait(self, timeout):
        if self.type == "stream" and len(self._buf) >= 4:
            (n,) = struct.unpack("!I", self._buf[:4])
            if len(self._buf) >= 4 + n:
                return True
        r, _, _ = select.select([self.sock], [], [], timeout)
        return bool(r)


def make_frame(size, seq):
    """Broadcast destination, a local source, EtherType 0x88b5 (local
    experimental), seq big-endian, then a pattern; the C example's frames."""
    body = bytearray((i * 7 + seq) & 0xFF for i in range(size))
    hdr = bytes.fromhex("ffffffffffff" "020000000001" "88b5")
    body[: min(size, 14)] = hdr[: min(size, 14)]
    if size >= 18:
        body[14:18] = struct.pack("!I", seq & 0xFFFFFFFF)
    return bytes(body)


def macswap(frame):
    return frame[6:12] + frame[0:6] + frame[12:]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path")
    ap.add_argument("--type", choices=sorted(_TYPES), default="seqpacket")
    ap.add_argument("--mode", choices=["ping", "rx", "tx"], default="ping")
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=0)
    ap.add_argument("--window", type=int, default=16, help="ping: frames in flight")
    ap.add_argument("--macswap", action="store_true")
    a = ap.parse_args(argv)
    if not 14 <= a.size <= MRU:
        ap.error("--size must be 14 to 16384")
    try:
        ep = Endpoint(a.path, a.type)
    except OSError as e:
        print(f"{a.path}: {e.strerror}", file=sys.stderr)
        return 1
    with ep:
        if a.mode == "ping":
            count = a.count or 1000
            done = bad = 0
            try:
                while done < count:
                    n = min(a.window, count - done)
                    for i in range(n):
                        ep.send(make_frame(a.size, done + i))
                    for i in range(n):
                        got = ep.recv(timeout=2.0)
                        if got is None:
                            print(f"ping: {done + i} of {count} came back", file=sys.stderr)
                            return 1
                        want = make_frame(a.size, done + i)
                        bad += got != (macswap(want) if a.macswap else want)
                    done += n
            except HungUp:
                print(f"ping: hung up after {done} frames", file=sys.stderr)
                return 1
            print(f"ping: {count} frames of {a.size} bytes, {done} came back, {bad} differed")
            return 0 if bad == 0 else 1
        seconds = a.seconds or (0 if a.count else 5)
        t0 = time.monotonic()
        deadline = t0 + seconds if seconds else None
        n = 0
        try:
            while not (a.count and n >= a.count) and not (
                deadline and time.monotonic() >= deadline
            ):
                if a.mode == "rx":
                    if ep.recv(timeout=0.1) is not None:
                        n += 1
                else:
                    ep.send(make_frame(a.size, n))
                    n += 1
        except HungUp:
            pass
        dt = time.monotonic() - t0
        print(f"{a.mode}: {n} frames in {dt:.3f} s, {n / dt if dt else 0:.0f} frames/s")
        return 0


if __name__ == "__main__":
    sys.exit(main())

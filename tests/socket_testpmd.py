#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Integration: stock dpdk-testpmd with a reader=socket unit, and the
shipped clients (examples/socket_client.c and examples/socket_client.py)
exchanging frames with it, for each socket type:

* the C client (batched, recvmmsg) and the Python client ping frames through
  testpmd's io forwarding, then macswap, and check them byte for byte;
* a second client is refused while the first holds the unit;
* a client killed with SIGKILL releases the unit and the next one gets in;
* garbage (an oversize message; for stream, a bad length prefix) leaves the
  unit usable;
* the xstats count what happened.

Usage: socket_testpmd.py DRIVER_SO SOCKET_CLIENT SOCKET_CLIENT_PY WORKDIR [TYPE...]
"""

import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

so, c_client, py_client, workdir = sys.argv[1:5]
types = sys.argv[5:] or ["seqpacket", "dgram", "stream"]
if len(workdir) > 80:
    # A socket address holds 107 bytes: a deep build tree would not fit.
    import tempfile

    workdir = tempfile.mkdtemp(prefix="bsdtap-sock-")

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(py_client)))
import socket_client  # noqa: E402  (the example, as a module)

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


class Testpmd:
    def __init__(self, vdev, tag):
        self.log_path = os.path.join(workdir, f"testpmd-{tag}.log")
        self.log = open(self.log_path, "w+")
        self.p = subprocess.Popen(
            # Line-buffered: the test reads testpmd's answers as they come.
            ["stdbuf", "-oL", "dpdk-testpmd", "-d", so, "--no-huge", "-m", "512", "--no-pci", "-l", "0-1",
             "--file-prefix", f"bsdtap-sock-{os.getpid()}-{tag}", "--vdev=" + vdev,
             # --no-flush-rx: start must not drain frames a client already sent.
             "--", "-i", "--total-num-mbufs=16384", "--disable-link-check", "--no-flush-rx"],
            stdin=subprocess.PIPE, stdout=self.log, stderr=subprocess.STDOUT, text=True)

    def output(self):
        with open(self.log_path) as f:
            return f.read()

    def cmd(self, line, expect=None, timeout=15):
        start = len(self.output())
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        if expect is None:
            return None
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            text = self.output()[start:]
            m = re.search(expect, text)
            if m:
                return text[: m.end()]
            if self.p.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"testpmd: no '{expect}' after '{line}'")

    def xstats(self):
        text = self.cmd("show port xstats 0", r"socket_clients_refused: \d+")
        return {k: int(v) for k, v in re.findall(r"(\w+): (\d+)", text)}

    def forward(self, mode):
        self.cmd("stop", r"Done|Packet forwarding not started")
        self.cmd(f"set fwd {mode}", rf"Set {mode} packet forwarding mode")
        self.cmd("start", r"TX RS bit threshold[^\n]*\n")

    def quit(self):
        try:
            self.cmd("stop")
            self.cmd("quit")
            self.p.stdin.close()
            self.p.wait(timeout=30)
        except (subprocess.TimeoutExpired, BrokenPipeError, OSError):
            self.p.kill()
            self.p.wait()
        return self.p.returncode


def run(argv, timeout=60):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    out = (r.stdout + r.stderr).strip()
    print("     " + " ".join(os.path.basename(a) if i < 2 else a for i, a in enumerate(argv))
          + "\n       -> " + out.replace("\n", "\n          "), flush=True)
    return r.returncode, out


def connect_retry(path, type, timeout=5.0):
    """A client that gets the unit. A seqpacket or stream client is refused
    (end of file at once) until the endpoint has seen its previous client go;
    a dgram client's connect fails (EPERM) until then."""
    end = time.monotonic() + timeout
    while True:
        try:
            ep = socket_client.Endpoint(path, type)
            if type != "dgram":
                # Refused clients read end-of-file at once.
                if select.select([ep.sock], [], [], 0.2)[0]:
                    ep.close()
                    raise ConnectionRefusedError()
            return ep
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


def refused(path, type):
    """Does a new client get turned away? It reads end of file (seqpacket,
    stream); a dgram client's connect is refused by the kernel (EPERM: the
    endpoint is connected to the client it serves)."""
    try:
        ep = socket_client.Endpoint(path, type)
    except PermissionError:
        return type == "dgram"
    try:
        if type == "dgram":
            ep.send(socket_client.make_frame(60, 0))
        ep.recv(timeout=2.0)
        return False
    except socket_client.HungUp:
        return True
    finally:
        ep.sock.close()  # no goodbye: it never had the unit


def ping_once(ep, seq, size=100):
    f = socket_client.make_frame(size, seq)
    ep.send(f)
    return ep.recv(timeout=2.0) == f


def test_type(type):
    print(f"---- socket_type={type}", flush=True)
    path = os.path.join(workdir, f"tap-{type}")
    tp = Testpmd(f"net_bsdtap0,reader=socket,socket_type={type},path={path}", type)
    try:
        tp.forward("io")
        check(os.path.exists(path), f"{type}: endpoint at {path}")
        check(oct(os.stat(path).st_mode & 0o777) == "0o600", f"{type}: owner-only (0600)")

        rc, out = run([c_client, path, "-t", type, "-n", "2000", "-s", "64"])
        check(rc == 0 and "2000 came back, 0 differed" in out, f"{type}: C client, 2000 x 64 B")
        rc, out = run([c_client, path, "-t", type, "-n", "300", "-s", "1500"])
        check(rc == 0 and "0 differed" in out, f"{type}: C client, 300 x 1500 B")
        rc, out = run([c_client, path, "-t", type, "-n", "50", "-s", "16384"])
        check(rc == 0 and "0 differed" in out, f"{type}: C client, 50 x 16384 B (chains)")
        rc, out = run([sys.executable, py_client, path, "--type", type, "--count", "500",
                       "--size", "200"])
        check(rc == 0 and "500 came back, 0 differed" in out, f"{type}: Python client, 500 x 200 B")

        tp.forward("macswap")
        rc, out = run([c_client, path, "-t", type, "-n", "500", "-x"])
        check(rc == 0 and "0 differed" in out, f"{type}: C client, macswap")
        rc, out = run([sys.executable, py_client, path, "--type", type, "--count", "200",
                       "--macswap"])
        check(rc == 0 and "0 differed" in out, f"{type}: Python client, macswap")
        tp.forward("io")

        # One client at a time.
        first = connect_retry(path, type)
        check(ping_once(first, 1), f"{type}: first client exchanges a frame")
        check(refused(path, type), f"{type}: second client refused")
        check(ping_once(first, 2), f"{type}: first client undisturbed")
        first.close()

        # A client killed with SIGKILL releases the unit.
        holder = subprocess.Popen([sys.executable, py_client, path, "--type", type,
                                   "--mode", "tx" if type == "dgram" else "rx",
                                   "--seconds", "60", "--size", "60"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        held = refused(path, type)
        check(held, f"{type}: the holder process has the unit")
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        ep = connect_retry(path, type)
        # Drain what the holder's traffic left in flight.
        while ep.recv(timeout=0.3) is not None:
            pass
        check(ping_once(ep, 3), f"{type}: after SIGKILL, a new client gets in")
        ep.close()

        # Garbage leaves the unit usable.
        ep = connect_retry(path, type)
        if type == "stream":
            ep.sock.sendall(struct.pack("!I", 0x7FFFFFFF) + b"x" * 32)
            try:
                ep.recv(timeout=2.0)
                dropped = False
            except (socket_client.HungUp, ConnectionResetError):
                dropped = True
            check(dropped, f"{type}: a bad length prefix drops the client")
            ep.close()
            ep = connect_retry(path, type)
            ep.sock.sendall(struct.pack("!I", 5) + b"runt!")
            try:
                ep.recv(timeout=2.0)
                dropped = False
            except (socket_client.HungUp, ConnectionResetError):
                dropped = True
            check(dropped, f"{type}: a runt length prefix drops the client")
            ep.close()
            ep = connect_retry(path, type)
        else:
            ep.sock.send(b"\0" * (socket_client.MRU + 1))
            ep.sock.send(b"\0" * 5)
        check(ping_once(ep, 4), f"{type}: the unit is usable after garbage")
        ep.close()

        x = tp.xstats()
        print("     xstats: " + ", ".join(f"{k}={v}" for k, v in x.items()
                                          if k.startswith("socket_") or k in
                                          ("rx_good_packets", "tx_good_packets", "rx_errors")))
        check(x.get("socket_clients_accepted", 0) >= 9, f"{type}: clients accepted counted")
        # dgram refusals are the kernel's (EPERM at connect): the pump never
        # sees those clients.
        check(x.get("socket_clients_refused", 0) >= (0 if type == "dgram" else 2),
              f"{type}: refusals counted")
        check(x.get("socket_rx_bad_frames", 0) == (2 if type == "stream" else 1),
              f"{type}: bad input counted")
    finally:
        rc = tp.quit()
    check(rc == 0, f"{type}: testpmd exits cleanly")
    check(not os.path.exists(path), f"{type}: socket file removed at exit")
    if failures:
        print("---- testpmd output ----")
        print(tp.output())


os.makedirs(workdir, exist_ok=True)
for t in types:
    test_type(t)
print(f"{len(failures)} failure(s)")
if not failures:
    shutil.rmtree(workdir, ignore_errors=True)
sys.exit(1 if failures else 0)

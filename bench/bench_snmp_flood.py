"""The exporter's memory under a flood of spoofed SNMP datagrams, against its idle memory.

Starts the real exporter (sharpeyes.exporters.cli) probing one silent SNMP "camera" on loopback
without pause (so requests are always outstanding on its one SNMP socket), measures its RSS idle,
then floods that socket for --seconds with ~60 KB well-formed SNMP Responses full of distinct
OIDs: from 16 other loopback addresses, and from the probed camera's own address and port with
request-ids nobody asked for. Prints idle RSS, peak and final RSS under the flood, and the ratio
(the target: within 10 %). RSS is read from /proc/<pid>/status.

    python bench/bench_snmp_flood.py [--seconds 60] [--quick] [--code DIR --no-adhoc]

--code runs the exporter from another checkout (e.g. an older commit, to compare); --no-adhoc
leaves out the module settings an older config reader does not know.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INVENTORY = ROOT / "tests" / "inventory" / "valid_min"
CAMERA = ("127.79.213.1", 161)  # the silent camera (its SNMP port is the module default)
FLOOD_SOURCES = [f"127.79.214.{i}" for i in range(1, 17)]


def tlv(tag: int, body: bytes) -> bytes:
    """BER TLV; a copy of the encoder on purpose: the flood must not come from the code it tests."""
    n = len(body)
    if n < 0x80:
        return bytes((tag, n)) + body
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size + body


def oid(arcs: list[int]) -> bytes:
    out = bytearray([arcs[0] * 40 + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return tlv(0x06, bytes(out))


def datagram(rng: random.Random, community: bytes, request_id: int) -> bytes:
    """A ~60 KB v2c Response of distinct long OIDs (each a new OID cache entry if decoded)."""
    varbinds = []
    size = 0
    while size < 60_000:
        vb = tlv(0x30, oid([1, 3, 6, 1, 4, 1, *(rng.randrange(1 << 28) for _ in range(24))]) + b"\x05\x00")
        varbinds.append(vb)
        size += len(vb)
    pdu = tlv(0xA2, tlv(0x02, request_id.to_bytes(4, "big", signed=True)) + b"\x02\x01\x00\x02\x01\x00"
              + tlv(0x30, b"".join(varbinds)))  # fmt: skip
    return tlv(0x30, b"\x02\x01\x01" + tlv(0x04, community) + pdu)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def udp_ports(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for line in Path("/proc/net/udp").read_text().splitlines()[1:]:
        parts = line.split()
        if parts[9] in inodes:
            ports.add(int(parts[1].split(":")[1], 16))
    return ports


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main(argv: list[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0, help="flood duration (default 60)")
    ap.add_argument("--idle", type=float, default=10.0, help="idle measurement before the flood (default 10)")
    ap.add_argument("--quick", action="store_true", help="3 s idle, 5 s flood (what the test runs)")
    ap.add_argument("--code", type=Path, default=ROOT, help="checkout whose exporter to run")
    ap.add_argument("--no-adhoc", action="store_true", help="config without adhoc_targets (older code)")
    args = ap.parse_args(argv)
    if args.quick:
        args.seconds, args.idle = 5.0, 3.0
    community = b"flood-bench"
    camera = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    camera.bind(CAMERA)  # receives the probes and never answers
    camera.setblocking(False)
    stop = threading.Event()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "exporter.yml"
        adhoc = "" if args.no_adhoc else ", adhoc_targets: [127.79.213.0/24]"
        cfg.write_text(
            "insecure_literal_secrets: true\nmodules:\n"
            f"  snmp_camera: {{prober: snmp_camera, timeout: 2s, auth: flood, max_concurrency: 64{adhoc}}}\n"
            f"auths:\n  flood:\n    snmp: {{version: 2, community: {community.decode()}}}\n"
        )
        port = free_port()
        env = dict(os.environ, PYTHONPATH=str(args.code))
        proc = subprocess.Popen(
            [sys.executable, "-m", "sharpeyes.exporters.cli", "--config.file", str(cfg), "--inventory",
             str(INVENTORY), "--web.listen-address", f"127.0.0.1:{port}", "--log.level", "error"],
            env=env, cwd=tmp,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}/probe?module=snmp_camera&target={CAMERA[0]}"

            def prober() -> None:
                while not stop.is_set():
                    try:
                        urllib.request.urlopen(url, timeout=5).read()
                    except OSError:
                        time.sleep(0.1)

            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/-/healthy", timeout=1).read()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit("exporter did not start") from None
                    time.sleep(0.1)
            probers = [threading.Thread(target=prober, daemon=True) for _ in range(8)]
            for t in probers:
                t.start()
            deadline = time.monotonic() + 10
            while not (ports := udp_ports(proc.pid)):
                if time.monotonic() > deadline:
                    raise SystemExit("the exporter opened no UDP socket")
                time.sleep(0.05)
            time.sleep(args.idle / 2)  # let the steady state settle
            idle = max(rss_kib(proc.pid) for _ in range(10) if time.sleep(args.idle / 20) is None)
            rng = random.Random(1)
            # distinct datagrams: every decoded one would add ~100 new OIDs to a cache
            packets = [datagram(rng, community, rng.randrange(1, 1 << 31)) for _ in range(256 if args.quick else 1024)]
            sent = [0]

            def flood(sock: socket.socket, target: tuple[str, int]) -> None:
                i = 0
                while not stop.is_set():
                    try:
                        sock.sendto(packets[i % len(packets)], target)
                        sent[0] += 1
                    except (BlockingIOError, OSError):
                        time.sleep(0.0005)
                    i += 1

            senders = []
            for ip in FLOOD_SOURCES:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind((ip, 0))
                senders.append(s)
            senders.append(camera)  # the probed camera's own address and port: passes the source check
            flood_stop = time.monotonic() + args.seconds
            threads = [threading.Thread(target=flood, args=(s, ("127.0.0.1", p)), daemon=True)
                       for s in senders for p in ports]  # fmt: skip
            for t in threads:
                t.start()
            peak = idle
            while time.monotonic() < flood_stop:
                time.sleep(0.5)
                peak = max(peak, rss_kib(proc.pid))
            stop.set()
            for t in threads:
                t.join()
            final = rss_kib(proc.pid)
            alive = proc.poll() is None
        finally:
            stop.set()
            proc.terminate()
            proc.wait(timeout=15)
            camera.close()
    r = {"idle_mib": idle / 1024, "peak_mib": peak / 1024, "final_mib": final / 1024, "ratio": peak / idle,
         "datagrams": float(sent[0]), "seconds": args.seconds, "alive": float(alive)}  # fmt: skip
    print(
        f"exporter RSS idle {r['idle_mib']:.1f} MiB; under a {args.seconds:g} s flood of {sent[0]} spoofed "
        f"~60 KB datagrams: peak {r['peak_mib']:.1f} MiB, final {r['final_mib']:.1f} MiB; "
        f"peak/idle {r['ratio']:.3f} (target <= 1.10)"
    )
    return r


if __name__ == "__main__":
    main()

"""Start-up time and memory of the simulator's camera servers (ONVIF + RTSP) for many cameras.

    python bench/bench_sim_onvif.py [--cameras 2000] [--onvif-port 18080] [--rtsp-port 18554]

Every camera gets its own 127.x.y.z address (all of 127/8 is on Linux lo). After start-up it
sends one authenticated GetDeviceInformation to a sample of cameras and one RTSP OPTIONS, and
prints start-up time, RSS, and the request rate.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import hashlib
import os
import random
import resource
import time

import aiohttp

from sharpeyes.simulator.cameras import CameraServers
from sharpeyes.simulator.state import DeviceState

VENDORS = ("hikvision", "dahua", "uniview")
TDS = "http://www.onvif.org/ver10/device/wsdl"


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def request(user: str, password: str) -> bytes:
    nonce = os.urandom(16)
    created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()
    return (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" '
        'xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">'
        f"<s:Header><wsse:Security><wsse:UsernameToken><wsse:Username>{user}</wsse:Username>"
        '<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0'
        f'#PasswordDigest">{digest}</wsse:Password><wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce>'
        f"<wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security></s:Header>"
        f'<s:Body><GetDeviceInformation xmlns="{TDS}"/></s:Body></s:Envelope>').encode()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=2000)
    parser.add_argument("--onvif-port", type=int, default=18080)
    parser.add_argument("--rtsp-port", type=int, default=18554)
    parser.add_argument("--sample", type=int, default=500, help="cameras to query after start-up")
    args = parser.parse_args()
    user, password = "admin", os.urandom(8).hex()
    states = [DeviceState(f"cam-{i:05d}", f"127.42.{i // 250}.{i % 250 + 1}", vendor=VENDORS[i % 3],
                          model="DS-2CD3T47G2-LIU", serial=f"SN{i:08d}",
                          mac=f"44:19:b6:00:{i // 256:02x}:{i % 256:02x}",
                          firmware="V5.7.3 build 220112") for i in range(args.cameras)]
    rss_before = rss_mb()
    started = time.perf_counter()
    async with CameraServers(states, {"onvif-cams": (user, password)},
                             onvif_port=args.onvif_port, rtsp_port=args.rtsp_port):
        startup = time.perf_counter() - started
        rss_up = rss_mb()
        sample = random.Random(1).sample(states, min(args.sample, len(states)))
        t0, cpu0 = time.perf_counter(), time.process_time()
        async with aiohttp.ClientSession() as session:
            async def one(state: DeviceState) -> int:
                async with session.post(f"http://{state.ip}:{args.onvif_port}/onvif/device_service",
                                        data=request(user, password)) as resp:
                    await resp.read()
                    return resp.status
            statuses = await asyncio.gather(*(one(s) for s in sample))
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        reader, writer = await asyncio.open_connection(states[-1].ip, args.rtsp_port)
        writer.write(b"OPTIONS rtsp://x/ RTSP/1.0\r\nCSeq: 1\r\n\r\n")
        rtsp_line = (await reader.readline()).decode().strip()
        writer.close()
        rss_after = rss_mb()
    ok = sum(s == 200 for s in statuses)
    print(f"cameras: {len(states)} (ONVIF :{args.onvif_port} + RTSP :{args.rtsp_port}, one socket each)")
    print(f"start-up: {startup:.2f} s")
    print(f"RSS: {rss_before:.0f} MB before, {rss_up:.0f} MB serving, {rss_after:.0f} MB after "
          f"{len(sample)} requests (peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")
    print(f"GetDeviceInformation: {ok}/{len(sample)} OK in {elapsed:.2f} s wall, {cpu:.2f} s CPU "
          f"(client and server in this one process)")
    print(f"RTSP OPTIONS: {rtsp_line}")


if __name__ == "__main__":
    asyncio.run(main())

"""Notification channels against real loopback servers (HTTP via aiohttp, SMTP via a tiny sink)."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from sharpeyes.tickets.api import build_app
from sharpeyes.tickets.clock import FakeClock
from sharpeyes.tickets.config import ChannelConfig, OutboxConfig, WebConfig
from sharpeyes.tickets.models import OutboxMessage
from sharpeyes.tickets.notify.channels import build_channels
from sharpeyes.tickets.notify.outbox import OutboxWorker
from tests.tickets.tickets_testlib import auth, cam_down, channel, deliver, notification


@dataclass
class Receiver:
    """Loopback HTTP endpoints that record what they get; some fail on purpose."""

    got: dict[str, list[Any]] = field(default_factory=lambda: {"hook": [], "wecom": [], "ding": [],
                                                                "down": [], "slow": []})
    ding_failures: int = 1
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release_slow: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{name}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.got[name].append(await request.json())
        self.arrived.set()
        if name == "down":
            return web.Response(status=502, text="bad gateway")
        if name == "slow":
            await self.release_slow.wait()
        if name == "ding" and self.ding_failures > 0:
            self.ding_failures -= 1
            return web.json_response({"errcode": 310000, "errmsg": "sign not match"})
        return web.json_response({"errcode": 0, "errmsg": "ok"})


class SmtpSink:
    """Just enough SMTP (RFC 5321) for smtplib: EHLO, MAIL, RCPT, DATA, QUIT."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self.session, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 sink ESMTP\r\n")
        while line := await reader.readline():
            cmd = line.decode().strip().upper()
            if cmd.startswith("EHLO"):
                writer.write(b"250-sink\r\n250 8BITMIME\r\n")
            elif cmd.startswith("DATA"):
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                data = bytearray()
                while (chunk := await reader.readline()) != b".\r\n":
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                msg = email.message_from_bytes(bytes(data), policy=email.policy.default)
                self.messages.append(msg)  # type: ignore[arg-type]
                writer.write(b"250 queued\r\n")
            elif cmd.startswith("QUIT"):
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()

    async def stop(self) -> None:
        if self.server:
            self.server.close()
            await self.server.wait_closed()


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    r = Receiver()
    server = TestServer(r.app())
    await server.start_server()
    yield r, str(server.make_url("")).rstrip("/")
    r.release_slow.set()
    await server.close()


@pytest.fixture
async def smtp() -> AsyncIterator[tuple[SmtpSink, int]]:
    sink = SmtpSink()
    port = await sink.start()
    yield sink, port
    await sink.stop()


def channels(base: str, smtp_port: int) -> tuple[ChannelConfig, ...]:
    return (
        channel("ops", f"{base}/hook"),
        channel("wecom-group", f"{base}/wecom", type="wecom"),
        channel("ding-group", f"{base}/ding", type="dingtalk"),
        channel("broken", f"{base}/down"),
        ChannelConfig(name="mail", type="email", events=("opened",), timeout=timedelta(seconds=5),
                      smtp_host="127.0.0.1", smtp_port=smtp_port, mail_from="tickets@example.org",
                      mail_to=("duty@example.org",)),
    )


def states(svc: Any) -> dict[str, tuple[str, int]]:
    with svc.store.session() as s:
        return {m.channel: (m.state, m.attempts) for m in s.scalars(select(OutboxMessage))}


async def test_channels_deliver_and_failures_back_off(make_service: Any, sqlite_url: str, clock: FakeClock,
                                                      receiver: tuple[Receiver, str],
                                                      smtp: tuple[SmtpSink, int]) -> None:
    rec, base = receiver
    sink, port = smtp
    svc = make_service(sqlite_url, channels=channels(base, port),
                       outbox=OutboxConfig(max_attempts=3, backoff_initial=timedelta(seconds=10)),
                       web=WebConfig(base_url="https://tickets.example.gov.cn"))
    await deliver(svc, cam_down("cam-1"))
    async with aiohttp.ClientSession() as session:
        worker = OutboxWorker(svc.store, svc.cfg, clock, build_channels(svc.cfg.channels, session),
                              svc.metrics)
        assert await worker.deliver_due() == 3  # ops, wecom, mail
        assert states(svc) == {"ops": ("sent", 1), "wecom-group": ("sent", 1), "mail": ("sent", 1),
                               "ding-group": ("pending", 1), "broken": ("pending", 1)}
        assert await worker.deliver_due() == 0  # nothing due before the backoff
        clock.advance(10)
        assert await worker.deliver_due() == 1  # dingtalk recovered
        clock.advance(10)
        assert await worker.deliver_due() == 0  # broken: second backoff is 20 s
        clock.advance(10)
        await worker.deliver_due()
        assert states(svc)["broken"] == ("dead", 3)
        assert len(rec.got["down"]) == 3

    hook = rec.got["hook"][0]
    assert hook["event"] == "opened" and hook["ticket"]["root_key"] == "device:cam-1"
    assert hook["ticket"]["contractor"] == "ct-a"
    wecom = rec.got["wecom"][0]
    assert wecom["msgtype"] == "markdown" and "雪亮工程故障工单" in wecom["markdown"]["content"]
    ding = rec.got["ding"][-1]
    assert ding["msgtype"] == "markdown" and "Ticket #1 opened" in ding["markdown"]["title"]
    mail = sink.messages[0]
    assert "Ticket #1 opened" in str(mail["Subject"]) and mail["To"] == "duty@example.org"
    assert "维保单位 Contractor: ct-a" in mail.get_content()
    # every message carries the ticket's page link
    link = "https://tickets.example.gov.cn/app/t/1"
    assert hook["url"] == link and f"({link})" in wecom["markdown"]["content"]
    assert f"({link})" in ding["markdown"]["text"] and f"打开工单 Open: {link}" in mail.get_content()
    assert svc.metrics.registry.get_sample_value(
        "sharpeyes_tickets_notifications_sent_total", {"channel": "broken", "result": "error"}) == 3


async def test_hanging_channel_does_not_block_tickets(make_service: Any, sqlite_url: str,
                                                      receiver: tuple[Receiver, str]) -> None:
    rec, base = receiver
    svc = make_service(sqlite_url, channels=(channel("slow", f"{base}/slow"), channel("ops", f"{base}/hook")))
    async with TestClient(TestServer(build_app(svc, background=True))) as c:
        for i in range(3):
            r = await asyncio.wait_for(c.post("/api/v1/alertmanager", headers=auth("webhook"),
                                              json=notification(cam_down(f"cam-{i}", labels={
                                                  "device": f"cam-{i}", "contractor": "ct-a"}))), 5)
            assert r.status == 200
        # the healthy channel got its message while the slow one still hangs
        while not rec.got["hook"]:
            rec.arrived.clear()
            await asyncio.wait_for(rec.arrived.wait(), 10)
        assert rec.got["slow"] and not rec.release_slow.is_set()
        r = await c.get("/api/v1/tickets", headers=auth("district"))
        assert len((await r.json())["tickets"]) == 3

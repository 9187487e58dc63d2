"""Notification channels: one class per kind, found through ``CHANNEL_TYPES``.

Each channel's ``send`` raises on failure (non-2xx answer, robot ``errcode`` != 0, SMTP error);
the outbox records the error and retries later.
"""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage
from typing import Any, Protocol

import aiohttp

from sharpeyes.tickets.config import ChannelConfig
from sharpeyes.tickets.notify import render


class ChannelError(Exception):
    pass


class Channel(Protocol):
    name: str
    timeout: float

    async def send(self, payload: dict[str, Any]) -> None: ...


class _HttpChannel:
    def __init__(self, cfg: ChannelConfig, session: aiohttp.ClientSession) -> None:
        self.name, self.url, self.session = cfg.name, cfg.url, session
        self.timeout = cfg.timeout.total_seconds()

    def body(self, payload: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    async def send(self, payload: dict[str, Any]) -> None:
        async with self.session.post(self.url, json=self.body(payload)) as resp:
            text = await resp.text()
            if resp.status // 100 != 2:
                raise ChannelError(f"HTTP {resp.status}: {text[:200]}")
            self.check(text)

    def check(self, text: str) -> None:
        pass


class WebhookChannel(_HttpChannel):
    """Generic JSON: ``{"version": "1", "event": ..., "ticket": {...}, "text": ...}``."""

    def body(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"version": "1", "event": payload["event"], "ticket": payload["ticket"],
                "extra": payload.get("extra") or {}, "url": payload.get("url", ""),
                "text": render.plain(payload)}


class _RobotChannel(_HttpChannel):
    """WeCom / DingTalk group robots answer HTTP 200 with ``{"errcode": N}``; N != 0 is a failure."""

    def check(self, text: str) -> None:
        import json

        try:
            data = json.loads(text)
        except ValueError:
            raise ChannelError(f"robot answered non-JSON: {text[:200]}") from None
        if isinstance(data, dict) and data.get("errcode", 0) != 0:
            raise ChannelError(f"robot errcode {data.get('errcode')}: {data.get('errmsg', '')}")


class WeComChannel(_RobotChannel):
    def body(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"msgtype": "markdown", "markdown": {"content": render.markdown(payload)}}


class DingTalkChannel(_RobotChannel):
    def body(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"msgtype": "markdown",
                "markdown": {"title": render.title(payload), "text": render.markdown(payload)}}


class EmailChannel:
    """SMTP via the standard library in a worker thread (no extra dependency)."""

    def __init__(self, cfg: ChannelConfig, session: aiohttp.ClientSession | None = None) -> None:
        self.name, self.cfg = cfg.name, cfg
        self.timeout = cfg.timeout.total_seconds()

    def _send_sync(self, payload: dict[str, Any]) -> None:
        msg = EmailMessage()
        msg["Subject"] = render.title(payload)
        msg["From"] = self.cfg.mail_from
        msg["To"] = ", ".join(self.cfg.mail_to)
        msg.set_content(render.plain(payload))
        with smtplib.SMTP(self.cfg.smtp_host, self.cfg.smtp_port, timeout=self.timeout) as smtp:
            if self.cfg.starttls:
                smtp.starttls()
            if self.cfg.username:
                smtp.login(self.cfg.username, self.cfg.password)
            smtp.send_message(msg)

    async def send(self, payload: dict[str, Any]) -> None:
        await asyncio.to_thread(self._send_sync, payload)


CHANNEL_TYPES: dict[str, Any] = {
    "webhook": WebhookChannel,
    "wecom": WeComChannel,
    "dingtalk": DingTalkChannel,
    "email": EmailChannel,
}


def build_channels(configs: tuple[ChannelConfig, ...], session: aiohttp.ClientSession) -> dict[str, Channel]:
    return {c.name: CHANNEL_TYPES[c.type](c, session) for c in configs}

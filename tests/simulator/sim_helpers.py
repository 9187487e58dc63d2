"""Helpers for the simulator tests: test addresses and ports, and a minimal WS-UsernameToken SOAP
client written independently of the simulator (and of exporters/)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import itertools
import os
from dataclasses import dataclass

import aiohttp
from lxml import etree

from tests import runnet

# camera servers on this run's addresses (tests/runnet.py), on ports the kernel picked
ONVIF_PORT = runnet.free_port()
RTSP_PORT = runnet.free_port()
USER, PASSWORD = "admin", "Sh@rpEyes-2024"
SECRETS = {"onvif-cams": (USER, PASSWORD)}

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
TER = "http://www.onvif.org/ver10/error"
TDS = "http://www.onvif.org/ver10/device/wsdl"
TRT = "http://www.onvif.org/ver10/media/wsdl"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"

DIGEST_TYPE = ("http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
               "#PasswordDigest")

IDENTITY = {
    "hikvision": dict(model="DS-2CD3T47G2-LIU", serial="DS-2CD3T47G2-LIU20230301AACHK12345678",
                      firmware="V5.7.3 build 220112", mac="44:19:b6:12:34:56"),
    "dahua": dict(model="DH-IPC-HFW2431S-S-S2", serial="6J0C12345678ABC", firmware="2.800.0000000.19.R",
                  mac="e0:50:8b:12:34:56"),
    "uniview": dict(model="IPC2124LR3-PF40M-D", serial="210235C2X1A000123",
                    firmware="IPC_G6103-B0005P61D1908", mac="48:ea:63:12:34:56"),
}
VENDORS = tuple(IDENTITY)

_NEXT_IP = itertools.count(0)


def next_ip() -> str:
    """A fresh address of this run's own block (tests/runnet.py), so parallel runs never collide."""
    return runnet.current().host(next(_NEXT_IP), sub=23)


# ---------------------------------------------------------------- a minimal SOAP client of our own

def password_digest(nonce: bytes, created: str, password: str) -> str:
    return base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()


def utc_stamp(offset_s: float = 0.0) -> str:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset_s)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def soap_request(operation: str, *, user: str | None = USER, password: str = PASSWORD,
                 created: str | None = None, nonce: bytes | None = None) -> bytes:
    """A SOAP 1.2 request; ``operation`` is the Body's XML (with tds:/trt: prefixes)."""
    header = ""
    if user is not None:
        nonce = os.urandom(16) if nonce is None else nonce
        created = utc_stamp() if created is None else created
        header = (f'<s:Header><wsse:Security s:mustUnderstand="1"><wsse:UsernameToken>'
                  f"<wsse:Username>{user}</wsse:Username>"
                  f'<wsse:Password Type="{DIGEST_TYPE}">{password_digest(nonce, created, password)}'
                  "</wsse:Password>"
                  f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce>"
                  f"<wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security></s:Header>")
    return (f'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{SOAP12}" xmlns:tds="{TDS}" '
            f'xmlns:trt="{TRT}" xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:wsse="{WSSE}" '
            f'xmlns:wsu="{WSU}">{header}<s:Body>{operation}</s:Body></s:Envelope>').encode()


@dataclass
class SoapReply:
    status: int
    text: bytes

    @property
    def root(self) -> etree._Element:
        return etree.fromstring(self.text)

    @property
    def payload(self) -> etree._Element:
        body = self.root.find(f"{{{SOAP12}}}Body")
        assert body is not None and len(body) == 1
        return body[0]

    def fault(self) -> tuple[str, list[str]]:
        """(code value, [subcode values]) of a SOAP 1.2 fault reply."""
        fault = self.payload
        assert fault.tag == f"{{{SOAP12}}}Fault", self.text
        code = fault.find(f"{{{SOAP12}}}Code")
        assert code is not None
        values = [v.text or "" for v in code.iter(f"{{{SOAP12}}}Value")]
        return values[0], values[1:]


async def post(ip: str, body: bytes, path: str = "/onvif/device_service", timeout: float = 5.0) -> SoapReply:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session, \
            session.post(f"http://{ip}:{ONVIF_PORT}{path}", data=body,
                         headers={"Content-Type": "application/soap+xml; charset=utf-8"}) as resp:
        return SoapReply(resp.status, await resp.read())



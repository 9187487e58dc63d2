"""Media2 (ver20) GetSnapshotUri, for cameras whose Media (ver10) service has no snapshot.

onvif-zeep-async ships no ver20 media WSDL, so this one request is built by hand: a SOAP 1.2
envelope with a WS-Security UsernameToken (PasswordDigest = Base64(SHA1(nonce + created +
password)), Created shifted by the camera's clock offset like every other request), posted to the
Media2 XAddr the camera lists in GetServices (its path, dialled at the inventory address), and the
``tr2:Uri`` read from the reply (the Hikvision and generic captures' Media2_GetSnapshotUri).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from xml.sax.saxutils import escape

import aiohttp
from lxml import etree

from sharpeyes.exporters.onvif.auth import OnvifAuth
from sharpeyes.exporters.onvif.errors import (
    OnvifAuthError,
    OnvifError,
    OnvifMalformedError,
    OnvifNotSupportedError,
)

MEDIA2_NS = "http://www.onvif.org/ver20/media/wsdl"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_DIGEST = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
_MAX_REPLY = 256 * 1024
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def request_body(token: str, auth: OnvifAuth | None, offset_s: float = 0.0) -> bytes:
    header = ""
    if auth is not None:
        nonce = os.urandom(16)
        created = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset_s)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        digest = base64.b64encode(hashlib.sha1(nonce + created.encode() + auth.password.encode()).digest()).decode()
        header = (f'<s:Header><wsse:Security s:mustUnderstand="1" xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}">'
                  f"<wsse:UsernameToken><wsse:Username>{escape(auth.username)}</wsse:Username>"
                  f'<wsse:Password Type="{_DIGEST}">{digest}</wsse:Password>'
                  f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce>"
                  f"<wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security></s:Header>")
    return (f'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{SOAP12}">{header}<s:Body>'
            f'<tr2:GetSnapshotUri xmlns:tr2="{MEDIA2_NS}"><tr2:ProfileToken>{escape(token)}</tr2:ProfileToken>'
            "</tr2:GetSnapshotUri></s:Body></s:Envelope>").encode()


def parse_reply(status: int, body: bytes) -> str:
    """The snapshot URI, or the OnvifError the reply means."""
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError:
        raise OnvifMalformedError(f"Media2 GetSnapshotUri: HTTP {status}, not XML") from None
    if status in (401, 403):
        raise OnvifAuthError(f"Media2 GetSnapshotUri: HTTP {status}")
    values = root.xpath("//*[local-name()='Subcode']/*[local-name()='Value']/text()")
    codes = [str(v).split(":")[-1] for v in values]  # QName: drop the namespace prefix
    if "NotAuthorized" in codes:
        raise OnvifAuthError("Media2 GetSnapshotUri: not authorized")
    if {"ActionNotSupported", "NoSnapshot"} & set(codes):
        raise OnvifNotSupportedError("Media2 GetSnapshotUri: not supported")
    if status != 200:
        raise OnvifError(f"Media2 GetSnapshotUri: HTTP {status} {'/'.join(codes)}")
    uri = root.findtext(f".//{{{MEDIA2_NS}}}Uri")
    if uri is None:
        raise OnvifMalformedError("Media2 GetSnapshotUri: reply without tr2:Uri")
    return uri.strip()


async def snapshot_uri(session: aiohttp.ClientSession, url: str, token: str, auth: OnvifAuth | None,
                       offset_s: float = 0.0) -> str:
    headers = {"Content-Type": f'application/soap+xml; charset=utf-8; action="{MEDIA2_NS}/GetSnapshotUri"'}
    async with session.post(url, data=request_body(token, auth, offset_s), headers=headers) as resp:
        body = await resp.content.read(_MAX_REPLY + 1)
        if len(body) > _MAX_REPLY:
            raise OnvifMalformedError("Media2 GetSnapshotUri: reply larger than 256 KiB")
        return parse_reply(resp.status, body)

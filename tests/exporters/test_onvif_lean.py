"""The lean ONVIF transport's own edges (the shared replay tests in test_onvif run it against every
real capture): a redirect is never followed with a signed request, a reply over the size bound is
malformed without being read whole, and one HTTP session serves every camera."""

# ruff: noqa: F811  (the serve fixture imported from test_onvif is redefined as a parameter)
from __future__ import annotations

import pytest
from aiohttp import web

from sharpeyes.exporters.exposition import TextWriter
from sharpeyes.exporters.onvif import soap
from sharpeyes.exporters.onvif.lean_transport import LeanFactory
from sharpeyes.exporters.probers.base import ProbeError
from sharpeyes.exporters.probers.onvif import OnvifProber
from tests.exporters.test_onvif import FIXTURES, CaptureCamera, module, serve, target  # noqa: F401


async def _site(handler) -> tuple[web.AppRunner, int]:  # type: ignore[no-untyped-def]
    app = web.Application()
    app.router.add_post("/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


async def test_redirect_is_not_followed_with_credentials() -> None:
    elsewhere: list[bytes] = []

    async def other(request: web.Request) -> web.Response:
        elsewhere.append(await request.read())
        return web.Response(status=200)

    other_runner, other_port = await _site(other)

    async def redirecting(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(f"http://127.0.0.1:{other_port}/onvif/device_service")

    runner, port = await _site(redirecting)
    prober = OnvifProber(factory=LeanFactory())
    try:
        with pytest.raises(ProbeError) as err:
            await prober(target(port), module(), 5.0, TextWriter())
        assert err.value.reason == "protocol" and "HTTP 307" in str(err.value)
        assert elsewhere == []
    finally:
        await prober.aclose()
        await runner.cleanup()
        await other_runner.cleanup()


async def test_oversized_reply_is_malformed(serve, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    vendor = "easy_onvif_dlink_dcs-6511"
    whole = (FIXTURES / vendor / "GetDeviceInformation.xml").read_bytes()
    monkeypatch.setattr(soap, "MAX_REPLY_BYTES", len(whole) - 1)  # the real reply, one byte too long
    cam = CaptureCamera(vendor)
    prober = OnvifProber(factory=LeanFactory())
    out = TextWriter()
    try:
        with pytest.raises(ProbeError) as err:
            await prober(target(await serve(cam)), module(profiles=False), 5.0, out)
    finally:
        await prober.aclose()
    assert err.value.reason == "malformed"
    assert out.samples("sharpeyes_onvif_device_info") == []


async def test_one_http_session_for_every_camera(serve) -> None:  # type: ignore[no-untyped-def]
    factory = LeanFactory()
    prober = OnvifProber(factory=factory)
    ports = [await serve(CaptureCamera(v)) for v in ("easy_onvif_dlink_dcs-6511", "agsh-onvif")]
    try:
        for i, port in enumerate(ports):
            assert await prober(target(port, dev=f"cam-{i}"), module(), 5.0, TextWriter())
        session = factory.http.session()
        assert len(prober.pool) == 2
        assert all(s.transport._http is factory.http for s in prober.pool._sessions.values())  # type: ignore[attr-defined]
    finally:
        await prober.aclose()
    assert session.closed

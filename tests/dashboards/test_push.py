"""``push`` against a stand-in Grafana.

No Grafana server can be installed here (not in Debian, PyPI or npm), so this is a small aiohttp
server implementing the few Grafana 11 HTTP API endpoints push uses — ``GET/POST /api/folders``,
``GET /api/dashboards/uid/{uid}``, ``POST /api/dashboards/db``, ``GET /api/search`` — with Grafana's
status codes and response shapes, and recording every request. Anything else (e.g. a permissions
endpoint) is recorded and answered 404, so the tests see it.
"""

from __future__ import annotations

import asyncio
import copy
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from sharpeyes.dashboards import build, push
from sharpeyes.dashboards.common import FOLDERS, UIDS, Lang

TOKEN = "glsa_test-token-do-not-print_0123456789"
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class FakeGrafana:
    url: str = ""
    requests: list[tuple[str, str]] = field(default_factory=list)
    folders: dict[str, str] = field(default_factory=dict)  # uid -> title
    dashboards: dict[str, dict[str, Any]] = field(
        default_factory=dict
    )  # uid -> {"dashboard", "folderUid", ...}
    permissions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # never touched by push
    posted: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._record_and_auth])
        app.router.add_get("/api/folders", self.list_folders)
        app.router.add_post("/api/folders", self.create_folder)
        app.router.add_get("/api/dashboards/uid/{uid}", self.get_dashboard)
        app.router.add_post("/api/dashboards/db", self.save_dashboard)
        app.router.add_get("/api/search", self.search)
        return app

    @web.middleware
    async def _record_and_auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"message": "Unauthorized"}, status=401)
        return await handler(request)

    async def list_folders(self, request: web.Request) -> web.Response:
        return web.json_response(
            [
                {"id": i + 1, "uid": uid, "title": title}
                for i, (uid, title) in enumerate(sorted(self.folders.items()))
            ]
        )

    async def create_folder(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("uid") in self.folders:
            return web.json_response({"message": "a folder with the same uid already exists"}, status=409)
        self.folders[body["uid"]] = body["title"]
        return web.json_response({"uid": body["uid"], "title": body["title"]})

    async def get_dashboard(self, request: web.Request) -> web.Response:
        stored = self.dashboards.get(request.match_info["uid"])
        if stored is None:
            return web.json_response({"message": "Dashboard not found"}, status=404)
        return web.json_response(
            {
                "dashboard": stored["dashboard"],
                "meta": {
                    "folderUid": stored["folderUid"],
                    "version": stored["dashboard"]["version"],
                    "slug": stored["dashboard"]["uid"],
                },
            }
        )

    async def save_dashboard(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.posted.append(body)
        dash = copy.deepcopy(body["dashboard"])
        uid = dash["uid"]
        old = self.dashboards.get(uid)
        if old is not None and not body.get("overwrite"):
            return web.json_response(
                {"message": "The dashboard has been changed by someone else", "status": "version-mismatch"},
                status=412,
            )
        if body.get("folderUid") and body["folderUid"] not in self.folders:
            return web.json_response({"message": "folder not found"}, status=400)
        dash["id"] = old["dashboard"]["id"] if old else len(self.dashboards) + 1
        dash["version"] = old["dashboard"]["version"] + 1 if old else 1
        self.dashboards[uid] = {"dashboard": dash, "folderUid": body.get("folderUid", "")}
        return web.json_response(
            {
                "id": dash["id"],
                "uid": uid,
                "status": "success",
                "version": dash["version"],
                "url": f"/d/{uid}/{uid}",
            }
        )

    async def search(self, request: web.Request) -> web.Response:
        return web.json_response(
            [
                {"uid": uid, "title": d["dashboard"]["title"], "type": "dash-db", "folderUid": d["folderUid"]}
                for uid, d in self.dashboards.items()
            ]
        )


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    fake = FakeGrafana()
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(fake.app(), access_log=None)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.url = f"http://127.0.0.1:{port}"
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield fake
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.run_until_complete(runner.cleanup())
    loop.close()


def _no_permission_calls(fake: FakeGrafana) -> None:
    assert not [r for r in fake.requests if "permission" in r[1] or "acl" in r[1]], fake.requests


def test_first_push_creates_folders_and_dashboards(grafana: FakeGrafana) -> None:
    report = push.push(grafana.url, TOKEN, "zh")
    assert sorted(report.created) == sorted(UIDS.values())
    assert sorted(report.created_folders) == sorted(uid for uid, _ in FOLDERS.values())
    assert grafana.folders["sharpeyes-district"] == "区中心"
    assert grafana.dashboards["sharpeyes-overview"]["folderUid"] == "sharpeyes-district"
    assert grafana.dashboards["sharpeyes-camera"]["folderUid"] == "sharpeyes-contractors"
    assert grafana.dashboards["sharpeyes-monitoring"]["folderUid"] == "sharpeyes-monitoring-self"
    assert all(body["overwrite"] is True and body["dashboard"]["id"] is None for body in grafana.posted)
    assert grafana.dashboards["sharpeyes-overview"]["dashboard"]["title"] == "雪亮工程 · 区县总览"
    _no_permission_calls(grafana)


def test_second_push_is_idempotent_and_keeps_folder(grafana: FakeGrafana) -> None:
    push.push(grafana.url, TOKEN, "zh")
    # an admin moves a dashboard to their own folder and restricts it
    grafana.folders["ops-custom"] = "值班室"
    grafana.dashboards["sharpeyes-overview"]["folderUid"] = "ops-custom"
    grafana.permissions["sharpeyes-overview"] = [{"role": "Viewer", "permission": 1}]
    grafana.requests.clear()
    grafana.posted.clear()

    report = push.push(grafana.url, TOKEN, "zh")
    assert report.created == [] and report.created_folders == [] and report.updated == []
    assert sorted(report.unchanged) == sorted(UIDS.values())
    assert grafana.posted == []  # unchanged: no new version

    # a changed build updates by uid in place: same folder the admin chose, same permissions
    lang = Lang("zh")
    changed = {name: build.render(name, "zh") for name in build.BUILDERS}
    changed["overview"]["description"] += "（已修改）"
    report = push.push_dashboards(push.GrafanaApi.from_url(grafana.url, credential=TOKEN), changed, lang)
    assert report.updated == ["sharpeyes-overview"]
    (body,) = grafana.posted
    assert body["folderUid"] == "ops-custom" and body["overwrite"] is True
    assert body["dashboard"]["uid"] == "sharpeyes-overview"
    assert grafana.dashboards["sharpeyes-overview"]["folderUid"] == "ops-custom"
    assert grafana.dashboards["sharpeyes-overview"]["dashboard"]["version"] == 2
    assert len(grafana.dashboards) == len(UIDS)
    assert grafana.permissions["sharpeyes-overview"] == [{"role": "Viewer", "permission": 1}]
    _no_permission_calls(grafana)
    assert ("GET", "/api/dashboards/uid/sharpeyes-overview") in grafana.requests


def test_cli_push_reads_token_file_and_never_prints_it(grafana: FakeGrafana, tmp_path: Path) -> None:
    token_file = tmp_path / "grafana.token"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sharpeyes.dashboards.cli",
            "push",
            "--url",
            grafana.url,
            "--token-file",
            str(token_file),
            "--lang",
            "en",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "created: sharpeyes-overview" in proc.stdout
    assert TOKEN not in proc.stdout + proc.stderr
    assert grafana.folders["sharpeyes-contractors"] == "Contractors"

    token_file.write_text("wrong-token\n", encoding="utf-8")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sharpeyes.dashboards.cli",
            "push",
            "--url",
            grafana.url,
            "--token-file",
            str(token_file),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("sharpeyes-dashboards: error: Grafana at") and "401" in proc.stderr
    assert "Traceback" not in proc.stderr and "wrong-token" not in proc.stderr


def test_token_sources(tmp_path: Path) -> None:
    assert push.read_token(None, {"GRAFANA_TOKEN": " abc "}) == "abc"
    with pytest.raises(push.UserError, match="no Grafana token"):
        push.read_token(None, {})
    empty = tmp_path / "t"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(push.UserError, match="empty"):
        push.read_token(empty, {})
    with pytest.raises(push.UserError, match="cannot read"):
        push.read_token(tmp_path / "missing", {})


def test_unreachable_grafana_is_one_line(tmp_path: Path) -> None:
    token_file = tmp_path / "t"
    token_file.write_text(TOKEN, encoding="utf-8")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sharpeyes.dashboards.cli",
            "push",
            "--url",
            "http://127.0.0.1:9",
            "--token-file",
            str(token_file),
            "--timeout",
            "2s",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 1
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert TOKEN not in proc.stderr

"""Push the generated dashboards to a running Grafana through its HTTP API (grafana-client).

Idempotent: a dashboard is created or updated by its uid (``overwrite: true``), an unchanged one
is left alone (no new version), an existing one stays in the folder it is in now (an admin may have
moved it) and its permissions are never read or written. Audience folders are created when missing
(by uid) and never renamed. The token comes from a file or ``$GRAFANA_TOKEN`` and is never printed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException

from sharpeyes.cli import UserError
from sharpeyes.dashboards import build
from sharpeyes.dashboards.common import AUDIENCE, FOLDERS, Lang

MESSAGE = "sharpeyes-dashboards push"
# Fields Grafana rewrites on save; ignored when deciding whether a dashboard changed.
_VOLATILE = ("id", "version")


@dataclass
class PushReport:
    created_folders: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"folder created: {uid}" for uid in self.created_folders]
        out += [f"created: {uid}" for uid in self.created]
        out += [f"updated: {uid}" for uid in self.updated]
        out += [f"unchanged: {uid}" for uid in self.unchanged]
        return out


def read_token(token_file: Path | None, env: dict[str, str] | None = None) -> str:
    env = dict(os.environ) if env is None else env
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UserError(f"cannot read token file {token_file}: {exc.strerror}") from None
        if not token:
            raise UserError(f"token file {token_file} is empty")
        return token
    token = env.get("GRAFANA_TOKEN", "").strip()
    if not token:
        raise UserError("no Grafana token: give --token-file FILE or set $GRAFANA_TOKEN")
    return token


def _comparable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in _VOLATILE}


def _existing(api: GrafanaApi, uid: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = api.dashboard.get_dashboard(uid)
    except GrafanaClientError as exc:
        if exc.status_code == 404:
            return None
        raise
    return found


def ensure_folders(api: GrafanaApi, lang: Lang, needed: Iterable[str], report: PushReport) -> None:
    have = {f["uid"] for f in api.folder.get_all_folders()}
    for key in needed:
        uid, title = FOLDERS[key]
        if uid not in have:
            api.folder.create_folder(lang(title), uid=uid)
            report.created_folders.append(uid)


def push_dashboards(api: GrafanaApi, dashboards: dict[str, dict[str, Any]], lang: Lang) -> PushReport:
    """``dashboards``: name -> JSON model (from :func:`dashboards.build.render`)."""
    report = PushReport()
    ensure_folders(api, lang, sorted({AUDIENCE[name] for name in dashboards}), report)
    for name, data in dashboards.items():
        uid = data["uid"]
        existing = _existing(api, uid)
        if existing is None:
            folder_uid = FOLDERS[AUDIENCE[name]][0]
        else:
            folder_uid = existing.get("meta", {}).get("folderUid", "")
            if _comparable(existing.get("dashboard", {})) == _comparable(data):
                report.unchanged.append(uid)
                continue
        body = {
            "dashboard": {**data, "id": None},
            "folderUid": folder_uid,
            "overwrite": True,
            "message": MESSAGE,
        }
        api.dashboard.update_dashboard(body)
        (report.created if existing is None else report.updated).append(uid)
    return report


def push(
    url: str,
    token: str,
    lang: str = "zh",
    *,
    timeout: float = 10.0,
    connect: Callable[[str, str, float], GrafanaApi] | None = None,
) -> PushReport:
    connect = connect or (lambda u, t, s: GrafanaApi.from_url(u, credential=t, timeout=s))
    api = connect(url, token, timeout)
    dashboards = {name: build.render(name, lang) for name in build.BUILDERS}
    try:
        return push_dashboards(api, dashboards, Lang(lang))
    except GrafanaException as exc:
        # the message is Grafana's answer (never the request headers, so never the token)
        raise UserError(f"Grafana at {url} answered {exc.status_code}: {exc.message}") from None
    except OSError as exc:
        raise UserError(f"cannot reach Grafana at {url}: {exc}") from None

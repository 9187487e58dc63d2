"""Web app accounts and scoping: argon2 hashes, lockout, sessions, the CLI that makes the first admin,
the field-work lifecycle (arrive, approve, reject, assign) and what each role sees — on both databases."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from sharpeyes.tickets import people
from sharpeyes.tickets.auth import Principal
from sharpeyes.tickets.cli import main
from sharpeyes.tickets.clock import FakeClock
from sharpeyes.tickets.lifecycle import ConflictError, RequestError
from sharpeyes.tickets.models import User
from sharpeyes.tickets.service import Filters, Forbidden, NotFound, TicketService
from tests.tickets.tickets_testlib import PATH, cam_down, cam_labels, deliver, resolved

PW = "correct horse battery"


def add(svc: TicketService, username: str, role: str, contractor: str = "", zones: list[str] | None = None
        ) -> Principal:
    with svc.store.transaction() as s:
        u = people.add_user(s, svc.clock.now(), username, role, PW, contractor, zones)
        return people.principal_of(u)


async def test_password_is_argon2_and_login_locks_after_failures(service: TicketService,
                                                                 clock: FakeClock) -> None:
    add(service, "tech-a", "technician", "ct-a")
    with service.store.session() as s:
        h = s.scalar(select(User.password_hash).where(User.username == "tech-a"))
    assert h is not None and h.startswith("$argon2id$") and PW not in h
    with service.store.transaction() as s:
        assert people.verify_login(s, clock.now(), "tech-a", PW) is not None
        assert people.verify_login(s, clock.now(), "nobody", PW) is None
        for _ in range(people.MAX_FAILURES):
            assert people.verify_login(s, clock.now(), "tech-a", "wrong password") is None
        # locked: even the right password is refused until the lock expires
        assert people.verify_login(s, clock.now(), "tech-a", PW) is None
    clock.advance(people.LOCK_FOR + timedelta(seconds=1))
    with service.store.transaction() as s:
        assert people.verify_login(s, clock.now(), "tech-a", PW) is not None


async def test_sessions_expire_and_log_out(service: TicketService, clock: FakeClock) -> None:
    add(service, "sup", "supervisor")
    with service.store.transaction() as s:
        u = s.scalar(select(User).where(User.username == "sup"))
        assert u is not None
        token = people.open_session(s, clock.now(), u, timedelta(hours=1))
    with service.store.session() as s:
        found = people.find_session(s, clock.now(), token)
        assert found is not None and found.principal.is_district and len(found.csrf) >= 32
        assert people.find_session(s, clock.now(), token + "x") is None
    clock.advance(3601)
    with service.store.session() as s:
        assert people.find_session(s, clock.now(), token) is None
    clock.advance(-3601)
    with service.store.transaction() as s:
        people.close_session(s, token)
    with service.store.session() as s:
        assert people.find_session(s, clock.now(), token) is None


def test_throttle_per_address() -> None:
    t = people.LoginThrottle(limit=3, window=60)
    assert [t.allow("1.2.3.4", now=0) for _ in range(4)] == [True, True, True, False]
    assert t.allow("5.6.7.8", now=1)
    assert t.allow("1.2.3.4", now=61)


@pytest.mark.parametrize("bad", [("user", "technician", ""), ("ab", "admin", "ct-a"), ("Bad Name", "admin", ""),
                                 ("ok", "root", "")])
async def test_account_fields_are_validated(bad: tuple[str, str, str]) -> None:
    with pytest.raises(people.PeopleError):
        people.validate(*bad)


def test_cli_adds_first_admin_from_stdin_and_never_defaults(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    db = f"sqlite:///{tmp_path / 't.sqlite3'}"
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["user", "add", "--db", db, "--username", "root1", "--role", "admin"]) == 1
    assert "no password" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["user", "add", "--db", db, "--username", "root1", "--role", "admin", "--password-stdin"]) == 1
    assert "at least" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO(PW + "\n"))
    assert main(["user", "add", "--db", db, "--username", "root1", "--role", "admin", "--password-stdin"]) == 0
    pwf = tmp_path / "pw"
    pwf.write_text(PW + "\n")
    assert main(["user", "add", "--db", db, "--username", "t1", "--role", "technician", "--contractor",
                 "ct-a", "--zones", "t-fengquan", "--password-file", str(pwf)]) == 0
    capsys.readouterr()
    assert main(["user", "list", "--db", db]) == 0
    out, err = capsys.readouterr()
    assert PW not in out + err
    rows = [line.split() for line in out.splitlines()]
    assert rows[0][:5] == ["USERNAME", "ROLE", "CONTRACTOR", "ZONES", "ACTIVE"]
    assert [r[:2] for r in rows[1:]] == [["root1", "admin"], ["t1", "technician"]]
    assert rows[2][2:5] == ["ct-a", "t-fengquan", "true"]
    assert main(["user", "list", "--db", db, "--output", "json"]) == 0
    users = json.loads(capsys.readouterr().out)
    assert [(u["username"], u["zones"], u["active"]) for u in users] == \
        [("root1", [], True), ("t1", ["t-fengquan"], True)]
    assert not any("password" in k for u in users for k in u)


# --- field work ----------------------------------------------------------------------------------------


async def test_arrive_close_reject_approve(service: TicketService, clock: FakeClock) -> None:
    tech = add(service, "tech-a", "technician", "ct-a")
    sup = add(service, "sup", "supervisor")
    a = cam_down("cam-1")
    await deliver(service, a)
    tid = (await service.list_tickets(sup, Filters()))[0]["id"]
    clock.advance(300)
    t = await service.act(tech, tid, "acknowledge", {})
    clock.advance(1200)
    t = await service.act(tech, tid, "arrive", {"note": "到达现场"})
    assert t["state"] == "in_progress" and t["arrived_at"] == "2025-03-01T08:25:00+08:00"
    with pytest.raises(ConflictError):
        await service.act(tech, tid, "arrive", {})
    await deliver(service, resolved(a, clock.now()))
    t = await service.act(tech, tid, "close", {"cause_category": "fiber", "note": "熔接", "parts_replaced": []})
    assert t["state"] == "closed" and t["review"] == "pending"
    with pytest.raises(Forbidden):  # a technician cannot approve their own work
        await service.act(tech, tid, "approve", {})
    with pytest.raises(Forbidden):  # a supervisor is read-only on the work itself
        await service.act(sup, tid, "close", {"cause_category": "fiber", "note": "x"})
    t = await service.act(sup, tid, "reject", {"reason": "没有修复后照片"})
    assert t["state"] == "in_progress" and t["review"] == "" and t["closed_at"] is None
    assert t["history"][-1]["action"] == "reject" and t["history"][-1]["detail"]["reason"] == "没有修复后照片"
    with pytest.raises(ConflictError):
        await service.act(sup, tid, "approve", {})
    t = await service.act(tech, tid, "close", {"cause_category": "fiber", "note": "补照片"})
    clock.advance(60)
    t = await service.act(sup, tid, "approve", {})
    assert t["review"] == "approved" and t["approved_at"] is not None


async def test_manager_assigns_within_company(service: TicketService) -> None:
    mgr = add(service, "mgr-a", "manager", "ct-a")
    add(service, "tech-a", "technician", "ct-a")
    add(service, "tech-b", "technician", "ct-b")
    await deliver(service, cam_down("cam-1"))
    tid = (await service.list_tickets(mgr, Filters()))[0]["id"]
    with pytest.raises(RequestError):
        await service.act(mgr, tid, "assign", {"assignee": "tech-b"})
    t = await service.act(mgr, tid, "assign", {"assignee": "tech-a"})
    assert t["assignee"] == "tech-a"


# --- scoping -----------------------------------------------------------------------------------------


async def test_each_role_sees_its_scope(service: TicketService) -> None:
    tech_a = add(service, "tech-a", "technician", "ct-a", ["t-fengquan"])
    tech_a_east = add(service, "tech-a2", "technician", "ct-a", ["t-east"])
    mgr_a = add(service, "mgr-a", "manager", "ct-a")
    tech_b = add(service, "tech-b", "technician", "ct-b")
    admin = add(service, "adm", "admin")
    await deliver(service, cam_down("cam-a"))  # ct-a, township t-fengquan
    b_labels = {**cam_labels("cam-b", "sw-b", "fl-b"), "contractor": "ct-b", "township": "t-b"}
    await deliver(service, cam_down("cam-b", labels=b_labels))
    ids = {t["subject"]: t["id"] for t in await service.list_tickets(admin, Filters())}
    assert set(ids) == {"cam-a", "cam-b"}

    async def subjects(p: Principal) -> set[str]:
        return {t["subject"] for t in await service.list_tickets(p, Filters())}

    assert await subjects(tech_a) == {"cam-a"}
    assert await subjects(mgr_a) == {"cam-a"}
    assert await subjects(tech_a_east) == set()
    assert await subjects(tech_b) == {"cam-b"}
    assert {r["subject"] for r in await service.export(tech_b, Filters())} == {"cam-b"}
    for action, body in (("acknowledge", {}), ("comment", {"text": "x"}), ("arrive", {})):
        with pytest.raises(NotFound):
            await service.act(tech_b, ids["cam-a"], action, body)
    with pytest.raises(NotFound):
        await service.detail(tech_b, ids["cam-a"])
    with pytest.raises(Forbidden):
        await service.list_tickets(tech_b, Filters(contractor="ct-a"))
    # assigned by the manager, the east technician sees it outside its zones
    await service.act(mgr_a, ids["cam-a"], "assign", {"assignee": "tech-a2"})
    assert await subjects(tech_a_east) == {"cam-a"}
    assert PATH["township"] == "t-fengquan"

"""sharpeyes-tickets: serve | migrate | export-csv.

Errors are one line on stderr; exit status 2 for usage or configuration, 1 for failure; never a
traceback. Without --config.file, ``serve`` runs on embedded defaults: SQLite at
./var/tickets.sqlite3, listening on 127.0.0.1:9440, with demo tokens (see docs/tickets.md,
"Running without a config"). ``serve --config.check`` validates the config and exits.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from sharpeyes.cli import ConfigError, UserError, add_config_flags, cli_main, host_port, setup_logging
from sharpeyes.cli import parser as cli_parser
from sharpeyes.output import add_output_flags, emit, output_format
from sharpeyes.tickets.assign import InventoryUnavailable, load_assigner
from sharpeyes.tickets.auth import Principal
from sharpeyes.tickets.config import Config, Token, hash_token, load_config
from sharpeyes.tickets.store import Store, StoreError, redact

DEMO_TOKEN_ENV = "SHARPEYES_TICKETS_TOKEN"
DEMO_TOKEN_FILE = Path("var/tickets-tokens.txt")
PROG = "sharpeyes-tickets"
log = logging.getLogger("sharpeyes.tickets")


def demo_tokens(token_file: Path = DEMO_TOKEN_FILE) -> tuple[Token, ...]:
    """Tokens for running without a config.

    ``$SHARPEYES_TICKETS_TOKEN`` set: that one token is both the district and the webhook token.
    Otherwise a district and a webhook token are generated once into ``var/tickets-tokens.txt``
    (mode 0600, ``role=token`` lines) and read back on later starts. Tokens are never printed.
    """
    env = os.environ.get(DEMO_TOKEN_ENV, "").strip()
    if env:
        return (Token("demo", frozenset({"district", "webhook"}), "", hash_token(env)),)
    if not token_file.exists():
        token_file.parent.mkdir(parents=True, exist_ok=True)
        lines = "".join(f"{role}={secrets.token_urlsafe(32)}\n" for role in ("district", "webhook"))
        fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(lines)
        print(f"sharpeyes-tickets: demo tokens written to {token_file} (mode 0600)", file=sys.stderr)
    tokens = []
    for line in token_file.read_text().splitlines():
        role, _, token = line.partition("=")
        if role in ("district", "webhook") and token.strip():
            tokens.append(Token(f"demo-{role}", frozenset({role}), "", hash_token(token)))
    if not tokens:
        raise UserError(f"{token_file}: no tokens in it (delete it to generate new ones)")
    return tuple(tokens)


def _config(args: argparse.Namespace) -> Config:
    cfg = load_config(args.config_file) if args.config_file else Config()
    if getattr(args, "db", None):
        cfg = replace(cfg, db_url=args.db)
    return cfg


def cmd_check(args: argparse.Namespace) -> int:
    """``serve --config.check``: validate a config without serving: the YAML, the token and secret
    files (or variables) it names, the database URL (parsed, not connected to) and the inventory
    directory it names."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if not args.config_file:
        raise UserError("--config.check needs --config.file PATH", status=2)
    cfg = _config(args)
    where = args.config_file
    try:
        backend = make_url(cfg.db_url).get_backend_name()
    except ArgumentError:
        raise ConfigError(f"{where}: db: cannot parse the database URL {redact(cfg.db_url)!r}") from None
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(f"{where}: db: unsupported database {backend!r} (sqlite or postgresql)")
    if cfg.inventory:
        try:
            load_assigner(cfg.inventory)
        except InventoryUnavailable as e:  # one line: the reason and the first problem
            raise ConfigError(f"{where}: " + " ".join([e.message, *e.detail[:1]])) from None
    print("ok")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from sharpeyes.tickets.api import build_app
    from sharpeyes.tickets.service import TicketService

    if args.config_check:
        return cmd_check(args)
    cfg = _config(args)
    if args.web_listen_address:
        cfg = replace(cfg, listen_host=args.web_listen_address[0], listen_port=args.web_listen_address[1])
    if not args.config_file:
        cfg = replace(cfg, tokens=demo_tokens())
    elif not cfg.tokens:
        log.warning("no tokens configured: every API call and the webhook will answer 401")
    assign = load_assigner(cfg.inventory)
    store = Store(cfg.db_url)
    rev = store.migrate()
    log.info("database %s at revision %s", redact(store.url), rev)
    service = TicketService(cfg, store, assign=assign)
    app = build_app(service)
    try:
        web.run_app(app, host=cfg.listen_host, port=cfg.listen_port, print=None,
                    access_log=None, handle_signals=True)
    except OSError as e:
        raise UserError(f"listen {cfg.listen_host}:{cfg.listen_port}: {e.strerror or e}") from None
    finally:
        service.close()
        store.dispose()
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    cfg = _config(args)
    store = Store(cfg.db_url)
    try:
        rev = store.migrate()
    finally:
        store.dispose()
    print(f"{redact(store.url)}: at revision {rev}")
    return 0


def _tickets(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The tickets the district sees, filtered by the command's --state/--contractor/… flags."""
    from sharpeyes.tickets.lifecycle import RequestError
    from sharpeyes.tickets.service import TicketService, parse_filters

    cfg = _config(args)
    store = Store(cfg.db_url)
    try:
        service = TicketService(cfg, store)
        q = {k: v for k in ("state", "contractor", "township", "severity", "breached")
             if (v := getattr(args, k))}
        try:
            f = parse_filters(q)
        except RequestError as e:
            raise UserError(f"--{e.field}: {e.message}", status=2) from None
        rows = service.export_sync(Principal("cli", frozenset({"district"})), f)
        service.close()
    finally:
        store.dispose()
    return rows


LIST_FIELDS = ("id", "state", "severity", "subject", "title_zh", "contractor", "township", "village",
               "opened_at", "repair_due", "breached")


# `user list`: never the password hash nor the session table
USER_FIELDS = ("username", "role", "contractor", "zones", "active", "locked_until", "display_name", "created_at")


def cmd_list(args: argparse.Namespace) -> int:
    emit(_tickets(args), LIST_FIELDS, output_format(args), empty="no tickets")
    return 0


def cmd_export_csv(args: argparse.Namespace) -> int:
    from sharpeyes.tickets.api import render_csv

    text = render_csv(_tickets(args))
    if args.out and args.out != "-":
        Path(args.out).write_text(text, encoding="utf-8-sig")
    else:
        sys.stdout.write(text)
    return 0


def _listen(text: str) -> tuple[str, int]:
    try:
        return host_port(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
def _read_password(args: argparse.Namespace) -> str:
    """From --password-file, from stdin (--password-stdin), or typed twice at a terminal; never a default."""
    if args.password_file:
        try:
            return Path(args.password_file).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as e:
            raise UserError(f"--password-file: cannot read {args.password_file}: {e.strerror}") from None
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise UserError("no password: give --password-file FILE or --password-stdin, or run at a terminal")
    import getpass

    first = getpass.getpass("password / 密码: ")
    if first != getpass.getpass("again / 再次输入: "):
        raise UserError("the two passwords differ")
    return first


def cmd_user(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from sharpeyes.tickets import people
    from sharpeyes.tickets.clock import SystemClock
    from sharpeyes.tickets.models import User

    cfg = _config(args)
    store = Store(cfg.db_url)
    try:
        store.migrate()
        now = SystemClock().now()
        if args.user_command == "add":
            password = _read_password(args)
            zones = [z for z in (args.zones or "").split(",") if z]
            try:
                with store.transaction() as s:
                    people.add_user(s, now, args.username, args.role, password, args.contractor or "",
                                    zones, args.name or "")
            except people.PeopleError as e:
                raise UserError(f"--{e.field}: {e.message}") from None
            print(f"user {args.username} ({args.role}) added")
        elif args.user_command == "passwd":
            password = _read_password(args)
            with store.transaction() as s:
                u = s.scalar(select(User).where(User.username == args.username))
                if u is None:
                    raise UserError(f"no user {args.username!r}")
                try:
                    people.set_password(u, password)
                except people.PeopleError as e:
                    raise UserError(f"{e.field}: {e.message}") from None
                u.failed_logins, u.locked_until = 0, None
                people.close_sessions_of(s, u.id)
            print(f"password of {args.username} changed; its sessions are logged out")
        else:
            with store.session() as s:
                rows = [{"username": u.username, "role": u.role, "contractor": u.contractor, "zones": list(u.zones),
                         "active": u.active, "locked_until": u.locked_until and u.locked_until.isoformat(),
                         "display_name": u.display_name, "created_at": u.created_at.isoformat()}
                        for u in s.scalars(select(User).order_by(User.username))]
            emit(rows, USER_FIELDS, output_format(args), empty="no accounts")
    finally:
        store.dispose()
    return 0


def parser() -> argparse.ArgumentParser:
    p = cli_parser(PROG, "Sharp Eyes fault-ticket service: Alertmanager webhook receiver, API and "
                   "contractors' phone page / 故障工单服务", examples=(
                       f"{PROG} serve --config.file /etc/sharpeyes/tickets.yml",
                       f"{PROG} serve --config.file /etc/sharpeyes/tickets.yml --config.check",
                       f"{PROG} export-csv --config.file tickets.yml --state open --out open.csv"))
    sub = p.add_subparsers(dest="command", required=True)

    def config_flags(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--config.file", dest="config_file", metavar="PATH",
                        help="YAML config (default: embedded demo defaults)")
        sp.add_argument("--db", metavar="URL", help="database URL (overrides the config)")

    serve = sub.add_parser("serve", help="run the webhook receiver and API")
    add_config_flags(serve, what="YAML config")
    serve.add_argument("--db", metavar="URL", help="database URL (overrides the config)")
    serve.add_argument("--web.listen-address", dest="web_listen_address", type=_listen, metavar="HOST:PORT",
                       help="address to listen on (overrides the config's listen; default: 127.0.0.1:9440)")
    serve.set_defaults(func=cmd_serve)
    mig = sub.add_parser("migrate", help="create or upgrade the database schema")
    config_flags(mig)
    mig.set_defaults(func=cmd_migrate)
    exp = sub.add_parser("export-csv", help="write tickets as CSV")
    config_flags(exp)
    exp.add_argument("--out", metavar="FILE", help="file (default: stdout)")
    ls = sub.add_parser("list", help="list tickets (table, JSON or CSV)", examples=(
        f"{PROG} list --config.file tickets.yml --state open",
        f"{PROG} list --db sqlite:///var/tickets.db --breached true --output json",
        f"{PROG} list --config.file tickets.yml --contractor c-huaxin --output csv"), description=(
        "List tickets; table fields: " + ", ".join(LIST_FIELDS) + "; --output json gives every "
        "field of the API's ticket summary."))
    config_flags(ls)
    add_output_flags(ls)
    for sp in (exp, ls):
        for flag in ("state", "contractor", "township", "severity", "breached"):
            sp.add_argument(f"--{flag}", help=f"only tickets with this {flag}")
    exp.set_defaults(func=cmd_export_csv)
    ls.set_defaults(func=cmd_list)
    user = sub.add_parser("user", help="web app accounts: add, passwd, list")
    usub = user.add_subparsers(dest="user_command", required=True)
    add = usub.add_parser("add", help="create an account (the first admin, or anyone)")
    add.add_argument("--username", required=True)
    add.add_argument("--role", required=True, choices=("technician", "manager", "supervisor", "admin"))
    add.add_argument("--contractor", help="company id (technician, manager)")
    add.add_argument("--zones", help="comma-separated townships a technician covers (default: all)")
    add.add_argument("--name", help="display name")
    pw = usub.add_parser("passwd", help="set an account's password (logs its sessions out)")
    pw.add_argument("--username", required=True)
    lst = usub.add_parser("list", help="list accounts (table, JSON or CSV)",
                          description="List web app accounts; fields: " + ", ".join(USER_FIELDS))
    add_output_flags(lst)
    for sp in (add, pw):
        src = sp.add_mutually_exclusive_group()
        src.add_argument("--password-file", help="read the password from this file")
        src.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    for sp in (add, pw, lst):
        config_flags(sp)
    user.set_defaults(func=cmd_user)
    return p


@cli_main(PROG)
def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    setup_logging(args)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    try:
        return int(args.func(args))
    except StoreError as e:
        raise UserError(str(e)) from None


if __name__ == "__main__":
    raise SystemExit(main(None))

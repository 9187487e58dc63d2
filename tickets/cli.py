"""sharpeyes-tickets: serve | check | migrate | export-csv.

Errors are one line on stderr; exit status 2 for usage, 1 for failure; never a traceback.
Without --config, ``serve`` runs on embedded defaults: SQLite at ./var/tickets.sqlite3, listening on
127.0.0.1:9440, with demo tokens (see docs/tickets.md, "Running without a config").
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

from tickets.assign import InventoryUnavailable, load_assigner
from tickets.auth import Principal
from tickets.config import Config, ConfigError, Token, hash_token, load_config, parse_listen
from tickets.store import Store, StoreError, redact

DEMO_TOKEN_ENV = "SHARPEYES_TICKETS_TOKEN"
DEMO_TOKEN_FILE = Path("var/tickets-tokens.txt")
log = logging.getLogger("sharpeyes.tickets")


class UserError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"sharpeyes-tickets: {message}", file=sys.stderr)
        raise SystemExit(2)


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
    cfg = load_config(args.config) if args.config else Config()
    if getattr(args, "db", None):
        cfg = replace(cfg, db_url=args.db)
    return cfg


def cmd_check(args: argparse.Namespace) -> int:
    """Validate a config without serving: the YAML, the token and secret files (or variables) it names,
    the database URL (parsed, not connected to) and the inventory directory it names."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    cfg = load_config(args.config)
    try:
        backend = make_url(cfg.db_url).get_backend_name()
    except ArgumentError:
        raise UserError(f"{args.config}: db: cannot parse the database URL {redact(cfg.db_url)!r}") from None
    if backend not in ("sqlite", "postgresql"):
        raise UserError(f"{args.config}: db: unsupported database {backend!r} (sqlite or postgresql)")
    if cfg.inventory:
        try:
            load_assigner(cfg.inventory)
        except InventoryUnavailable as e:  # one line: the reason and the first problem
            raise UserError(f"{args.config}: " + " ".join(str(e).splitlines()[:2])) from None
    print("ok")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from tickets.api import build_app
    from tickets.service import TicketService

    cfg = _config(args)
    if args.listen:
        host, port = parse_listen(args.listen, "--listen")
        cfg = replace(cfg, listen_host=host, listen_port=port)
    if not args.config:
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


def cmd_export_csv(args: argparse.Namespace) -> int:
    from tickets.api import render_csv
    from tickets.lifecycle import FieldError
    from tickets.service import TicketService, parse_filters

    cfg = _config(args)
    store = Store(cfg.db_url)
    try:
        service = TicketService(cfg, store)
        q = {k: v for k in ("state", "contractor", "township", "severity", "breached")
             if (v := getattr(args, k))}
        try:
            f = parse_filters(q)
        except FieldError as e:
            raise UserError(f"--{e.field}: {e.message}") from None
        rows = service.export_sync(Principal("cli", frozenset({"district"})), f)
        service.close()
    finally:
        store.dispose()
    text = render_csv(rows)
    if args.out and args.out != "-":
        Path(args.out).write_text(text, encoding="utf-8-sig")
    else:
        sys.stdout.write(text)
    return 0


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="sharpeyes-tickets", description="Sharp Eyes fault-ticket service / 故障工单服务")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    serve = sub.add_parser("serve", help="run the webhook receiver and API")
    serve.add_argument("--config", help="YAML config (default: embedded demo defaults)")
    serve.add_argument("--db", help="database URL (overrides the config)")
    serve.add_argument("--listen", help="HOST:PORT (overrides the config)")
    serve.set_defaults(func=cmd_serve)
    chk = sub.add_parser("check", help="validate a config (and the token/secret files it names) without serving")
    chk.add_argument("--config", required=True, help="YAML config to check")
    chk.set_defaults(func=cmd_check)
    mig = sub.add_parser("migrate", help="create or upgrade the database schema")
    mig.add_argument("--config")
    mig.add_argument("--db")
    mig.set_defaults(func=cmd_migrate)
    exp = sub.add_parser("export-csv", help="write tickets as CSV")
    exp.add_argument("--config")
    exp.add_argument("--db")
    exp.add_argument("--out", help="file (default: stdout)")
    for flag in ("state", "contractor", "township", "severity", "breached"):
        exp.add_argument(f"--{flag}")
    exp.set_defaults(func=cmd_export_csv)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    try:
        return int(args.func(args))
    except (UserError, ConfigError, StoreError, InventoryUnavailable) as e:
        print(f"sharpeyes-tickets: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        print(f"sharpeyes-tickets: unexpected error: {e.__class__.__name__}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())

"""``sharpeyes-dashboards build|check|push``.

Errors are one line on stderr: exit status 2 for usage, 1 for a failure (a stale check names the
differing files); never a traceback, never the token.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sharpeyes.cli import UserError, cli_main, duration_arg, setup_logging
from sharpeyes.cli import parser as cli_parser
from sharpeyes.dashboards import build
from sharpeyes.dashboards.common import LANGS

PROG = "sharpeyes-dashboards"


def _parser() -> argparse.ArgumentParser:
    p = cli_parser(PROG, "Build, check and push the sharpeyes Grafana dashboards.", examples=(
        f"{PROG} build --out /var/lib/grafana/dashboards/sharpeyes",
        f"{PROG} check",
        f"{PROG} push --url http://127.0.0.1:3000 --token-file /etc/sharpeyes/grafana.token --lang zh"))
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="write <out>/<lang>/<folder>/<name>.json")
    b.add_argument(
        "--out", type=Path, default=build.GENERATED, help="output directory (default: %(default)s)"
    )
    b.add_argument("--lang", choices=[*LANGS, "all"], default="all", help="language (default: all)")
    c = sub.add_parser("check", help="rebuild in memory and compare with the committed JSON")
    c.add_argument(
        "--dir", type=Path, default=build.GENERATED, help="committed directory (default: %(default)s)"
    )
    u = sub.add_parser("push", help="create/update the dashboards by uid in a running Grafana")
    u.add_argument("--url", required=True, help="Grafana base URL, e.g. http://127.0.0.1:3000")
    u.add_argument(
        "--token-file", type=Path, help="file holding a service-account token (else $GRAFANA_TOKEN)"
    )
    u.add_argument("--lang", choices=LANGS, default="zh", help="language to push (default: zh)")
    u.add_argument("--timeout", type=duration_arg, default=10.0, metavar="DURATION",
                   help="HTTP timeout (default: 10s)")
    return p


@cli_main(PROG)
def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    setup_logging(args)
    if args.command == "build":
        langs = LANGS if args.lang == "all" else (args.lang,)
        written = build.write(args.out, langs)
        print(f"wrote {len(written)} dashboards to {args.out}")
        return 0
    if args.command == "check":
        stale = build.diff(args.dir)
        if stale:
            raise UserError(
                f"{len(stale)} generated dashboard file(s) differ from the build (run `{PROG} build`)",
                detail=stale,
            )
        print(f"{args.dir}: up to date")
        return 0
    from sharpeyes.dashboards.push import push, read_token  # grafana-client only when pushing

    report = push(args.url, read_token(args.token_file), args.lang, timeout=args.timeout)
    for line in report.lines():
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(None))

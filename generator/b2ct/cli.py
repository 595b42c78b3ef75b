"""`b2ct`: the command line behind the Makefile targets."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from b2ct import __version__, paths
from b2ct.errors import UserError


def _check(args: argparse.Namespace) -> int:
    from b2ct.site import load_site, site_file

    site = load_site(args.env)
    print(
        f"{_rel(site_file(args.env))}: ok ({len(site.hosts)} hosts, {len(site.networks)} networks, "
        f"OpenNebula {site.opennebula.version})"
    )
    return 0


def _render(args: argparse.Namespace) -> int:
    from b2ct.render import render_site

    dest = render_site(args.env)
    files = sorted(p for p in dest.rglob("*") if p.is_file())
    print(f"rendered {len(files)} files into {_rel(dest)}/")
    for path in files:
        print(f"  {path.relative_to(dest)}")
    return 0


def _schema(args: argparse.Namespace) -> int:
    from b2ct.schema import site_schema

    text = site_schema()
    if args.write:
        target = paths.root() / "schemas" / "site.schema.json"
        target.write_text(text, encoding="utf-8")
        print(f"wrote {_rel(target)}")
    else:
        sys.stdout.write(text)
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from b2ct.toolchain import survey

    found = survey()
    width = max(len(f.name) for f in found)
    for f in found:
        if f.ok:
            print(f"  ok       {f.name:<{width}}  {f.version or '?'}  ({f.path})")
        else:
            print(f"  MISSING  {f.name:<{width}}  {f.purpose}: {f.fix}")
    missing = [f.name for f in found if not f.ok]
    if missing:
        print(f"{len(missing)} of {len(found)} tools missing: {', '.join(missing)}", file=sys.stderr)
        return 2
    print(f"all {len(found)} tools found")
    return 0


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(paths.root()))
    except ValueError:
        return str(path)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="b2ct", description="Belle II Cloud Toolkit: site.yaml to OpenNebula cloud."
    )
    p.add_argument("--version", action="version", version=f"b2ct {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str, func: Callable[[argparse.Namespace], int], help: str, env: bool = True
    ) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        if env:
            sp.add_argument("env", metavar="ENV", help="site name: a folder under environments/")
        sp.set_defaults(func=func)
        return sp

    command("check", _check, "validate environments/ENV/site.yaml")
    command("render", _render, "write everything generated for ENV into build/ENV/ (all or nothing)")
    schema = command("schema", _schema, "print the JSON Schema of site.yaml", env=False)
    schema.add_argument("--write", action="store_true", help="update schemas/site.schema.json")
    command("doctor", _doctor, "list every tool B2CT uses: found or missing, version, path, fix", env=False)
    from b2ct.emulator import cli as emulator_cli

    emulator_cli.add_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        result: int = args.func(args)
        return result
    except UserError as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())

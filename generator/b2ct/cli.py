"""`b2ct`: the command line behind the Makefile targets."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from b2ct import __version__, paths
from b2ct.errors import UserError

if TYPE_CHECKING:
    from b2ct.site import SiteModel


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


def _secrets_init(args: argparse.Namespace) -> int:
    from b2ct import secrets

    key, created = secrets.init(args.env)
    state = "created" if created else "exists, kept"
    print(f"{_rel(key)}: {state} (oneadmin's SSH key pair; a secret, git-ignored, mode 600)")
    return 0


def _kickstarts(env: str, site: SiteModel) -> dict[str, Path]:
    """Render the site (so the kickstarts are current) and return them by role."""
    from b2ct.kickstart.view import ROLES
    from b2ct.render import render_site

    dest = render_site(env, site) / "kickstart"
    return {role: dest / f"{role}.cfg" for role in ROLES if (dest / f"{role}.cfg").exists()}


def _installer_iso(env: str, site: SiteModel, given: str | None, required: bool) -> Path | None:
    path = given or site.install.iso
    if path is None and required:
        raise UserError(
            "ISO=path/to/AlmaLinux-9-x86_64-boot.iso is required (or set install.iso in "
            f"environments/{env}/site.yaml)"
        )
    return Path(path).expanduser() if path else None


def _iso(args: argparse.Namespace) -> int:
    import time

    from b2ct.installer import iso
    from b2ct.site import load_site

    site = load_site(args.env)
    source = _installer_iso(args.env, site, args.iso, required=True)
    assert source is not None
    dest = Path(args.output) if args.output else paths.dist(args.env) / f"b2ct-{args.env}-installer.iso"
    start = time.monotonic()
    kickstarts = _kickstarts(args.env, site)
    print(f"remastering {source} for site {args.env} (default entries: {args.role})")
    info = iso.remaster(source, dest, kickstarts, args.role, site.install.usb_label, embed=args.embed)
    where = "inside the ISO" if args.embed else f"on the USB key labelled {site.install.usb_label}"
    print(f"wrote {_rel(dest)} ({dest.stat().st_size / 2**20:.1f} MiB, volume ID {info.volid}) "
          f"in {time.monotonic() - start:.1f} s; kickstarts {where}")  # fmt: skip
    if args.embed:
        print("SECRET: the ISO holds the front-end kickstart and so oneadmin's private key (mode 600)")
    return 0


def _usb(args: argparse.Namespace) -> int:
    import time

    from b2ct.installer import device, usb
    from b2ct.site import load_site

    site = load_site(args.env)
    image = paths.dist(args.env) / f"b2ct-{args.env}-usb.img"
    start = time.monotonic()
    installer = _installer_iso(args.env, site, args.iso, required=False)
    usb.build(image, args.env, site.install.usb_label, _kickstarts(args.env, site), installer, args.role)
    with_installer = f" with the installer from {installer.name}" if installer else " (kickstarts only)"
    print(f"wrote {_rel(image)} ({image.stat().st_size / 2**20:.0f} MiB, FAT32 label "
          f"{site.install.usb_label}){with_installer} in {time.monotonic() - start:.1f} s")  # fmt: skip
    print("SECRET: the image holds ks/frontend.cfg and so oneadmin's private key; wipe the key after use")
    if args.device:
        device.write(image, args.device, assume_yes=args.yes)
    return 0


def _validate(args: argparse.Namespace) -> int:
    from b2ct.site import load_site
    from b2ct.validate.checks import Options
    from b2ct.validate.run import validate

    options = Options(smoke=not args.no_smoke, running_limit_s=args.running_limit)
    return validate(load_site(args.env), options, as_json=args.json)


def _dirac_config(args: argparse.Namespace) -> int:
    from b2ct.render import render_site

    folder = render_site(args.env) / "dirac"
    sys.stdout.write((folder / "cloudce.cfg").read_text())
    note = "cloudce.cfg (merge into the DIRAC CS), cloudinit.yaml (Context_Template), cloud.auth.example"
    print(
        f"\n# written to {_rel(folder)}/: {note} (credentials to fill in on the DIRAC server)",
        file=sys.stderr,
    )
    return 0


def _image(args: argparse.Namespace) -> int:
    from b2ct.image.build import build_image

    build_image(args.env, args.profile, args.accel)
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
    secrets = sub.add_parser("secrets", help="per-site secrets (oneadmin's SSH key pair)")
    secrets_sub = secrets.add_subparsers(dest="secrets_command", required=True, metavar="ACTION")
    init = secrets_sub.add_parser("init", help="create secrets/ENV/ unless it exists (never overwrites)")
    init.add_argument("env", metavar="ENV")
    init.set_defaults(func=_secrets_init)
    roles = ("node", "frontend")
    iso = command("iso", _iso, "remaster an AlmaLinux 9 boot ISO so every entry loads ENV's kickstart")
    iso.add_argument("--iso", help="the AlmaLinux 9 boot ISO (default: install.iso of site.yaml)")
    iso.add_argument("--role", choices=roles, default="node", help="role of the default entries")
    iso.add_argument("--embed", action="store_true", help="put the kickstarts in the ISO, not on the USB key")
    iso.add_argument("--output", help="where to write (default dist/ENV/b2ct-ENV-installer.iso)")
    usb = command("usb", _usb, "build the USB key image for ENV; with --device, write it to a key")
    usb.add_argument("--iso", help="also put this AlmaLinux 9 boot ISO's installer on the key")
    usb.add_argument("--role", choices=roles, default="node", help="role of the default entries")
    usb.add_argument("--device", help="the USB key to write, e.g. /dev/sdX (whole device)")
    usb.add_argument("--yes", action="store_true", help="do not ask for confirmation before writing")
    val = command("validate", _validate, "check that ENV's cloud works: hosts, storage, networks, a smoke VM")
    val.add_argument("--json", action="store_true", help="print the report as JSON (for CI)")
    val.add_argument("--no-smoke", action="store_true", help="skip the smoke VM")
    val.add_argument("--running-limit", type=float, default=60.0, help="seconds the smoke VM may take to run")
    command("dirac-config", _dirac_config, "write and print the DIRAC CloudCE configuration for ENV")
    from b2ct.image.profiles import PROFILES  # plain data: cheap enough for every start

    image = command("image", _image, "validate every profile's template, bake ENV's worker image (dist/ENV/)")
    image.add_argument("--profile", choices=sorted(PROFILES), help="default: worker.profile")
    image.add_argument("--accel", choices=("tcg", "kvm"), default="tcg", help="QEMU accelerator")
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

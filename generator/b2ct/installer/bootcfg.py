"""Edit the installer's boot menus (isolinux.cfg for BIOS, grub.cfg for UEFI) as text.

Every kernel line gets `inst.ks=` for the primary role and every install entry's title says so; one more
entry per other role, copied from the first install entry, goes where it does not shift GRUB's default.
"""

from __future__ import annotations

import re

ROLE_TITLES = {"frontend": "B2CT front-end", "node": "B2CT KVM node"}


def udev_escape(label: str) -> str:
    """How a label is written in a boot argument: characters outside udev's set become \\xNN."""
    return "".join(c if re.match(r"[A-Za-z0-9#+.=@_-]", c) else f"\\x{ord(c):02x}" for c in label)


def ks_arg(label: str, role: str) -> str:
    return f"inst.ks=hd:LABEL={udev_escape(label)}:/ks/{role}.cfg"


def with_arg(line: str, arg: str) -> str:
    """A kernel line with any earlier inst.ks= replaced by arg."""
    words = [w for w in line.rstrip().split(" ") if not w.startswith("inst.ks=")]
    return " ".join(words) + " " + arg


def relabel(line: str, old: str, new: str) -> str:
    """Replace a volume label where a boot line names it (inst.stage2=hd:LABEL=, search -l '...')."""
    return line.replace(f"LABEL={udev_escape(old)}", f"LABEL={udev_escape(new)}").replace(
        f"'{old}'", f"'{new}'"
    )


def isolinux(text: str, label: str, role: str, others: list[str], relabel_from: str | None = None) -> str:
    lines = text.splitlines()
    out: list[str] = []
    first_block: list[str] = []
    in_first = False
    insert_at = None
    for line in lines:
        word = line.strip().split(" ", 1)[0].lower()
        if relabel_from:
            line = relabel(line, relabel_from, label)
        if word == "label":
            in_first = not first_block and insert_at is None
        elif word == "menu" and line.strip().lower().startswith(("menu begin", "menu end", "menu separator")):
            in_first = False
        if word == "append":
            line = with_arg(line, ks_arg(label, role))
        elif line.strip().lower().startswith("menu label") and "install" in line.lower():
            line = f"{line.rstrip()} ({ROLE_TITLES[role]})"
        out.append(line)
        if in_first:
            first_block.append(line)
        elif first_block and insert_at is None:
            insert_at = len(out) - 1
    while first_block and not first_block[-1].strip():
        first_block.pop()
    extra: list[str] = []
    for other in others:
        for line in first_block:
            stripped = line.strip().lower()
            if stripped.startswith("menu default"):
                continue
            if stripped.startswith("label "):
                line = f"{line.rstrip()}-{other}"
            elif stripped.startswith("append"):
                line = with_arg(line, ks_arg(label, other))
            elif stripped.startswith("menu label"):
                line = line.replace(f"({ROLE_TITLES[role]})", f"({ROLE_TITLES[other]})")
            extra.append(line)
        extra.append("")
    if insert_at is None:
        insert_at = len(out)
    return "\n".join(out[:insert_at] + extra + out[insert_at:]) + "\n"


_MENUENTRY = re.compile(r"^(\s*menuentry\s+)'([^']*)'(.*)$")


def grub(text: str, label: str, role: str, others: list[str], relabel_from: str | None = None) -> str:
    out: list[str] = []
    first_block: list[str] = []
    depth_open: int | None = None
    for line in text.splitlines():
        if relabel_from:
            line = relabel(line, relabel_from, label)
        word = line.strip().split(" ", 1)[0]
        if word in ("linux", "linuxefi"):
            line = with_arg(line, ks_arg(label, role))
        m = _MENUENTRY.match(line)
        if m and "install" in m.group(2).lower():
            line = f"{m.group(1)}'{m.group(2)} ({ROLE_TITLES[role]})'{m.group(3)}"
            if not first_block:
                depth_open = 0
        out.append(line)
        if depth_open is not None:
            first_block.append(line)
            depth_open += line.count("{") - line.count("}")
            if depth_open <= 0 and "}" in line:
                depth_open = None
    extra: list[str] = []
    indent = len(first_block[0]) - len(first_block[0].lstrip()) if first_block else 0
    for other in others:
        for line in first_block:
            line = line[indent:] if line[:indent].isspace() else line
            if line.strip().split(" ", 1)[0] in ("linux", "linuxefi"):
                line = with_arg(line, ks_arg(label, other))
            line = line.replace(f"({ROLE_TITLES[role]})'", f"({ROLE_TITLES[other]})'")
            extra.append(line)
    return "\n".join(out + extra) + "\n"

"""Every external tool B2CT runs: where it is, which version, and how to get it (`b2ct doctor`)."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from b2ct import paths
from b2ct.errors import UserError

TOFU_VERSION = "1.10.10"
PROVIDER_VERSION = "1.5.0"
PROVIDER_SOURCE = "opennebula/opennebula"
SETUP = "run `make setup`"


@dataclass(frozen=True)
class Found:
    name: str
    purpose: str
    path: str | None
    version: str | None
    fix: str

    @property
    def ok(self) -> bool:
        return self.path is not None


def tool_env() -> dict[str, str]:
    """The environment every B2CT call of tofu runs with: the project's CLI configuration, no prompts."""
    env = dict(os.environ)
    # Always the project's own: an inherited TF_CLI_CONFIG_FILE could send provider lookups to a registry.
    env["TF_CLI_CONFIG_FILE"] = str(cli_config())
    env["TF_IN_AUTOMATION"] = "1"
    env["TF_INPUT"] = "0"
    return env


def _version(cmd: list[str]) -> str | None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False, env=tool_env())
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (proc.stdout or proc.stderr).strip()
    return text.splitlines()[0].strip() if text else None


def tofu_path() -> str | None:
    """B2CT_TOFU names another Terraform-compatible engine (a `tofu` or `terraform` on PATH)."""
    chosen = os.environ.get("B2CT_TOFU")
    if chosen:
        return shutil.which(chosen)
    local = paths.tools() / "bin" / "tofu"
    return str(local) if local.is_file() else None


def provider_mirror() -> Path:
    return paths.tools() / "providers"


def provider_path() -> str | None:
    binary = (
        provider_mirror()
        / "registry.opentofu.org"
        / PROVIDER_SOURCE
        / PROVIDER_VERSION
        / "linux_amd64"
        / f"terraform-provider-opennebula_v{PROVIDER_VERSION}"
    )
    return str(binary) if binary.is_file() else None


def cli_config() -> Path:
    """The CLI configuration that points tofu at the local provider mirror (written by `make setup`)."""
    return paths.tools() / "tofurc"


def require_tofu() -> str:
    path = tofu_path()
    if path is None:
        raise UserError(f"OpenTofu not found (.tools/bin/tofu or B2CT_TOFU): {SETUP}")
    return path


_BINARIES: list[tuple[str, str, list[str], str]] = [
    # name, purpose, version arguments, Debian package
    ("packer", "bakes worker images", ["version"], "packer"),
    ("qemu-system-x86_64", "boots worker images (TCG)", ["--version"], "qemu-system-x86"),
    ("qemu-img", "converts and compresses QCOW2", ["--version"], "qemu-utils"),
    ("xorriso", "remasters the installer ISO", ["-version"], "xorriso"),
    ("isohybrid", "hybrid MBR for ISO images", ["--version"], "syslinux-utils"),
    ("mcopy", "writes into FAT images without mounting", ["--version"], "mtools"),
    ("mkfs.fat", "makes the USB key's FAT32 file system", ["--help"], "dosfstools"),
    ("sfdisk", "partitions disk images", ["--version"], "fdisk"),
    ("syslinux", "makes the USB key bootable by BIOS", ["--version"], "syslinux"),
    ("implantisomd5", "media check sum in the remastered ISO", [], "isomd5sum"),
    ("ssh-keygen", "makes the site's oneadmin key pair", [], "openssh-client"),
    ("squid", "site cache for CVMFS (parse check, tests)", ["-v"], "squid"),
    ("mmdebstrap", "debian12 worker base file system", ["--version"], "mmdebstrap"),
    ("cloud-localds", "test seed images", ["--help"], "cloud-image-utils"),
    ("genisoimage", "OpenNebula context CDs for test VMs", ["--version"], "genisoimage"),
    ("shellcheck", "checks generated shell scripts", ["--version"], "shellcheck"),
]

_PYTHON = ["jinja2", "pydantic", "PyYAML", "pyone", "python-terraform", "packer.py", "pykickstart"]


def _which(name: str) -> str | None:
    return shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/sbin") / name) if p.is_file()), None
    )


def survey() -> list[Found]:
    found: list[Found] = []
    tofu = tofu_path()
    found.append(
        Found(
            "tofu",
            "Terraform engine (OpenTofu)",
            tofu,
            _version([tofu, "version"]) if tofu else None,
            f"{SETUP} (builds OpenTofu {TOFU_VERSION} from the Go module proxy) or set B2CT_TOFU",
        )
    )
    provider = provider_path()
    found.append(
        Found(
            "terraform-provider-opennebula",
            "OpenNebula resources for Terraform",
            provider,
            f"v{PROVIDER_VERSION}" if provider else None,
            f"{SETUP}; where the Go module proxy does not serve it, set B2CT_PROVIDER_BINARY to a built "
            f"v{PROVIDER_VERSION} binary and run `make setup` again",
        )
    )
    for name, purpose, args, package in _BINARIES:
        path = _which(name)
        found.append(
            Found(
                name,
                purpose,
                path,
                _version([path, *args] if args else ["dpkg-query", "-W", "-f=${Version}", package])
                if path
                else None,
                f"{SETUP} (apt-get install {package})",
            )
        )
    ksvalidator = shutil.which("ksvalidator") or shutil.which(
        "ksvalidator", path=str(Path(sys.prefix) / "bin")
    )
    found.append(
        Found(
            "ksvalidator",
            "validates kickstarts (RHEL9)",
            ksvalidator,
            _dist_version("pykickstart"),
            f"{SETUP} (Python environment)",
        )
    )
    for dist in _PYTHON:
        version = _dist_version(dist)
        found.append(
            Found(
                f"python:{dist}",
                "Python library",
                "site-packages" if version else None,
                version,
                f"{SETUP} (Python environment)",
            )
        )
    return found


def _dist_version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None

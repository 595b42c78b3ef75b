"""The debian12 base: a root file system from mmdebstrap (Debian packages only) on a partitioned disk, made
without loop devices or mounts. The mmdebstrap tarball is cached, keyed by everything that shapes it, so a
rebuild after a provisioning change starts from the cache."""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from b2ct import paths
from b2ct.errors import UserError
from b2ct.process import partitioned_image, run

SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
PACKAGES = [
    "linux-image-cloud-amd64", "systemd-sysv", "udev", "dbus", "openssh-server", "cloud-init", "ifupdown",
    "isc-dhcp-client", "grub-pc-bin", "grub2-common", "autofs", "curl", "ca-certificates", "iproute2",
    "procps", "cloud-guest-utils", "netbase", "e2fsprogs",
    "sudo",  # cloud-init reads context.sh as user nobody, through sudo
]  # fmt: skip
# No documentation, manual pages, info or translations, in this build and in every later package install.
DPKG_OPTIONS = [
    "path-exclude=/usr/share/man/*", "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright", "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/locale/*", "path-include=/usr/share/locale/locale.alias",
]  # fmt: skip
ROOT_LABEL = "b2ct-root"  # the root file system's label: fstab, mke2fs and the build's kernel command line
PARTITION_START = 2048  # sectors: 1 MiB
# Host name and fstab; and, only for the build, DHCP on eth0 and cloud-init off (no context CD yet), both of
# which finalize.sh removes.
HOOKS = [
    'echo b2ct-worker > "$1/etc/hostname"',
    'printf "127.0.0.1 localhost\\n127.0.1.1 b2ct-worker\\n" > "$1/etc/hosts"',
    f'printf "LABEL={ROOT_LABEL} / ext4 defaults,discard 0 1\\n" > "$1/etc/fstab"',
    'printf "allow-hotplug eth0\\niface eth0 inet dhcp\\n" > "$1/etc/network/interfaces.d/b2ct-build"',
    'touch "$1/etc/cloud/cloud-init.disabled"',
    'mkdir -p -m 700 "$1/root/.ssh"',
]


@dataclass(frozen=True)
class Base:
    disk: Path  # qcow2: one partition, ext4 labelled ROOT_LABEL, no boot loader
    kernel: Path
    initrd: Path
    cached: bool


def cache_folder() -> Path:
    folder = paths.cache() / "image"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def build_key() -> Path:
    """The private key Packer logs in with; its public half is root's only authorized key while building."""
    key = cache_folder() / "build_key"
    if not key.exists():
        run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "b2ct-image-build", "-f", key],
            "making the build key",
        )
    return key


def rootfs_tarball(folder: Path, key: Path) -> tuple[Path, bool]:
    """The mmdebstrap tarball, from the cache when nothing that shapes it changed."""
    recipe = "\n".join([SUITE, MIRROR, *PACKAGES, *DPKG_OPTIONS, *HOOKS, key.with_suffix(".pub").read_text()])
    digest = hashlib.sha256(recipe.encode()).hexdigest()[:16]
    tarball = folder / f"debian12-rootfs-{digest}.tar"
    if tarball.exists():
        return tarball, True
    for old in folder.glob("debian12-rootfs-*.tar"):
        old.unlink()  # a changed recipe: the old tarball is of no further use
    partial = tarball.with_suffix(".partial")
    cmd = ["mmdebstrap", "--mode=root", "--variant=minbase", f"--include={','.join(PACKAGES)}"]
    cmd += [f"--dpkgopt={opt}" for opt in DPKG_OPTIONS]
    cmd += [f"--customize-hook={hook}" for hook in HOOKS]
    cmd += [f"--customize-hook=upload {key.with_suffix('.pub')} /root/.ssh/authorized_keys"]
    cmd += ["--format=tar", SUITE, str(partial), MIRROR]
    print(
        f"  mmdebstrap: Debian {SUITE} with {len(PACKAGES)} packages (about a minute; cached afterwards)",
        flush=True,
    )
    run(cmd, "building the debian12 root file system")
    os.replace(partial, tarball)
    return tarball, False


def build_base(work: Path, disk_gb: int, key: Path) -> Base:
    tarball, cached = rootfs_tarball(cache_folder(), key)
    print(f"  base root file system: {tarball.name} ({'from the cache' if cached else 'new'})", flush=True)
    rootfs = work / "rootfs"
    rootfs.mkdir()
    with tarfile.open(tarball) as tar:
        tar.extractall(rootfs, filter="fully_trusted")  # our own tarball; ownership must be kept
    boot = rootfs / "boot"
    kernel = next(boot.glob("vmlinuz-*"), None)
    initrd = next(boot.glob("initrd.img-*"), None)
    if kernel is None or initrd is None:
        raise UserError(f"{tarball}: no kernel or initrd in /boot; delete it and run `make image` again")
    shutil.copy(kernel, work / "vmlinuz")
    shutil.copy(initrd, work / "initrd.img")
    raw = work / "base.raw"
    size = disk_gb * 1024**3
    partitioned_image(raw, size, PARTITION_START, "83")  # 83: Linux
    fs_kb = (size - PARTITION_START * 512) // 1024
    run(
        ["mke2fs", "-q", "-t", "ext4", "-L", ROOT_LABEL, "-d", str(rootfs),
         "-E", f"offset={PARTITION_START * 512}", str(raw), f"{fs_kb}k"],
        "making the root file system",
    )  # fmt: skip
    shutil.rmtree(rootfs)
    disk = work / "base.qcow2"
    run(["qemu-img", "convert", "-O", "qcow2", str(raw), str(disk)], "converting the base disk")
    raw.unlink()
    return Base(disk, work / "vmlinuz", work / "initrd.img", cached)


def scratch(parent: Path) -> Path:
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=".image-", dir=parent))

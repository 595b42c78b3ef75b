"""Worker image profiles: which OS, where its installer comes from, how Packer drives it."""

from __future__ import annotations

from dataclasses import dataclass, field

HTTP = "http://{{ .HTTPIP }}:{{ .HTTPPort }}"  # Packer's own HTTP server, as the guest sees it


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    eol: bool = False
    iso_url: str = ""
    iso_checksum: str = ""
    boot_command: list[str] = field(default_factory=list)
    http_files: dict[str, str] = field(default_factory=dict)  # file in http/ -> template that renders it
    bootloader: bool = False  # B2CT installs GRUB itself (no installer involved)
    kickstart_version: str = ""  # pykickstart version that checks http/ks.cfg at render time


PROFILES = {
    p.name: p
    for p in [
        Profile("debian12", "Debian 12 (bookworm), root file system from mmdebstrap", bootloader=True),
        Profile(
            "almalinux9",
            "AlmaLinux 9 boot ISO, kickstart served by Packer",
            iso_url="https://repo.almalinux.org/almalinux/9/isos/x86_64/AlmaLinux-9-latest-x86_64-boot.iso",
            iso_checksum="file:https://repo.almalinux.org/almalinux/9/isos/x86_64/CHECKSUM",
            boot_command=[f"<up><tab> inst.text inst.ks={HTTP}/ks.cfg b2ct.http={HTTP}<enter>"],
            http_files={"ks.cfg": "packer/http/almalinux9-ks.cfg.j2"},
            kickstart_version="RHEL9",
        ),
        Profile(
            "ubuntu2404",
            "Ubuntu 24.04 live server ISO, autoinstall served by Packer",
            iso_url="https://releases.ubuntu.com/24.04/ubuntu-24.04.3-live-server-amd64.iso",
            iso_checksum="file:https://releases.ubuntu.com/24.04/SHA256SUMS",
            boot_command=[
                "c<wait>",
                f"linux /casper/vmlinuz autoinstall ds='nocloud-net;s={HTTP}/' b2ct.http={HTTP} "
                "---<enter><wait>",
                "initrd /casper/initrd<enter><wait>",
                "boot<enter>",
            ],
            http_files={
                "user-data": "packer/http/ubuntu2404-user-data.j2",
                "meta-data": "packer/http/meta-data.j2",
            },
        ),
        Profile(
            "sl6",
            "Scientific Linux 6.10 (the 2016 seed's worker OS)",
            eol=True,
            iso_url="http://ftp.scientificlinux.org/linux/scientific/6.10/x86_64/iso/SL-6.10-x86_64-netinst.iso",
            iso_checksum="none",
            boot_command=[f"<tab> text ks={HTTP}/ks.cfg b2ct.http={HTTP}<enter>"],
            http_files={"ks.cfg": "packer/http/sl6-ks.cfg.j2"},
            kickstart_version="RHEL6",
        ),
        Profile(
            "ubuntu1404",
            "Ubuntu 14.04 server (the 2016 seed's other worker OS)",
            eol=True,
            iso_url="http://old-releases.ubuntu.com/releases/14.04/ubuntu-14.04.6-server-amd64.iso",
            iso_checksum="file:http://old-releases.ubuntu.com/releases/14.04/SHA256SUMS",
            boot_command=[
                "<esc><wait><esc><wait><enter><wait>",
                f"/install/vmlinuz auto=true priority=critical url={HTTP}/preseed.cfg b2ct.http={HTTP} "
                "initrd=/install/initrd.gz --- <enter>",
            ],
            http_files={"preseed.cfg": "packer/http/ubuntu1404-preseed.cfg.j2"},
        ),
    ]
}

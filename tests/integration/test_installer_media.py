"""`b2ct iso` and `b2ct usb` on an ISO with the AlmaLinux 9 layout built here; results read back with the
same tools a site would use (xorriso, mtools, sfdisk, blkid)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from b2ct.cli import main
from b2ct.installer import device, usb
from tests.support.fake_boot_iso import VOLID, make_boot_iso

MTOOLS = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
KS = "inst.ks=hd:LABEL={label}:/ks/{role}.cfg"
START_BYTES = usb.START * usb.SECTOR


def sh(*cmd: str | Path) -> str:
    return subprocess.run(
        [str(c) for c in cmd], check=True, capture_output=True, text=True, env=MTOOLS
    ).stdout


@pytest.fixture(scope="module")
def boot_iso(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_boot_iso(tmp_path_factory.mktemp("alma"))


def iso_file(iso: Path, name: str, dest: Path) -> str:
    sh("osirrox", "-indev", iso, "-extract", name, dest)
    return dest.read_text(errors="replace") if dest.suffix != ".img" else ""


def kernel_lines(text: str) -> list[str]:
    return [
        line for line in text.splitlines() if line.strip().split(" ")[0] in ("append", "linux", "linuxefi")
    ]


def boot_menus(iso: Path, tmp: Path) -> dict[str, str]:
    menus = {
        "isolinux": iso_file(iso, "/isolinux/isolinux.cfg", tmp / "isolinux.cfg"),
        "grub": iso_file(iso, "/EFI/BOOT/grub.cfg", tmp / "grub.cfg"),
    }
    iso_file(iso, "/images/efiboot.img", tmp / "efiboot.img")
    menus["efiboot"] = sh("mtype", "-i", tmp / "efiboot.img", "::/EFI/BOOT/grub.cfg")
    return menus


def test_remastered_iso_loads_the_kickstart_from_every_entry(
    scratch_root: Path, boot_iso: Path, tmp_path: Path
) -> None:
    assert main(["iso", "turin", "--iso", str(boot_iso)]) == 0
    out = scratch_root / "dist" / "turin" / "b2ct-turin-installer.iso"
    menus = boot_menus(out, tmp_path)
    for name, text in menus.items():
        lines = kernel_lines(text)
        node = [line for line in lines if KS.format(label="B2CT-TURIN", role="node") in line]
        frontend = [line for line in lines if KS.format(label="B2CT-TURIN", role="frontend") in line]
        assert len(lines) == 5 and len(node) == 4 and len(frontend) == 1, f"{name}: {lines}"
        assert all(f"inst.stage2=hd:LABEL={VOLID}" in line for line in lines), name
        assert all(line.count("inst.ks=") == 1 for line in lines), name
    assert "(B2CT front-end)" in menus["grub"] and "(B2CT KVM node)" in menus["isolinux"]
    assert re.search(r'^set default="1"', menus["grub"], re.M), "GRUB's default still names the same entry"
    check_entry = re.search(r"^label check\n(.*?)\n\n", menus["isolinux"], re.M | re.S)
    assert check_entry and "menu default" in check_entry.group(1), "the same default entry as before"

    report = sh(
        "xorriso", "-indev", out, "-pvd_info", "-report_el_torito", "plain", "-report_system_area", "plain"
    )
    assert re.search(rf"^Volume Id\s*:\s*{VOLID}$", report, re.M), "inst.stage2 still finds the installer"
    assert re.search(r"^El Torito boot img :\s+1\s+BIOS", report, re.M)
    assert re.search(r"^El Torito boot img :\s+2\s+UEFI", report, re.M)
    assert re.search(r"^El Torito img path :\s+1\s+/isolinux/isolinux.bin$", report, re.M)
    assert re.search(r"^El Torito img path :\s+2\s+/images/efiboot.img$", report, re.M)
    assert re.search(r"^System area summary: MBR isohybrid", report, re.M), "still a hybrid disk image"
    assert re.search(r"^MBR partition path :\s+2\s+/images/efiboot.img$", report, re.M), "ESP = patched image"
    check = subprocess.run(["checkisomd5", str(out)], capture_output=True, text=True, check=False)
    assert check.returncode == 0 and "PASS" in check.stderr, "media check sum implanted"


def test_embedded_kickstarts_name_the_iso_itself(scratch_root: Path, boot_iso: Path, tmp_path: Path) -> None:
    out = tmp_path / "embedded.iso"
    assert (
        main(["iso", "turin", "--iso", str(boot_iso), "--embed", "--role", "frontend", "--output", str(out)])
        == 0
    )
    grub = boot_menus(out, tmp_path)["efiboot"]
    assert KS.format(label=VOLID, role="frontend") in grub
    assert iso_file(out, "/ks/node.cfg", tmp_path / "node.cfg").startswith("#version=RHEL9")
    assert out.stat().st_mode & 0o077 == 0, "an ISO holding the front-end kickstart is private"


@pytest.mark.parametrize(
    "make_input, message",
    [
        (lambda d: d / "missing.iso", "no such file"),
        (lambda d: (d / "junk.iso").write_bytes(b"junk" * 1000) and d / "junk.iso", "not an ISO 9660 image"),
    ],
)
def test_bad_input_iso_is_one_clear_error(
    scratch_root: Path, tmp_path: Path, capsys, make_input, message
) -> None:  # type: ignore[no-untyped-def]
    path = make_input(tmp_path)
    assert main(["iso", "turin", "--iso", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"ISO={path}: {message}")
    assert not (scratch_root / "dist" / "turin" / "b2ct-turin-installer.iso").exists()
    assert not list(scratch_root.glob("dist/turin/.remaster-*")), "no work folder left behind"


def test_an_iso_that_is_no_installer_is_refused(scratch_root: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "hello.txt").write_text("hi")
    sh("xorrisofs", "-o", tmp_path / "data.iso", "-V", "DATA", tmp_path / "tree")
    assert main(["iso", "turin", "--iso", str(tmp_path / "data.iso")]) == 2
    assert "not an AlmaLinux 9 installer ISO" in capsys.readouterr().err


def read_usb(image: Path) -> tuple[str, str, str]:
    table = sh("sfdisk", "--dump", image)
    fs = sh("blkid", "-p", "-O", str(1024 * 1024), image)
    files = sh("mdir", "-/", "-b", "-a", "-i", f"{image}@@1M", "::/")
    return table, fs, files


def test_usb_image_has_one_fat32_partition_with_the_site_label(scratch_root: Path) -> None:
    assert main(["usb", "turin"]) == 0
    image = scratch_root / "dist" / "turin" / "b2ct-turin-usb.img"
    table, fs, files = read_usb(image)
    assert "label: dos" in table and re.search(r"start=\s*2048, size=.*type=c, bootable", table)
    assert len(re.findall(r"^\S+ : start=", table, re.M)) == 1
    assert 'LABEL="B2CT-TURIN"' in fs and 'VERSION="FAT32"' in fs and 'TYPE="vfat"' in fs
    assert {"::/ks/frontend.cfg", "::/ks/node.cfg", "::/README.txt"} <= set(files.split())
    cfg = sh("mtype", "-i", f"{image}@@1M", "::/ks/frontend.cfg")
    assert cfg == (scratch_root / "build" / "turin" / "kickstart" / "frontend.cfg").read_text()
    assert image.stat().st_mode & 0o077 == 0


def test_usb_image_with_the_installer_boots_by_its_own_label(scratch_root: Path, boot_iso: Path) -> None:
    assert main(["usb", "turin", "--iso", str(boot_iso)]) == 0
    image = scratch_root / "dist" / "turin" / "b2ct-turin-usb.img"
    _, fs, files = read_usb(image)
    assert 'LABEL="B2CT-TURIN"' in fs
    wanted = {
        "::/syslinux/syslinux.cfg",
        "::/syslinux/ldlinux.sys",
        "::/images/pxeboot/vmlinuz",
        "::/.treeinfo",
    }
    assert wanted | {"::/EFI/BOOT/grub.cfg"} <= set(files.split())
    for menu in ("::/syslinux/syslinux.cfg", "::/EFI/BOOT/grub.cfg"):
        lines = kernel_lines(sh("mtype", "-i", f"{image}@@1M", menu))
        assert lines and all("inst.stage2=hd:LABEL=B2CT-TURIN " in line for line in lines), menu
        assert all(
            KS.format(label="B2CT-TURIN", role="node") in line or "frontend.cfg" in line for line in lines
        )
    head = image.read_bytes()[:512]
    assert head[:440] == usb.SYSLINUX_MBR.read_bytes()[:440] and head[510:] == b"\x55\xaa", "BIOS boot code"
    assert b"SYSLINUX" in image.read_bytes()[START_BYTES : START_BYTES + 512], "syslinux in the boot sector"


def fake_sys(root: Path, name: str, removable: str, partitions: int = 1) -> Path:
    disk = root / "devices" / name
    disk.mkdir(parents=True)
    (disk / "removable").write_text(removable + "\n")
    (root / "class/block").mkdir(parents=True, exist_ok=True)
    (root / "class/block" / name).symlink_to(disk)
    for n in range(1, partitions + 1):
        part = disk / f"{name}{n}"
        part.mkdir()
        (part / "partition").write_text(f"{n}\n")
        (root / "class/block" / f"{name}{n}").symlink_to(part)
    return root


@pytest.mark.parametrize(
    "mounts, device, removable, why",
    [
        ("", "/dev/nosuch", "1", "is not a block device"),
        ("", "/dev/sdb1", "1", "is a partition: give the whole key (e.g. /dev/sdb)"),
        ("", "/dev/sdb", "0", "is not a removable device"),
        ("/dev/sdb1 /media/key vfat rw 0 0\n", "/dev/sdb", "1", "is mounted (/dev/sdb1 on /media/key)"),
        ("/dev/sdb1 / ext4 rw 0 0\n", "/dev/sdb", "1", "holds the running system"),
        ("/dev/sda1 / ext4 rw 0 0\nproc /proc proc rw 0 0\n", "/dev/sdb", "1", None),
    ],
)
def test_writing_refuses_any_device_that_could_be_the_wrong_one(
    tmp_path: Path, mounts: str, device: str, removable: str, why: str | None
) -> None:
    from b2ct.installer.device import refusal

    sys_root = fake_sys(tmp_path / "sys", "sdb", removable)
    (tmp_path / "mounts").write_text(mounts)
    got = refusal(device, sys_root, tmp_path / "mounts")
    if why is None:
        assert got is None
    else:
        assert got is not None and why in got


def test_writing_asks_for_confirmation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sys_root = fake_sys(tmp_path / "sys", "sdb", "1")
    monkeypatch.setattr(device, "refusal", lambda dev, root=None: None)
    monkeypatch.setattr("builtins.input", lambda prompt: "sda")
    image = tmp_path / "usb.img"
    image.write_bytes(b"x" * 1024)
    target = tmp_path / "target"
    target.write_bytes(b"")
    with pytest.raises(Exception, match="not confirmed, nothing written"):
        device.write(image, str(target), sys_root=sys_root)
    assert target.read_bytes() == b""
    monkeypatch.setattr("builtins.input", lambda prompt: "target")
    device.write(image, str(target), sys_root=sys_root)
    assert target.read_bytes() == image.read_bytes()


def test_iso_without_an_input_iso_says_how_to_give_one(scratch_root: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["iso", "turin"]) == 2
    assert capsys.readouterr().err.strip() == (
        "ISO=path/to/AlmaLinux-9-x86_64-boot.iso is required "
        "(or set install.iso in environments/turin/site.yaml)"
    )

"""`b2ct render` publishes the whole tree at once and never leaves a half-written one."""

from __future__ import annotations

from pathlib import Path

import pytest

from b2ct.cli import main
from b2ct.render import output, render_site


def test_render_writes_every_target(scratch_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "local"]) == 0
    dest = scratch_root / "build" / "local"
    assert {"site.json", "squid/squid.conf", "cvmfs/default.local"} <= {
        str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file()
    }
    assert "rendered" in capsys.readouterr().out
    assert [p.name for p in (scratch_root / "build").iterdir()] == ["local"], "no staging folders left"


def test_failed_render_keeps_the_previous_tree(scratch_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    render_site("local")
    squid_conf = scratch_root / "build" / "local" / "squid" / "squid.conf"
    before = squid_conf.read_text()

    def boom(folder: Path) -> None:
        (folder / "partial").write_text("half")
        raise OSError("disk full")

    monkeypatch.setattr(output.Output, "write_to", lambda self, folder: boom(folder))
    with pytest.raises(OSError):
        render_site("local")
    assert squid_conf.read_text() == before
    assert not (scratch_root / "build" / "local" / "partial").exists()
    assert [p.name for p in (scratch_root / "build").iterdir()] == ["local"]

"""Write a whole generated tree at once, or not at all."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Output:
    """Files to write, relative to the output folder."""

    files: dict[str, tuple[str, int]] = field(default_factory=dict)

    def add(self, relpath: str, content: str, mode: int = 0o644) -> None:
        if relpath in self.files:
            raise ValueError(f"two renderers write {relpath}")
        self.files[relpath] = (content, mode)

    def write_to(self, folder: Path) -> None:
        for relpath, (content, mode) in sorted(self.files.items()):
            path = folder / relpath
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
            path.chmod(mode)


def staging_folder(dest: Path) -> Path:
    """A fresh folder beside dest (same file system, so the final rename is atomic)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    staged.chmod(0o755)  # mkdtemp makes it private; the published tree is an ordinary folder
    return staged


def publish(staged: Path, dest: Path) -> None:
    """Replace dest by staged. Readers see the old tree or the new one, never a mix."""
    old = None
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old-{staged.name.rsplit('-', 1)[-1]}")
        dest.rename(old)
    try:
        staged.rename(dest)
    except OSError:
        if old is not None:
            old.rename(dest)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)

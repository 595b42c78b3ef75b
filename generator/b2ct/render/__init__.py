"""Turn a site model into build/<env>/.

Each target contributes files; checks run on the staged tree before anything is published.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from b2ct import paths
from b2ct.render.output import Output, publish, staging_folder
from b2ct.site import SiteModel, load_site

Target = Callable[[SiteModel, Output], None]
Check = Callable[[Path], None]


def _targets(env: str) -> list[tuple[Target, Check | None]]:
    # Imported here so that each target module stays free to import the render helpers above.
    from b2ct import secrets, summary
    from b2ct.dirac import config as dirac
    from b2ct.image import render as image
    from b2ct.kickstart import render as kickstart
    from b2ct.squid import render as squid

    def kickstarts(site: SiteModel, out: Output) -> None:
        kickstart.render(site, out, secrets.oneadmin_key(env))

    return [
        (summary.render, None),
        (squid.render, squid.check),
        (kickstarts, kickstart.check),
        (dirac.render, None),
        (image.render, image.check),
    ]


def render_site(env: str, site: SiteModel | None = None, dest: Path | None = None) -> Path:
    """Render every target for `env` into dest (default build/<env>); all or nothing."""
    site = site or load_site(env)
    dest = dest or paths.build(env)
    out = Output()
    targets = _targets(env)
    for render, _ in targets:
        render(site, out)
    staged = staging_folder(dest)
    try:
        out.write_to(staged)
        for _, check in targets:
            if check is not None:
                check(staged)
        publish(staged, dest)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return dest

"""DIRAC's view of the site: a CloudCE section (CEType Cloud, OpenNebula driver), its cloud-init template and
an example credentials file, rendered into build/<env>/dirac/."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from b2ct import names
from b2ct.render.output import Output
from b2ct.render.templates import render as render_template
from b2ct.site import SiteModel

DRIVER = "DIRAC.Resources.Computing.CloudProviders.OpenNebula.OpenNebula_6_0_NodeDriver"
FRONTEND_RESERVE_MB = 4096  # the front-end's own services, when it runs VMs too
MAX_LIFETIME_S = 3 * 24 * 3600  # a Belle II pilot's VM that lives longer than this is lost: DIRAC removes it
FOLDER = "dirac"


@dataclass(frozen=True)
class DiracView:
    site: str
    grid: str
    dirac_site: str
    ce: str
    vo: str
    driver: str
    host: str
    port: int
    secure: bool
    image: str
    template: str
    max_total: int
    max_waiting: int
    max_lifetime_s: int
    slots_by_host: list[tuple[str, int]]
    leases: int
    context_template: str
    cloud_auth: str


def slots(site: SiteModel) -> list[tuple[str, int]]:
    """How many workers each KVM host holds: the tighter of its threads and its memory."""
    w = site.worker
    out = []
    for host in site.hosts:
        if not host.kvm:
            continue
        memory = host.memory_gb * 1024 - (FRONTEND_RESERVE_MB if host.role == "frontend" else 0)
        out.append((host.name, max(0, min(int(host.cpu_threads // w.cpu), host.cpu_threads // w.vcpu,
                                          memory // w.memory_mb))))  # fmt: skip
    return out


def dirac_view(site: SiteModel) -> DiracView:
    url = urlsplit(site.opennebula.endpoint)
    secure = url.scheme == "https"
    per_host = slots(site)
    private = [n for n in site.networks if n.purpose == "private"]
    leases = sum(r.size for n in private for r in n.ranges)
    total = min(sum(n for _, n in per_host), leases)
    return DiracView(
        site=site.site.name,
        grid=site.dirac.site.split(".")[0],
        dirac_site=site.dirac.site,
        ce=site.dirac.ce,
        vo=site.dirac.vo,
        driver=DRIVER,
        host=url.hostname or "",
        port=url.port or (443 if secure else 80),
        secure=secure,
        image=names.worker_image(site),
        template=names.worker_template(site),
        max_total=total,
        # CloudCE reports no waiting VMs, so this caps how many VMs one SiteDirector cycle starts.
        max_waiting=max(1, min(total, 20)),
        max_lifetime_s=MAX_LIFETIME_S,
        slots_by_host=per_host,
        leases=leases,
        context_template=f"/opt/dirac/etc/b2ct-{site.site.name}-cloudinit.yaml",
        cloud_auth="/opt/dirac/etc/cloud.auth",
    )


def render(site: SiteModel, out: Output) -> None:
    view = dirac_view(site)
    out.add(f"{FOLDER}/cloudce.cfg", render_template("dirac/cloudce.cfg.j2", v=view))
    out.add(f"{FOLDER}/cloudinit.yaml", render_template("dirac/cloudinit.yaml.j2", v=view))
    out.add(f"{FOLDER}/cloud.auth.example", render_template("dirac/cloud.auth.j2", v=view))

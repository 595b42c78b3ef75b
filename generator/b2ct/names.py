"""Names B2CT gives the site's objects in OpenNebula: one place, shared by Terraform, validate and DIRAC."""

from __future__ import annotations

from b2ct.site import SiteModel


def worker_image(site: SiteModel, profile: str | None = None) -> str:
    """The image's name in OpenNebula, and its file name (with .qcow2); profile defaults to worker.profile."""
    return f"b2ct-{site.site.name}-worker-{profile or site.worker.profile}"


def worker_template(site: SiteModel) -> str:
    return f"b2ct-{site.site.name}-worker"


def vm_networks(site: SiteModel) -> list[str]:
    """Site networks that become OpenNebula virtual networks: those that lease addresses to VMs."""
    return [n.name for n in site.networks if n.ranges]

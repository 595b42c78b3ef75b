"""View models for the site squid and the CVMFS client, built from the site model."""

from __future__ import annotations

from dataclasses import dataclass, field

from b2ct.site import SiteModel

STRATUM1_PORTS = (80, 8000)  # Stratum-1s serve on 80 and on 8000 (the cern.ch domain's URLs)


@dataclass(frozen=True)
class SquidView:
    site: str
    port: int
    memory_cache_mb: int
    disk_cache_mb: int
    client_cidrs: list[str]
    stratum1: list[str]
    stratum1_ports: tuple[int, ...] = STRATUM1_PORTS
    # Where squid keeps its files. A site leaves the packaged defaults; tests point them at a scratch folder.
    cache_dir: str = "/var/spool/squid"
    log_dir: str = "/var/log/squid"
    pid_file: str | None = None
    hosts_file: str | None = None
    extra: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CvmfsView:
    site: str
    repositories: list[str]
    proxy: str
    quota_mb: int
    cache_base: str = "/var/lib/cvmfs"


def squid_view(site: SiteModel) -> SquidView:
    cidrs = [site.network(name).cidr for name in site.squid.clients]
    return SquidView(
        site=site.site.name,
        port=site.squid.port,
        memory_cache_mb=site.squid.memory_cache_mb,
        disk_cache_mb=site.squid.disk_cache_gb * 1024,
        client_cidrs=cidrs,
        stratum1=list(site.cvmfs.stratum1),
    )


def squid_address(site: SiteModel) -> str:
    if site.squid.address:
        return site.squid.address
    return next(h.address for h in site.hosts if h.name == site.squid.host)


def proxy_list(site: SiteModel) -> str:
    """CVMFS_HTTP_PROXY: '|' joins a load-balanced group, ';' separates failover groups."""
    site_group = [f"http://{squid_address(site)}:{site.squid.port}"]
    site_group += [f"http://{hp}" for hp in site.squid.load_balanced_with]
    groups = ["|".join(site_group)]
    if site.squid.failover:
        groups.append("|".join(f"http://{hp}" for hp in site.squid.failover))
    if site.cvmfs.direct_fallback:
        groups.append("DIRECT")
    return ";".join(groups)


def cvmfs_view(site: SiteModel) -> CvmfsView:
    return CvmfsView(
        site=site.site.name,
        repositories=list(site.cvmfs.repositories),
        proxy=proxy_list(site),
        quota_mb=site.cvmfs.quota_mb,
    )

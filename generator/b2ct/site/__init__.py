"""Site description: model, cross-field rules and loading from environments/<site>/site.yaml."""

from b2ct.site.loader import load_site, site_file
from b2ct.site.model import SiteModel

__all__ = ["SiteModel", "load_site", "site_file"]

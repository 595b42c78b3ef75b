"""B2CT, the Belle II Cloud Toolkit."""

__version__ = "0.1.0"

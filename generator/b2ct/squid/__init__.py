"""Site squid (squid.conf) and CVMFS client (default.local): one view model, two renderers.

The front-end kickstart and the worker image both take their files from here.
"""

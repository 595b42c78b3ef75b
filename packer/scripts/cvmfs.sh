#!/bin/bash
# CVMFS for the site: the configuration always (site squids from site.yaml, no single-node profile), the client
# itself from CERN's repository when it answers. A build that cannot reach it says so and goes on.
set -euo pipefail
install -d -m 755 /etc/cvmfs /etc/auto.master.d
install -m 644 /tmp/b2ct/default.local /etc/cvmfs/default.local
# autofs mounts /cvmfs/<repository> on first access, as `cvmfs_config setup` arranges.
echo "/cvmfs /etc/auto.cvmfs" >/etc/auto.master.d/cvmfs.autofs
if command -v apt-get >/dev/null; then
  release=https://ecsft.cern.ch/dist/cvmfs/cvmfs-release/cvmfs-release-latest_all.deb
  fetch() { curl -fsSL --max-time 20 -o /tmp/cvmfs-release.deb "$release"; }
  install_client() {
    dpkg -i /tmp/cvmfs-release.deb && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cvmfs
  }
else
  release=https://ecsft.cern.ch/dist/cvmfs/cvmfs-release/cvmfs-release-latest.noarch.rpm
  fetch() { curl -fsSL --max-time 20 -o /tmp/cvmfs-release.rpm "$release"; }
  install_client() { dnf install -y /tmp/cvmfs-release.rpm && dnf install -y cvmfs; }
fi
if fetch && install_client; then
  cvmfs_config setup
  echo "B2CT: CVMFS client installed; repositories: $(grep ^CVMFS_REPOSITORIES /etc/cvmfs/default.local)"
else
  echo "B2CT: WARNING: CVMFS client NOT installed: CERN's repository ($release) is unreachable from this build." \
    "The configuration is in place (/etc/cvmfs/default.local); rebuild where the repository answers." >&2
fi

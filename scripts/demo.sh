#!/bin/bash
# `make demo`: the main job on the built-in local site. B2CT's OpenNebula emulator stands in for the front-end
# (loopback only); its state and the throw-away credentials live in a temporary folder removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
B2CT=.venv/bin/b2ct
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n=== %s\n' "$*"; }

step "1. check and render the local site"
$B2CT check local
$B2CT secrets init local
$B2CT render local

step "2. start the OpenNebula emulator (a stand-in, not OpenNebula) on 127.0.0.1:2633"
(umask 077 && printf 'oneadmin:%s\n' "$(head -c 18 /dev/urandom | base64 | tr -d '/+=')" >"$work/one_auth")
export ONE_AUTH="$work/one_auth"
$B2CT emulator serve --state "$work/one.db" --auth-file "$ONE_AUTH" --timing realistic &
pid=$!
for _ in $(seq 50); do
  if $B2CT validate local --no-smoke --json >/dev/null 2>&1 || [ $? -eq 1 ]; then break; fi
  sleep 0.2
done

step "3. create what the installation and 'make apply' would: hosts, datastores, networks, image, template"
$B2CT emulator seed local
printf 'waiting, as with oned, for the first host monitoring and the image copy'
for _ in $(seq 120); do
  if $B2CT validate local --no-smoke --json >/dev/null 2>&1; then break; fi
  printf '.'
  sleep 0.5
done
echo

step "4. make validate ENV=local"
$B2CT validate local

step "5. make dirac-config ENV=local (what DIRAC needs to use the site)"
$B2CT dirac-config local

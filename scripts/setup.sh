#!/usr/bin/env bash
# make setup: install everything B2CT runs, idempotently. A second run with nothing changed takes seconds:
# each step checks a stamp or the installed state before doing any work.
#   B2CT_TOFU=terraform        use an engine already on PATH instead of building OpenTofu
#   B2CT_PROVIDER_BINARY=path  a built terraform-provider-opennebula to place in the local mirror
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOLS="$ROOT/.tools"
VENV="$ROOT/.venv"
TOFU_VERSION=1.10.10
PROVIDER_VERSION=1.5.0
PROVIDER_MODULE=github.com/OpenNebula/terraform-provider-opennebula
PYTHON=${PYTHON:-python3}

APT_PACKAGES=(
  qemu-system-x86 qemu-utils ovmf packer xorriso isolinux syslinux-common syslinux-utils mtools dosfstools
  fdisk squid mmdebstrap cloud-image-utils genisoimage shellcheck openssh-client curl ca-certificates
  isomd5sum syslinux
)

step() { printf '==> %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }

apt_packages() {
  local missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    step "Debian packages: all ${#APT_PACKAGES[@]} present"
    return
  fi
  step "Debian packages: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian squid package starts a system squid on :3128; B2CT's tests run their own instances.
  $sudo systemctl disable --now squid >/dev/null 2>&1 || true
}

python_env() {
  local stamp="$VENV/.b2ct-stamp" want
  want=$(cat "$ROOT/pyproject.toml" "$ROOT/scripts/dirac-driver-requirements.txt" | sha256sum | cut -d" " -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$VENV/bin/b2ct" ]; then
    step "Python environment: up to date (.venv)"
    return
  fi
  step "Python environment: installing b2ct and its dependencies into .venv"
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -e "${ROOT}[test]"
  # DIRAC's OpenNebula driver, which the tests drive against the emulator; without DIRAC's grid stack.
  "$VENV/bin/pip" install -q --no-deps -r "$ROOT/scripts/dirac-driver-requirements.txt"
  echo "$want" >"$stamp"
}

opentofu() {
  if [ -n "${B2CT_TOFU:-}" ]; then
    step "OpenTofu: using B2CT_TOFU=$B2CT_TOFU ($(command -v "$B2CT_TOFU" || echo 'NOT FOUND'))"
    return
  fi
  if [ -x "$TOOLS/bin/tofu" ] && [ "$(cat "$TOOLS/bin/.tofu-version" 2>/dev/null)" = "$TOFU_VERSION" ]; then
    step "OpenTofu $TOFU_VERSION: present (.tools/bin/tofu)"
    return
  fi
  command -v go >/dev/null || { echo "setup: Go not found: install Go >= 1.24 to build OpenTofu" >&2; exit 2; }
  step "OpenTofu $TOFU_VERSION: building from the Go module proxy (first time: a few minutes)"
  # Its go.mod has a replace directive, so `go install module@version` refuses it: build inside the module.
  local dir
  dir=$(go mod download -json "github.com/opentofu/opentofu@v$TOFU_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  mkdir -p "$TOOLS/bin"
  (cd "$dir" && go build -trimpath -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" \
    -o "$TOOLS/bin/tofu.new" ./cmd/tofu)
  mv "$TOOLS/bin/tofu.new" "$TOOLS/bin/tofu"
  echo "$TOFU_VERSION" >"$TOOLS/bin/.tofu-version"
}

provider() {
  local dest="$TOOLS/providers/registry.opentofu.org/opennebula/opennebula/$PROVIDER_VERSION/linux_amd64"
  local binary="$dest/terraform-provider-opennebula_v$PROVIDER_VERSION"
  write_cli_config
  if [ -n "${B2CT_PROVIDER_BINARY:-}" ]; then
    mkdir -p "$dest" && install -m 0755 "$B2CT_PROVIDER_BINARY" "$binary"
    step "OpenNebula provider: installed from B2CT_PROVIDER_BINARY"
    return
  fi
  if [ -x "$binary" ]; then
    step "OpenNebula provider v$PROVIDER_VERSION: present (.tools/providers)"
    return
  fi
  step "OpenNebula provider v$PROVIDER_VERSION: building with go install"
  local gobin log
  gobin=$(mktemp -d) log=$(mktemp)
  if GOBIN="$gobin" go install "$PROVIDER_MODULE@v$PROVIDER_VERSION" >"$log" 2>&1; then
    mkdir -p "$dest" && install -m 0755 "$gobin/terraform-provider-opennebula" "$binary"
  else
    # Not fatal: everything but plan/apply works without it, and `b2ct doctor` says how to supply it.
    warn "could not build terraform-provider-opennebula v$PROVIDER_VERSION: $(tail -n 2 "$log" | tr '\n' ' ')"
    warn "build it where the Go module proxy serves it, then: make setup B2CT_PROVIDER_BINARY=/path/to/binary"
  fi
  rm -rf "$gobin" "$log"
}

write_cli_config() {
  # tofu finds the provider in the project's own mirror and never asks a registry for it.
  mkdir -p "$TOOLS/providers"
  cat >"$TOOLS/tofurc.new" <<EOF
# Written by make setup. Used through TF_CLI_CONFIG_FILE by every B2CT call of tofu.
provider_installation {
  filesystem_mirror {
    path    = "$TOOLS/providers"
    include = ["registry.opentofu.org/opennebula/*", "registry.terraform.io/opennebula/*"]
  }
  direct {
    exclude = ["registry.opentofu.org/opennebula/*", "registry.terraform.io/opennebula/*"]
  }
}
EOF
  mv "$TOOLS/tofurc.new" "$TOOLS/tofurc"
}

start=$(date +%s)
apt_packages
python_env
opentofu
provider
step "setup done in $(($(date +%s) - start)) s"

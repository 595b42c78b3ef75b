# B2CT: the site admin's interface. `make` (or `make help`) lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

ENV ?= local
ROLE ?= node
VENV := .venv
B2CT := $(VENV)/bin/b2ct
PYTEST := $(VENV)/bin/pytest
export TF_CLI_CONFIG_FILE := $(CURDIR)/.tools/tofurc

KNOWN_ENVS := $(sort $(patsubst environments/%/site.yaml,%,$(wildcard environments/*/site.yaml)))

# Fail early, before any work, on a site that does not exist.
define require_env
	@if [ ! -f environments/$(ENV)/site.yaml ]; then \
	  echo "ENV=$(ENV): no such site (environments/$(ENV)/site.yaml); known sites: $(KNOWN_ENVS)" >&2; exit 2; fi
endef

.PHONY: help
help: ## list the targets
	@echo "B2CT, the Belle II Cloud Toolkit. Usage: make TARGET [ENV=site]   (sites: $(KNOWN_ENVS))"
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

.PHONY: setup
setup: ## install the toolchain: Debian packages, .venv, OpenTofu, the OpenNebula provider
	@bash scripts/setup.sh

.PHONY: check
check: setup ## validate environments/ENV/site.yaml
	$(require_env)
	@$(B2CT) check $(ENV)

.PHONY: render
render: setup ## write everything generated for ENV into build/ENV/
	$(require_env)
	@$(B2CT) secrets init $(ENV)
	@$(B2CT) render $(ENV)

.PHONY: secrets
secrets: setup ## create secrets/ENV/ (oneadmin's SSH key pair) unless it exists
	$(require_env)
	@$(B2CT) secrets init $(ENV)

.PHONY: iso
iso: setup ## remaster an AlmaLinux 9 boot ISO: ISO=path [ROLE=node|frontend] [EMBED=1] -> dist/ENV/
	$(require_env)
	@$(B2CT) secrets init $(ENV)
	@$(B2CT) iso $(ENV) $(if $(ISO),--iso "$(ISO)") --role $(ROLE) $(if $(EMBED),--embed)

.PHONY: usb
usb: setup ## USB key image with the kickstarts [ISO=path adds the installer] [DEVICE=/dev/sdX [YES=1]]
	$(require_env)
	@$(B2CT) secrets init $(ENV)
	@$(B2CT) usb $(ENV) $(if $(ISO),--iso "$(ISO)") --role $(ROLE) $(if $(DEVICE),--device "$(DEVICE)") $(if $(YES),--yes)

.PHONY: demo
demo: setup ## the main job on the embedded default site (ENV=local), the emulator standing in for OpenNebula
	@bash scripts/demo.sh

.PHONY: image
image: setup ## bake the worker image into dist/ENV/ [PROFILE=debian12|almalinux9|...] [ACCEL=kvm]
	$(require_env)
	@$(B2CT) secrets init $(ENV)
	@$(B2CT) image $(ENV) $(if $(PROFILE),--profile $(PROFILE)) $(if $(ACCEL),--accel $(ACCEL))

.PHONY: validate
validate: setup ## check that ENV's cloud works (ONE_AUTH names the credentials file; JSON=1 for CI)
	$(require_env)
	@$(B2CT) validate $(ENV) $(if $(JSON),--json)

.PHONY: dirac-config
dirac-config: setup ## write and print the DIRAC CloudCE configuration for ENV (build/ENV/dirac/)
	$(require_env)
	@$(B2CT) dirac-config $(ENV)

.PHONY: doctor
doctor: setup ## list the tools B2CT uses: found or missing, version, fix
	@$(B2CT) doctor

.PHONY: lint
lint: setup ## ruff and mypy on the generator and tests; shellcheck on scripts
	$(VENV)/bin/ruff check generator tests
	$(VENV)/bin/ruff format --check generator tests
	$(VENV)/bin/mypy
	shellcheck scripts/*.sh .ci/run packer/scripts/*.sh packer/files/b2ct-context packer/files/b2ct-monitor

.PHONY: test
test: setup ## run the whole test suite (installs what it needs first)
	$(PYTEST) -q tests

.PHONY: bench
bench: setup ## run the benchmarks; each prints its figures
	@for b in tests/bench/bench_*.py; do echo "== $$b"; $(VENV)/bin/python $$b || exit 1; done

.PHONY: clean
clean: ## remove build/ and dist/ (Terraform state and secrets/ live elsewhere and are kept)
	rm -rf build dist

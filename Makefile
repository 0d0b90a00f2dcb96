# One entry point for the lab, the tests and the demo.
#   make demo   - bring up the local lab and deploy a demo list server (no cloud account)
#   make test   - every test: lint, sanity, unit, Terraform, Molecule, end to end, OpenStack
# Caches live outside the repository, keyed by their recipe.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

CACHE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/listserver
PYTHON ?= python3
VENV_KEY := $(shell cat requirements.txt | $(PYTHON) -c 'import hashlib,sys;print(hashlib.sha256(sys.stdin.buffer.read()+sys.version.encode()).hexdigest()[:12])')
VENV ?= $(CACHE_DIR)/venv-$(VENV_KEY)
export PATH := $(VENV)/bin:$(PATH)
export CONTAINERS_CONF := $(CURDIR)/lab/containers.conf
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
# Molecule writes its own ansible.cfg: Mitogen (see ansible.cfg) comes by environment.
export ANSIBLE_STRATEGY_PLUGINS := $(CURDIR)/strategy_plugins
export ANSIBLE_STRATEGY ?= mitogen_remote
export LISTSERVER_CACHE_DIR := $(CACHE_DIR)

# prometheus: promtool for the alert rules' unit tests (tests/unit/test_alert_rules.py).
HOST_PACKAGES := podman runc iptables netavark aardvark-dns mmdebstrap git python3-venv prometheus

.PHONY: help
help:
	@echo "make demo        deploy a list server on the local lab (no cloud account needed)"
	@echo "make demo-mail   read the demo post's delivered copies (make demo-post: post again)"
	@echo "make demo-clean  remove the demo's containers, network and files"
	@echo "make test        run every test (lint, sanity, unit, terraform, molecule, end to end, demo, OpenStack)"
	@echo "make test-openstack  only the cloud half against the lab's OpenStack (stack, configure, smoke, pipeline, janitor)"
	@echo "make clean       remove the lab's containers and images"
	@echo "make bench       converge time and memory benchmarks (bench-converge, bench-memory)"
	@echo "make deploy CLIENT=<name>   deploy clients/<name> on its cloud (destroy: make destroy)"
	@echo "make smoke CLIENT=<name>    post-deploy smoke tests (make smoke-demo: on the demo)"
	@echo "make adopt CLIENT=<name> FROM=<host> [MOVE=1]   adopt a server built by the provider's guide"

.PHONY: host-deps
host-deps:
	@missing=$$(for p in $(HOST_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing host packages: $$missing"; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	fi

.PHONY: venv
venv: host-deps $(VENV)/.complete
# The path is keyed by requirements.txt's content: a fresh checkout's newer
# mtime must not trigger a rebuild.
$(VENV)/.complete: | requirements.txt
	@mkdir -p $(CACHE_DIR)
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	@touch $@

.PHONY: lab-images
lab-images: host-deps
	lab/build-image bookworm
	lab/build-image trixie

include mk/*.mk

.PHONY: test
test: lint sanity unit terraform-test
	@$(MAKE) --no-print-directory test-lab
	@echo "all tests passed"

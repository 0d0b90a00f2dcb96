# One entry point for the lab, the tests and the demo.
#   make demo   - bring up the local lab and deploy a demo list server (no cloud account)
#   make test   - every test: lint, unit, Terraform, Molecule, end to end
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
export LISTSERVER_CACHE_DIR := $(CACHE_DIR)

HOST_PACKAGES := podman runc iptables mmdebstrap git

.PHONY: help
help:
	@echo "make demo    deploy the list server on the local lab (no cloud account needed)"
	@echo "make test    run every test (lint, unit, terraform, molecule, end to end)"
	@echo "make clean   remove lab containers, networks and images this project created"

.PHONY: host-deps
host-deps: $(CACHE_DIR)/host-deps.stamp
$(CACHE_DIR)/host-deps.stamp: Makefile
	@mkdir -p $(CACHE_DIR)
	@if ! dpkg-query -W -f='$${Status}\n' $(HOST_PACKAGES) 2>/dev/null | grep -qv '^install ok installed$$' && \
	    [ "$$(dpkg-query -W -f='$${Status}\n' $(HOST_PACKAGES) 2>/dev/null | wc -l)" = "$(words $(HOST_PACKAGES))" ]; then \
	  echo "host packages present"; \
	else \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $(HOST_PACKAGES); \
	fi
	@touch $@

.PHONY: venv
venv: $(VENV)/.complete
$(VENV)/.complete: requirements.txt
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
test: lint unit terraform-test molecule
	@echo "all tests passed"

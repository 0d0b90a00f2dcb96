# ansible-test sanity on the collection's plugins (modules, module_utils) and meta/.
# ansible-test wants the collection at ansible_collections/<namespace>/<name>: the
# tracked files are copied there under the cache, afresh each run. Its per-test
# virtual environments live under a HOME of their own in the cache, and their
# pip comes from tools/sanity_get_pip.py (ensurepip, then PyPI) instead of the
# get-pip script ansible-test downloads from ci-files.testing.ansible.com.
#
# The tests that run with PyPI as the only network. Left out: pslint (needs
# PowerShell), shellcheck (needs the shellcheck binary; the collection has no
# shell scripts), changelog (antsibull-changelog fragments; this project keeps
# CHANGELOG.md by hand).
SANITY_TESTS := action-plugin-docs ansible-doc compile empty-init ignores import \
  line-endings no-assert no-get-exception no-illegal-filenames no-smart-quotes pep8 \
  pylint replace-urlopen runtime-metadata shebang symlinks use-argspec-type-path \
  use-compat-six validate-modules yamllint
# What a collection user gets as code. bench/, tools/, tests/ and the roles'
# host scripts are this repository's own and are linted by ruff (make lint).
SANITY_TARGETS := plugins/ meta/
SANITY_PYTHON := 3.11
# The pip version ansible-test 2.19 bootstraps into each environment.
SANITY_PIP_VERSION := 24.2
SANITY_DIR := $(CACHE_DIR)/sanity
SANITY_COLLECTION := $(SANITY_DIR)/ansible_collections/listserver/mailman3

.PHONY: sanity
sanity: venv
	rm -rf $(SANITY_COLLECTION)
	mkdir -p $(SANITY_COLLECTION) $(SANITY_DIR)/home/.ansible/test/cache
	git ls-files -z | grep -zv '^collections/' | xargs -0 cp -d --parents -t $(SANITY_COLLECTION)
	cp tools/sanity_get_pip.py \
	  $(SANITY_DIR)/home/.ansible/test/cache/get_pip_$(subst .,_,$(SANITY_PIP_VERSION)).py
	cd $(SANITY_COLLECTION) && HOME=$(SANITY_DIR)/home \
	  ansible-test sanity --python $(SANITY_PYTHON) --color no \
	  $(addprefix --test ,$(SANITY_TESTS)) $(SANITY_TARGETS)

# Role scenarios on the podman lab (Debian 12 and 13 hosts), then the mail
# path end to end (molecule/e2e, tests/e2e: about 15 minutes).
MOLECULE_SCENARIOS ?= default nginx standin mailpath e2e
# Headless Chromium on this machine: molecule/default checks the web UI's
# pages for console errors and Content-Security-Policy violations in it.
HOST_PACKAGES += chromium

# Each scenario's verify writes a JUnit report; a failed scenario's failures
# are printed last, after its destroy output, where CI's tail shows them.
MOLECULE_REPORTS := $(CURDIR)/.lab/reports

.PHONY: molecule
molecule: venv lab-images
	@rm -rf $(MOLECULE_REPORTS)
	@for scenario in $(MOLECULE_SCENARIOS); do \
	  echo "== molecule test -s $$scenario"; \
	  PYTEST_ADDOPTS="--junitxml=$(MOLECULE_REPORTS)/$$scenario.xml" molecule test -s $$scenario && continue; \
	  echo "== molecule test -s $$scenario failed:"; \
	  tools/test-failures $(MOLECULE_REPORTS)/$$scenario.xml || true; \
	  exit 1; \
	done

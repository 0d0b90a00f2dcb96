# Role scenarios on the podman lab (Debian 12 and 13 hosts), then the mail
# path end to end (molecule/e2e, tests/e2e: about 15 minutes).
MOLECULE_SCENARIOS ?= default nginx standin mailpath e2e

.PHONY: molecule
molecule: venv lab-images
	@for scenario in $(MOLECULE_SCENARIOS); do \
	  echo "== molecule test -s $$scenario"; \
	  molecule test -s $$scenario || exit 1; \
	done

# Role scenarios on the podman lab (Debian 12 and 13 hosts).
MOLECULE_SCENARIOS ?= default nginx standin mailpath

.PHONY: molecule
molecule: venv lab-images
	@for scenario in $(MOLECULE_SCENARIOS); do \
	  echo "== molecule test -s $$scenario"; \
	  molecule test -s $$scenario || exit 1; \
	done

# Static checks: YAML, Ansible (production profile), Python.
.PHONY: lint
lint: venv
	yamllint --strict .
# yamllint (above) refuses duplicate keys; Ansible's loader would also warn of a
# key that overrides a merged one (<<: *lab_host in molecule/*/molecule.yml).
	ANSIBLE_DUPLICATE_YAML_DICT_KEY=ignore ansible-lint
	ruff check .
	ruff format --check .
	@for module in $(basename $(notdir $(wildcard plugins/modules/*.py))); do \
	  echo "== ansible-doc listserver.mailman3.$$module"; \
	  ansible-doc listserver.mailman3.$$module >/dev/null; \
	done
	@echo "== ansible-doc -t filter listserver.mailman3.mailman_lists_problems"
	@ansible-doc -t filter listserver.mailman3.mailman_lists_problems >/dev/null

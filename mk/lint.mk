# Static checks: YAML, Ansible (production profile), Python.
.PHONY: lint
lint: venv
	yamllint --strict .
	ansible-lint
	ruff check .
	ruff format --check .
	@for module in $(basename $(notdir $(wildcard plugins/modules/*.py))); do \
	  echo "== ansible-doc listserver.mailman3.$$module"; \
	  ansible-doc listserver.mailman3.$$module >/dev/null; \
	done
	@echo "== ansible-doc -t filter listserver.mailman3.mailman_lists_problems"
	@ansible-doc -t filter listserver.mailman3.mailman_lists_problems >/dev/null

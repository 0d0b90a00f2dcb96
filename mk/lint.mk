# Static checks: YAML, Ansible (production profile), Python.
.PHONY: lint
lint: venv
	yamllint --strict .
	ansible-lint
	ruff check .
	ruff format --check .
	@for module in mailman_list provider_aliases; do \
	  echo "== ansible-doc listserver.mailman3.$$module"; \
	  ansible-doc listserver.mailman3.$$module >/dev/null; \
	done

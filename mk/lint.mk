# Static checks: YAML, Ansible (production profile), Python.
.PHONY: lint
lint: venv
	yamllint --strict .
	ansible-lint
	ruff check .
	ruff format --check .

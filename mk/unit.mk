# Unit tests: Python code, module logic, role documentation drift.
# Most of their time is ansible-playbook runs against localhost (the
# preflight's checks): one per test, each on one core, so the tests are spread
# over every core (pytest-xdist). Mitogen gains nothing on a local connection
# and cost each run about 2 s here (8.1 s against 5.8 s), hence the linear strategy.
.PHONY: unit
unit: venv
	ANSIBLE_STRATEGY=linear pytest -n auto tests/unit

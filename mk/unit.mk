# Unit tests: Python code, module logic, role documentation drift.
.PHONY: unit
unit: venv
	pytest tests/unit

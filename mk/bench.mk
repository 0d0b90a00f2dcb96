# Benchmarks (bench/README.md): reports, not timed tests. `make bench` runs
# both on one lab (the memory figures on the hosts the converge bench
# converged) and removes it; each target alone brings up its own lab.
.PHONY: bench bench-converge bench-memory
bench: venv lab-images
	bench/converge --keep; status=$$?; bench/memory --reuse || status=1; exit $$status

bench-converge: venv lab-images
	bench/converge

bench-memory: venv lab-images
	bench/memory

# Benchmarks (bench/README.md): reports, not timed tests. `make bench` runs
# both on one lab (the memory figures on the hosts the converge bench
# converged) and removes it; each target alone brings up its own lab. The
# recipe shell stops at the first error (-e), hence the explicit status.
.PHONY: bench bench-converge bench-memory
bench: venv lab-images
	status=0; bench/converge --keep || status=1; bench/memory --reuse || status=1; exit $$status

bench-converge: venv lab-images
	bench/converge

bench-memory: venv lab-images
	bench/memory

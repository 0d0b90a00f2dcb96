# Benchmarks (bench/README.md): reports, not timed tests. `make bench` runs
# both on one lab (the memory figures on the hosts the converge bench
# converged) and removes it; each target alone brings up its own lab. The
# recipe shell stops at the first error (-e), hence the explicit status.
# bench-lists (issue #20, lists as code at scale) is not part of `make bench`:
# its own cold converge and nine more (one of 20,000 subscriptions) would add
# to CI's time.
.PHONY: bench bench-converge bench-memory bench-lists
bench: venv lab-images
	status=0; bench/converge --keep || status=1; bench/memory --reuse || status=1; exit $$status

bench-converge: venv lab-images
	bench/converge

bench-memory: venv lab-images
	bench/memory

bench-lists: venv lab-images
	bench/lists

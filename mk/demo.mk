# The demo on the local lab: one list server, deployed by playbooks/site.yml.
.PHONY: demo demo-clean clean
demo: venv host-deps
	lab/build-image trixie
	molecule converge -s demo

demo-clean: venv
	molecule destroy -s demo

# Everything the lab created: scenario containers, networks and images.
clean: venv
	@for scenario in demo $(MOLECULE_SCENARIOS); do molecule destroy -s $$scenario || true; done
	-podman image rm localhost/listserver-lab:bookworm localhost/listserver-lab:trixie

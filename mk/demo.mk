# The demo on the local lab (molecule/demo, driven by tools/demo.py): the
# provider stand-in and one list server deployed by playbooks/aliases.yml and
# playbooks/site.yml, a post that crosses the real mail path, the copies in
# the members' mailboxes at the stand-in.
#   make demo        bring it up (again: idempotent), post once, print where to look
#   make demo-post   post again and wait for the copies
#   make demo-mail   the copies in each member's mailbox at the stand-in
#   make demo-clean  remove the hosts, the network and the demo's secrets
#   make demo-test   from scratch: the demo deployed from the collection artifact
#                    (tools/collection-build) installed apart, as a consultant runs
#                    it; a second demo from playbooks/ that must change nothing; the
#                    check of the copies and the archive; then clean (make test)
.PHONY: demo demo-post demo-mail demo-check demo-clean demo-test clean
demo: venv host-deps
	tools/demo.py up

demo-post demo-mail demo-check: $(VENV)/.complete
	tools/demo.py $(patsubst demo-%,%,$@)

demo-clean: $(VENV)/.complete
	tools/demo.py clean

# Cleans up whether it passes or not, and keeps the failure's exit code.
demo-test: venv host-deps
	tools/demo.py clean
	status=0; \
	{ artifact=$$(tools/collection-build) && tools/demo.py up --collection "$$artifact" && \
	  tools/demo.py up --unchanged --collection "$$artifact" && tools/demo.py check; } || status=$$?; \
	tools/demo.py clean; \
	exit $$status

# Everything the lab created: scenario containers, networks and images.
clean: venv
	-tools/demo.py clean
	@for scenario in $(MOLECULE_SCENARIOS) openstack adopt; do molecule destroy -s $$scenario || true; done
	-podman image rm localhost/listserver-lab:bookworm localhost/listserver-lab:trixie \
	  localhost/listserver-lab:trixie-openstack localhost/listserver-lab:bullseye

# Real deployments, one directory per client (clients/<name>/, see
# clients/example/README.md), and the post-deploy smoke tests.
#   make deploy  CLIENT=acme   preflight, terraform apply, inventory, site.yml + aliases.yml
#   make destroy CLIENT=acme   terraform destroy of that client's stack
#   make stack / configure CLIENT=acme   the two halves of deploy (CI runs them as jobs)
#   make backup  CLIENT=acme   a backup now (roles/backup; nightly by its timer anyway)
#   make restore CLIENT=acme [SNAPSHOT=<id>]   rebuild the host from a snapshot
#   make adopt   CLIENT=acme FROM=<old server> [MOVE=1]   adopt a server built by the
#                provider's guide: the dry run (writes adopt-plan.yml and
#                adopted-lists.yml to the client's directory), then MOVE=1 the move
#                              (playbooks/restore.yml; default the latest)
#   make smoke   CLIENT=acme   smoke tests against its host (or INVENTORY=<path>)
#   make smoke-demo            the same tests against the demo's host (after make demo)
#   make janitor JANITOR_PREFIX=listserver-test   list that prefix's stacks older than
#                              JANITOR_HOURS (24); DELETE=1 deletes them. It deletes
#                              every stack of the prefix, so the prefix is never a default.
# Options: CLIENTS_DIR (keep clients in your own repository), AUTO_APPROVE=1 (no
# Terraform prompt), ANSIBLE_ARGS (e.g. "--check --diff"), SMOKE_ARGS (pytest
# options, e.g. --ca-bundle=...), SMOKE_HOSTS (default ansible://listserver),
# LISTSERVER_PROVIDER_BUILD (1: build the provider here even with registry access).
# tools/terraform-provider-build picks terraform (or tofu) and leaves the
# OpenStack provider to init and registry.terraform.io when it answers; without
# it, it builds the provider with Go as for make terraform-test. The committed
# .terraform.lock.hcl files accept both packages.

CLIENTS_DIR ?= clients
CLIENT_DIR = $(CLIENTS_DIR)/$(CLIENT)
INVENTORY ?= $(if $(CLIENT),$(CLIENT_DIR)/inventory)
SMOKE_HOSTS ?= ansible://listserver
JANITOR_PREFIX ?=
JANITOR_HOURS ?= 24
CLIENT_STEPS := deploy stack configure destroy preflight backup restore
SNAPSHOT ?=

.PHONY: $(CLIENT_STEPS) adopt smoke smoke-demo janitor
$(CLIENT_STEPS): $(VENV)/.complete
	@test -n "$(CLIENT)" || { echo "usage: make $@ CLIENT=<name>, a directory of $(CLIENTS_DIR)/"; exit 2; }
	@$(if $(filter configure backup restore,$@),,eval "$$(tools/terraform-provider-build)"; export TF TF_CLI_CONFIG_FILE;) \
	tools/client.py $(if $(AUTO_APPROVE),--auto-approve) $@ $(CLIENT_DIR) -- $(ANSIBLE_ARGS) $(if $(and $(filter restore,$@),$(SNAPSHOT)),-e backup_restore_snapshot=$(SNAPSHOT))

FROM ?=
MOVE ?=
adopt: $(VENV)/.complete
	@test -n "$(CLIENT)" -a -n "$(FROM)" || { echo "usage: make adopt CLIENT=<name> FROM=<old server> [MOVE=1]"; exit 2; }
	tools/client.py adopt$(if $(MOVE),-move) $(CLIENT_DIR) -- -e adopt_from=$(FROM) \
	  -e adopt_plan_file=$(abspath $(CLIENT_DIR))/adopt-plan.yml \
	  -e adopt_lists_file=$(abspath $(CLIENT_DIR))/adopted-lists.yml $(ANSIBLE_ARGS)

smoke: $(VENV)/.complete
	@test -n "$(INVENTORY)" || { echo "usage: make smoke CLIENT=<name> or INVENTORY=<path>"; exit 2; }
	pytest tests/smoke --hosts=$(SMOKE_HOSTS) --ansible-inventory=$(INVENTORY) $(SMOKE_ARGS)

# podman:// reaches the container directly (seconds); the ansible:// default
# works too (make smoke INVENTORY=tests/smoke/demo-inventory), one ansible run
# per command.
smoke-demo: $(VENV)/.complete
	@podman container exists lists.demo.lab.test || { echo "the demo is not running: make demo"; exit 2; }
	$(MAKE) --no-print-directory smoke INVENTORY=tests/smoke/demo-inventory \
	  SMOKE_HOSTS=podman://lists.demo.lab.test

janitor: $(VENV)/.complete
	@test -n "$(JANITOR_PREFIX)" || { echo "usage: make janitor JANITOR_PREFIX=<name_prefix of throw-away stacks> [DELETE=1]"; exit 2; }
	tools/janitor.py --prefix $(JANITOR_PREFIX) --older-than $(JANITOR_HOURS) $(if $(filter 1,$(DELETE)),--delete)

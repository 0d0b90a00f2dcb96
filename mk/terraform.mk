# Terraform/OpenTofu: format, validate and test the cloud configuration with a
# mocked provider. The OpenStack provider is built from source (Go module
# proxy) by tools/terraform-provider-build into a filesystem mirror in the
# cache ($(CACHE_DIR)/terraform-providers), reused across runs; the generated
# CLI config replaces the global TF_CLI_CONFIG_FILE for these commands only.
# Needs terraform (or Go, to build OpenTofu) and Go; nothing from the venv.

TERRAFORM_ROOT := terraform
TERRAFORM_MODULES := $(sort $(wildcard $(TERRAFORM_ROOT)/modules/*))

.PHONY: terraform-provider
terraform-provider:
	tools/terraform-provider-build >/dev/null

.PHONY: terraform-test
terraform-test:
	@eval "$$(tools/terraform-provider-build)"; \
	export TF_CLI_CONFIG_FILE TF_IN_AUTOMATION=1 TF_INPUT=0; \
	echo "== $$TF fmt -check -recursive $(TERRAFORM_ROOT)"; \
	"$$TF" fmt -check -recursive -diff $(TERRAFORM_ROOT); \
	for dir in $(TERRAFORM_ROOT) $(TERRAFORM_MODULES); do \
	  echo "== init + validate $$dir"; \
	  "$$TF" -chdir=$$dir init -backend=false -lockfile=readonly -no-color >/dev/null; \
	  "$$TF" -chdir=$$dir validate -no-color; \
	done; \
	for dir in $(TERRAFORM_ROOT) $(TERRAFORM_MODULES); do \
	  if compgen -G "$$dir/tests/*.tftest.hcl" >/dev/null; then \
	    echo "== test $$dir"; \
	    "$$TF" -chdir=$$dir test -no-color; \
	  fi; \
	done; \
	echo "== test clients/example/terraform.tfvars"; \
	"$$TF" -chdir=$(TERRAFORM_ROOT) test -no-color -test-directory=tests/example \
	  -var-file=../clients/example/terraform.tfvars

# Rewrite the lock files after a provider version change (hashes are those of
# the binary built here: same Go toolchain, -trimpath, CGO_ENABLED=0).
.PHONY: terraform-lock
terraform-lock:
	@eval "$$(tools/terraform-provider-build)"; export TF_CLI_CONFIG_FILE; \
	for dir in $(TERRAFORM_ROOT) $(TERRAFORM_MODULES); do \
	  rm -f $$dir/.terraform.lock.hcl; \
	  "$$TF" -chdir=$$dir providers lock -fs-mirror="$$TF_PROVIDER_MIRROR" -platform=linux_amd64 \
	    registry.terraform.io/terraform-provider-openstack/openstack; \
	done

# Terraform/OpenTofu: format, validate and test the cloud configuration with a
# mocked provider. The OpenStack provider is always built from source (Go
# module proxy) here, whether or not registry.terraform.io answers:
# tools/terraform-provider-build with LISTSERVER_PROVIDER_BUILD=1 builds it
# into a filesystem mirror in the cache ($(CACHE_DIR)/terraform-providers),
# reused across runs; the generated CLI config replaces the global
# TF_CLI_CONFIG_FILE for these commands only. The lock files record that
# build's h1: hash next to the registry's zh: hashes (terraform/README.md).
# Needs terraform (or Go, to build OpenTofu) and Go; nothing from the venv.

TERRAFORM_ROOT := terraform
TERRAFORM_MODULES := $(sort $(wildcard $(TERRAFORM_ROOT)/modules/*))
TERRAFORM_SETUP := LISTSERVER_PROVIDER_BUILD=1 tools/terraform-provider-build
TERRAFORM_PROVIDER := registry.terraform.io/terraform-provider-openstack/openstack

.PHONY: terraform-provider
terraform-provider:
	$(TERRAFORM_SETUP) >/dev/null

.PHONY: terraform-test
terraform-test:
	@eval "$$($(TERRAFORM_SETUP))"; \
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

# Record the local build's h1: hash in every lock file, after a change of the
# Go toolchain or of the provider version (h1: hashes the binary built here:
# same Go toolchain, -trimpath, CGO_ENABLED=0). A lock file of the same version
# keeps its zh: hashes (the registry's, which no local build can produce) and
# loses only its h1: ones; a lock file of another version is rewritten from
# scratch, and the new version's zh: hashes are then recorded with registry
# access (terraform/README.md; tests/unit/test_terraform_lock.py fails until then).
.PHONY: terraform-lock
terraform-lock:
	@eval "$$($(TERRAFORM_SETUP))"; export TF_CLI_CONFIG_FILE; \
	for dir in $(TERRAFORM_ROOT) $(TERRAFORM_MODULES); do \
	  lock=$$dir/.terraform.lock.hcl; \
	  "$$TF" -chdir=$$dir get >/dev/null; \
	  if grep -qs "^  version *= \"$$TF_PROVIDER_VERSION\"" $$lock; then \
	    sed -i '/"h1:/d' $$lock; \
	  else \
	    rm -f $$lock; \
	  fi; \
	  "$$TF" -chdir=$$dir providers lock -fs-mirror="$$TF_PROVIDER_MIRROR" -platform=linux_amd64 \
	    $(TERRAFORM_PROVIDER); \
	done; \
	grep -q '"zh:' $(TERRAFORM_ROOT)/.terraform.lock.hcl || \
	  echo "no zh: hashes for $$TF_PROVIDER_VERSION yet: record the registry's (terraform/README.md)"

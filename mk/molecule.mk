# Role scenarios on the podman lab (Debian 12 and 13 hosts), then the mail
# path end to end (molecule/e2e, tests/e2e: about 15 minutes).
MOLECULE_SCENARIOS ?= default nginx standin mailpath objectstore e2e
# Headless Chromium on this machine: molecule/default checks the web UI's
# pages for console errors and Content-Security-Policy violations in it.
HOST_PACKAGES += chromium

# Each scenario's verify writes a JUnit report; a failed scenario's failures
# are printed last, after its destroy output, where CI's tail shows them.
MOLECULE_REPORTS := $(CURDIR)/.lab/reports

.PHONY: molecule
molecule: venv lab-images
	@mkdir -p $(MOLECULE_REPORTS)
	@for scenario in $(MOLECULE_SCENARIOS); do \
	  rm -f $(MOLECULE_REPORTS)/$$scenario.xml; \
	  echo "== molecule test -s $$scenario"; \
	  PYTEST_ADDOPTS="--junitxml=$(MOLECULE_REPORTS)/$$scenario.xml" molecule test -s $$scenario && continue; \
	  echo "== molecule test -s $$scenario failed:"; \
	  tools/test-failures $(MOLECULE_REPORTS)/$$scenario.xml || true; \
	  exit 1; \
	done

# gitlab-ci-local (npm) runs .gitlab-ci.yml's jobs here, with the shell
# executor; it copies the repository with rsync. 4.65.0 runs on Node.js 20
# (4.75 needs 22). Node.js and npm: this machine's, else Debian's.
GITLAB_CI_LOCAL_VERSION := 4.65.0
GITLAB_CI_LOCAL_DIR := $(CACHE_DIR)/gitlab-ci-local-$(GITLAB_CI_LOCAL_VERSION)
GITLAB_CI_LOCAL := $(GITLAB_CI_LOCAL_DIR)/node_modules/.bin/gitlab-ci-local
HOST_PACKAGES += rsync

$(GITLAB_CI_LOCAL): | host-deps
	@command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends npm; }
	npm install --prefix $(GITLAB_CI_LOCAL_DIR) --no-audit --no-fund --loglevel=error \
	  gitlab-ci-local@$(GITLAB_CI_LOCAL_VERSION)

# make test's lab: three lanes side by side: the role scenarios; the mail path
# end to end and then the demo; the cloud half against the lab's OpenStack,
# then the adoption of a server built by the provider's guide (molecule/adopt).
# Most of a scenario's time is spent waiting (mail, timers, restarts, the
# cloud's services), not on the cores: on a 2-core machine the three lanes
# took about 40 minutes side by side, the cores 80% busy.
# Each lane stops at its first failure; all failures are printed last.
LAB_LANE_ROLES := default nginx standin mailpath objectstore
LAB_LANE_CLOUD := openstack adopt
.PHONY: test-lab lab-lane-roles lab-lane-e2e lab-lane-cloud
test-lab: venv lab-images $(GITLAB_CI_LOCAL)
	lab/build-image trixie-openstack
	lab/build-image bullseye
	@rm -rf $(MOLECULE_REPORTS)
	@$(MAKE) --no-print-directory -j3 lab-lane-roles lab-lane-e2e lab-lane-cloud || { \
	  echo "== the lab failed; failed tests:"; \
	  tools/test-failures $(MOLECULE_REPORTS)/*.xml || true; \
	  exit 1; }

lab-lane-roles:
	@$(MAKE) --no-print-directory molecule MOLECULE_SCENARIOS="$(LAB_LANE_ROLES)"

lab-lane-cloud:
	@GITLAB_CI_LOCAL=$(GITLAB_CI_LOCAL) $(MAKE) --no-print-directory molecule MOLECULE_SCENARIOS="$(LAB_LANE_CLOUD)"

lab-lane-e2e:
	@$(MAKE) --no-print-directory molecule MOLECULE_SCENARIOS=e2e
	@$(MAKE) --no-print-directory demo-test || { echo "== make demo-test failed"; exit 1; }

# The cloud half alone (the first part of make test's third lane): molecule/openstack, the
# preflight, Terraform and OpenTofu through tools/client.py, the stack's
# server stood in, configured and smoke-tested, the janitor, and the GitLab
# pipeline's stack jobs run by gitlab-ci-local.
.PHONY: test-openstack
test-openstack: venv lab-images $(GITLAB_CI_LOCAL)
	lab/build-image trixie-openstack
	@GITLAB_CI_LOCAL=$(GITLAB_CI_LOCAL) $(MAKE) --no-print-directory molecule MOLECULE_SCENARIOS=openstack

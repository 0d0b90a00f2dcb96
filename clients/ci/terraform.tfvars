# The CI's throw-away stacks (.gitlab-ci.yml); inputs of terraform/. Each
# pipeline adds, as TF_VAR_*: stack_name (its pipeline id), created_at (its
# start time, for the janitor) and ssh_public_key (of the LISTSERVER_SSH_KEY
# CI variable). A stack is named listserver-ci-<pipeline id>; the scheduled
# janitor (tools/janitor.py --prefix listserver-ci) removes what a cancelled
# pipeline left, and never touches stacks of another prefix.
name_prefix = "listserver-ci"

# The runners' addresses are not known in advance, so SSH (keys only) is open
# for the minutes the stack lives; the host firewall mirrors this. Why, and
# how to narrow it when your runners have fixed addresses: README.md.
ssh_allowed_cidrs = ["0.0.0.0/0", "::/0"]

# Roomier than the production default: the deploy runs faster on 2 vCPUs.
flavor_name = "a2-ram4-disk20-perf1"
fqdn        = "lists.ci.invalid"

# Exercise the data volume as a production stack would.
data_volume_enabled = true
data_volume_size    = 10

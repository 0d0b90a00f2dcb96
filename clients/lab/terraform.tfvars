# The lab's client: terraform/ against the lab's OpenStack stand-in
# (molecule/openstack: tests/lab/roles/openstack_standin), with the names an
# Infomaniak project has (flavor, image, network ext-net1, volume type).
# The tests copy this directory, then add as TF_VAR_*: stack_name and
# ssh_public_key (a key made for the run), and created_at where they need it.
name_prefix = "listserver-lab"

# The lab networks are podman's (10.89.0.0/16 and fd00::/8 ranges).
ssh_allowed_cidrs = ["10.0.0.0/8", "fd00::/8"]

fqdn = "lists.lab.test"

# As in production: a data volume (Cinder, the lab volume driver).
data_volume_enabled = true
data_volume_size    = 10

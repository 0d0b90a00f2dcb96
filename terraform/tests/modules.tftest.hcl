# Module-level tests, each run planning one module on its own with a mocked
# OpenStack provider: attributes of the resources themselves, and the
# input checks that sit inside the modules.

mock_provider "openstack" {
  mock_data "openstack_images_image_v2" {
    defaults = {
      id = "00000000-0000-4000-8000-00000000imag"
    }
  }
  mock_data "openstack_networking_network_v2" {
    defaults = {
      id = "00000000-0000-4000-8000-000000000net"
    }
  }
  mock_data "openstack_identity_auth_scope_v3" {
    defaults = {
      project_id = "0123456789abcdef0123456789abcdef"
    }
  }
}

# ---- secgroup --------------------------------------------------------------

run "secgroup_rules_are_exact" {
  command = plan
  module {
    source = "./modules/secgroup"
  }
  variables {
    name              = "listserver-test"
    ssh_allowed_cidrs = ["198.51.100.7/32", "2001:db8::/32"]
    tags              = ["managed-by=listserver", "stack=test"]
  }

  assert {
    condition     = length(openstack_networking_secgroup_rule_v2.tcp) == 6
    error_message = "Expected 6 TCP rules (22, 80, 443 x IPv4, IPv6)."
  }
  assert {
    condition = (
      openstack_networking_secgroup_rule_v2.tcp["ssh_ipv4_198.51.100.7/32"].port_range_min == 22 &&
      openstack_networking_secgroup_rule_v2.tcp["ssh_ipv4_198.51.100.7/32"].port_range_max == 22 &&
      openstack_networking_secgroup_rule_v2.tcp["ssh_ipv4_198.51.100.7/32"].ethertype == "IPv4" &&
      openstack_networking_secgroup_rule_v2.tcp["ssh_ipv6_2001:db8::/32"].ethertype == "IPv6" &&
      openstack_networking_secgroup_rule_v2.tcp["ssh_ipv6_2001:db8::/32"].remote_ip_prefix == "2001:db8::/32"
    )
    error_message = "SSH rules must be 22/tcp from exactly the given CIDRs, with the matching ethertype."
  }
  assert {
    condition     = alltrue([for r in openstack_networking_secgroup_rule_v2.tcp : r.direction == "ingress" && r.protocol == "tcp"])
    error_message = "All port rules must be TCP ingress."
  }
  assert {
    condition     = openstack_networking_secgroup_v2.this.name == "listserver-test" && contains(openstack_networking_secgroup_v2.this.tags, "managed-by=listserver")
    error_message = "The group must carry the stack name and the managed-by tag."
  }
  assert {
    condition     = toset([for r in openstack_networking_secgroup_rule_v2.icmp : r.port_range_min]) == toset([8, 128])
    error_message = "Ping must be echo request type 8 (ICMP) and 128 (ICMPv6)."
  }
}

run "secgroup_direct_mx" {
  command = plan
  module {
    source = "./modules/secgroup"
  }
  variables {
    name              = "listserver-test"
    ssh_allowed_cidrs = ["198.51.100.7/32"]
    direct_mx         = true
    allow_ping        = false
  }

  assert {
    condition = (
      openstack_networking_secgroup_rule_v2.tcp["smtp_ipv4_0.0.0.0/0"].port_range_min == 25 &&
      openstack_networking_secgroup_rule_v2.tcp["smtp_ipv6_::/0"].ethertype == "IPv6"
    )
    error_message = "direct_mx must add 25/tcp for IPv4 and IPv6."
  }
  assert {
    condition     = length(openstack_networking_secgroup_rule_v2.icmp) == 0
    error_message = "allow_ping = false must add no ICMP rule."
  }
}

run "secgroup_rejects_uppercase_ipv6" {
  command = plan
  module {
    source = "./modules/secgroup"
  }
  variables {
    name              = "listserver-test"
    ssh_allowed_cidrs = ["2001:DB8::/32"]
  }
  expect_failures = [var.ssh_allowed_cidrs]
}

run "secgroup_rejects_duplicate_cidrs" {
  command = plan
  module {
    source = "./modules/secgroup"
  }
  variables {
    name              = "listserver-test"
    ssh_allowed_cidrs = ["198.51.100.7/32", "198.51.100.7/32"]
  }
  expect_failures = [var.ssh_allowed_cidrs]
}

run "secgroup_rejects_bad_name" {
  command = plan
  module {
    source = "./modules/secgroup"
  }
  variables {
    name              = "listserver-"
    ssh_allowed_cidrs = ["198.51.100.7/32"]
  }
  expect_failures = [var.name]
}

run "secgroup_rejects_bad_cidr" {
  command = plan
  module {
    source = "./modules/secgroup"
  }
  variables {
    name              = "listserver-test"
    ssh_allowed_cidrs = ["203.0.113.300/24"]
  }
  expect_failures = [var.ssh_allowed_cidrs]
}

run "secgroup_rejects_address_without_prefix" {
  command = plan
  module {
    source = "./modules/secgroup"
  }
  variables {
    name              = "listserver-test"
    ssh_allowed_cidrs = ["203.0.113.7"]
  }
  expect_failures = [var.ssh_allowed_cidrs]
}

run "secgroup_rejects_host_bits" {
  command = plan
  module {
    source = "./modules/secgroup"
  }
  variables {
    name              = "listserver-test"
    ssh_allowed_cidrs = ["203.0.113.7/24"]
  }
  expect_failures = [var.ssh_allowed_cidrs]
}

run "secgroup_rejects_empty_ssh_list" {
  command = plan
  module {
    source = "./modules/secgroup"
  }
  variables {
    name              = "listserver-test"
    ssh_allowed_cidrs = []
  }
  expect_failures = [var.ssh_allowed_cidrs]
}

# ---- keypair ---------------------------------------------------------------

run "keypair_created_from_public_key" {
  command = plan
  module {
    source = "./modules/keypair"
  }
  variables {
    name       = "listserver-test"
    public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3Qta2V5LW9ubHktZm9yLXRlcnJhZm9ybS10ZXN0cw test@example\n"
  }

  assert {
    condition     = length(openstack_compute_keypair_v2.this) == 1 && length(data.openstack_compute_keypair_v2.existing) == 0
    error_message = "A public key must create one key pair and look up none."
  }
  assert {
    condition     = openstack_compute_keypair_v2.this[0].public_key == "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3Qta2V5LW9ubHktZm9yLXRlcnJhZm9ybS10ZXN0cw test@example"
    error_message = "The public key must be uploaded without its trailing newline."
  }
}

run "keypair_existing_is_looked_up_not_created" {
  command = plan
  module {
    source = "./modules/keypair"
  }
  variables {
    name              = "listserver-test"
    existing_key_name = "alice"
  }

  assert {
    condition     = length(openstack_compute_keypair_v2.this) == 0 && output.name == "alice" && !output.created
    error_message = "An existing key pair must be used by name, not created."
  }
}

run "keypair_rejects_both" {
  command = plan
  module {
    source = "./modules/keypair"
  }
  variables {
    name              = "listserver-test"
    public_key        = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3Qta2V5LW9ubHktZm9yLXRlcnJhZm9ybS10ZXN0cw test@example"
    existing_key_name = "alice"
  }
  expect_failures = [output.name]
}

run "keypair_rejects_neither" {
  command = plan
  module {
    source = "./modules/keypair"
  }
  variables {
    name = "listserver-test"
  }
  expect_failures = [output.name]
}

# A private key pasted for the public one (a heredoc of the whole file): refused
# here, and public_key is sensitive, so the error shows neither the key nor the
# lines it came from.
run "keypair_rejects_private_key" {
  command = plan
  module {
    source = "./modules/keypair"
  }
  variables {
    name       = "listserver-test"
    public_key = <<-EOT
      -----BEGIN OPENSSH PRIVATE KEY-----
      b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
      VEhJUy1JUy1OT1QtQS1SRUFMLUtFWS1PTkxZLUZPUi1URVJSQUZPUk0tVEVTVFM=
      -----END OPENSSH PRIVATE KEY-----
    EOT
  }
  expect_failures = [var.public_key]
}

run "keypair_rejects_bad_existing_name" {
  command = plan
  module {
    source = "./modules/keypair"
  }
  variables {
    name              = "listserver-test"
    existing_key_name = "bad/name"
  }
  expect_failures = [var.existing_key_name]
}

run "keypair_rejects_blank_key" {
  command = plan
  module {
    source = "./modules/keypair"
  }
  variables {
    name       = "listserver-test"
    public_key = " \n"
  }
  expect_failures = [var.public_key]
}

# ---- instance --------------------------------------------------------------

run "instance_defaults" {
  command = plan
  module {
    source = "./modules/instance"
  }
  variables {
    name                 = "listserver-test"
    fqdn                 = "lists.example.org"
    key_pair             = "listserver-test"
    security_group_names = ["listserver-test"]
    metadata             = { stack = "test", "managed-by" = "listserver" }
    tags                 = ["managed-by=listserver"]
  }

  assert {
    condition     = openstack_compute_instance_v2.this.flavor_name == "a1-ram2-disk20-perf1"
    error_message = "The default flavor is a1-ram2-disk20-perf1."
  }
  assert {
    condition     = data.openstack_images_image_v2.this.name == "Debian 13 trixie" && openstack_compute_instance_v2.this.image_id == "00000000-0000-4000-8000-00000000imag"
    error_message = "The image must be looked up by name (Debian 13 trixie) and booted by ID."
  }
  assert {
    condition     = data.openstack_networking_network_v2.this.name == "ext-net1" && openstack_compute_instance_v2.this.network[0].uuid == "00000000-0000-4000-8000-000000000net"
    error_message = "The server must be on ext-net1."
  }
  assert {
    condition     = openstack_compute_instance_v2.this.metadata["managed-by"] == "listserver" && openstack_compute_instance_v2.this.metadata["stack"] == "test"
    error_message = "The server must carry the stack metadata used for cleanup."
  }
  assert {
    condition = (
      startswith(openstack_compute_instance_v2.this.user_data, "#cloud-config\n") &&
      yamldecode(openstack_compute_instance_v2.this.user_data).fqdn == "lists.example.org" &&
      yamldecode(openstack_compute_instance_v2.this.user_data).hostname == "lists" &&
      !can(yamldecode(openstack_compute_instance_v2.this.user_data).runcmd)
    )
    error_message = "cloud-init must only set the host name (configuration is Ansible's)."
  }
  assert {
    condition     = output.ssh_user == "debian"
    error_message = "The ssh user output must be debian by default."
  }
}

run "instance_rejects_bad_fqdn" {
  command = plan
  module {
    source = "./modules/instance"
  }
  variables {
    name                 = "listserver-test"
    fqdn                 = "Lists Example"
    key_pair             = "k"
    security_group_names = ["g"]
  }
  expect_failures = [var.fqdn]
}

run "instance_rejects_no_security_group" {
  command = plan
  module {
    source = "./modules/instance"
  }
  variables {
    name                 = "listserver-test"
    key_pair             = "k"
    security_group_names = []
  }
  expect_failures = [var.security_group_names]
}

# ---- volume ----------------------------------------------------------------

run "volume_absent_by_default" {
  command = plan
  module {
    source = "./modules/volume"
  }
  variables {
    name        = "listserver-test-data"
    instance_id = "11111111-1111-4111-8111-111111111111"
  }

  assert {
    condition     = length(openstack_blockstorage_volume_v3.this) == 0 && length(openstack_compute_volume_attach_v2.this) == 0
    error_message = "No volume and no attachment unless create is true."
  }
  assert {
    condition     = output.id == null && output.device == null
    error_message = "Outputs must be null without a volume."
  }
}

run "volume_created_and_attached_when_asked" {
  command = plan
  module {
    source = "./modules/volume"
  }
  variables {
    create      = true
    name        = "listserver-test-data"
    size        = 50
    instance_id = "11111111-1111-4111-8111-111111111111"
    metadata    = { "managed-by" = "listserver" }
  }

  assert {
    condition = (
      openstack_blockstorage_volume_v3.this[0].size == 50 &&
      openstack_blockstorage_volume_v3.this[0].volume_type == "CEPH_1_perf1" &&
      openstack_blockstorage_volume_v3.this[0].metadata["managed-by"] == "listserver" &&
      openstack_compute_volume_attach_v2.this[0].instance_id == "11111111-1111-4111-8111-111111111111"
    )
    error_message = "The volume must have the asked size, the CEPH_1_perf1 type, the metadata, and be attached to the instance."
  }
}

run "volume_rejects_zero_size" {
  command = plan
  module {
    source = "./modules/volume"
  }
  variables {
    create      = true
    name        = "listserver-test-data"
    size        = 0
    instance_id = "x"
  }
  expect_failures = [var.size]
}

run "volume_rejects_fractional_size" {
  command = plan
  module {
    source = "./modules/volume"
  }
  variables {
    create      = true
    name        = "listserver-test-data"
    size        = 10.5
    instance_id = "x"
  }
  expect_failures = [var.size]
}

# ---- backup ----------------------------------------------------------------

run "backup_absent_by_default" {
  command = plan
  module {
    source = "./modules/backup"
  }
  variables {
    container_name  = "listserver-test-backup"
    credential_name = "listserver-test-backup"
  }

  assert {
    condition = (
      length(openstack_objectstorage_container_v1.this) == 0 &&
      length(openstack_identity_application_credential_v3.this) == 0 &&
      length(data.openstack_identity_auth_scope_v3.this) == 0
    )
    error_message = "No container, no credential and no lookup unless create is true."
  }
  assert {
    condition = (
      output.container_name == null && output.region == null &&
      output.application_credential_id == null && output.application_credential_secret == null &&
      length(output.access_rules) == 0
    )
    error_message = "Outputs must be null (access_rules empty) without a backup target."
  }
}

run "backup_created_with_rules_for_its_container_only" {
  # Apply against the mock: the rules' computed IDs make the set unknown at plan.
  command = apply
  module {
    source = "./modules/backup"
  }
  variables {
    create          = true
    container_name  = "listserver-test-backup"
    credential_name = "listserver-test-backup"
    metadata        = { "managed-by" = "listserver", stack = "test" }
  }

  assert {
    condition = (
      openstack_objectstorage_container_v1.this[0].name == "listserver-test-backup" &&
      openstack_objectstorage_container_v1.this[0].metadata["managed-by"] == "listserver" &&
      !openstack_objectstorage_container_v1.this[0].force_destroy
    )
    error_message = "The container must carry its name and metadata, and a destroy must not empty it."
  }
  assert {
    condition = (
      openstack_identity_application_credential_v3.this[0].name == "listserver-test-backup" &&
      !openstack_identity_application_credential_v3.this[0].unrestricted &&
      toset(openstack_identity_application_credential_v3.this[0].roles) == toset(["SwiftOperator"]) &&
      openstack_identity_application_credential_v3.this[0].expires_at == null
    )
    error_message = "The credential must be restricted, hold only the SwiftOperator role, and not expire by default."
  }
  assert {
    condition     = length(output.access_rules) == 7 && alltrue([for r in output.access_rules : r.service == "object-store"])
    error_message = "Every access rule must be for the object-store service (7 rules): ${jsonencode(output.access_rules)}"
  }
  assert {
    condition = toset([for r in output.access_rules : "${r.method} ${r.path}"]) == toset([
      "GET /v1/AUTH_0123456789abcdef0123456789abcdef/listserver-test-backup",
      "HEAD /v1/AUTH_0123456789abcdef0123456789abcdef/listserver-test-backup",
      "GET /v1/AUTH_0123456789abcdef0123456789abcdef/listserver-test-backup/**",
      "HEAD /v1/AUTH_0123456789abcdef0123456789abcdef/listserver-test-backup/**",
      "PUT /v1/AUTH_0123456789abcdef0123456789abcdef/listserver-test-backup/**",
      "POST /v1/AUTH_0123456789abcdef0123456789abcdef/listserver-test-backup/**",
      "DELETE /v1/AUTH_0123456789abcdef0123456789abcdef/listserver-test-backup/**",
    ])
    error_message = "The rules must allow listing/stat of the project's container and object requests under it, nothing else: ${jsonencode(output.access_rules)}"
  }
}

run "backup_expiry_roles_and_account_path" {
  # Apply against the mock: the rules' computed IDs make the set unknown at plan.
  command = apply
  module {
    source = "./modules/backup"
  }
  variables {
    create          = true
    container_name  = "acme.backups"
    credential_name = "listserver-test-backup"
    roles           = ["member"]
    expires_at      = "2030-01-31T00:00:00Z"
    account_path    = "/object/v1/AUTH_feedface"
  }

  assert {
    condition = (
      openstack_identity_application_credential_v3.this[0].expires_at == "2030-01-31T00:00:00Z" &&
      toset(openstack_identity_application_credential_v3.this[0].roles) == toset(["member"])
    )
    error_message = "expires_at and roles must be passed to the credential."
  }
  assert {
    condition     = alltrue([for r in output.access_rules : startswith(r.path, "/object/v1/AUTH_feedface/acme.backups")])
    error_message = "account_path must replace /v1/AUTH_<project_id> in every rule."
  }
}

run "backup_without_access_rules" {
  command = plan
  module {
    source = "./modules/backup"
  }
  variables {
    create               = true
    container_name       = "listserver-test-backup"
    credential_name      = "listserver-test-backup"
    access_rules_enabled = false
  }

  assert {
    condition     = length(output.access_rules) == 0 && !openstack_identity_application_credential_v3.this[0].unrestricted
    error_message = "access_rules_enabled = false must drop the rules and nothing else."
  }
}

run "backup_rejects_uppercase_container" {
  command = plan
  module {
    source = "./modules/backup"
  }
  variables {
    create          = true
    container_name  = "Listserver-Backup"
    credential_name = "listserver-test-backup"
  }
  expect_failures = [var.container_name]
}

run "backup_rejects_slash_in_container" {
  command = plan
  module {
    source = "./modules/backup"
  }
  variables {
    create          = true
    container_name  = "backups/listserver"
    credential_name = "listserver-test-backup"
  }
  expect_failures = [var.container_name]
}

run "backup_rejects_no_roles" {
  command = plan
  module {
    source = "./modules/backup"
  }
  variables {
    create          = true
    container_name  = "listserver-test-backup"
    credential_name = "listserver-test-backup"
    roles           = []
  }
  expect_failures = [var.roles]
}

run "backup_rejects_admin_role" {
  command = plan
  module {
    source = "./modules/backup"
  }
  variables {
    create          = true
    container_name  = "listserver-test-backup"
    credential_name = "listserver-test-backup"
    roles           = ["SwiftOperator", "Admin"]
  }
  expect_failures = [var.roles]
}

run "backup_rejects_bad_expiry" {
  command = plan
  module {
    source = "./modules/backup"
  }
  variables {
    create          = true
    container_name  = "listserver-test-backup"
    credential_name = "listserver-test-backup"
    expires_at      = "next year"
  }
  expect_failures = [var.expires_at]
}

run "backup_rejects_wildcard_account_path" {
  command = plan
  module {
    source = "./modules/backup"
  }
  variables {
    create          = true
    container_name  = "listserver-test-backup"
    credential_name = "listserver-test-backup"
    account_path    = "/v1/*"
  }
  expect_failures = [var.account_path]
}

# Plan-time tests of the root configuration with a mocked OpenStack provider:
# no credentials, no cloud. Run with `terraform test` (or `tofu test`).

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
  mock_data "openstack_compute_keypair_v2" {
    defaults = {
      fingerprint = "aa:bb:cc:dd"
    }
  }
  mock_resource "openstack_compute_instance_v2" {
    defaults = {
      id           = "11111111-1111-4111-8111-111111111111"
      access_ip_v4 = "192.0.2.10"
      access_ip_v6 = "2001:db8::10"
    }
  }
  mock_resource "openstack_blockstorage_volume_v3" {
    defaults = {
      id = "22222222-2222-4222-8222-222222222222"
    }
  }
  mock_resource "openstack_compute_volume_attach_v2" {
    defaults = {
      device = "/dev/vdb"
    }
  }
  mock_data "openstack_identity_auth_scope_v3" {
    defaults = {
      project_id = "0123456789abcdef0123456789abcdef"
    }
  }
  mock_resource "openstack_objectstorage_container_v1" {
    defaults = {
      region = "dc3-a"
    }
  }
  mock_resource "openstack_identity_application_credential_v3" {
    defaults = {
      id     = "33333333333333333333333333333333"
      secret = "mock-application-credential-secret"
    }
  }
}

variables {
  stack_name        = "test"
  ssh_allowed_cidrs = ["203.0.113.0/24", "2001:db8:1::/48"]
  ssh_public_key    = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3Qta2V5LW9ubHktZm9yLXRlcnJhZm9ybS10ZXN0cw test@example"
}

run "defaults_open_ssh_http_https_per_family" {
  command = plan

  assert {
    condition = toset(keys(module.secgroup.ingress_rules)) == toset([
      "ssh_ipv4_203.0.113.0/24", "ssh_ipv6_2001:db8:1::/48",
      "http_ipv4_0.0.0.0/0", "http_ipv6_::/0",
      "https_ipv4_0.0.0.0/0", "https_ipv6_::/0",
    ])
    error_message = "Expected exactly one rule per port (22, 80, 443) and address family, got ${jsonencode(keys(module.secgroup.ingress_rules))}."
  }

  assert {
    condition     = toset([for r in values(module.secgroup.ingress_rules) : r.cidr if r.port == 22]) == toset(["203.0.113.0/24", "2001:db8:1::/48"])
    error_message = "SSH must be open only from ssh_allowed_cidrs."
  }

  assert {
    condition     = alltrue([for r in values(module.secgroup.ingress_rules) : r.ethertype == (length(regexall(":", r.cidr)) > 0 ? "IPv6" : "IPv4")])
    error_message = "Each rule's ethertype must match the family of its CIDR."
  }

  assert {
    condition     = length([for r in values(module.secgroup.ingress_rules) : r if r.port == 25]) == 0
    error_message = "Port 25 must stay closed unless direct_mx is true."
  }

  assert {
    condition     = output.volume_id == null && output.volume_device == null
    error_message = "No data volume may be created unless data_volume_enabled is true."
  }

  assert {
    condition     = output.name == "listserver-test" && output.key_pair_name == "listserver-test"
    error_message = "Resources must be named <name_prefix>-<stack_name>."
  }

  assert {
    condition     = output.ssh_user == "debian"
    error_message = "The default login user of the Debian image is debian."
  }

  assert {
    condition = (
      output.backup_target == null && output.backup_swift_auth_url == null &&
      output.backup_swift_region == null && output.backup_swift_container == null &&
      output.backup_swift_application_credential_id == null &&
      output.backup_swift_application_credential_secret == null
    )
    error_message = "No backup target (container, credential) may be created unless backup_enabled is true, and its outputs are null."
  }
}

run "direct_mx_opens_port_25_both_families" {
  command = plan

  variables {
    direct_mx = true
  }

  assert {
    condition     = toset([for k, r in module.secgroup.ingress_rules : r.ethertype if r.port == 25]) == toset(["IPv4", "IPv6"])
    error_message = "direct_mx must open port 25 over IPv4 and IPv6."
  }
}

run "custom_prefix_names_everything" {
  command = plan

  variables {
    name_prefix         = "lists"
    stack_name          = "staging"
    data_volume_enabled = true
  }

  assert {
    condition     = output.name == "lists-staging" && output.key_pair_name == "lists-staging"
    error_message = "name_prefix and stack_name must make every name."
  }
}

run "inventory_and_volume_after_apply" {
  # Apply against the mock provider only: values become known.
  command = apply

  variables {
    data_volume_enabled = true
    created_at          = "2025-01-31T12:00:00Z"
  }

  assert {
    condition     = output.volume_id == "22222222-2222-4222-8222-222222222222" && output.volume_device == "/dev/vdb"
    error_message = "The data volume's ID and device must be exposed when it is created."
  }

  assert {
    condition     = output.volume_by_id_path == "/dev/disk/by-id/virtio-22222222-2222-4222-8"
    error_message = "The by-id path is virtio-<first 20 characters of the volume ID>."
  }

  assert {
    condition = yamldecode(output.ansible_inventory).all.children.listserver.children.database.hosts["listserver-test"] == {
      ansible_host                 = "192.0.2.10"
      ansible_user                 = "debian"
      listserver_data_device       = "/dev/vdb"
      listserver_data_device_by_id = "/dev/disk/by-id/virtio-22222222-2222-4222-8"
      listserver_data_volume_id    = "22222222-2222-4222-8222-222222222222"
      listserver_ssh_allowed_cidrs = ["203.0.113.0/24", "2001:db8:1::/48"]
      listserver_web_allowed_cidrs = ["0.0.0.0/0", "::/0"]
    }
    error_message = "The inventory must carry ansible_host, ansible_user, the data volume's device and the security group's allow-lists: ${output.ansible_inventory}"
  }

  assert {
    condition = alltrue([
      for g in ["database", "mailman", "web"] :
      contains(keys(yamldecode(output.ansible_inventory).all.children.listserver.children[g].hosts), "listserver-test")
    ])
    error_message = "The host must be in the groups database, mailman and web, children of listserver."
  }

  assert {
    condition     = output.ipv4 == "192.0.2.10" && output.ipv6 == "2001:db8::10"
    error_message = "ipv4 and ipv6 outputs must come from the server."
  }
}

run "inventory_without_volume_has_empty_device" {
  command = apply

  variables {
    inventory_address_family = "ipv6"
  }

  assert {
    condition     = yamldecode(output.ansible_inventory).all.children.listserver.children.database.hosts["listserver-test"].listserver_data_device == ""
    error_message = "Without a data volume listserver_data_device must be empty."
  }

  assert {
    condition     = yamldecode(output.ansible_inventory).all.children.listserver.children.database.hosts["listserver-test"].ansible_host == "2001:db8::10"
    error_message = "inventory_address_family = ipv6 must make Ansible connect over IPv6."
  }
}

# The host firewall (roles/hardening) gets the security group's own values.
run "inventory_carries_the_allow_lists_of_the_security_group" {
  command = apply

  variables {
    ssh_allowed_cidrs = ["198.51.100.7/32"]
    web_allowed_cidrs = ["192.0.2.0/24", "2001:db8:2::/48"]
  }

  assert {
    condition = (
      yamldecode(output.ansible_inventory).all.children.listserver.children.database.hosts["listserver-test"].listserver_ssh_allowed_cidrs == ["198.51.100.7/32"] &&
      yamldecode(output.ansible_inventory).all.children.listserver.children.database.hosts["listserver-test"].listserver_web_allowed_cidrs == ["192.0.2.0/24", "2001:db8:2::/48"]
    )
    error_message = "listserver_ssh_allowed_cidrs and listserver_web_allowed_cidrs must be ssh_allowed_cidrs and web_allowed_cidrs: ${output.ansible_inventory}"
  }

  assert {
    condition     = toset([for r in values(module.secgroup.ingress_rules) : r.cidr if r.port == 443]) == toset(["192.0.2.0/24", "2001:db8:2::/48"])
    error_message = "The security group must open HTTPS to the same web_allowed_cidrs."
  }
}

run "existing_key_pair_by_name" {
  command = plan

  variables {
    ssh_public_key = null
    ssh_key_name   = "alice laptop"
  }

  assert {
    condition     = output.key_pair_name == "alice laptop"
    error_message = "An existing key pair must be used by its name."
  }
}

run "backup_target_after_apply" {
  command = apply

  variables {
    backup_enabled = true
  }

  assert {
    condition = (
      output.backup_target == "swift" &&
      output.backup_swift_auth_url == "https://api.pub1.infomaniak.cloud/identity/v3" &&
      output.backup_swift_region == "dc3-a" &&
      output.backup_swift_container == "listserver-test-backup" &&
      output.backup_swift_application_credential_id == "33333333333333333333333333333333" &&
      output.backup_swift_application_credential_secret == "mock-application-credential-secret"
    )
    error_message = "backup_enabled must expose the container (<name_prefix>-<stack_name>-backup), its region, the auth URL and the credential."
  }

  assert {
    condition = {
      for k, v in yamldecode(output.ansible_inventory).all.children.listserver.children.database.hosts["listserver-test"] :
      k => v if startswith(k, "backup_")
      } == {
      backup_target                              = "swift"
      backup_swift_auth_url                      = "https://api.pub1.infomaniak.cloud/identity/v3"
      backup_swift_region                        = "dc3-a"
      backup_swift_container                     = "listserver-test-backup"
      backup_swift_application_credential_id     = "33333333333333333333333333333333"
      backup_swift_application_credential_secret = "{{ vault_backup_swift_application_credential_secret }}"
    }
    error_message = "The inventory must carry the backup role's variables, the secret only as a reference to the vault: ${output.ansible_inventory}"
  }

  assert {
    condition     = !strcontains(output.ansible_inventory, "mock-application-credential-secret")
    error_message = "The secret must never be in the plain inventory."
  }
}

run "backup_container_name_overridable" {
  command = plan

  variables {
    backup_enabled        = true
    backup_container_name = "acme-lists-backup"
  }

  assert {
    condition     = output.backup_swift_container == "acme-lists-backup"
    error_message = "backup_container_name must replace the derived container name."
  }
}

run "inventory_has_no_backup_variables_when_off" {
  command = apply

  assert {
    condition     = length([for k in keys(yamldecode(output.ansible_inventory).all.children.listserver.children.database.hosts["listserver-test"]) : k if startswith(k, "backup_")]) == 0
    error_message = "Without backup_enabled the inventory must set no backup_* variable (a client's own settings stay in force)."
  }
}

# ---- bad input -------------------------------------------------------------
# Only the stack's own variables are checked here; a value passed on to a
# module is checked by that module, once (modules.tftest.hcl), because
# expect_failures cannot name a child module's variable.

run "rejects_bad_prefix_name" {
  command = plan
  variables {
    name_prefix = "List_Server"
  }
  expect_failures = [var.name_prefix]
}

run "rejects_bad_stack_name" {
  command = plan
  variables {
    stack_name = "-prod"
  }
  expect_failures = [var.stack_name]
}

run "rejects_bad_created_at" {
  command = plan
  variables {
    created_at = "yesterday"
  }
  expect_failures = [var.created_at]
}

run "rejects_unknown_address_family" {
  command = plan
  variables {
    inventory_address_family = "ipv5"
  }
  expect_failures = [var.inventory_address_family]
}

run "rejects_plain_http_auth_url" {
  command = plan
  variables {
    backup_enabled        = true
    backup_swift_auth_url = "http://api.pub1.infomaniak.cloud/identity/v3"
  }
  expect_failures = [var.backup_swift_auth_url]
}

run "rejects_auth_url_without_v3" {
  command = plan
  variables {
    backup_swift_auth_url = "https://api.pub1.infomaniak.cloud/identity"
  }
  expect_failures = [var.backup_swift_auth_url]
}

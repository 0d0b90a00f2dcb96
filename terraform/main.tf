# The list server stack: security group, key pair, server, an optional
# data volume and an optional backup target (Swift container + restricted
# application credential), all named `<name_prefix>-<stack_name>` and carrying the
# metadata/tags that let several stacks share a project and be cleaned up.

provider "openstack" {
  # Credentials and region come from the environment: source the openrc file
  # (OS_AUTH_URL, OS_APPLICATION_CREDENTIAL_ID, ...) or set OS_CLOUD.
}

locals {
  name = "${var.name_prefix}-${var.stack_name}"

  metadata = merge(
    {
      "stack"      = var.stack_name
      "managed-by" = "listserver"
    },
    var.created_at == "" ? {} : { "created-at" = var.created_at },
  )
  tags = ["managed-by=listserver", "stack=${var.stack_name}"]
}

module "secgroup" {
  source = "./modules/secgroup"

  name              = local.name
  ssh_allowed_cidrs = var.ssh_allowed_cidrs
  web_allowed_cidrs = var.web_allowed_cidrs
  direct_mx         = var.direct_mx
  tags              = local.tags
}

module "keypair" {
  source = "./modules/keypair"

  name              = local.name
  public_key        = var.ssh_public_key
  existing_key_name = var.ssh_key_name
}

module "instance" {
  source = "./modules/instance"

  name                 = local.name
  fqdn                 = var.fqdn
  flavor_name          = var.flavor_name
  image_name           = var.image_name
  network_name         = var.network_name
  key_pair             = module.keypair.name
  security_group_names = [module.secgroup.name]
  ssh_user             = var.ssh_user
  metadata             = local.metadata
  tags                 = local.tags
}

module "volume" {
  source = "./modules/volume"

  create      = var.data_volume_enabled
  name        = "${local.name}-data"
  size        = var.data_volume_size
  volume_type = var.data_volume_type
  instance_id = module.instance.id
  metadata    = local.metadata
}

module "backup" {
  source = "./modules/backup"

  create               = var.backup_enabled
  container_name       = var.backup_container_name == "" ? "${local.name}-backup" : var.backup_container_name
  credential_name      = "${local.name}-backup"
  roles                = var.backup_credential_roles
  expires_at           = var.backup_credential_expires_at
  access_rules_enabled = var.backup_credential_access_rules
  account_path         = var.backup_swift_account_path
  metadata             = local.metadata
}

locals {
  ansible_host = (
    var.inventory_address_family == "ipv6" || module.instance.ipv4 == "" ? module.instance.ipv6 : module.instance.ipv4
  )

  # The backup role's variables, only when the stack has a backup target (so
  # that a client's own backup settings are not overridden otherwise). The
  # secret is not here: tools/client.py writes it, ansible-vault encrypted, as
  # vault_backup_swift_application_credential_secret (terraform/README.md).
  backup_vars = var.backup_enabled ? {
    backup_target                              = "swift"
    backup_swift_auth_url                      = var.backup_swift_auth_url
    backup_swift_region                        = module.backup.region
    backup_swift_container                     = module.backup.container_name
    backup_swift_application_credential_id     = module.backup.application_credential_id
    backup_swift_application_credential_secret = "{{ vault_backup_swift_application_credential_secret }}"
  } : {}

  # Groups used by the playbooks: listserver is the parent of database,
  # mailman and web; one host carries all three here.
  inventory = {
    all = {
      children = {
        listserver = {
          children = {
            database = {
              hosts = {
                (module.instance.name) = merge({
                  ansible_host                 = local.ansible_host
                  ansible_user                 = module.instance.ssh_user
                  listserver_data_device       = module.volume.device == null ? "" : module.volume.device
                  listserver_data_device_by_id = module.volume.by_id_path == null ? "" : module.volume.by_id_path
                  listserver_data_volume_id    = module.volume.id == null ? "" : module.volume.id
                  # The host firewall (roles/hardening) mirrors the security
                  # group from the same values.
                  listserver_ssh_allowed_cidrs = var.ssh_allowed_cidrs
                  listserver_web_allowed_cidrs = var.web_allowed_cidrs
                }, local.backup_vars)
              }
            }
            mailman = { hosts = { (module.instance.name) = {} } }
            web     = { hosts = { (module.instance.name) = {} } }
          }
        }
      }
    }
  }
}

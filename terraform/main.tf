# The list server stack: security group, key pair, server and an optional
# data volume, all named `<name_prefix>-<stack_name>` and carrying the
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

locals {
  ansible_host = (
    var.inventory_address_family == "ipv6" || module.instance.ipv4 == "" ? module.instance.ipv6 : module.instance.ipv4
  )

  # Groups used by the playbooks: listserver is the parent of database,
  # mailman and web; one host carries all three here.
  inventory = {
    all = {
      children = {
        listserver = {
          children = {
            database = {
              hosts = {
                (module.instance.name) = {
                  ansible_host                 = local.ansible_host
                  ansible_user                 = module.instance.ssh_user
                  listserver_data_device       = module.volume.device == null ? "" : module.volume.device
                  listserver_data_device_by_id = module.volume.by_id_path == null ? "" : module.volume.by_id_path
                  listserver_data_volume_id    = module.volume.id == null ? "" : module.volume.id
                }
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

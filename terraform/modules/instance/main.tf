# The server. Its configuration is Ansible's job: cloud-init only sets the
# host name and leaves the image's default user with the key pair.

data "openstack_images_image_v2" "this" {
  name        = var.image_name
  most_recent = true
}

data "openstack_networking_network_v2" "this" {
  name = var.network_name
}

locals {
  hostname = split(".", var.fqdn == "" ? var.name : var.fqdn)[0]

  user_data = join("\n", [
    "#cloud-config",
    yamlencode(merge(
      {
        hostname          = local.hostname
        preserve_hostname = false
        manage_etc_hosts  = true
        # Package installation and upgrades are Ansible's.
        package_update  = false
        package_upgrade = false
        ssh_pwauth      = false
      },
      var.fqdn == "" ? {} : { fqdn = var.fqdn, prefer_fqdn_over_hostname = true },
    )),
  ])
}

resource "openstack_compute_instance_v2" "this" {
  name            = var.name
  flavor_name     = var.flavor_name
  image_id        = data.openstack_images_image_v2.this.id
  key_pair        = var.key_pair
  security_groups = var.security_group_names
  user_data       = local.user_data
  metadata        = var.metadata
  tags            = var.tags

  network {
    uuid = data.openstack_networking_network_v2.this.id
  }

  lifecycle {
    # A newer image of the same name must not rebuild a running server.
    ignore_changes = [image_id]
  }
}

# One security group per stack. Neutron adds its default egress rules (all
# traffic out, IPv4 and IPv6) to a new group; ingress is only what is below.

locals {
  family = { for c in distinct(concat(var.ssh_allowed_cidrs, var.web_allowed_cidrs)) : c => (length(regexall(":", c)) > 0 ? "IPv6" : "IPv4") }

  # Stable keys: "<service>_<family>_<cidr>". Adding or removing one CIDR
  # touches only its own rules.
  ssh_rules = {
    for c in var.ssh_allowed_cidrs : "ssh_${lower(local.family[c])}_${c}" => {
      port = 22, cidr = c, ethertype = local.family[c], description = "SSH (Ansible, administration)"
    }
  }
  web_rules = merge([
    for svc, port in { http = 80, https = 443 } : {
      for c in var.web_allowed_cidrs : "${svc}_${lower(local.family[c])}_${c}" => {
        port = port, cidr = c, ethertype = local.family[c], description = upper(svc)
      }
    }
  ]...)
  smtp_rules = var.direct_mx ? {
    "smtp_ipv4_0.0.0.0/0" = { port = 25, cidr = "0.0.0.0/0", ethertype = "IPv4", description = "SMTP (direct MX)" }
    "smtp_ipv6_::/0"      = { port = 25, cidr = "::/0", ethertype = "IPv6", description = "SMTP (direct MX)" }
  } : {}

  tcp_rules = merge(local.ssh_rules, local.web_rules, local.smtp_rules)

  icmp_rules = var.allow_ping ? {
    ping_ipv4 = { ethertype = "IPv4", protocol = "icmp", type = 8, cidr = "0.0.0.0/0" }
    ping_ipv6 = { ethertype = "IPv6", protocol = "ipv6-icmp", type = 128, cidr = "::/0" }
  } : {}
}

resource "openstack_networking_secgroup_v2" "this" {
  name        = var.name
  description = "Ingress for list server stack ${var.name} (managed by Terraform)"
  tags        = var.tags
}

resource "openstack_networking_secgroup_rule_v2" "tcp" {
  for_each = local.tcp_rules

  security_group_id = openstack_networking_secgroup_v2.this.id
  description       = each.value.description
  direction         = "ingress"
  ethertype         = each.value.ethertype
  protocol          = "tcp"
  port_range_min    = each.value.port
  port_range_max    = each.value.port
  remote_ip_prefix  = each.value.cidr
}

resource "openstack_networking_secgroup_rule_v2" "icmp" {
  for_each = local.icmp_rules

  security_group_id = openstack_networking_secgroup_v2.this.id
  description       = "Echo request (ping)"
  direction         = "ingress"
  ethertype         = each.value.ethertype
  protocol          = each.value.protocol
  port_range_min    = each.value.type # ICMP type: echo request
  port_range_max    = 0               # ICMP code
  remote_ip_prefix  = each.value.cidr
}

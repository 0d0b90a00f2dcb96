output "id" {
  description = "ID of the security group."
  value       = openstack_networking_secgroup_v2.this.id
}

output "name" {
  description = "Name of the security group (what an instance's security_groups refers to)."
  value       = openstack_networking_secgroup_v2.this.name
}

output "ingress_rules" {
  description = "Ingress TCP rules keyed by `<service>_<family>_<cidr>`, each with port, cidr and ethertype (for review and tests)."
  value       = { for k, r in local.tcp_rules : k => { port = r.port, cidr = r.cidr, ethertype = r.ethertype } }
}

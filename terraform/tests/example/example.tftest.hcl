# Plans the example client's tfvars, so the documented example stays valid:
#   terraform test -test-directory=tests/example -var-file=../clients/example/terraform.tfvars
# (kept out of tests/ because it needs that -var-file; make terraform-test runs it).

mock_provider "openstack" {}

run "example_tfvars_plan" {
  command = plan

  assert {
    condition     = output.name == "listserver-prod"
    error_message = "The example's stack must be named listserver-prod."
  }

  assert {
    condition     = length([for k, r in module.secgroup.ingress_rules : k if r.port == 22]) == 2
    error_message = "The example opens SSH from one IPv4 and one IPv6 CIDR."
  }
}

terraform {
  required_version = ">= 1.7.0"

  required_providers {
    openstack = {
      # Fully qualified so that Terraform and OpenTofu resolve the same address
      # (OpenTofu's default registry host differs) and share one lock file.
      source  = "registry.terraform.io/terraform-provider-openstack/openstack"
      version = "~> 3.4"
    }
  }
}

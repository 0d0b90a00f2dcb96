output "container_name" {
  description = "Name of the Swift container, or null when none is created."
  value       = one(openstack_objectstorage_container_v1.this[*].name)
}

output "region" {
  description = "Region of the container (and of the credential's Keystone), or null when none is created."
  value       = one(openstack_objectstorage_container_v1.this[*].region)
}

output "application_credential_id" {
  description = "ID of the application credential the server authenticates with, or null when none is created."
  value       = one(openstack_identity_application_credential_v3.this[*].id)
}

output "application_credential_secret" {
  description = "Secret of the application credential, or null when none is created. Keystone shows it once, at creation; it is kept in the Terraform state."
  value       = one(openstack_identity_application_credential_v3.this[*].secret)
  sensitive   = true
}

output "access_rules" {
  description = "The credential's access rules as `{service, path, method}` objects (empty when access_rules_enabled is false or nothing is created)."
  value = [
    for r in flatten(openstack_identity_application_credential_v3.this[*].access_rules) : {
      service = r.service
      path    = r.path
      method  = r.method
    }
  ]
}

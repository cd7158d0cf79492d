output "project_id" {
  description = "Code Engine project id (ibmcloud ce project select --id ...)."
  value       = ibm_code_engine_project.netwarden.project_id
}

output "project_name" {
  value = ibm_code_engine_project.netwarden.name
}

output "jobs" {
  description = "The job names the subscriptions and the runbook use."
  value = {
    scan      = ibm_code_engine_job.scan.name
    event     = ibm_code_engine_job.event.name
    remediate = ibm_code_engine_job.remediate.name
  }
}

output "secrets" {
  description = "Code Engine secrets and config map the function script binds."
  value = {
    settings       = ibm_code_engine_config_map.settings.name
    remediate_key  = ibm_code_engine_secret.remediate_key.name
    notify         = ibm_code_engine_secret.notify.name
    function_token = ibm_code_engine_secret.function_token.name
    kube_token     = join("", ibm_code_engine_secret.kube_token[*].name)
    kube_remediate = join("", ibm_code_engine_secret.kube_remediate_token[*].name)
  }
}

output "watcher_app" {
  description = "The watcher app (empty with create_watcher = false): subscriptions.sh delivers the Kafka events to it, else to the event job."
  value       = var.create_watcher ? ibm_code_engine_app.watcher[0].name : ""
}

output "watcher_endpoint_internal" {
  description = "The watcher's URL inside the project (GET /readyz, POST /remediate); it has no other."
  value       = var.create_watcher ? ibm_code_engine_app.watcher[0].endpoint_internal : ""
}

output "state_bucket" {
  value = ibm_cos_bucket.state.bucket_name
}

output "kafka_topic" {
  value = var.create_event_path ? ibm_event_streams_topic.vpc_events[0].name : ""
}

output "kafka_brokers" {
  value = var.create_event_path ? jsondecode(ibm_resource_key.event_streams_reader[0].credentials_json).kafka_brokers_sasl : []
}

output "kafka_password" {
  description = "API key the Kafka subscription authenticates with (username: token)."
  value       = var.create_event_path ? jsondecode(ibm_resource_key.event_streams_reader[0].credentials_json).apikey : ""
  sensitive   = true
}

output "function_endpoint" {
  value = var.function_code_reference != "" ? ibm_code_engine_function.remediate[0].endpoint : ""
}

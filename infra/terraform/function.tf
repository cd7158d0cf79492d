# The on-demand remediation function (entrypoints/function.py). Code Engine builds a function's
# code bundle from local source only through the CLI, so infra/codeengine/function.sh creates it
# from `make package`'s dist/function. Once a bundle exists in the registry, setting
# function_code_reference lets terraform own the function instead.
resource "ibm_code_engine_function" "remediate" {
  count = var.function_code_reference != "" ? 1 : 0

  project_id               = ibm_code_engine_project.netwarden.project_id
  name                     = "${var.prefix}-remediate-fn"
  runtime                  = "python-3.13"
  code_reference           = var.function_code_reference
  code_secret              = var.image_secret != "" ? var.image_secret : null
  managed_domain_mappings  = "local_public"
  scale_max_execution_time = 120
  scale_cpu_limit          = "0.5"
  scale_memory_limit       = "2G"

  run_env_variables {
    type      = "config_map_full_reference"
    reference = ibm_code_engine_config_map.settings.name
  }
  run_env_variables {
    type      = "secret_full_reference"
    reference = ibm_code_engine_secret.remediate_key.name
  }
  run_env_variables {
    type      = "secret_full_reference"
    reference = ibm_code_engine_secret.function_token.name
  }
  run_env_variables {
    type      = "secret_full_reference"
    reference = ibm_code_engine_secret.notify.name
  }
  dynamic "run_env_variables" {
    for_each = local.kube_remediate_secrets
    content {
      type      = "secret_full_reference"
      reference = run_env_variables.value
    }
  }
}

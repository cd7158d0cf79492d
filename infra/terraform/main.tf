data "ibm_resource_group" "group" {
  name = var.resource_group
}

locals {
  state_url = "cos://${ibm_cos_bucket.state.bucket_name}/state"

  # Non-secret settings, read by netwarden's Settings from the environment (config.py).
  settings = merge(
    {
      NETWARDEN_REGIONS          = join(",", var.watched_regions)
      NETWARDEN_STATE            = local.state_url
      NETWARDEN_REMEDIATION_MODE = var.remediation_mode
      # The state bucket: the direct endpoint stays on IBM's private network; the API key authenticates.
      NETWARDEN_COS_ENDPOINT = "https://s3.direct.${var.region}.cloud-object-storage.appdomain.cloud"
      COS_INSTANCE_CRN       = ibm_resource_instance.state.crn
    },
    length(var.watched_vpcs) > 0 ? { NETWARDEN_VPCS = join(",", var.watched_vpcs) } : {},
  )

  # Scans and events write only in auto mode; then they need the remediation identity.
  scan_key_secret = var.remediation_mode == "auto" ? ibm_code_engine_secret.remediate_key.name : ibm_code_engine_secret.scan_key.name

  # The clusters' service account tokens (infra/kubernetes/), each under the variable a cluster's
  # token_env names: the read-only one for scans and the watcher, the writer one (if given) for
  # remediation and, in auto mode, for scans and the watcher too. Empty lists when no token is given.
  # How many tokens there are is not secret; the tokens are.
  kube_reader_secrets    = nonsensitive(length(var.kube_tokens)) > 0 ? [ibm_code_engine_secret.kube_token[0].name] : []
  kube_remediate_secrets = nonsensitive(length(var.kube_remediate_tokens)) > 0 ? [ibm_code_engine_secret.kube_remediate_token[0].name] : []
  kube_scan_secrets      = var.remediation_mode == "auto" && length(local.kube_remediate_secrets) > 0 ? local.kube_remediate_secrets : local.kube_reader_secrets
}

resource "ibm_code_engine_project" "netwarden" {
  name              = var.prefix
  resource_group_id = data.ibm_resource_group.group.id
}

resource "ibm_code_engine_config_map" "settings" {
  project_id = ibm_code_engine_project.netwarden.project_id
  name       = "${var.prefix}-settings"
  data       = local.settings
}

resource "ibm_code_engine_secret" "scan_key" {
  project_id = ibm_code_engine_project.netwarden.project_id
  name       = "${var.prefix}-scan-key"
  format     = "generic"
  data = {
    IBMCLOUD_API_KEY = ibm_iam_service_api_key.scan.apikey
  }
}

resource "ibm_code_engine_secret" "remediate_key" {
  project_id = ibm_code_engine_project.netwarden.project_id
  name       = "${var.prefix}-remediate-key"
  format     = "generic"
  data = {
    IBMCLOUD_API_KEY = ibm_iam_service_api_key.remediate.apikey
  }
}

resource "ibm_code_engine_secret" "notify" {
  project_id = ibm_code_engine_project.netwarden.project_id
  name       = "${var.prefix}-notify"
  format     = "generic"
  data = {
    SLACK_WEBHOOK_URL = var.slack_webhook_url
  }
}

resource "ibm_code_engine_secret" "function_token" {
  project_id = ibm_code_engine_project.netwarden.project_id
  name       = "${var.prefix}-function-token"
  format     = "generic"
  data = {
    NETWARDEN_FUNCTION_TOKEN = var.function_token
  }
}

# Bearer tokens of the netwarden-reader service account (infra/kubernetes/netwarden-reader.yaml),
# keyed by the environment variable each cluster's token_env names.
resource "ibm_code_engine_secret" "kube_token" {
  count      = nonsensitive(length(var.kube_tokens)) > 0 ? 1 : 0
  project_id = ibm_code_engine_project.netwarden.project_id
  name       = "${var.prefix}-kube-token"
  format     = "generic"
  data       = var.kube_tokens
}

# The same variables, holding tokens of the netwarden-remediate service account
# (infra/kubernetes/netwarden-writer.yaml): only where NetworkPolicies are remediated.
resource "ibm_code_engine_secret" "kube_remediate_token" {
  count      = nonsensitive(length(var.kube_remediate_tokens)) > 0 ? 1 : 0
  project_id = ibm_code_engine_project.netwarden.project_id
  name       = "${var.prefix}-kube-remediate-token"
  format     = "generic"
  data       = var.kube_remediate_tokens
}

# The scheduled full scan: `netwarden job` sees CE_TYPE=dev.knative.sources.ping from the cron
# subscription (infra/codeengine/subscriptions.sh) and runs `scan`, one shard per array instance.
resource "ibm_code_engine_job" "scan" {
  project_id               = ibm_code_engine_project.netwarden.project_id
  name                     = "${var.prefix}-scan"
  image_reference          = var.image
  image_secret             = var.image_secret != "" ? var.image_secret : null
  scale_array_spec         = var.scan_array_size > 1 ? "0-${var.scan_array_size - 1}" : "0"
  scale_cpu_limit          = "0.5"
  scale_memory_limit       = "1G"
  scale_max_execution_time = 1800
  scale_retry_limit        = 1

  run_env_variables {
    type      = "config_map_full_reference"
    reference = ibm_code_engine_config_map.settings.name
  }
  run_env_variables {
    type      = "secret_full_reference"
    reference = local.scan_key_secret
  }
  run_env_variables {
    type      = "secret_full_reference"
    reference = ibm_code_engine_secret.notify.name
  }
  dynamic "run_env_variables" {
    for_each = local.kube_scan_secrets
    content {
      type      = "secret_full_reference"
      reference = run_env_variables.value
    }
  }
}

# The event-driven check: the Kafka subscription runs it with CE_TYPE=dev.knative.kafka.event and
# the Activity Tracker event in CE_DATA; it re-reads the one resource the event names. With the
# watcher (watcher.tf) the subscription delivers to the app instead and this job is not run; it
# stays defined as the fallback for create_watcher = false.
resource "ibm_code_engine_job" "event" {
  project_id               = ibm_code_engine_project.netwarden.project_id
  name                     = "${var.prefix}-event"
  image_reference          = var.image
  image_secret             = var.image_secret != "" ? var.image_secret : null
  scale_cpu_limit          = "0.25"
  scale_memory_limit       = "0.5G"
  scale_max_execution_time = 300
  scale_retry_limit        = 2

  run_env_variables {
    type      = "config_map_full_reference"
    reference = ibm_code_engine_config_map.settings.name
  }
  run_env_variables {
    type      = "secret_full_reference"
    reference = local.scan_key_secret
  }
  run_env_variables {
    type      = "secret_full_reference"
    reference = ibm_code_engine_secret.notify.name
  }
}

# Remediation on request: `ibmcloud ce jobrun submit --job netwarden-remediate`. It applies the plan
# (at most remediation.max_changes steps), re-reads and verifies; it is never scheduled.
resource "ibm_code_engine_job" "remediate" {
  project_id               = ibm_code_engine_project.netwarden.project_id
  name                     = "${var.prefix}-remediate"
  image_reference          = var.image
  image_secret             = var.image_secret != "" ? var.image_secret : null
  run_commands             = ["netwarden"]
  run_arguments            = ["remediate", "--apply"]
  scale_cpu_limit          = "0.5"
  scale_memory_limit       = "1G"
  scale_max_execution_time = 900
  scale_retry_limit        = 0

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

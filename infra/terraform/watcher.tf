# The watcher: `netwarden watch`, one long-running instance that keeps a watch per configured cluster
# on NetworkPolicies and Namespaces and takes the Activity Tracker events of the Kafka subscription
# (infra/codeengine/subscriptions.sh) on POST /events, so a change is checked within seconds instead
# of at the next 15-minute scan. On $PORT (8080) it serves GET /healthz (200 while the process runs),
# GET /readyz (200 once the baseline is loaded and every cluster's watch was tried once, else 503),
# POST /events and POST /remediate (the function's API, bearer NETWARDEN_FUNCTION_TOKEN).
#
# Exactly one instance: it holds the watch connections and coalesces bursts, and a second would
# double the reads. When Code Engine replaces the instance (a new revision, an infrastructure move) it
# starts the new one, routes to it once ready and then sends the old one SIGTERM, so two overlap for
# a moment; both write the state bucket under the same locks as the scans.
#
# Arguments as the provider defines them (IBM-Cloud/terraform-provider-ibm,
# ibm/service/codeengine/resource_ibm_code_engine_app.go): probe_readiness / probe_liveness take
# type (http|tcp), path, port, interval, timeout, initial_delay, failure_threshold;
# managed_domain_mappings takes local, local_private or local_public.
resource "ibm_code_engine_app" "watcher" {
  count = var.create_watcher ? 1 : 0

  project_id      = ibm_code_engine_project.netwarden.project_id
  name            = "${var.prefix}-watch"
  image_reference = var.image
  image_secret    = var.image_secret != "" ? var.image_secret : null
  image_port      = 8080
  # The image's entrypoint is `netwarden job`; the app replaces it, as the remediate job does.
  run_commands  = ["netwarden"]
  run_arguments = ["watch"]
  # The image's user (infra/Containerfile), stated so that no default makes the app run as root.
  run_as_user = 10001
  # It never calls the Code Engine API, so it gets no project service account.
  run_service_account = "none"
  # "local": project visibility only (the Kafka subscription, the jobs and the function reach it at
  # endpoint_internal); no public URL and no private-network URL.
  managed_domain_mappings = "local"

  scale_min_instances     = 1
  scale_max_instances     = 1
  scale_initial_instances = 1
  scale_cpu_limit         = "0.5"
  scale_memory_limit      = "1G"
  # Longest answer (POST /remediate), and how long Code Engine waits after SIGTERM before SIGKILL.
  scale_request_timeout = 300

  # 503 until the baseline is loaded and every cluster's watch was tried once: no requests (events
  # included) reach an instance that is not ready. A cluster that cannot be reached later does not
  # make it unready (it reconnects; /readyz says "watching": false).
  probe_readiness {
    type              = "http"
    path              = "/readyz"
    port              = 8080
    interval          = 5
    timeout           = 2
    failure_threshold = 1
  }
  # Three missed answers in a row restart the instance.
  probe_liveness {
    type              = "http"
    path              = "/healthz"
    port              = 8080
    initial_delay     = 10
    interval          = 10
    timeout           = 2
    failure_threshold = 3
  }

  # What the scan and event jobs read (config map, API key, notifier), the function token for
  # /remediate, and the clusters' tokens.
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
  run_env_variables {
    type      = "secret_full_reference"
    reference = ibm_code_engine_secret.function_token.name
  }
  dynamic "run_env_variables" {
    for_each = local.kube_scan_secrets
    content {
      type      = "secret_full_reference"
      reference = run_env_variables.value
    }
  }
}

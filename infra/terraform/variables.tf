variable "region" {
  description = "Region of the Code Engine project, the Event Streams instance and the state bucket."
  type        = string
  default     = "us-south"
}

variable "resource_group" {
  description = "Resource group every resource is created in."
  type        = string
  default     = "default"
}

variable "prefix" {
  description = "Prefix of every resource name."
  type        = string
  default     = "netwarden"

  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{0,30}$", var.prefix))
    error_message = "The prefix must be lower case letters, digits and dashes, starting with a letter."
  }
}

variable "image" {
  description = "The job image built from infra/Containerfile, e.g. private.us.icr.io/NAMESPACE/netwarden:0.1.0."
  type        = string
}

variable "image_secret" {
  description = "Name of a Code Engine registry secret for a private image (empty for a public one)."
  type        = string
  default     = ""
}

variable "watched_regions" {
  description = "VPC regions netwarden reads (NETWARDEN_REGIONS); also the only locations the Activity Tracker route forwards."
  type        = list(string)
  default     = ["us-south"]

  validation {
    condition     = length(var.watched_regions) > 0 && alltrue([for r in var.watched_regions : !contains(["*", "global"], r)])
    error_message = "watched_regions must name regions: \"*\" and \"global\" would route every location's (or every global) event to the topic."
  }
}

variable "watched_vpcs" {
  description = "VPC names netwarden reads (NETWARDEN_VPCS); empty means every VPC of the regions."
  type        = list(string)
  default     = []
}

variable "remediation_mode" {
  description = "alert: scans and events only alert. auto: they also remediate the codes remediation.auto lists."
  type        = string
  default     = "alert"

  validation {
    condition     = contains(["alert", "auto"], var.remediation_mode)
    error_message = "remediation_mode must be alert or auto."
  }
}

variable "remediate_gateways" {
  description = "Also grant Operator on public gateways, which the gateway-attached / gateway-detached fixes need."
  type        = bool
  default     = false
}

variable "remediate_security_groups" {
  description = "Also grant Editor on security groups, which the sg-* fixes need (binding a target may also need a role on it)."
  type        = bool
  default     = true
}

variable "scan_array_size" {
  description = "Instances of the scan job (JOB_ARRAY_SIZE, 1..1000): each scans the VPCs, regions and clusters of its shard."
  type        = number
  default     = 1

  validation {
    condition     = var.scan_array_size >= 1 && var.scan_array_size <= 1000
    error_message = "scan_array_size must be between 1 and 1000 (the Code Engine array limit)."
  }
}

variable "slack_webhook_url" {
  description = "Slack incoming-webhook URL for alerts (empty: no Slack)."
  type        = string
  default     = ""
  sensitive   = true
}

variable "function_token" {
  description = "Bearer token the remediation function expects (NETWARDEN_FUNCTION_TOKEN); at least 32 characters."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.function_token) >= 32
    error_message = "function_token must be at least 32 characters long."
  }
}

variable "function_code_reference" {
  description = "Code bundle of the function (built by infra/codeengine/function.sh); empty to leave the function to that script."
  type        = string
  default     = ""
}

variable "create_watcher" {
  description = "Run the watcher app (netwarden watch, one instance): Kubernetes watches and Activity Tracker events in seconds. false: the event job takes the events."
  type        = bool
  default     = true
}

variable "kube_tokens" {
  description = "Tokens of the netwarden-reader service account (infra/kubernetes/netwarden-reader.yaml), keyed by the variable each cluster's token_env names."
  type        = map(string)
  default     = {}
  sensitive   = true

  validation {
    condition     = alltrue([for name in keys(var.kube_tokens) : can(regex("^[A-Z_][A-Z0-9_]*$", name))])
    error_message = "kube_tokens keys are environment variable names (upper case letters, digits and underscores), as token_env names them."
  }
}

variable "kube_remediate_tokens" {
  description = "Tokens of the netwarden-remediate service account (infra/kubernetes/netwarden-writer.yaml), under the same variable names: for remediation (and auto mode) only."
  type        = map(string)
  default     = {}
  sensitive   = true

  validation {
    condition     = alltrue([for name in keys(var.kube_remediate_tokens) : can(regex("^[A-Z_][A-Z0-9_]*$", name))])
    error_message = "kube_remediate_tokens keys are environment variable names (upper case letters, digits and underscores), as token_env names them."
  }
}

variable "create_event_path" {
  description = "Create Event Streams, the topic and the Activity Tracker route that feed the event job."
  type        = bool
  default     = true
}

variable "event_streams_plan" {
  description = "Event Streams plan (lite has one partition and is enough for Activity Tracker events of one account)."
  type        = string
  default     = "standard"
}

# netwarden on IBM Cloud: Code Engine project, jobs, function secrets, IAM and the event path.
# See ../README.md for the runbook. Nothing here runs in CI; `make lint` only checks formatting.

terraform {
  required_version = ">= 1.5.0"

  required_providers {
    ibm = {
      source  = "IBM-Cloud/ibm"
      version = ">= 1.70.0"
    }
  }
}

provider "ibm" {
  region = var.region
  # The API key is read from IC_API_KEY (or IBMCLOUD_API_KEY) in the environment, never from a file.
}

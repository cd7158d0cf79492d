#!/usr/bin/env bash
# Create (or update) the on-demand remediation function from `make package`'s bundle
# (dist/function: __main__.py, the netwarden package, requirements.txt, the config and baseline).
# Code Engine builds the bundle and installs requirements.txt itself. Run from the repository root:
#
#   make package && infra/codeengine/function.sh
#
# Then call it:  curl -X POST "$URL" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
#                     -d '{"action": "plan"}'
set -euo pipefail

PREFIX=${PREFIX:-netwarden}
NAME=${NAME:-$PREFIX-remediate-fn}
BUNDLE=${BUNDLE:-dist/function}
RUNTIME=${RUNTIME:-python-3.13}

[ -f "$BUNDLE/__main__.py" ] || { echo "no $BUNDLE/__main__.py: run 'make package' first" >&2; exit 1; }
[ -n "${PROJECT_ID:-}" ] && ibmcloud ce project select --id "$PROJECT_ID"

args=(--name "$NAME" --runtime "$RUNTIME" --build-source "$BUNDLE"
      --cpu 0.5 --memory 2G
      --env-from-configmap "$PREFIX-settings"
      --env-from-secret "$PREFIX-remediate-key"
      --env-from-secret "$PREFIX-function-token"
      --env-from-secret "$PREFIX-notify")
# The clusters' writer tokens (terraform's kube_remediate_tokens), when NetworkPolicies are remediated.
if ibmcloud ce secret get --name "$PREFIX-kube-remediate-token" >/dev/null 2>&1; then
  args+=(--env-from-secret "$PREFIX-kube-remediate-token")
fi

if ibmcloud ce function get --name "$NAME" >/dev/null 2>&1; then
  ibmcloud ce function update "${args[@]}"
else
  ibmcloud ce function create "${args[@]}"
fi
ibmcloud ce function get --name "$NAME" --output url

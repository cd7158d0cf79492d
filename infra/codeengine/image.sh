#!/usr/bin/env bash
# Build the job image from `make package`'s context (dist/image) and push it to IBM Cloud Container
# Registry. Uses podman or docker when present, else a Code Engine build run (no local engine needed).
#
#   make package && IMAGE=private.us.icr.io/NAMESPACE/netwarden:0.1.0 infra/codeengine/image.sh
set -euo pipefail

: "${IMAGE:?set IMAGE=REGISTRY/NAMESPACE/netwarden:TAG}"
CONTEXT=${CONTEXT:-dist/image}
[ -f "$CONTEXT/Containerfile" ] || { echo "no $CONTEXT/Containerfile: run 'make package' first" >&2; exit 1; }

engine=$(command -v podman || command -v docker || true)
if [ -n "$engine" ]; then
  "$engine" build -f "$CONTEXT/Containerfile" -t "$IMAGE" "$CONTEXT"
  "$engine" push "$IMAGE"
else
  ibmcloud ce buildrun submit --name "netwarden-image-$(date +%s)" \
    --source "$CONTEXT" --strategy dockerfile --dockerfile Containerfile \
    --image "$IMAGE" --registry-secret "${REGISTRY_SECRET:-icr-push}" --wait
fi

#!/usr/bin/env bash
# Create (or update) the two Code Engine subscriptions terraform cannot: the cron that runs the
# full scan every 15 minutes, and the Kafka subscription that runs the event job for each Activity
# Tracker event on the topic. Run after `terraform apply`, from infra/terraform (it reads outputs).
#
#   cd infra/terraform && ../codeengine/subscriptions.sh
#
# Needs: ibmcloud with the code-engine plugin, logged in (ibmcloud login --apikey ... -r REGION).
set -euo pipefail

tf() { terraform output -raw "$1"; }

PROJECT_ID=${PROJECT_ID:-$(tf project_id)}
PREFIX=${PREFIX:-netwarden}
SCAN_JOB=${SCAN_JOB:-$PREFIX-scan}
EVENT_JOB=${EVENT_JOB:-$PREFIX-event}
SCHEDULE=${SCHEDULE:-'*/15 * * * *'}
TOPIC=${TOPIC:-$(tf kafka_topic)}

ibmcloud ce project select --id "$PROJECT_ID"

# Cron: the job sees CE_TYPE=dev.knative.sources.ping and CE_DATA = --data, and runs `scan`.
if ibmcloud ce subscription cron get --name "$PREFIX-scan-cron" >/dev/null 2>&1; then
  ibmcloud ce subscription cron update --name "$PREFIX-scan-cron" --schedule "$SCHEDULE"
else
  ibmcloud ce subscription cron create --name "$PREFIX-scan-cron" \
    --destination-type job --destination "$SCAN_JOB" \
    --schedule "$SCHEDULE" --time-zone UTC \
    --content-type application/json --data '{"source":"netwarden-cron"}'
fi

# Kafka: each message (one Activity Tracker event) becomes one run of the event job with
# CE_TYPE=dev.knative.kafka.event and the event in CE_DATA. Event Streams credentials: user "token",
# password = the reader key. They go in a Code Engine secret, not on the command line history.
if [ -n "$TOPIC" ]; then
  BROKERS=$(terraform output -json kafka_brokers | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)))')
  KAFKA_PASSWORD=$(tf kafka_password)
  if ! ibmcloud ce secret get --name "$PREFIX-kafka" >/dev/null 2>&1; then
    ibmcloud ce secret create --name "$PREFIX-kafka" --format generic \
      --from-literal username=token --from-literal password="$KAFKA_PASSWORD"
  fi
  broker_args=()
  for b in $BROKERS; do broker_args+=(--broker "$b"); done
  if ibmcloud ce subscription kafka get --name "$PREFIX-vpc-events" >/dev/null 2>&1; then
    echo "Kafka subscription $PREFIX-vpc-events exists; delete it to change brokers or topic."
  else
    ibmcloud ce subscription kafka create --name "$PREFIX-vpc-events" \
      --destination-type job --destination "$EVENT_JOB" \
      --topic "$TOPIC" "${broker_args[@]}" --secret "$PREFIX-kafka" \
      --consumer-group "$PREFIX-event"
  fi
fi

ibmcloud ce subscription cron list
ibmcloud ce subscription kafka list

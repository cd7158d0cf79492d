#!/usr/bin/env bash
# Create (or update) the two Code Engine subscriptions terraform cannot: the cron that runs the
# full scan every 15 minutes, and the Kafka subscription that delivers each Activity Tracker event on
# the topic to the watcher app (POST /events) or, without the watcher, to the event job. Run after
# `terraform apply`, from infra/terraform (it reads outputs).
#
#   cd infra/terraform && ../codeengine/subscriptions.sh
#
# The destination follows terraform's output watcher_app: the app when it names one, the event job
# when it is empty (create_watcher = false). WATCHER_APP="" forces the event job, e.g. before turning
# the watcher off. There is one Kafka subscription, whose destination moves: never one for each, or
# every event would be checked twice.
#
# Needs: ibmcloud with the code-engine plugin, logged in (ibmcloud login --apikey ... -r REGION).
set -euo pipefail

tf() { terraform output -raw "$1"; }

PROJECT_ID=${PROJECT_ID:-$(tf project_id)}
PREFIX=${PREFIX:-netwarden}
SCAN_JOB=${SCAN_JOB:-$PREFIX-scan}
EVENT_JOB=${EVENT_JOB:-$PREFIX-event}
# Unset: ask terraform (a state from before the watcher has no such output: the event job).
WATCHER_APP=${WATCHER_APP-$(tf watcher_app 2>/dev/null || true)}
SCHEDULE=${SCHEDULE:-'*/15 * * * *'}
TOPIC=${TOPIC:-$(tf kafka_topic)}
SUBSCRIPTION=$PREFIX-vpc-events

ibmcloud ce project select --id "$PROJECT_ID"

# Cron: the job sees CE_TYPE=dev.knative.sources.ping and CE_DATA = --data, and runs `scan`. The
# watcher does not replace it: the scan resolves findings and sees what sends no event.
if ibmcloud ce subscription cron get --name "$PREFIX-scan-cron" >/dev/null 2>&1; then
  ibmcloud ce subscription cron update --name "$PREFIX-scan-cron" --schedule "$SCHEDULE"
else
  ibmcloud ce subscription cron create --name "$PREFIX-scan-cron" \
    --destination-type job --destination "$SCAN_JOB" \
    --schedule "$SCHEDULE" --time-zone UTC \
    --content-type application/json --data '{"source":"netwarden-cron"}'
fi

# Kafka: each message (one Activity Tracker event) becomes a CloudEvent POSTed to the watcher's
# /events, or one run of the event job with CE_TYPE=dev.knative.kafka.event and the event in CE_DATA.
# Event Streams credentials: user "token", password = the reader key. They go in a Code Engine
# secret, not on the command line history. The consumer group stays the same whatever the
# destination, so moving the subscription resumes at the committed offset: nothing is replayed or
# skipped.
if [ -n "$TOPIC" ]; then
  if [ -n "$WATCHER_APP" ]; then
    destination=(--destination-type app --destination "$WATCHER_APP" --path /events)
    wanted="app $WATCHER_APP"
  else
    destination=(--destination-type job --destination "$EVENT_JOB")
    wanted="job $EVENT_JOB"
  fi
  BROKERS=$(terraform output -json kafka_brokers | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)))')
  KAFKA_PASSWORD=$(tf kafka_password)
  if ! ibmcloud ce secret get --name "$PREFIX-kafka" >/dev/null 2>&1; then
    ibmcloud ce secret create --name "$PREFIX-kafka" --format generic \
      --from-literal username=token --from-literal password="$KAFKA_PASSWORD"
  fi
  broker_args=()
  for b in $BROKERS; do broker_args+=(--broker "$b"); done
  create=true
  if current=$(ibmcloud ce subscription kafka get --name "$SUBSCRIPTION" 2>/dev/null); then
    # "Destination Type:  app" and "Destination:  netwarden-watch" in `subscription kafka get`.
    have=$(awk -F': *' '{sub(/[[:space:]]+$/, "")} /^ *Destination Type:/ {t = $2} /^ *Destination:/ {d = $2}
                        END {print t, d}' <<<"$current")
    if [ "$have" = "$wanted" ]; then
      echo "Kafka subscription $SUBSCRIPTION delivers to the $wanted; delete it to change brokers or topic."
      create=false
    else
      echo "Kafka subscription $SUBSCRIPTION delivers to the ${have:-unknown destination}: moving it to the $wanted."
      ibmcloud ce subscription kafka delete --name "$SUBSCRIPTION" --force --wait
    fi
  fi
  if [ "$create" = true ]; then
    ibmcloud ce subscription kafka create --name "$SUBSCRIPTION" "${destination[@]}" \
      --topic "$TOPIC" "${broker_args[@]}" --secret "$PREFIX-kafka" \
      --consumer-group "$PREFIX-event"
  fi
fi

ibmcloud ce subscription cron list
ibmcloud ce subscription kafka list

# The event path: VPC Activity Tracker events -> Activity Tracker Event Routing -> an Event Streams
# topic -> a Code Engine Kafka subscription (infra/codeengine/subscriptions.sh) -> the event job.
# IBM Event Notifications has no VPC source, so this is the route for VPC changes.

resource "ibm_resource_instance" "event_streams" {
  count             = var.create_event_path ? 1 : 0
  name              = "${var.prefix}-events"
  service           = "messagehub"
  plan              = var.event_streams_plan
  location          = var.region
  resource_group_id = data.ibm_resource_group.group.id
}

resource "ibm_event_streams_topic" "vpc_events" {
  count                = var.create_event_path ? 1 : 0
  resource_instance_id = ibm_resource_instance.event_streams[0].id
  name                 = "${var.prefix}-vpc-events"
  partitions           = 1
  config = {
    "retention.ms" = "86400000"
  }
}

# The key the Kafka subscription reads the topic with (username "token", password = this API key).
resource "ibm_resource_key" "event_streams_reader" {
  count                = var.create_event_path ? 1 : 0
  name                 = "${var.prefix}-events-reader"
  resource_instance_id = ibm_resource_instance.event_streams[0].id
  role                 = "Reader"
}

resource "ibm_iam_authorization_policy" "atracker_to_event_streams" {
  count                       = var.create_event_path ? 1 : 0
  source_service_name         = "atracker"
  target_service_name         = "messagehub"
  target_resource_instance_id = ibm_resource_instance.event_streams[0].guid
  roles                       = ["Writer"]
}

resource "ibm_atracker_target" "event_streams" {
  count       = var.create_event_path ? 1 : 0
  name        = "${var.prefix}-vpc-events"
  target_type = "event_streams"
  region      = var.region

  eventstreams_endpoint {
    target_crn                 = ibm_resource_instance.event_streams[0].crn
    brokers                    = jsondecode(ibm_resource_key.event_streams_reader[0].credentials_json).kafka_brokers_sasl
    topic                      = ibm_event_streams_topic.vpc_events[0].name
    service_to_service_enabled = true
  }

  depends_on = [ibm_iam_authorization_policy.atracker_to_event_streams]
}

# Route the watched regions' events to the topic. Rules are first-match: if the account already has
# routes, merge this rule into them instead (atracker route_v2.md).
resource "ibm_atracker_route" "vpc_events" {
  count = var.create_event_path ? 1 : 0
  name  = "${var.prefix}-vpc-events"

  rules {
    target_ids = [ibm_atracker_target.event_streams[0].id]
    locations  = var.watched_regions
  }
}

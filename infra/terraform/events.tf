# The event path: VPC Activity Tracker events -> Activity Tracker Event Routing -> an Event Streams
# topic -> a Code Engine Kafka subscription (infra/codeengine/subscriptions.sh) -> the watcher app
# (POST /events), or the event job with create_watcher = false.
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

# Route the watched regions' events to the topic. What a route rule can filter on is its locations
# and nothing else: the rule has only `locations` and `target_ids` (terraform-provider-ibm
# ibm/service/atracker/resource_ibm_atracker_route.go; atracker route_v2.md). So the route narrows as
# far as the service allows, to the watched regions: no `global` (VPC events are regional) and no `*`
# (the variable's validation refuses both), at most 8 locations per rule (route_v2.md), hence the
# chunks. It cannot select the VPC service (`is`), the resource types (network ACLs, subnets, public
# gateways, security groups) or the actions: every event of every service in those regions reaches
# the topic. netwarden acknowledges and drops every event it does not watch, without a VPC call, so
# the narrowing is about Event Streams cost and quota, not about correctness.
# Routes are processed independently (an event matching rules of two routes goes to both); within a
# route the first matching rule wins (route_v2.md).
resource "ibm_atracker_route" "vpc_events" {
  count = var.create_event_path ? 1 : 0
  name  = "${var.prefix}-vpc-events"

  dynamic "rules" {
    for_each = chunklist(var.watched_regions, 8)
    content {
      target_ids = [ibm_atracker_target.event_streams[0].id]
      locations  = rules.value
    }
  }
}

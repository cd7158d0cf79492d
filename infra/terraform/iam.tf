# Two identities, each with the least it needs (infra/README.md, "IAM"):
#   scan       Viewer on VPC Infrastructure Services: reads ACLs, rules, subnets, gateways, VPCs.
#   remediate  the same, plus Editor on network ACLs (rule create/update/delete) and on subnets
#              (replace a subnet's ACL), plus Operator on public gateways if remediate_gateways, plus
#              Editor on security groups (rules, targets, a group re-created) if remediate_security_groups.
# Both write the state bucket.

resource "ibm_iam_service_id" "scan" {
  name        = "${var.prefix}-scan"
  description = "netwarden: reads VPC network ACLs, subnets and public gateways"
}

resource "ibm_iam_service_id" "remediate" {
  name        = "${var.prefix}-remediate"
  description = "netwarden: restores VPC network ACL rules and subnet ACL attachments to the baseline"
}

resource "ibm_iam_service_api_key" "scan" {
  name           = "${var.prefix}-scan"
  iam_service_id = ibm_iam_service_id.scan.iam_id
}

resource "ibm_iam_service_api_key" "remediate" {
  name           = "${var.prefix}-remediate"
  iam_service_id = ibm_iam_service_id.remediate.iam_id
}

resource "ibm_iam_service_policy" "scan_vpc_viewer" {
  iam_id      = ibm_iam_service_id.scan.iam_id
  roles       = ["Viewer"]
  description = "read every VPC resource netwarden snapshots"

  resources {
    service           = "is"
    resource_group_id = data.ibm_resource_group.group.id
  }
}

resource "ibm_iam_service_policy" "remediate_vpc_viewer" {
  iam_id      = ibm_iam_service_id.remediate.iam_id
  roles       = ["Viewer"]
  description = "read every VPC resource netwarden snapshots and verifies"

  resources {
    service           = "is"
    resource_group_id = data.ibm_resource_group.group.id
  }
}

resource "ibm_iam_service_policy" "remediate_acl_editor" {
  iam_id      = ibm_iam_service_id.remediate.iam_id
  roles       = ["Editor"]
  description = "create, update, move and delete network ACL rules"

  resources {
    service           = "is"
    resource_group_id = data.ibm_resource_group.group.id
    attributes = {
      "networkAclId" = "*"
    }
  }
}

resource "ibm_iam_service_policy" "remediate_subnet_editor" {
  iam_id      = ibm_iam_service_id.remediate.iam_id
  roles       = ["Editor"]
  description = "replace a subnet's network ACL; attach or detach its public gateway"

  resources {
    service           = "is"
    resource_group_id = data.ibm_resource_group.group.id
    attributes = {
      "subnetId" = "*"
    }
  }
}

resource "ibm_iam_service_policy" "remediate_gateway_operator" {
  count       = var.remediate_gateways ? 1 : 0
  iam_id      = ibm_iam_service_id.remediate.iam_id
  roles       = ["Operator"]
  description = "attach or detach a public gateway (needed with Editor on the subnet)"

  resources {
    service           = "is"
    resource_group_id = data.ibm_resource_group.group.id
    attributes = {
      "publicGatewayId" = "*"
    }
  }
}

resource "ibm_iam_service_policy" "remediate_security_group_editor" {
  count       = var.remediate_security_groups ? 1 : 0
  iam_id      = ibm_iam_service_id.remediate.iam_id
  roles       = ["Editor"]
  description = "create, update and delete security group rules; bind and unbind targets; re-create a group"

  resources {
    service           = "is"
    resource_group_id = data.ibm_resource_group.group.id
    attributes = {
      "securityGroupId" = "*"
    }
  }
}

resource "ibm_iam_service_policy" "state_writer" {
  for_each    = { scan = ibm_iam_service_id.scan.iam_id, remediate = ibm_iam_service_id.remediate.iam_id }
  iam_id      = each.value
  roles       = ["Writer"]
  description = "read and write netwarden's finding state and audit records"

  resources {
    service              = "cloud-object-storage"
    resource_instance_id = ibm_resource_instance.state.guid
    resource_type        = "bucket"
    resource             = ibm_cos_bucket.state.bucket_name
  }
}

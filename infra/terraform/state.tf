# netwarden's state (finding lifecycle, reminders, audit records) must outlive a job run:
# NETWARDEN_STATE=cos://BUCKET/state.

resource "ibm_resource_instance" "state" {
  name              = "${var.prefix}-state"
  service           = "cloud-object-storage"
  plan              = "standard"
  location          = "global"
  resource_group_id = data.ibm_resource_group.group.id
}

resource "ibm_cos_bucket" "state" {
  bucket_name          = "${var.prefix}-state-${substr(ibm_resource_instance.state.guid, 0, 8)}"
  resource_instance_id = ibm_resource_instance.state.id
  region_location      = var.region
  storage_class        = "smart"
}

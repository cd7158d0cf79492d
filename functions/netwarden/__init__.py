"""netwarden: keeps the network perimeter of IBM Cloud VPC Kubernetes clusters where its owners put it."""

__version__ = "0.1.0"

"""Reachability across the layers of the perimeter: what the ACLs and security groups let through together."""

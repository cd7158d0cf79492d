"""Drift: baseline x live -> findings (``diff``), and each finding's impact: what it opens, closes or
breaks (``impact``, which asks ``core.acl`` and ``core.netpol``)."""

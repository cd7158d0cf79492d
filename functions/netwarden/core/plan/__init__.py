"""Remediation planning: findings -> an ordered plan of API steps (``build``), the step vocabulary
(``steps``), and the order of an ACL's patches and moves that never lets more through than before or
after (``acl_order``)."""

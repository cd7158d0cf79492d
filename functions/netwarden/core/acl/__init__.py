"""Network ACLs: first-match evaluation of an ordered rule list into exact flow sets (``evaluate``), the
per-subnet view a network engineer asks for (``view``), and the rule-list diff by position (``rule_diff``).
Stateless and ordered, unlike the security groups that will sit beside it in ``core.sg``."""

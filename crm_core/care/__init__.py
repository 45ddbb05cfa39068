"""Care rules: who to contact, when and why (policy, rules, contact-frequency control)."""

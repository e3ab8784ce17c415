"""Bearer tokens and roles (指挥部 hq, 组长 lead, member, reporter, viewer)."""

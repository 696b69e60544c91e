// MoEAudit: the expert-collapse stress-test protocol and its reports.

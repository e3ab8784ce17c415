"""Manual reports (人工上报): what people see and report, scored and attached to an incident."""

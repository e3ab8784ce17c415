"""The response workflow (应对流程) run by Step Functions, one execution per incident."""

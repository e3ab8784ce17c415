"""Health of the deployment: does every table, queue, topic and the state machine answer."""

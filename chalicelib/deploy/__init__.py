"""Build-time tools: render the infra template and package the app. Not imported by handlers."""

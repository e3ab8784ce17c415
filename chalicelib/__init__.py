"""yuqing (舆情) — application code shared by every Lambda function and by local mode."""

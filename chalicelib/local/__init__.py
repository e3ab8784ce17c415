"""Local embedded mode: the whole system in one process on moto, offline, no Docker.

moto's server provides DynamoDB, SQS, SNS, Step Functions, Lambda and IAM on a loopback port;
the application's code reaches it through ``AWS_ENDPOINT_URL`` unchanged. moto would run Lambda
code in Docker, so :mod:`.lambda_hook` routes every invocation to the Chalice handler in this
process instead. Resources come from the same ``infra/`` template as production
(:mod:`.provision`); EventBridge does not fire in moto, so :mod:`.scheduler` does; SQS consumers
are polled by :mod:`.sqs_poller`; tables are saved to ``.yuqing/`` and restored at the next start
(:mod:`.snapshot`, driven by :mod:`.persistence`). Nothing here is imported by Lambda handlers.
"""

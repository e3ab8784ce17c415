"""Health (技术保障): every component answers, or the report names those that do not."""

from __future__ import annotations

import boto3
from chalice.test import Client

from chalicelib.core.aws import AwsClients
from chalicelib.core.settings import Settings
from chalicelib.health.service import HealthService


def component(report: dict[str, object], name: str) -> dict[str, object]:
    components = report["components"]
    assert isinstance(components, list)
    matches = [c for c in components if c["name"] == name]
    assert len(matches) == 1, name
    found: dict[str, object] = matches[0]
    return found


def test_all_components_answer(clients: AwsClients, settings: Settings) -> None:
    # GIVEN every resource of the stage exists
    # WHEN health is checked
    report = HealthService(settings, clients).check()

    # THEN every table, queue, topic and the state machine is checked and ok
    assert report.ok
    assert report.as_dict()["status"] == "ok"
    assert report.stage == "local"
    kinds = [c.kind for c in report.components]
    assert kinds.count("table") == 10
    assert kinds.count("queue") == 2
    assert kinds.count("topic") == 2
    assert kinds.count("state_machine") == 1
    assert all(c.detail for c in report.components)


def test_a_deleted_table_degrades_the_report(clients: AwsClients, settings: Settings) -> None:
    # GIVEN the posts table is gone
    boto3.client("dynamodb").delete_table(TableName=settings.tables.posts)

    # WHEN health is checked
    report = HealthService(settings, clients).check()

    # THEN only that component is down, and the report says degraded
    assert not report.ok
    body = report.as_dict()
    assert body["status"] == "degraded"
    down = [c for c in report.components if not c.ok]
    assert [(c.kind, c.name) for c in down] == [("table", "yuqing-local-posts")]
    assert "not found" in down[0].detail


def test_a_missing_queue_and_topic_are_reported(clients: AwsClients, settings: Settings) -> None:
    # GIVEN the dead-letter queue and the ops topic are gone
    sqs = boto3.client("sqs")
    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=settings.crawl_dlq)["QueueUrl"])
    sns = boto3.client("sns")
    sns.delete_topic(TopicArn=clients.topic_arn(settings.ops_topic))

    # WHEN health is checked THEN both are named as down
    report = HealthService(settings, clients).check()
    assert {c.name for c in report.components if not c.ok} == {
        "yuqing-local-crawl-dlq",
        "yuqing-local-ops",
    }


def test_record_and_read_back(clients: AwsClients, settings: Settings) -> None:
    # GIVEN a report WHEN recorded THEN the latest one is read back from the system table
    service = HealthService(settings, clients)
    assert service.last_recorded() is None
    report = service.check()
    service.record(report)
    recorded = service.last_recorded()
    assert recorded is not None
    assert recorded["status"] == "ok"
    assert recorded["checked_at"] == report.checked_at
    assert len(recorded["components"]) == len(report.components)


def test_get_health_answers_200_when_everything_answers(api_client: Client) -> None:
    # GIVEN a healthy deployment WHEN GET /health (no token needed)
    response = api_client.http.get("/health")

    # THEN 200 with a JSON report
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json_body["status"] == "ok"
    assert response.json_body["stage"] == "local"


def test_get_health_answers_503_naming_the_failing_component(
    api_client: Client, settings: Settings
) -> None:
    # GIVEN the incidents table is gone
    boto3.client("dynamodb").delete_table(TableName=settings.tables.incidents)

    # WHEN GET /health
    response = api_client.http.get("/health")

    # THEN 503, and the failing component is named while the others are ok
    assert response.status_code == 503
    body = response.json_body
    assert body["status"] == "degraded"
    failing = component(body, "yuqing-local-incidents")
    assert failing["ok"] is False
    assert failing["kind"] == "table"
    assert component(body, "yuqing-local-plan")["ok"] is True

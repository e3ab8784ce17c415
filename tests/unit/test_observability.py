"""Contacts never reach the logs unmasked."""

from __future__ import annotations

import pytest

from chalicelib.core.observability import mask_contact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13812345678", "*******5678"),
        ("call 13812345678 now", "call *******5678 now"),
        ("+86 138 1234 5678", "*********5678"),
        ("+86-138-1234-5678", "*********5678"),
        ("010-6552 1234", "*******1234"),
    ],
)
def test_phone_numbers_keep_only_the_last_four_digits(text: str, expected: str) -> None:
    # GIVEN text with a phone number WHEN masked THEN only the last 4 digits remain
    assert mask_contact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("zhang.san@example.com", "z***@example.com"),
        ("notify ops+alerts@yuqing.gov.cn please", "notify o***@yuqing.gov.cn please"),
        ("a@b.cn", "a***@b.cn"),
    ],
)
def test_email_local_parts_are_masked(text: str, expected: str) -> None:
    # GIVEN text with an e-mail address WHEN masked THEN the local part is hidden, the domain kept
    assert mask_contact(text) == expected


def test_several_contacts_in_one_message() -> None:
    # GIVEN a message naming a phone and an e-mail address
    masked = mask_contact("值班: 王五 13900001111 / wangwu@example.org")

    # THEN neither appears in full
    assert masked == "值班: 王五 *******1111 / w***@example.org"
    assert "13900001111" not in masked
    assert "wangwu" not in masked


def test_a_phone_number_used_as_an_email_local_part_is_not_leaked() -> None:
    masked = mask_contact("13812345678@qq.com")
    assert "13812345678" not in masked
    assert "12345678" not in masked


def test_text_without_contacts_is_unchanged() -> None:
    # Short numbers (counts, levels) are not phone numbers.
    text = "二级预警: 3 个平台, 120 条帖子"
    assert mask_contact(text) == text


def test_an_invocation_with_metrics_disabled_leaves_none_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN metrics disabled (local mode), and a handler that records the alert backlog
    from chalicelib.core.middleware import observe
    from chalicelib.core.observability import PENDING_ALERTS, metrics, record_alert_backlog

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    metrics.clear_metrics()

    def handler(event: object) -> str:
        record_alert_backlog(3, 42.0)
        assert PENDING_ALERTS in metrics.metric_set
        return "done"

    # WHEN it runs through the middleware 150 times (Powertools prints 100 values of one
    # metric even when disabled) THEN each invocation's metrics are gone after it
    for _ in range(150):
        assert observe(object(), handler) == "done"
        assert metrics.metric_set == {}

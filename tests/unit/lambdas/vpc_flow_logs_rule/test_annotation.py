from __future__ import annotations

import pytest

from vpc_flow_logs_rule import annotation


def test_a_short_annotation_is_kept_whole() -> None:
    text = "no flow log covers REJECT traffic"

    assert annotation.truncate(text) == text


def test_an_annotation_of_exactly_the_limit_is_kept_whole() -> None:
    text = ("word " * 60)[:255] + "x"

    assert len(text) == 256
    assert annotation.truncate(text) == text


def test_a_long_annotation_is_cut_at_a_word_boundary_with_an_ellipsis() -> None:
    words = [f"flow log fl-{n:017x} delivery FAILED: Access error;" for n in range(12)]
    text = " ".join(words)

    cut = annotation.truncate(text)

    assert len(cut) <= annotation.MAX_LENGTH
    assert cut.endswith("...")
    kept = cut.removesuffix("...").split(" ")
    original = text.split(" ")
    # every kept word is whole: the kept words are the original's first words, untouched
    # (trailing punctuation of the last one aside)
    assert kept[:-1] == original[: len(kept) - 1]
    assert original[len(kept) - 1].startswith(kept[-1])
    assert original[len(kept) - 1].rstrip(";:,") == kept[-1]


def test_the_cut_never_splits_a_long_log_group_name() -> None:
    name = "/aws/vpc-flow-logs/" + "x" * 200
    text = f"no flow log covers REJECT traffic; flow log fl-1 delivers to log group {name}"

    cut = annotation.truncate(text)

    assert cut == "no flow log covers REJECT traffic; flow log fl-1 delivers to log group..."


def test_a_single_word_longer_than_the_limit_is_cut_hard() -> None:
    cut = annotation.truncate("x" * 300)

    assert cut == "x" * 253 + "..."


def test_whitespace_is_collapsed() -> None:
    assert annotation.truncate("  a \n b\t c ") == "a b c"


@pytest.mark.parametrize(
    ("missing", "headline"),
    [
        ({"REJECT"}, "no flow log covers REJECT traffic"),
        ({"ACCEPT"}, "no flow log covers ACCEPT traffic"),
        ({"ACCEPT", "REJECT"}, "no flow log covers ALL traffic"),
    ],
)
def test_non_compliant_names_the_missing_traffic_then_the_details(
    missing: set[str], headline: str
) -> None:
    text = annotation.non_compliant(missing, ["flow log fl-1 delivery FAILED: Access error"])

    assert text == f"{headline}; flow log fl-1 delivery FAILED: Access error"


def test_non_compliant_with_many_details_stays_within_the_limit() -> None:
    details = [annotation.log_group_missing(f"fl-{n:017x}", f"/aws/vpc/{n}") for n in range(20)]

    text = annotation.non_compliant({"REJECT"}, details)

    assert len(text) <= 256
    assert text.startswith("no flow log covers REJECT traffic; flow log fl-00000000000000000")
    assert text.endswith("...")


def test_messages_name_exactly_what_is_wrong() -> None:
    assert (
        annotation.short_retention("fl-1", "/aws/vpc-flow-logs/a", 30, 365)
        == "flow log fl-1 delivers to log group /aws/vpc-flow-logs/a whose retention is 30 days "
        "(minimum 365)"
    )
    assert (
        annotation.delivery_failed("fl-1", "Access error")
        == "flow log fl-1 delivery FAILED: Access error"
    )
    assert annotation.delivery_failed("fl-1", None) == "flow log fl-1 delivery FAILED"
    assert annotation.wrong_stream("fl-1", "arn:s/a", "arn:s/b") == (
        "flow log fl-1 delivers to arn:s/a, not to the required stream arn:s/b"
    )
    assert annotation.wrong_stream("fl-1", None, "arn:s/b") == (
        "flow log fl-1 delivers to an unnamed Firehose stream, not to the required stream arn:s/b"
    )
    assert annotation.compliant("ALL", ["fl-1", "fl-2"]) == (
        "ALL traffic is covered by flow logs fl-1, fl-2"
    )


def test_not_forwarded_names_the_destination_whole_within_the_limit() -> None:
    # Given the longest usual parts: 17-digit ids, the runbook's log group, the stack's destination
    destination = (
        "arn:aws:logs:ap-southeast-2:210987654321:destination:"
        "VpcFlowLogsGuardLogArchive-CentralArchive"
    )
    detail = annotation.not_forwarded(
        "fl-0123456789abcdef0", "/aws/vpc-flow-logs/vpc-0123456789abcdef0", destination
    )

    text = annotation.non_compliant(["REJECT"], [detail])

    # Then nothing is cut: the destination is named by its name and account, not its whole ARN
    assert len(text) <= annotation.MAX_LENGTH
    assert not text.endswith(annotation.ELLIPSIS)
    assert text.endswith(
        "forwards to destination VpcFlowLogsGuardLogArchive-CentralArchive (210987654321)"
    )

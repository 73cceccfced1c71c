"""Malformed filters: InvalidArgument saying what is wrong, at which position, with a caret."""

from __future__ import annotations

import re

import pytest

from mltrail._exceptions import InvalidArgument
from mltrail.search import SearchKind, parse_filter, parse_order_by


def error(text: str, kind: SearchKind = "runs") -> str:
    with pytest.raises(InvalidArgument) as info:
        parse_filter(text, kind)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert info.value.http_status == 400
    # The position is a field too, the same number as in the message.
    position = info.value.details["position"]
    assert info.value.message.splitlines()[0].endswith(f" at position {position}")
    return info.value.message


def test_message_shape() -> None:
    message = error("metrics.a > ")
    assert message == (
        "Invalid filter 'metrics.a > ': expected a value at position 12\n"
        "    metrics.a > \n"
        "                ^"
    )


def test_text_with_single_quotes_is_shown_in_double_quotes() -> None:
    message = error("params.a = 'x' AND")
    assert message.startswith("Invalid filter \"params.a = 'x' AND\": ")


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        # values
        ("metrics.a >", 11, "expected a value"),
        ("params.model = rf", 15, "string values must be quoted, as in params.model = 'rf'"),
        ("params.a = 1", 11, "param 'a' holds strings: quote the value, as in params.a = '1'"),
        ("tags.a != -2.5", 10, "quote the value, as in tags.a != '-2.5'"),
        ("run_name = 5", 11, "attribute 'run_name' holds strings"),
        ("params.a = NULL", 11, "use IS NULL or IS NOT NULL"),
        ("params.a = (", 11, "expected a quoted string, found '('"),
        ("metrics.a > 'x'", 12, "metric 'a' is a number: compare it with a number, not a string"),
        ("metrics.a > abc", 12, "expected a number, found 'abc'"),
        ("metrics.a > -", 12, "expected a number, found '-'"),
        ("metrics.a > --1", 12, "expected a number"),
        ("metrics.a < NaN", 12, "NaN can only be compared with = or !=, not <"),
        ("max(metrics.a) >= nan", 18, "NaN can only be compared"),
        ("start_time > 1.5", 13, "attribute 'start_time' takes an integer, not 1.5"),
        ("start_time > NaN", 13, "takes an integer, not NaN"),
        ("start_time > Infinity", 13, "takes an integer"),
        ("start_time > '5'", 13, "attribute 'start_time' is an integer: write it without quotes"),
        ("end_time < 9223372036854775808", 11, "is out of range for attribute 'end_time'"),
        ("end_time < -9223372036854775809", 11, "is out of range"),
        ("end_time < 1e300", 11, "is out of range"),
        # operators
        ("metrics.a LIKE 'x'", 10, "operator LIKE does not apply to metric 'a' (a number)"),
        ("metrics.a IN ('x')", 10, "operator IN does not apply to metric 'a'"),
        ("min(metrics.a) NOT LIKE 'x'", 15, "does not apply to min(metrics.a)"),
        ("params.a < '1'", 9, "operator < does not apply to param 'a' (a string)"),
        ("tags.a >= 'x'", 7, "operator >= does not apply to tag 'a'"),
        ("start_time LIKE '1%'", 11, "operator LIKE does not apply to attribute 'start_time'"),
        ("start_time IN ('1')", 11, "use one of =, !=, <, <=, >, >="),
        ("start_time IS NULL", 11, "operator IS NULL does not apply"),
        ("run_name IS NULL", 9, "operator IS NULL does not apply to attribute 'run_name'"),
        ("run_name > 'a'", 9, "operator > does not apply"),
        ("datasets.name IS NOT NULL", 14, "operator IS NOT NULL does not apply to datasets.name"),
        ("metrics.a == 1", 10, "use '=' to test equality, not '=='"),
        ("metrics.a <> 1", 10, "use '!=' to test inequality, not '<>'"),
        ("metrics.a 1", 10, "expected an operator after metrics.a (=, !=, <, <=, >, >=, IS NULL"),
        ("params.`a b` 'x'", 13, "expected an operator after params.`a b`"),
        ("params.a", 8, "expected an operator after params.a"),
        ("params.a NOT = 'x'", 13, "expected LIKE, ILIKE or IN after NOT, found '='"),
        ("params.a IS 'x'", 12, "expected NULL or NOT NULL after IS, found \"'x'\""),
        ("params.a IS NOT 'x'", 16, "expected NULL after IS NOT"),
        ("params.a IS", 11, "found the end of the filter"),
        # IN lists
        ("params.a IN 'x'", 12, "expected '(' after IN, as in params.a IN ('a', 'b')"),
        ("params.a NOT IN ()", 17, "the NOT IN list is empty"),
        ("params.a IN ('x',)", 17, "expected a quoted string, found ')'"),
        ("params.a IN ('x' 'y')", 17, "expected ',' or ')' in the IN list"),
        ("params.a IN ('x', 1)", 18, "quote the value, as in params.a IN ('1')"),
        ("params.a IN ('x', y)", 18, "string values must be quoted, as in params.a IN ('y')"),
        ("params.a IN ('x'", 16, "expected ',' or ')' in the IN list, found the end of the filter"),
        # structure
        ("AND metrics.a > 1", 0, "expected a comparison on a field such as metrics.acc"),
        ("metrics.a > 1 AND", 17, "found the end of the filter"),
        ("metrics.a > 1 OR OR metrics.b > 1", 17, "found 'OR'"),
        ("metrics.a > 1 metrics.b > 2", 14, "expected AND, OR or the end of the filter"),
        ("metrics.a > 1 )", 14, "unmatched ')'"),
        ("(metrics.a > 1", 14, "expected ')' to close the '(' at position 0"),
        ("((metrics.a > 1)", 16, "to close the '(' at position 0"),
        ("()", 0, "empty parentheses"),
        ("metrics.a > 1 AND ()", 18, "empty parentheses"),
        ("NOT", 3, "expected a comparison"),
        ("NOT NOT", 7, "expected a comparison"),
        ("'x' = params.a", 0, "expected a comparison on a field such as"),
        ("1 < metrics.a", 0, "found '1'"),
        (",", 0, "found ','"),
        # lexing
        ("params.a = 'x", 11, "unterminated string (missing closing ')"),
        ('params.a = "x', 11, 'unterminated string (missing closing ")'),
        ("params.a = 'it''", 11, "unterminated string"),
        ("params.a = 'x\\'", 11, "unterminated string"),
        ("metrics.`f1 score > 1", 8, "unterminated quoted key (missing closing `)"),
        ('params."a b = 1', 7, "unterminated quoted key"),
        ("`run_name` = 'x'", 0, "back-quotes are for keys after a prefix"),
        ("params.a = 'x' ; DROP TABLE runs", 15, "unexpected character ';'"),
        ("params.a = 'x' && params.b = 'y'", 15, "unexpected character '&'"),
        ("metrics.a > 1 AND @", 18, "unexpected character '@'"),
        ("params.a = x\u00e9", 12, "unexpected character '\u00e9'"),
        # identifiers
        ("foo.bar = '1'", 0, "unknown prefix 'foo'; valid prefixes for runs are attributes"),
        ("metrics. > 1", 8, "expected a key after 'metrics.'"),
        ("metrics.`` > 1", 8, "empty quoted key"),
        ("metrics > 1", 0, "expected '.' and a key after 'metrics', as in metrics.name"),
        ("datasets.size = '1'", 0, "unknown dataset field 'size'"),
        ("min(params.a) = '1'", 4, "min() applies to metrics only, as in min(metrics.loss)"),
        ("max(start_time) > 1", 4, "max() applies to metrics only"),
        ("max(metrics.a > 1", 14, "expected ')' to close max(, found '>'"),
        ("min(metrics.a) IN ('1')", 15, "does not apply"),
    ],
)
def test_errors_name_the_problem_and_position(text: str, position: int, fragment: str) -> None:
    message = error(text)
    first = message.splitlines()[0]
    assert first.startswith("Invalid filter ")
    assert first.endswith(f" at position {position}")
    assert fragment in message
    # The excerpt line shows the text; the caret sits under the offending character.
    excerpt, caret = message.splitlines()[1:3]
    printable = "".join(ch if ch.isprintable() else " " for ch in text)
    assert excerpt == "    " + printable
    assert caret == "    " + " " * position + "^"


def test_unknown_attribute_lists_the_valid_ones_for_each_kind() -> None:
    assert (
        "unknown run attribute 'bogus'; runs can be filtered by artifact_uri, end_time, "
        "experiment_id, lifecycle_stage, run_id, run_name, start_time, status, user_id "
        "(created means start_time)"
    ) in error("bogus = 'x'")
    assert (
        "unknown experiment attribute 'run_name'; experiments can be filtered by creation_time, "
        "experiment_id, last_update_time, name"
    ) in error("run_name = 'x'", "experiments")
    assert (
        "unknown registered model attribute 'version_number'; registered models can be "
        "filtered by name"
    ) in error("version_number = 1", "registered_models")
    assert (
        "model versions can be filtered by current_stage, name, run_id, source_path, "
        "version_number (version means version_number)"
    ) in error("stage = 'x'", "model_versions")


def test_attribute_names_are_case_sensitive() -> None:
    assert "unknown run attribute 'RUN_NAME'" in error("RUN_NAME = 'x'")


@pytest.mark.parametrize(
    ("kind", "text", "fragment"),
    [
        ("experiments", "metrics.a > 1", "experiments cannot be filtered by metrics"),
        ("experiments", "params.a = '1'", "experiments cannot be filtered by params"),
        ("experiments", "datasets.name = 'x'", "experiments cannot be filtered by datasets"),
        ("registered_models", "metrics.a > 1", "registered models cannot be filtered by metrics"),
        ("model_versions", "params.a = '1'", "model versions cannot be filtered by params"),
        ("runs", "bogus.a = '1'", "unknown prefix 'bogus'"),
    ],
)
def test_prefixes_not_allowed_for_a_kind_list_the_valid_ones(
    kind: SearchKind, text: str, fragment: str
) -> None:
    message = error(text, kind)
    assert fragment in message
    assert "at position 0" in message
    if kind == "runs":
        assert (
            "valid prefixes for runs are attributes (attribute, attr, run), datasets (dataset), "
            "metrics (metric), params (param), tags (tag)"
        ) in message
    else:
        assert "valid prefixes are attributes (attribute, attr, run), tags (tag)" in message


@pytest.mark.parametrize(
    ("kind", "text", "position"),
    [
        ("experiments", "creation_time > 'x'", 16),
        ("experiments", "creation_time LIKE 'x'", 14),
        ("experiments", "name = 3", 7),
        ("experiments", "experiment_id = 0", 16),
        ("experiments", "tags.a > '1'", 7),
        ("registered_models", "name > 'a'", 5),
        ("registered_models", "name = 'a' AND", 14),
        ("model_versions", "version_number = '3'", 17),
        ("model_versions", "version_number LIKE '3%'", 15),
        ("model_versions", "current_stage = Production", 16),
        ("model_versions", "version = 1.5", 10),
    ],
)
def test_type_errors_in_other_kinds(kind: SearchKind, text: str, position: int) -> None:
    assert f"at position {position}\n" in error(text, kind)


def test_nesting_is_bounded() -> None:
    deep = "(" * 60 + "params.a = '1'" + ")" * 60
    message = error(deep)
    assert "nested more than 50 levels deep at position 50" in message
    nots = "NOT " * 100 + "params.a = '1'"
    assert "nested more than 50 levels deep at position 200" in error(nots)
    ok = "(" * 50 + "params.a = '1'" + ")" * 50
    assert parse_filter(ok) is not None


def test_very_deep_input_is_refused_not_a_recursion_error() -> None:
    message = error("(" * 100_000)
    assert "nested more than 50 levels deep" in message


def test_long_filters_are_shortened_in_the_message() -> None:
    text = "params.a = '1' AND " * 30 + "params.b = 2 AND " + "params.c = '3' AND " * 30
    position = text.index("2 AND")
    message = error(text)
    first, excerpt, caret = message.splitlines()
    assert first.endswith(f"quote the value, as in params.b = '2' at position {position}")
    assert "...\": param 'b'" in first
    assert len(first) < 400
    assert excerpt.startswith("    ...")
    assert excerpt.endswith("...")
    # The caret points at the offending character inside the excerpt.
    assert excerpt[caret.index("^")] == "2"


def test_control_characters_keep_the_caret_aligned() -> None:
    message = error("params.a\t=\n'x' AND\r\nnope")
    excerpt, caret = message.splitlines()[1:3]
    assert excerpt[caret.index("^") :].startswith("nope")


def test_unknown_kind() -> None:
    with pytest.raises(InvalidArgument, match="Unknown search kind 'jobs'"):
        parse_filter("name = 'x'", "jobs")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="Unknown search kind"):
        parse_order_by(["name"], "jobs")  # type: ignore[arg-type]


def test_filter_must_be_a_string() -> None:
    with pytest.raises(InvalidArgument, match=re.escape("Invalid filter 3: expected a string")):
        parse_filter(3)  # type: ignore[arg-type]

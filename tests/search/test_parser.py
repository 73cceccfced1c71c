"""The filter grammar: the trees that filters and order_by items parse into, for every kind."""

from __future__ import annotations

import math

import pytest

from mltrail._exceptions import InvalidArgument
from mltrail.search import (
    And,
    Comparison,
    Entity,
    Expr,
    Identifier,
    Not,
    Or,
    OrderKey,
    SearchKind,
    parse_filter,
    parse_order_by,
)


def metric(key: str, aggregate: str = "latest") -> Identifier:
    return Identifier("metric", key, aggregate)  # type: ignore[arg-type]


def param(key: str) -> Identifier:
    return Identifier("param", key)


def tag(key: str) -> Identifier:
    return Identifier("tag", key)


def attr(key: str) -> Identifier:
    return Identifier("attribute", key)


def dataset(key: str) -> Identifier:
    return Identifier("dataset", key)


def one(text: str, kind: SearchKind = "runs") -> Comparison:
    expr = parse_filter(text, kind)
    assert isinstance(expr, Comparison), expr
    return expr


# -- empty filters ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", [None, "", " ", "\t\n  "])
@pytest.mark.parametrize("kind", ["runs", "experiments", "registered_models", "model_versions"])
def test_empty_filter_is_none(text: str | None, kind: SearchKind) -> None:
    assert parse_filter(text, kind) is None


# -- runs: metrics ---------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["=", "!=", "<", "<=", ">", ">="])
def test_metric_numeric_operators(op: str) -> None:
    assert parse_filter(f"metrics.acc {op} 0.5") == Comparison(metric("acc"), op, 0.5, 0)


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("1", 1.0),
        ("-1", -1.0),
        ("+2.5", 2.5),
        ("1e-3", 0.001),
        ("2E+2", 200.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("-.25e1", -2.5),
        ("Infinity", math.inf),
        ("-Infinity", -math.inf),
        ("+infinity", math.inf),
        ("inf", math.inf),
        ("- 3", -3.0),
        ("1e999", math.inf),
    ],
)
def test_metric_values_are_floats(literal: str, expected: float) -> None:
    cmp = one(f"metrics.loss < {literal}")
    assert type(cmp.value) is float
    assert cmp.value == expected


@pytest.mark.parametrize("literal", ["NaN", "nan", "NAN"])
@pytest.mark.parametrize("op", ["=", "!="])
def test_metric_nan(literal: str, op: str) -> None:
    cmp = one(f"metrics.acc {op} {literal}")
    assert cmp.op == op
    assert isinstance(cmp.value, float)
    assert math.isnan(cmp.value)


@pytest.mark.parametrize("op", ["IS NULL", "IS NOT NULL", "is null", "Is Not Null"])
def test_metric_null_tests(op: str) -> None:
    assert parse_filter(f"metrics.loss {op}") == Comparison(metric("loss"), op.upper(), None, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("min(metrics.loss) < 0.1", metric("loss", "min")),
        ("max(metrics.acc) >= 0.9", metric("acc", "max")),
        ("MAX( metrics.acc ) >= 0.9", metric("acc", "max")),
        ("Min(metric.`val loss`) >= 0.9", metric("val loss", "min")),
        ("max (metrics.a/b) >= 0.9", metric("a/b", "max")),
    ],
)
def test_metric_aggregates(text: str, expected: Identifier) -> None:
    assert one(text).ident == expected


# -- runs: params and tags -------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["params", "param", "tags", "tag", "PARAMS", "Tags"])
@pytest.mark.parametrize("op", ["=", "!=", "LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE"])
def test_param_and_tag_string_operators(prefix: str, op: str) -> None:
    entity: Entity = "param" if prefix.lower().startswith("param") else "tag"
    assert parse_filter(f"{prefix}.model {op} 'r%'") == Comparison(
        Identifier(entity, "model"), op, "r%", 0
    )


@pytest.mark.parametrize("op", ["IN", "NOT IN", "in", "not in"])
def test_param_in_lists(op: str) -> None:
    cmp = one(f"params.model {op} ('rf', \"lr\",'x''y')")
    assert cmp == Comparison(param("model"), op.upper(), ("rf", "lr", "x'y"), 0)


def test_single_item_in_list() -> None:
    assert one("tags.team IN ('red')").value == ("red",)


@pytest.mark.parametrize("op", ["IS NULL", "IS NOT NULL"])
def test_param_and_tag_null_tests(op: str) -> None:
    assert parse_filter(f"params.depth {op}") == Comparison(param("depth"), op, None, 0)
    assert parse_filter(f"tags.team {op}") == Comparison(tag("team"), op, None, 0)


# -- runs: attributes and datasets -----------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["run_id", "run_name", "status", "user_id", "artifact_uri", "lifecycle_stage"]
)
@pytest.mark.parametrize("prefix", ["", "attributes.", "attribute.", "attr.", "run."])
def test_run_string_attributes(prefix: str, key: str) -> None:
    assert parse_filter(f"{prefix}{key} = 'x'") == Comparison(attr(key), "=", "x", 0)
    assert one(f"{prefix}{key} NOT IN ('a', 'b')").value == ("a", "b")
    assert one(f"{prefix}{key} ILIKE '%a%'").op == "ILIKE"


@pytest.mark.parametrize(
    ("field", "key"),
    [
        ("start_time", "start_time"),
        ("end_time", "end_time"),
        ("created", "start_time"),
        ("Created", "start_time"),
        ("attributes.created", "start_time"),
        ("run.end_time", "end_time"),
    ],
)
@pytest.mark.parametrize("op", ["=", "!=", "<", "<=", ">", ">="])
def test_run_time_attributes(field: str, key: str, op: str) -> None:
    cmp = one(f"{field} {op} 1700000000000")
    assert cmp == Comparison(attr(key), op, 1700000000000, 0)
    assert type(cmp.value) is int


@pytest.mark.parametrize(
    ("literal", "expected"),
    [("0", 0), ("-5", -5), ("+7", 7), ("1e3", 1000), ("1.7e12", 1_700_000_000_000), ("2.0", 2)],
)
def test_time_values_are_ints(literal: str, expected: int) -> None:
    value = one(f"start_time >= {literal}").value
    assert type(value) is int
    assert value == expected


@pytest.mark.parametrize("key", ["name", "digest", "context"])
@pytest.mark.parametrize("prefix", ["datasets", "dataset"])
def test_datasets(prefix: str, key: str) -> None:
    assert parse_filter(f"{prefix}.{key} = 'iris'") == Comparison(dataset(key), "=", "iris", 0)
    assert one(f"{prefix}.{key} IN ('a', 'b')").value == ("a", "b")
    assert one(f"{prefix}.{key} NOT LIKE 'a%'").op == "NOT LIKE"


# -- precedence and structure ----------------------------------------------------------------


def _strip(expr: Expr) -> Expr:
    """The tree with every position set to 0, to compare structure only."""
    if isinstance(expr, Comparison):
        return Comparison(expr.ident, expr.op, expr.value, 0)
    if isinstance(expr, And):
        return And(tuple(_strip(e) for e in expr.items))
    if isinstance(expr, Or):
        return Or(tuple(_strip(e) for e in expr.items))
    return Not(_strip(expr.item))


def _p(name: str) -> Comparison:
    return Comparison(param(name), "=", "1", 0)


a, b, c, d = _p("a"), _p("b"), _p("c"), _p("d")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("params.a = '1' AND params.b = '1'", And((a, b))),
        ("params.a = '1' OR params.b = '1'", Or((a, b))),
        ("params.a = '1' OR params.b = '1' AND params.c = '1'", Or((a, And((b, c))))),
        ("params.a = '1' AND params.b = '1' OR params.c = '1'", Or((And((a, b)), c))),
        ("(params.a = '1' OR params.b = '1') AND params.c = '1'", And((Or((a, b)), c))),
        ("NOT params.a = '1' AND params.b = '1'", And((Not(a), b))),
        ("NOT (params.a = '1' AND params.b = '1')", Not(And((a, b)))),
        ("NOT NOT params.a = '1'", Not(Not(a))),
        (
            "params.a = '1' AND NOT params.b = '1' OR NOT params.c = '1'",
            Or((And((a, Not(b))), Not(c))),
        ),
        ("params.a = '1' AND params.b = '1' AND params.c = '1'", And((a, b, c))),
        ("(params.a = '1' AND params.b = '1') AND params.c = '1'", And((a, b, c))),
        ("params.a = '1' AND (params.b = '1' AND params.c = '1')", And((a, b, c))),
        (
            "params.a = '1' OR (params.b = '1' OR params.c = '1') OR params.d = '1'",
            Or((a, b, c, d)),
        ),
        (
            "(params.a = '1' OR params.b = '1') AND (params.c = '1' OR params.d = '1')",
            And((Or((a, b)), Or((c, d)))),
        ),
        ("((((params.a = '1'))))", a),
        ("(params.a = '1')", a),
        ("params.a = '1' and params.b = '1' Or not params.c = '1'", Or((And((a, b)), Not(c)))),
    ],
)
def test_precedence(text: str, expected: Expr) -> None:
    result = parse_filter(text)
    assert result is not None
    assert _strip(result) == expected


def test_positions_of_comparisons() -> None:
    text = "  metrics.acc > 0.9 AND (params.model = 'rf' OR NOT tags.team ILIKE 'r%')"
    assert parse_filter(text) == And(
        (
            Comparison(metric("acc"), ">", 0.9, 2),
            Or(
                (
                    Comparison(param("model"), "=", "rf", 25),
                    Not(Comparison(tag("team"), "ILIKE", "r%", 52)),
                )
            ),
        )
    )
    assert text[52:].startswith("tags.team")


def test_position_of_an_aggregate_is_the_function_name() -> None:
    expr = parse_filter("params.a = '1' AND max(metrics.acc) > 1")
    assert isinstance(expr, And)
    assert expr.items[1] == Comparison(metric("acc", "max"), ">", 1.0, 19)


def test_whitespace_is_free() -> None:
    compact = parse_filter("metrics.a>1 AND(params.b='x'OR tags.c!=\"y\")")
    spaced = parse_filter(
        "\n metrics.a\t>\t1\nAND  (  params.b  =  'x'  OR  tags.c  !=  \"y\"  )  "
    )
    assert compact is not None
    assert spaced is not None
    assert _strip(compact) == _strip(spaced)
    assert _strip(compact) == And(
        (
            Comparison(metric("a"), ">", 1.0, 0),
            Or((Comparison(param("b"), "=", "x", 0), Comparison(tag("c"), "!=", "y", 0))),
        )
    )


# -- quoting and escapes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ident"),
    [
        ("metrics.`f1 score` > 0", metric("f1 score")),
        ("metrics.`a``b` > 0", metric("a`b")),
        ("params.\"my param\" = 'x'", param("my param")),
        ('params."say ""hi""" = \'x\'', param('say "hi"')),
        ("params.`it's` = 'x'", param("it's")),
        ("tags.mlflow.source.git.commit = 'x'", tag("mlflow.source.git.commit")),
        ("tags.mlflow.`odd key` = 'x'", tag("mlflow.odd key")),
        ("metrics.val/loss < 1", metric("val/loss")),
        (
            "metrics.system/gpu_0_utilization_percentage < 1",
            metric("system/gpu_0_utilization_percentage"),
        ),
        ("params.a-b:c.d = 'x'", param("a-b:c.d")),
        ("params.1st = 'x'", param("1st")),
        ("metrics.`δ loss` < 1", metric("δ loss")),
        ("attributes.`run_name` = 'x'", attr("run_name")),
        ("params.`and` = 'x'", param("and")),
        ("params.and = 'x'", param("and")),
    ],
)
def test_keys(text: str, ident: Identifier) -> None:
    assert one(text).ident == ident


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("'rf'", "rf"),
        ('"rf"', "rf"),
        ("''", ""),
        ("'it''s'", "it's"),
        (r"'it\'s'", "it's"),
        ('"say ""hi"""', 'say "hi"'),
        (r'"say \"hi\""', 'say "hi"'),
        (r"'a\\b'", "a\\b"),
        (r"'100\%'", "100\\%"),
        (r"'a\_b'", "a\\_b"),
        ("'with \"double\" inside'", 'with "double" inside'),
        ("\"with 'single' inside\"", "with 'single' inside"),
        ("'AND OR NOT ( ) ,'", "AND OR NOT ( ) ,"),
        ("'multi\nline'", "multi\nline"),
        ("'ünïcödé ✓'", "ünïcödé ✓"),
    ],
)
def test_string_values(literal: str, value: str) -> None:
    assert one(f"tags.t = {literal}").value == value


# -- other kinds -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name = 'e1'", Comparison(attr("name"), "=", "e1", 0)),
        ("attributes.name LIKE 'e%'", Comparison(attr("name"), "LIKE", "e%", 0)),
        ("name NOT ILIKE 'E%'", Comparison(attr("name"), "NOT ILIKE", "E%", 0)),
        ("experiment_id IN ('1', '2')", Comparison(attr("experiment_id"), "IN", ("1", "2"), 0)),
        ("experiment_id != '0'", Comparison(attr("experiment_id"), "!=", "0", 0)),
        ("creation_time >= 17", Comparison(attr("creation_time"), ">=", 17, 0)),
        ("last_update_time < 18", Comparison(attr("last_update_time"), "<", 18, 0)),
        ("tags.owner = 'me'", Comparison(tag("owner"), "=", "me", 0)),
        ("tags.owner IS NULL", Comparison(tag("owner"), "IS NULL", None, 0)),
        ("tags.owner IN ('a')", Comparison(tag("owner"), "IN", ("a",), 0)),
    ],
)
def test_experiments(text: str, expected: Comparison) -> None:
    assert parse_filter(text, "experiments") == expected


def test_experiments_combine_with_or() -> None:
    assert parse_filter("name = 'e03' OR name = 'e05'", "experiments") == Or(
        (Comparison(attr("name"), "=", "e03", 0), Comparison(attr("name"), "=", "e05", 16))
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name = 'm'", Comparison(attr("name"), "=", "m", 0)),
        ("name ILIKE '%m%'", Comparison(attr("name"), "ILIKE", "%m%", 0)),
        ("name IN ('a', 'b')", Comparison(attr("name"), "IN", ("a", "b"), 0)),
        ("tags.`stage gate` != 'x'", Comparison(tag("stage gate"), "!=", "x", 0)),
        ("tags.x IS NOT NULL", Comparison(tag("x"), "IS NOT NULL", None, 0)),
    ],
)
def test_registered_models(text: str, expected: Comparison) -> None:
    assert parse_filter(text, "registered_models") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name = 'm'", Comparison(attr("name"), "=", "m", 0)),
        ("run_id IN ('r1', 'r2')", Comparison(attr("run_id"), "IN", ("r1", "r2"), 0)),
        ("source_path LIKE 's3://%'", Comparison(attr("source_path"), "LIKE", "s3://%", 0)),
        (
            "current_stage NOT IN ('Archived')",
            Comparison(attr("current_stage"), "NOT IN", ("Archived",), 0),
        ),
        ("version_number > 2", Comparison(attr("version_number"), ">", 2, 0)),
        ("version = 3", Comparison(attr("version_number"), "=", 3, 0)),
        ("attributes.version <= 3", Comparison(attr("version_number"), "<=", 3, 0)),
        ("tags.validated = 'yes'", Comparison(tag("validated"), "=", "yes", 0)),
    ],
)
def test_model_versions(text: str, expected: Comparison) -> None:
    assert parse_filter(text, "model_versions") == expected


# -- order_by --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("metrics.acc", OrderKey(metric("acc"), True)),
        ("metrics.acc DESC", OrderKey(metric("acc"), False)),
        ("metrics.acc asc", OrderKey(metric("acc"), True)),
        ("max(metrics.acc) DESC", OrderKey(metric("acc", "max"), False)),
        ("min(metrics.`val loss`) Desc", OrderKey(metric("val loss", "min"), False)),
        ("params.depth DESC", OrderKey(param("depth"), False)),
        ("tags.team", OrderKey(tag("team"), True)),
        ("tags.mlflow.runName ASC", OrderKey(tag("mlflow.runName"), True)),
        ("attributes.run_name", OrderKey(attr("run_name"), True)),
        ("run_id", OrderKey(attr("run_id"), True)),
        ("status DESC", OrderKey(attr("status"), False)),
        ("user_id", OrderKey(attr("user_id"), True)),
        ("artifact_uri", OrderKey(attr("artifact_uri"), True)),
        ("start_time DESC", OrderKey(attr("start_time"), False)),
        ("created DESC", OrderKey(attr("start_time"), False)),
        ("end_time", OrderKey(attr("end_time"), True)),
        ("experiment_id", OrderKey(attr("experiment_id"), True)),
        ("  run_name   desc  ", OrderKey(attr("run_name"), False)),
    ],
)
def test_order_by_runs(item: str, expected: OrderKey) -> None:
    assert parse_order_by([item]) == [expected]
    assert parse_order_by([item], "runs") == [expected]


@pytest.mark.parametrize(
    ("kind", "keys"),
    [
        ("experiments", ["name", "experiment_id", "creation_time", "last_update_time"]),
        ("registered_models", ["name", "creation_timestamp", "last_updated_timestamp"]),
        (
            "model_versions",
            ["name", "version_number", "creation_timestamp", "last_updated_timestamp", "run_id"],
        ),
    ],
)
def test_order_by_other_kinds(kind: SearchKind, keys: list[str]) -> None:
    items = [f"{key} DESC" for key in keys]
    assert parse_order_by(items, kind) == [OrderKey(attr(key), False) for key in keys]
    assert parse_order_by(keys, kind) == [OrderKey(attr(key), True) for key in keys]


def test_order_by_version_alias() -> None:
    assert parse_order_by(["version DESC"], "model_versions") == [
        OrderKey(attr("version_number"), False)
    ]


def test_order_by_many_and_none() -> None:
    assert parse_order_by(None) == []
    assert parse_order_by([]) == []
    assert parse_order_by(["tags.team ASC", "run_name DESC"]) == [
        OrderKey(tag("team"), True),
        OrderKey(attr("run_name"), False),
    ]


def test_order_by_single_string_is_one_item() -> None:
    assert parse_order_by("metrics.acc DESC") == [OrderKey(metric("acc"), False)]


def test_order_by_tuple_of_items() -> None:
    assert parse_order_by(("name",), "experiments") == [OrderKey(attr("name"))]


@pytest.mark.parametrize(
    ("kind", "item", "fragment"),
    [
        ("runs", "lifecycle_stage", "unknown run attribute 'lifecycle_stage'"),
        ("runs", "datasets.name", "runs cannot be sorted by datasets"),
        ("experiments", "tags.x", "experiments cannot be sorted by tags"),
        ("experiments", "max(metrics.a)", "experiments cannot be sorted by metrics"),
        ("registered_models", "version_number", "registered models can be sorted by"),
        ("model_versions", "source_path", "model versions can be sorted by"),
        ("runs", "metrics.acc DESC ASC", "expected the end of the clause"),
        ("runs", "metrics.acc up", "expected ASC, DESC or the end of the clause, found 'up'"),
        ("runs", "metrics.acc, params.a", "found ','"),
        ("runs", "", "empty order_by clause"),
        ("runs", "   ", "empty order_by clause"),
        ("runs", "DESC", "expected a sort key"),
        ("runs", "max(params.a)", "max() applies to metrics only"),
    ],
)
def test_order_by_errors(kind: SearchKind, item: str, fragment: str) -> None:
    with pytest.raises(InvalidArgument, match="Invalid order_by clause") as info:
        parse_order_by([item], kind)
    assert fragment in info.value.message
    assert "at position" in info.value.message


def test_order_by_item_must_be_a_string() -> None:
    with pytest.raises(InvalidArgument, match="expected a string"):
        parse_order_by([3])  # type: ignore[list-item]


def test_order_by_lists_sortable_attributes() -> None:
    with pytest.raises(InvalidArgument) as info:
        parse_order_by(["bogus"], "experiments")
    assert (
        "experiments can be sorted by creation_time, experiment_id, last_update_time, name"
        in info.value.message
    )


# -- results are values ----------------------------------------------------------------------


def test_nodes_are_frozen_and_hashable() -> None:
    expr = parse_filter("params.a = '1' AND (metrics.b > 2 OR NOT tags.c IN ('x', 'y'))")
    assert expr is not None
    assert hash(expr) == hash(
        parse_filter("params.a = '1' AND (metrics.b > 2 OR NOT tags.c IN ('x', 'y'))")
    )
    with pytest.raises(AttributeError):
        expr.items = ()  # type: ignore[misc, union-attr]

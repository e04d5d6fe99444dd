"""MLflow filter strings and artifact paths, parsed without a database."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocols_app.mlflow.filters import Condition, parse_filter
from protocols_app.mlflow.paths import artifact_path
from protocols_app.mlflow.protocol import MlflowError

FIELDS = {"name", "run_id", "tag"}


@pytest.mark.parametrize(
    "text,expected",
    [
        ("", []),
        ("tag.`mlflow.prompt.is_prompt` != 'true'", [Condition("tag", "mlflow.prompt.is_prompt", "!=", "true")]),
        ("name='iris-clf'", [Condition("name", "", "=", "iris-clf")]),
        (
            "name = \"iris\" AND tags.team = 'a b'",
            [Condition("name", "", "=", "iris"), Condition("tag", "team", "=", "a b")],
        ),
        (
            "name LIKE 'ir%' and name ILIKE '%CLF'",
            [Condition("name", "", "LIKE", "ir%"), Condition("name", "", "ILIKE", "%CLF")],
        ),
        ("run_id IN ('a', 'b')", [Condition("run_id", "", "IN", ("a", "b"))]),
        ("name = 'it''s'", [Condition("name", "", "=", "it's")]),
        ("attributes.name = 'x'", [Condition("name", "", "=", "x")]),
    ],
)
def test_filters_the_client_and_its_users_send(text, expected):
    assert parse_filter(text, allowed=FIELDS) == expected


@pytest.mark.parametrize(
    "text",
    [
        "name",
        "name =",
        "name = 'a' AND",
        "name = 'a' OR name = 'b'",
        "NOT name = 'a'",
        "name = 'a' name = 'b'",
        "(name = 'a')",
        "owner = 'x'",
        "name > 'a'",
        "run_id IN 'a'",
        "run_id IN ('a'",
        "name = 'unterminated",
        "name = 'a'; DROP TABLE x",
        "x" * 5000,
    ],
)
def test_anything_else_is_an_invalid_parameter_with_a_sentence(text):
    with pytest.raises(MlflowError) as refused:
        parse_filter(text, allowed=FIELDS)
    assert refused.value.code == "INVALID_PARAMETER_VALUE" and refused.value.message


@given(st.text(max_size=200))
def test_no_filter_text_raises_anything_but_an_mlflow_error(text):
    try:
        parse_filter(text, allowed=FIELDS)
    except MlflowError:
        pass


@pytest.mark.parametrize(
    "condition,value,expected",
    [
        (Condition("tag", "k", "!=", "true"), None, True),
        (Condition("tag", "k", "!=", "true"), "true", False),
        (Condition("name", "", "LIKE", "ir%"), "iris", True),
        (Condition("name", "", "LIKE", "ir%"), "IRIS", False),
        (Condition("name", "", "ILIKE", "ir%"), "IRIS", True),
        (Condition("name", "", "LIKE", "i_is"), "iris", True),
        (Condition("name", "", "LIKE", "a.c"), "abc", False),  # '.' is literal
    ],
)
def test_conditions_match_like_mlflow(condition, value, expected):
    assert condition.matches(value) is expected


@pytest.mark.parametrize(
    "path",
    ["runs/alice/abc/artifacts/MLmodel", "versions/alice/iris-clf/1.0.0-rc.1/model.skops", "a/b+c=d@e/f_g.h-i"],
)
def test_registry_managed_paths_are_accepted(path):
    assert "/".join(artifact_path(path)) == path


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/etc/passwd",
        "runs/../etc",
        "runs/./x",
        "runs//x",
        "runs/x/",
        "runs\\x",
        "runs/%2e%2e/x",
        "runs/a\x00b",
        "runs/.hidden",
        "runs/..",
        "runs/...",
        "runs/a b",
        "runs/ä",
        "C:/x",
        "file:///etc/passwd",
        "/".join(["a"] * 17),
        "a" * 1025,
    ],
)
def test_everything_outside_the_allow_list_is_refused(path):
    with pytest.raises(MlflowError) as refused:
        artifact_path(path)
    assert refused.value.code == "INVALID_PARAMETER_VALUE"

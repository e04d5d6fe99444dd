"""SemVer parsing and the sortable key stored beside each version."""

import random

import pytest

from models_app.semver import RELEASE_KEY, InvalidVersion, parse_version

# SemVer 2.0 §11's own example, lowest first, plus numeric-vs-lexical traps.
ORDERED = [
    "0.0.1",
    "0.9.0",
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "1.0.1",
    "1.9.0",
    "1.10.0",
    "2.0.0-0",
    "2.0.0-1",
    "2.0.0-10",
    "2.0.0-A",
    "2.0.0-a",
    "2.0.0",
    "10.0.0",
]


def key(text: str) -> tuple:
    return parse_version(text).ordering


def test_keys_sort_in_semver_order():
    shuffled = ORDERED[:]
    random.Random(7).shuffle(shuffled)
    assert sorted(shuffled, key=key) == ORDERED


def test_keys_compare_the_same_way_as_plain_strings():
    # The database compares prerelease_key as a string; it must agree with Python's order.
    keys = [parse_version(text).prerelease_key for text in ORDERED if text.startswith("1.0.0")]
    assert keys == sorted(keys)


def test_a_release_sorts_after_its_prereleases():
    assert parse_version("1.0.0").prerelease_key == RELEASE_KEY
    assert parse_version("1.0.0-rc.1").prerelease_key < RELEASE_KEY


def test_parts_are_stored():
    parsed = parse_version(" 2.13.4-rc.1 ")
    assert (parsed.text, parsed.major, parsed.minor, parsed.patch) == ("2.13.4-rc.1", 2, 13, 4)


@pytest.mark.parametrize(
    "text",
    [
        "v1.0.0",
        "V1.0.0",
        "1.0",
        "1",
        "1.0.0+build",
        "1.0.0-rc.1+sha.5",
        "01.0.0",
        "1.0.0-01",
        "1.0.0-",
        "1..0",
        "",
        None,
        "1.0.0 rc1",
        "1.0.0-é",
    ],
)
def test_it_refuses_what_is_not_a_plain_semver(text):
    with pytest.raises(InvalidVersion):
        parse_version(text)


def test_it_refuses_numbers_that_do_not_fit_a_column():
    with pytest.raises(InvalidVersion):
        parse_version(f"{2**31}.0.0")


def test_it_refuses_very_long_versions():
    with pytest.raises(InvalidVersion):
        parse_version("1.0.0-" + "a" * 80)


def test_the_leading_v_message_shows_the_fix():
    with pytest.raises(InvalidVersion, match="like 1.0.0"):
        parse_version("v1.0.0")

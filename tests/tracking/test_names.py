"""Readable random run names."""

from __future__ import annotations

import random
import re

from mltrail._run_names import ADJECTIVES, NOUNS, generate_run_name

NAME = re.compile(r"^([a-z]+)-([a-z]+)-(0|[1-9][0-9]{0,2})$")


def test_format() -> None:
    for _ in range(500):
        name = generate_run_name()
        match = NAME.match(name)
        assert match, name
        adjective, noun, number = match.groups()
        assert adjective in ADJECTIVES
        assert noun in NOUNS
        assert 0 <= int(number) <= 999


def test_word_lists_are_large_unique_and_plain() -> None:
    for words in (ADJECTIVES, NOUNS):
        assert len(words) >= 100
        assert len(set(words)) == len(words)
        assert all(re.fullmatch(r"[a-z]{2,12}", w) for w in words)
    assert not set(ADJECTIVES) & set(NOUNS)


def test_variety() -> None:
    names = [generate_run_name() for _ in range(1000)]
    assert len(set(names)) >= 990
    parts = [NAME.match(n).groups() for n in names]  # type: ignore[union-attr]
    assert len({a for a, _, _ in parts}) >= 80
    assert len({n for _, n, _ in parts}) >= 80
    assert len({x for _, _, x in parts}) >= 500


def test_seeding_random_does_not_repeat_names() -> None:
    random.seed(1234)
    first = [generate_run_name() for _ in range(5)]
    random.seed(1234)
    second = [generate_run_name() for _ in range(5)]
    assert first != second

"""validate_artifact_path: what passes, what is refused and how the refusal reads."""

from __future__ import annotations

import os

import pytest

from mltrail._exceptions import InvalidArgument
from mltrail.artifacts import validate_artifact_path
from mltrail.artifacts._paths import is_valid_segment, is_within


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (None, ""),
        ("", ""),
        ("model", "model"),
        ("model/MLmodel", "model/MLmodel"),
        ("plots/", "plots"),
        ("a b/c d.txt", "a b/c d.txt"),
        ("file.tar.gz", "file.tar.gz"),
        ("...x/x..", "...x/x.."),
        (".hidden/.env", ".hidden/.env"),
        ("100%.txt", "100%.txt"),  # not a valid escape: left alone
        ("a%20b.txt", "a%20b.txt"),  # returned undecoded
        ("metrics/loss:v1.txt", "metrics/loss:v1.txt"),  # a colon past the first segment
        ("données/模型.bin", "données/模型.bin"),
    ],
)
def test_accepted_paths(path: str | None, expected: str) -> None:
    assert validate_artifact_path(path) == expected


@pytest.mark.parametrize(
    ("path", "rule"),
    [
        ("..", "'..' segments"),
        ("../x", "'..' segments"),
        ("a/../../x", "'..' segments"),
        ("a/..", "'..' segments"),
        ("%2e%2e/x", "'..' segments"),
        ("%2E%2E/x", "'..' segments"),
        ("%2e%2E%2fx", "'..' segments"),
        ("%252e%252e/x", "'..' segments"),
        ("%25252e%25252e/x", "'..' segments"),
        ("%2525252E%2525252E/x", "'..' segments"),
        ("..%2fx", "'..' segments"),
        ("%%32%65%%32%65/x", "'..' segments"),  # "%%32%65" decodes to "%2e", then to "."
        ("\uff0e\uff0e/x", "'..' segments"),  # fullwidth dots, NFKC ".."
        ("a\uff0f..\uff0fb", "'..' segments"),  # fullwidth solidus
        (".", "'.' and '..' segments"),
        ("./a", "'.' and '..' segments"),
        ("a/./b", "'.' and '..' segments"),
        ("a/...", "only dots"),
        ("a/.. /b", "only dots"),
        ("/etc/passwd", "absolute paths"),
        ("//proc/self/root", "absolute paths"),
        ("%2fetc%2fpasswd", "absolute paths"),
        ("C:\\Windows\\win.ini", "backslashes"),
        ("c:/windows/win.ini", "scheme or drive prefix"),
        ("C:x", "scheme or drive prefix"),
        ("a/C:/x", "drive prefix ('C:') is not allowed in any segment"),
        ("\\\\server\\share\\x", "backslashes"),
        ("a\\b", "backslashes"),
        ("..%5cx", "backslashes"),
        ("a\uff3cb", "backslashes"),  # fullwidth reverse solidus, NFKC "\"
        ("a\x00b", "NUL bytes"),
        ("a%00b", "NUL bytes"),
        ("a%2500b", "NUL bytes"),
        ("a/b\nc", "control characters"),
        ("a/..;/b", "path parameters"),
        ("a;b", "path parameters"),
        ("a%3bb", "path parameters"),
        ("a#b", "fragments"),
        ("a%23b", "fragments"),
        ("a?b", "query strings"),
        ("a%3Fb", "query strings"),
        ("file:/etc/passwd", "scheme or drive prefix"),
        ("file:///etc/passwd", "scheme or drive prefix"),
        ("FILE:x", "scheme or drive prefix"),
        ("s3://bucket/key", "scheme or drive prefix"),
        ("http://evil/x", "scheme or drive prefix"),
        ("mlflow-artifacts:/x", "scheme or drive prefix"),
        (":x", "scheme or drive prefix"),
        ("file%3a/etc/passwd", "scheme or drive prefix"),
        ("~/x", "leading '~'"),
        ("~root/.ssh", "leading '~'"),
        ("%7e/x", "leading '~'"),
        ("a//b", "empty path segments"),
        ("a/b//", "empty path segments"),
        ("a%2f%2fb", "empty path segments"),
    ],
)
def test_refused_paths_name_the_path_and_the_rule(path: str, rule: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        validate_artifact_path(path)
    message = str(info.value)
    assert repr(path) in message
    assert rule in message
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_decoded_form_is_shown() -> None:
    with pytest.raises(InvalidArgument, match=r"found in '\.\./x'"):
        validate_artifact_path("%252e%252e/x")


def test_endless_encoding_is_refused() -> None:
    path = "%" + "25" * 20 + "2e"
    with pytest.raises(InvalidArgument, match="levels of percent-encoding"):
        validate_artifact_path(path)


@pytest.mark.parametrize("value", [b"a/b", 3, ["a"], os.curdir.encode()])
def test_non_strings_are_refused(value: object) -> None:
    with pytest.raises(InvalidArgument, match="must be a string"):
        validate_artifact_path(value)  # type: ignore[arg-type]


def test_is_valid_segment() -> None:
    assert is_valid_segment("a.txt")
    for bad in ("", "a/b", "..", ".", "a;b", "c:", "~x"):
        assert not is_valid_segment(bad), bad


def test_is_within() -> None:
    root = os.path.join(os.sep, "srv", "root")
    assert is_within(root, root)
    assert is_within(os.path.join(root, "a"), root)
    assert not is_within(os.path.join(os.sep, "srv", "root2"), root)  # a sibling with the prefix
    assert not is_within(os.path.join(os.sep, "srv"), root)
    assert is_within(os.path.join(os.sep, "x"), os.sep)

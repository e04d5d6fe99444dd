"""Semantic versions, parsed once and stored as parts that sort correctly in SQL.

`python-semver` does the parsing and validation; what it cannot give is an ordering key a
database can sort on, so `sort_key` encodes the pre-release part into a string that
compares, character by character, the way SemVer 2.0 §11 says versions compare, in any
collation (it uses only digits and lowercase hex letters).
"""

from dataclasses import dataclass

import semver

MAX_PART = 2**31 - 1
RELEASE_KEY = "z"  # sorts after every pre-release key, which all start with 0 or 1


class InvalidVersion(ValueError):
    pass


@dataclass(frozen=True)
class ParsedVersion:
    text: str
    major: int
    minor: int
    patch: int
    prerelease_key: str

    @property
    def ordering(self) -> tuple[int, int, int, str]:
        return (self.major, self.minor, self.patch, self.prerelease_key)


def _identifier_key(identifier: str) -> str:
    # Numeric identifiers sort before alphanumeric ones and by value (no leading zeros in
    # SemVer, so length then digits is value order); alphanumeric ones sort by ASCII.
    # Both encodings are prefix-free, so a shorter identifier list sorts first.
    if identifier.isdigit():
        return f"0{len(identifier):02d}{identifier}"
    return "1" + identifier.encode("ascii").hex() + "00"


def prerelease_key(prerelease: str | None) -> str:
    if not prerelease:
        return RELEASE_KEY
    return "".join(_identifier_key(part) for part in prerelease.split("."))


def parse_version(text: str) -> ParsedVersion:
    text = (text or "").strip()
    if text.startswith(("v", "V")):
        raise InvalidVersion(
            f"'{text}' is not a semantic version: write it without the leading 'v', like {text[1:]!s}."
        )
    try:
        info = semver.Version.parse(text)
    except (ValueError, TypeError):
        raise InvalidVersion(
            f"'{text}' is not a semantic version: use MAJOR.MINOR.PATCH with an optional "
            "pre-release, like 1.4.0 or 2.0.0-rc.1."
        ) from None
    if info.build:
        raise InvalidVersion(f"'{text}' has build metadata (+{info.build}); versions here take no build metadata.")
    if max(info.major, info.minor, info.patch) > MAX_PART:
        raise InvalidVersion(f"'{text}' has a number larger than {MAX_PART}.")
    if len(text) > 64:
        raise InvalidVersion("A version is at most 64 characters long.")
    return ParsedVersion(
        text=str(info),
        major=info.major,
        minor=info.minor,
        patch=info.patch,
        prerelease_key=prerelease_key(info.prerelease),
    )

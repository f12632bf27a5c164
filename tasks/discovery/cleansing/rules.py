"""The cleansing rule file, parsed and checked once (pure: a dict in, frozen rules out).

Rules are data so that a consultant can add a null token, a synonym or an OS spelling without a
code change, and so that a run can say which version of the rules cleaned it. A malformed file
(an unknown target value, a regex that does not compile) fails here, at load time, with the
place in the file that is wrong.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

from db.models.assets import ASSET_TYPES, CRITICALITY, ENVIRONMENTS, SIX_R
from mfactory.settings import PACKAGE_DATA

RULES_FILE = PACKAGE_DATA / "cleansing_rules.yaml"
OS_FAMILIES = ("windows", "linux", "unix", "other")
POWER_STATES = ("on", "off", "suspended")
#: The values each vocabulary may produce: what the assets table (or its documented domain) allows.
ALLOWED_VALUES: dict[str, tuple[str, ...]] = {
    "asset_type": ASSET_TYPES,
    "environment": ENVIRONMENTS,
    "business_criticality": CRITICALITY,
    "power_state": POWER_STATES,
    "six_r_strategy": SIX_R,
    "os_family": OS_FAMILIES,
}


@dataclass(frozen=True)
class Vocabulary:
    """Lower-cased word -> allowed value; ``fallback`` for anything else (None: drop and report)."""

    column: str
    lookup: dict[str, str]
    fallback: str | None
    default: str | None  # for a row (or a sheet) without any value


@dataclass(frozen=True)
class OsProduct:
    name: str
    family: str
    match: str
    exclude: str | None
    versions: tuple[str, ...]
    aliases: dict[str, str]  # release spelled without spaces, lower case -> release
    major: str | None  # regex whose first group is the part of the release os_name keeps


@dataclass(frozen=True)
class CleansingRules:
    version: int
    as_of: dt.date
    squeeze_whitespace: bool
    null_tokens: frozenset[str]
    vocabularies: dict[str, Vocabulary]
    size_to_gib: dict[str, float]
    os_noise: str
    os_families: tuple[tuple[str, str], ...]  # (family, regex), first hit wins
    os_products: tuple[OsProduct, ...]
    ip_separators: str
    ip_wrapping: str
    fqdn_label: str
    env_tag_keys: tuple[str, ...]
    env_name_columns: tuple[str, ...]
    env_place_columns: tuple[str, ...]
    env_place_headers: str
    env_words: tuple[tuple[str, str], ...]  # (environment, whole-word regex), first hit wins


def _regex(pattern: str, where: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"cleansing rules, {where}: bad regex {pattern!r}: {exc}") from exc
    return pattern


def _vocabulary(column: str, spec: Mapping[str, Any], allowed: Mapping[str, tuple[str, ...]]) -> Vocabulary:
    if column not in allowed:
        raise ValueError(f"cleansing rules, vocabularies: no allowed values known for {column!r}")
    values = allowed[column]
    lookup = {v: v for v in values}
    for target, words in (spec.get("words") or {}).items():
        if str(target) not in values:
            raise ValueError(f"cleansing rules, vocabularies.{column}: {target!r} is not one of {values}")
        for word in words or ():
            key = str(word).strip().lower()
            if lookup.get(key, target) != target:
                raise ValueError(f"cleansing rules, vocabularies.{column}: {word!r} means two values")
            lookup[key] = str(target)
    for key in ("fallback", "default"):
        if spec.get(key) is not None and spec[key] not in values:
            raise ValueError(f"cleansing rules, vocabularies.{column}.{key}: {spec[key]!r} not allowed")
    return Vocabulary(column, lookup, spec.get("fallback"), spec.get("default"))


def _product(spec: Mapping[str, Any]) -> OsProduct:
    where = f"os.products[{spec.get('name')!r}]"
    if spec.get("family") not in OS_FAMILIES:
        raise ValueError(f"cleansing rules, {where}: family must be one of {OS_FAMILIES}")
    return OsProduct(
        name=str(spec["name"]),
        family=str(spec["family"]),
        match=_regex(spec["match"], where),
        exclude=_regex(spec["exclude"], where) if spec.get("exclude") else None,
        versions=tuple(_regex(v, where) for v in spec.get("versions") or ()),
        aliases={str(k).lower(): str(v) for k, v in (spec.get("aliases") or {}).items()},
        major=_regex(spec["major"], where) if spec.get("major") else None,
    )


def whole_words(words: list[str]) -> str:
    """A regex hitting any of ``words`` bounded by non-letters ("dev01" and "-prd-" hit, "device" not)."""
    alternatives = "|".join(re.escape(str(w).lower()) for w in sorted(words, key=len, reverse=True))
    return f"(?:^|[^a-z])(?:{alternatives})(?:[^a-z]|$)"  # no lookarounds: pyarrow runs it


def parse_rules(
    document: Mapping[str, Any], allowed: Mapping[str, tuple[str, ...]] = ALLOWED_VALUES
) -> CleansingRules:
    """Check and freeze a rule document (the parsed YAML)."""
    units = {str(k): float(v) for k, v in document["units"]["size_to_gib"].items()}
    if any(v <= 0 for v in units.values()):
        raise ValueError("cleansing rules, units.size_to_gib: factors must be positive")
    os_rules = document["os"]
    network = document["network"]
    inference = document["environment_inference"]
    env_words = []
    for environment, words in inference["words"].items():
        if environment not in allowed["environment"]:
            raise ValueError(f"cleansing rules, environment_inference: {environment!r} is no environment")
        env_words.append((str(environment), whole_words(words)))
    families = []
    for item in os_rules["families"]:
        if item["family"] not in OS_FAMILIES:
            raise ValueError(f"cleansing rules, os.families: {item['family']!r} not in {OS_FAMILIES}")
        families.append((str(item["family"]), _regex(item["pattern"], "os.families")))
    return CleansingRules(
        version=int(document["version"]),
        as_of=document["as_of"],
        squeeze_whitespace=bool(document["trim"]["squeeze_whitespace"]),
        null_tokens=frozenset(str(t).strip().lower() for t in document["null_tokens"]),
        vocabularies={
            column: _vocabulary(column, spec, allowed) for column, spec in document["vocabularies"].items()
        },
        size_to_gib=units,
        os_noise=_regex(os_rules["noise"], "os.noise"),
        os_families=tuple(families),
        os_products=tuple(_product(p) for p in os_rules["products"]),
        ip_separators=_regex(network["list_separators"], "network.list_separators"),
        ip_wrapping=_regex(network["list_wrapping"], "network.list_wrapping"),
        fqdn_label=_regex(network["fqdn_label"], "network.fqdn_label"),
        env_tag_keys=tuple(str(k).lower() for k in inference["tag_keys"]),
        env_name_columns=tuple(inference["name_columns"]),
        env_place_columns=tuple(inference["place_columns"]),
        env_place_headers=_regex(inference["place_headers"], "environment_inference.place_headers"),
        env_words=tuple(env_words),
    )


@lru_cache(maxsize=1)
def cleansing_rules() -> CleansingRules:
    """The shipped rules (mfactory/data/cleansing_rules.yaml)."""
    return parse_rules(yaml.safe_load(RULES_FILE.read_text(encoding="utf-8")))

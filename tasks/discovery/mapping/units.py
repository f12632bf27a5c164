"""The unit of a mapped column and the factor that brings its values to the field's unit.

Where a unit comes from, strongest first: what a known format documents (or a user
confirmed), what the header says (``In MB``, ``GiB``), and the magnitude of the values
(memory of 4096 is MiB, of 16 is GiB). When the sources disagree the proposal says so and
asks for review rather than silently scaling by 1024.
"""

from __future__ import annotations

from dataclasses import dataclass

from tasks.discovery.mapping.headers import HeaderInfo
from tasks.discovery.mapping.knowledge import FieldKnowledge
from tasks.discovery.mapping.profile import ColumnProfile

SIZE_TO_GIB: dict[str, float] = {
    "B": 2.0**-30, "KB": 2.0**-20, "KiB": 2.0**-20, "MB": 2.0**-10, "MiB": 2.0**-10,
    "GB": 1.0, "GiB": 1.0, "TB": 1024.0, "TiB": 1024.0,
}  # fmt: skip
# Median above which a size column without a unit is taken to be in MiB rather than GiB.
MIB_MEDIAN = {"memory_gb": 256.0, "storage_gb": 5000.0, "storage_used_gb": 5000.0}
_BITS_PER_SECOND = {
    "kbps": (0.001, "kb/s"),
    "mbps": (1.0, "Mb/s"),
    "gbps": (1000.0, "Gb/s"),
    "bps": (1e-6, "b/s"),
}
_BYTES_PER_SECOND_TO_MBPS = {"KB": 0.008, "KiB": 0.008192, "MB": 8.0, "MiB": 8.388608, "GB": 8000.0}


@dataclass(frozen=True)
class UnitChoice:
    unit: str | None
    scale: float  # multiply source values by this to get the field's unit
    source: str | None  # signature | learned | header | magnitude | default
    conflict: str | None = None  # why the unit is doubtful (the proposal is then flagged)


def _magnitude_unit(field: FieldKnowledge, profile: ColumnProfile) -> str | None:
    if profile.median is None or field.name not in MIB_MEDIAN:
        return None
    return "MiB" if profile.median >= MIB_MEDIAN[field.name] else "GiB"


def _size(field: FieldKnowledge, header: HeaderInfo, profile: ColumnProfile, hint: str | None,
          hint_source: str | None) -> UnitChoice:  # fmt: skip
    magnitude = _magnitude_unit(field, profile)
    if profile.share("size_text") >= 0.5:
        return UnitChoice(None, 1.0, "values", "the values carry their own units")
    chosen, source = (hint, hint_source) if hint else (header.unit, "header") if header.unit else (None, None)
    if chosen is None:
        chosen, source = (magnitude, "magnitude") if magnitude else (field.unit or "GiB", "default")
    conflict = None
    if magnitude and SIZE_TO_GIB[chosen] != SIZE_TO_GIB[magnitude]:
        if source == "learned":  # a pattern learned on another file: the values of this one win
            conflict = f"learned unit {chosen} does not fit values of median {profile.median:g}"
            chosen, source = magnitude, "magnitude"
        else:
            conflict = (
                f"unit {chosen} ({source}) but values of median {profile.median:g} look like {magnitude}"
            )
    target = SIZE_TO_GIB[field.unit or "GiB"]
    return UnitChoice(chosen, SIZE_TO_GIB[chosen] / target, source, conflict)


def _throughput(header: HeaderInfo, hint: str | None) -> UnitChoice:
    words = set(header.text.split())
    for token, (factor, label) in _BITS_PER_SECOND.items():
        if token in words:
            return UnitChoice(label, factor, "header")
    unit = hint or header.unit
    if unit in _BYTES_PER_SECOND_TO_MBPS:
        return UnitChoice(f"{unit}/s", _BYTES_PER_SECOND_TO_MBPS[unit], "header")
    return UnitChoice("Mbps", 1.0, "default")


def _percent(profile: ColumnProfile) -> UnitChoice:
    if profile.high is not None and profile.high <= 1.0 and profile.integer_share < 1.0:
        return UnitChoice("fraction", 100.0, "magnitude")
    return UnitChoice("%", 1.0, "default")


def choose_unit(
    field: FieldKnowledge,
    header: HeaderInfo,
    profile: ColumnProfile,
    *,
    hint: str | None = None,
    hint_source: str | None = None,
) -> UnitChoice:
    """Unit and scale of a column mapped to ``field``; ``hint`` is a unit a format or a user gave."""
    if field.dimension == "size":
        return _size(field, header, profile, hint, hint_source)
    if field.dimension == "rate_bytes":
        return _throughput(header, hint)
    if field.dimension == "percent":
        return _percent(profile)
    return UnitChoice(None, 1.0, None)

"""Wave planner and roadmap, pure: hand-built graphs with known answers, then property tests.

No database and no Prefect: ``plan_waves`` and ``schedule_waves`` take and return plain data.
The property tests check the planner against an independent oracle (networkx components and
strongly connected components), not against the planner's own bookkeeping.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Sequence
from typing import Any

import networkx as nx
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasks.assessment.roadmap import (
    Blackout,
    milestones,
    parse_blackouts,
    predecessors,
    roadmap_frame,
    schedule_waves,
    wave_days,
)
from tasks.assessment.wave_planner import (
    APPLICATION_CYCLE,
    CRITICALITY_RANK,
    NON_PRODUCTION,
    PINNED_BY_USER,
    PLACED_PINNED,
    SAME_DEPENDENCY_GROUP,
    SPLIT_OVERSIZED_CYCLE,
    SPLIT_OVERSIZED_GROUP,
    STRATEGY_RISK,
    WaveLimits,
    WavePlan,
    plan_waves,
)

REASONS = {SPLIT_OVERSIZED_GROUP, SPLIT_OVERSIZED_CYCLE, PINNED_BY_USER}


def asset(
    id: str,
    env: str = "production",
    app: str | None = None,
    crit: str = "high",
    ram: float = 8.0,
    storage: float = 100.0,
    strategy: str = "rehost",
) -> dict[str, Any]:
    return {
        "id": id,
        "environment": env,
        "application_name": app,
        "business_criticality": crit,
        "memory_gb": ram,
        "storage_gb": storage,
        "six_r_strategy": strategy,
    }


def frame(*assets: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(list(assets))


def deps(*pairs: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame(pairs, columns=["source_asset_id", "target_asset_id"])


def waves_of(plan: WavePlan) -> dict[str, int]:
    return {str(k): int(v) for k, v in plan.wave_by_id.items()}


def crossing(plan: WavePlan) -> set[tuple[str, str, str]]:
    cross = plan.cross_wave_dependencies
    return set(zip(cross["source_asset_id"], cross["target_asset_id"], cross["reason"], strict=True))


# --- hand-built graphs ----------------------------------------------------------------------------


def test_a_cycle_moves_in_one_wave_and_an_isolated_asset_does_not_join_it_needlessly() -> None:
    assets = frame(asset("a"), asset("b"), asset("c"), asset("d"))
    plan = plan_waves(assets, deps(("a", "b"), ("b", "c"), ("c", "a")), WaveLimits(3), pilot_size=0)
    waves = waves_of(plan)
    assert waves["a"] == waves["b"] == waves["c"]
    assert waves["d"] != waves["a"], "a 3-asset wave has no room for the fourth"
    assert plan.cross_wave_dependencies.empty
    assert plan.waves["asset_count"].tolist() == [3, 1]


def test_an_oversized_group_is_cut_between_cycles_not_through_one() -> None:
    """Cycle a-b-c plus chain c->d->e, max 3: the cycle stays whole; only c->d is cut."""
    edges = deps(("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e"))
    plan = plan_waves(frame(*(asset(x) for x in "abcde")), edges, WaveLimits(3), pilot_size=0)
    waves = waves_of(plan)
    assert waves["a"] == waves["b"] == waves["c"] == 1
    assert waves["d"] == waves["e"] == 2
    assert crossing(plan) == {("c", "d", SPLIT_OVERSIZED_GROUP)}
    assert "5 assets" in plan.cross_wave_dependencies["detail"].iloc[0]


def test_a_cycle_bigger_than_a_wave_is_cut_and_reported_as_such() -> None:
    edges = deps(("a", "b"), ("b", "c"), ("c", "a"))
    plan = plan_waves(frame(*(asset(x) for x in "abc")), edges, WaveLimits(2), pilot_size=0)
    assert sorted(plan.waves["asset_count"]) == [1, 2]
    assert {r for _, _, r in crossing(plan)} == {SPLIT_OVERSIZED_CYCLE}
    assert len(plan.cross_wave_dependencies) == 2  # the third asset is cut off from both others


def test_a_hub_too_big_for_a_wave_is_split_breadth_first_keeping_the_hub_with_neighbours() -> None:
    spokes = [f"s{i}" for i in range(1, 7)]
    edges = deps(*(("h", s) for s in spokes))
    plan = plan_waves(frame(asset("h"), *(asset(s) for s in spokes)), edges, WaveLimits(4), pilot_size=0)
    waves = waves_of(plan)
    hub_wave = waves["h"]
    assert sum(1 for s in spokes if waves[s] == hub_wave) == 3, "the hub's wave is filled with its spokes"
    assert plan.waves["asset_count"].tolist() == [4, 3]
    assert crossing(plan) == {("h", s, SPLIT_OVERSIZED_GROUP) for s in spokes if waves[s] != hub_wave}


def test_a_hub_that_fits_moves_whole() -> None:
    spokes = [f"s{i}" for i in range(1, 7)]
    edges = deps(*((s, "h") for s in spokes))
    plan = plan_waves(frame(asset("h"), *(asset(s) for s in spokes)), edges, WaveLimits(7), pilot_size=0)
    assert set(waves_of(plan).values()) == {1}
    assert plan.cross_wave_dependencies.empty


def test_isolated_assets_fill_waves_up_to_the_limit() -> None:
    plan = plan_waves(frame(*(asset(f"i{k}") for k in range(5))), deps(), WaveLimits(2), pilot_size=0)
    assert plan.waves["asset_count"].tolist() == [2, 2, 1]
    assert plan.waves["number"].tolist() == [1, 2, 3]
    assert plan.cross_wave_dependencies.empty


def test_ram_and_storage_limits_bound_waves_and_split_groups() -> None:
    big = [asset(x, ram=64, storage=10) for x in "abc"]
    plan = plan_waves(frame(*big), deps(("a", "b"), ("b", "c")), WaveLimits(10, max_ram_gb=100), pilot_size=0)
    assert plan.waves["memory_gb"].tolist() == [64.0, 64.0, 64.0]
    assert {r for _, _, r in crossing(plan)} == {SPLIT_OVERSIZED_GROUP}
    assert "192.0 GB RAM" in plan.cross_wave_dependencies["detail"].iloc[0]

    disks = [asset(x, storage=600) for x in "pqrs"]
    plan = plan_waves(frame(*disks), deps(), WaveLimits(10, max_storage_gb=1300), pilot_size=0)
    assert plan.waves["storage_gb"].tolist() == [1200.0, 1200.0]


def test_an_asset_over_a_limit_on_its_own_gets_a_wave_alone_and_is_flagged() -> None:
    plan = plan_waves(
        frame(asset("huge", ram=512), asset("x"), asset("y")),
        deps(),
        WaveLimits(5, max_ram_gb=256),
        pilot_size=0,
    )
    alone = plan.waves[~plan.waves["within_limits"].astype(bool)]
    assert alone["asset_count"].tolist() == [1]
    assert alone["note"].tolist() == ["one asset alone is over the limit"]
    assert waves_of(plan)["x"] == waves_of(plan)["y"] != waves_of(plan)["huge"]


def test_non_production_moves_before_production_of_the_same_application() -> None:
    # Ids chosen so the production asset sorts first: the order must come from the rule, not the ids.
    assets = frame(asset("a-prod", "production", app="shop"), asset("b-dev", "development", app="shop"))
    plan = plan_waves(assets, deps(), WaveLimits(10), pilot_size=0)
    waves = waves_of(plan)
    assert waves["b-dev"] < waves["a-prod"]
    order = plan.environment_order.set_index("application_name").loc["shop"]
    assert bool(order["in_order"]) and order["reason"] is None


def test_connected_prod_and_non_prod_stay_together_and_the_conflict_is_reported() -> None:
    assets = frame(asset("a-prod", "production", app="shop"), asset("b-dev", "development", app="shop"))
    plan = plan_waves(assets, deps(("b-dev", "a-prod")), WaveLimits(10), pilot_size=0)
    waves = waves_of(plan)
    assert waves["b-dev"] == waves["a-prod"], "the dependency wins"
    order = plan.environment_order.set_index("application_name").loc["shop"]
    assert not bool(order["in_order"]) and order["reason"] == SAME_DEPENDENCY_GROUP


def test_two_applications_that_require_each_other_first_are_reported_as_a_cycle() -> None:
    """x-dev is tied to y-prod and y-dev to x-prod: one application has to lose."""
    assets = frame(
        asset("x-dev", "development", app="x"),
        asset("y-prod", "production", app="y"),
        asset("y-dev", "development", app="y"),
        asset("x-prod", "production", app="x"),
    )
    plan = plan_waves(assets, deps(("x-dev", "y-prod"), ("y-dev", "x-prod")), WaveLimits(2), pilot_size=0)
    order = plan.environment_order.set_index("application_name")
    assert order["in_order"].astype(bool).sum() == 1
    assert order.loc[~order["in_order"].astype(bool), "reason"].tolist() == [APPLICATION_CYCLE]


def test_pilot_wave_is_first_and_holds_only_safe_small_groups() -> None:
    assets = frame(
        asset("p1", "development", crit="low"),
        asset("p2", "test", crit="low"),
        asset("p3", "test", crit="low"),
        asset("risky", "test", crit="low", strategy="refactor"),
        asset("critical", "test", crit="critical"),
        asset("prod", "production", crit="low"),
    )
    plan = plan_waves(assets, deps(), WaveLimits(10), pilot_size=2)
    waves = waves_of(plan)
    assert plan.pilot_wave == 1
    assert sorted(k for k, w in waves.items() if w == 1) == ["p1", "p2"]
    assert all(waves[k] > 1 for k in ("p3", "risky", "critical", "prod"))
    assert plan.waves.loc[plan.waves["number"] == 1, "pilot"].item()


def test_no_pilot_when_no_group_qualifies() -> None:
    plan = plan_waves(frame(asset("a"), asset("b")), deps(("a", "b")), WaveLimits(5))
    assert plan.pilot_wave is None
    assert not plan.waves["pilot"].any()


def test_a_pinned_asset_takes_its_dependency_group_to_the_pinned_wave() -> None:
    assets = frame(asset("a"), asset("b"), asset("c"), asset("i"))
    plan = plan_waves(assets, deps(("a", "b"), ("b", "c")), WaveLimits(5), pins={"b": 4}, pilot_size=0)
    waves = waves_of(plan)
    assert waves == {"a": 4, "b": 4, "c": 4, "i": 1}
    placement = dict(zip(plan.assets["id"], plan.assets["placement"], strict=True))
    assert placement["b"] == PLACED_PINNED and placement["a"] == "follows_pin"
    assert plan.waves.set_index("number").loc[4, "pinned_assets"] == 1


def test_two_pins_that_pull_a_group_apart_are_reported_as_pinned_by_user() -> None:
    edges = deps(("a", "b"), ("b", "c"), ("c", "d"))
    plan = plan_waves(
        frame(*(asset(x) for x in "abcd")), edges, WaveLimits(5), pins={"a": 2, "d": 3}, pilot_size=0
    )
    waves = waves_of(plan)
    assert (waves["a"], waves["b"], waves["c"], waves["d"]) == (2, 2, 3, 3), "each follows its nearest pin"
    assert crossing(plan) == {("b", "c", PINNED_BY_USER)}


def test_followers_of_a_pin_stop_at_the_wave_limit_and_the_rest_is_planned() -> None:
    edges = deps(("a", "b"), ("b", "c"), ("c", "d"))
    plan = plan_waves(frame(*(asset(x) for x in "abcd")), edges, WaveLimits(2), pins={"a": 3}, pilot_size=0)
    waves = waves_of(plan)
    assert waves["a"] == waves["b"] == 3
    assert waves["c"] == waves["d"] != 3
    assert crossing(plan) == {("b", "c", PINNED_BY_USER)}
    assert plan.waves["within_limits"].astype(bool).all()


def test_pins_to_unknown_assets_or_wave_zero_are_refused() -> None:
    with pytest.raises(ValueError, match="not in the plan"):
        plan_waves(frame(asset("a")), deps(), WaveLimits(2), pins={"zz": 1})
    with pytest.raises(ValueError, match="start at 1"):
        plan_waves(frame(asset("a")), deps(), WaveLimits(2), pins={"a": 0})


def test_bad_limits_and_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        WaveLimits(0)
    with pytest.raises(ValueError, match="max_ram_gb"):
        WaveLimits(5, max_ram_gb=0)
    with pytest.raises(ValueError, match="duplicate"):
        plan_waves(frame(asset("a"), asset("a")), deps(), WaveLimits(2))


def test_edges_to_unknown_assets_and_self_loops_are_ignored() -> None:
    plan = plan_waves(
        frame(asset("a"), asset("b")), deps(("a", "zz"), ("a", "a")), WaveLimits(1), pilot_size=0
    )
    assert plan.cross_wave_dependencies.empty
    assert len(plan.waves) == 2


def test_empty_input_gives_an_empty_plan() -> None:
    plan = plan_waves(pd.DataFrame({"id": []}), deps(), WaveLimits(3))
    assert plan.assets.empty and plan.waves.empty and plan.pilot_wave is None


def _as_uuids(
    assets: pd.DataFrame, edges: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, uuid.UUID]]:
    """The same inventory with UUID ids (as the database returns them), spread over the id space."""
    ids = {
        k: uuid.UUID(int=(i * 0x9E3779B97F4A7C15F39CC0605CEDC835 + 7) % 2**128)
        for i, k in enumerate(assets["id"])
    }
    return (
        assets.assign(id=assets["id"].map(ids)),
        edges.assign(
            source_asset_id=edges["source_asset_id"].map(lambda k: ids.get(k, k)),
            target_asset_id=edges["target_asset_id"].map(lambda k: ids.get(k, k)),
        ),
        ids,
    )


def test_uuid_ids_plan_exactly_like_their_text() -> None:
    """UUIDs take a faster lookup path; it must order and match ids exactly as their text does."""
    assets = frame(*(asset(f"n{i}", "test" if i % 3 else "production", app=f"app{i % 4}") for i in range(30)))
    edges = deps(*((f"n{i}", f"n{(i * 7) % 30}") for i in range(30)), ("n1", "n2"), ("n2", "n1"))
    by_uuid, uuid_edges, ids = _as_uuids(assets, edges)
    as_text = by_uuid.assign(id=by_uuid["id"].astype(str))
    text_edges = uuid_edges.astype(str)
    with_uuids = plan_waves(by_uuid, uuid_edges, WaveLimits(4), pins={ids["n5"]: 3})
    with_text = plan_waves(as_text, text_edges, WaveLimits(4), pins={str(ids["n5"]): 3})
    assert {str(k): w for k, w in waves_of(with_uuids).items()} == waves_of(with_text)
    assert len(with_uuids.cross_wave_dependencies) == len(with_text.cross_wave_dependencies)


def test_a_uuid_sharing_the_low_bits_of_an_asset_id_is_not_that_asset() -> None:
    a, b = uuid.UUID(int=(1 << 64) | 5), uuid.UUID(int=(2 << 64) | 6)
    impostor = uuid.UUID(int=(9 << 64) | 5)
    plan = plan_waves(
        pd.DataFrame([{**asset("x"), "id": a}, {**asset("y"), "id": b}]),
        deps((impostor, b)),
        WaveLimits(1),
        pilot_size=0,
    )
    assert plan.cross_wave_dependencies.empty, "the edge names no asset of the plan"
    with pytest.raises(ValueError, match="duplicate"):
        plan_waves(pd.DataFrame({"id": [a, b, a]}), deps(), WaveLimits(2))


# --- roadmap and blackouts ------------------------------------------------------------------------

MONDAY = dt.date(2026, 1, 5)


def test_waves_are_dated_back_to_back_by_size_and_strategy_mix() -> None:
    dates = schedule_waves([(1, ["rehost"] * 4), (2, ["refactor"] * 10)], MONDAY)
    # Setup 3 days + asset days / 5 at once, at least 5: 3 + 4 x 0.5 / 5 -> 5; 3 + 10 x 2 / 5 = 7.
    assert wave_days(["rehost"] * 4) == 5 and wave_days(["refactor"] * 10) == 7
    assert wave_days(["rehost"] * 50) == 8 and wave_days(["refactor"] * 50) == 23
    assert (dates[0].start, dates[0].end) == (MONDAY, MONDAY + dt.timedelta(days=4))
    assert dates[1].start == dates[0].end + dt.timedelta(days=3)
    assert (dates[1].end - dates[1].start).days + 1 == 7
    assert all(d.delay_days == 0 for d in dates)


def test_a_cutover_is_never_inside_a_blackout() -> None:
    free = schedule_waves([(1, ["rehost"] * 20)], MONDAY)[0]
    freeze = Blackout(
        start=free.cutover_start - dt.timedelta(days=1), end=free.cutover_end, reason="year end"
    )
    held = schedule_waves([(1, ["rehost"] * 20), (2, ["rehost"])], MONDAY, [freeze])
    first = held[0]
    assert first.cutover_start == freeze.end + dt.timedelta(days=1)
    assert first.delay_days == (first.start - MONDAY).days > 0
    assert first.delayed_by == ("year end",)
    assert (first.end - first.start) == (free.end - free.start), "a delay moves the wave, it keeps its length"
    assert held[1].start == first.end + dt.timedelta(days=3)
    # The planning timeline (same milestone shares) puts the cutover on the same days.
    cut = next(m for m in milestones(first.start, first.end) if m["milestone"] == "cutover")
    assert (cut["start"], cut["end"]) == (first.cutover_start.isoformat(), first.cutover_end.isoformat())


def test_back_to_back_blackouts_push_a_cutover_past_both() -> None:
    free = schedule_waves([(1, ["rehost"] * 10)], MONDAY)[0]
    first_freeze = Blackout(free.cutover_start, free.cutover_start + dt.timedelta(days=2), "release")
    second = Blackout(
        first_freeze.end + dt.timedelta(days=1), first_freeze.end + dt.timedelta(days=5), "audit"
    )
    held = schedule_waves([(1, ["rehost"] * 10)], MONDAY, [second, first_freeze])[0]
    assert held.cutover_start == second.end + dt.timedelta(days=1)
    assert held.delayed_by == ("release", "audit")
    for b in (first_freeze, second):
        assert not b.overlaps(held.cutover_start, held.cutover_end)


def test_parallel_waves_share_lanes_and_a_dependent_wave_cuts_over_after_its_dependency() -> None:
    """Three lanes: waves 1-3 start together, 4 takes the first lane to free up; 5 depends on 4."""
    waves = [
        (1, ["rehost"] * 10),
        (2, ["refactor"] * 20),
        (3, ["rehost"] * 4),
        (4, ["rehost"]),
        (5, ["rehost"]),
    ]
    after = predecessors([(5, 4), (2, 2)])
    assert after == {5: {4}}, "links go to the later wave; a wave's link to itself is no order"
    dates = {d.number: d for d in schedule_waves(waves, MONDAY, max_parallel=3, after=after)}
    assert [dates[n].start for n in (1, 2, 3)] == [MONDAY] * 3
    first_free = min(dates[n].end for n in (1, 2, 3)) + dt.timedelta(days=3)
    assert dates[4].start == first_free
    # Wave 5 had a free lane at the same time as 4; same length, so the same cutover day: it starts later,
    # just enough to cut over the day after 4 has, and overlaps 4 otherwise.
    assert dates[5].cutover_start == dates[4].cutover_end + dt.timedelta(days=1)
    assert first_free < dates[5].start < dates[4].end
    assert dates[5].waited_for == (4,) and dates[4].waited_for == ()
    frame = roadmap_frame(list(dates.values()))
    assert list(frame.columns[:3]) == ["number", "start", "end"] and len(frame) == 5


def test_a_blackout_holds_one_parallel_wave_and_not_the_others() -> None:
    free = schedule_waves([(1, ["rehost"] * 10), (2, ["refactor"] * 50)], MONDAY, max_parallel=2)
    assert free[0].start == free[1].start == MONDAY and free[0].cutover_start != free[1].cutover_start
    freeze = Blackout(free[0].cutover_start, free[0].cutover_end, "release")
    assert not freeze.overlaps(free[1].cutover_start, free[1].cutover_end)
    held = schedule_waves([(1, ["rehost"] * 10), (2, ["refactor"] * 50)], MONDAY, [freeze], max_parallel=2)
    assert held[0].cutover_start == freeze.end + dt.timedelta(days=1) and held[0].delayed_by == ("release",)
    assert held[1] == free[1], "the other lane's wave is untouched"
    with pytest.raises(ValueError, match="at least 1"):
        schedule_waves([(1, ["rehost"])], MONDAY, max_parallel=0)


def test_a_hundred_thousand_assets_in_parallel_waves_end_within_a_few_years() -> None:
    """2,000 waves of 50 (the 100k benchmark) at 20 at once finish in under 4 years, not centuries."""
    mix = ["rehost"] * 30 + ["replatform"] * 15 + ["refactor"] * 5
    dates = schedule_waves([(n, mix) for n in range(1, 2001)], MONDAY, max_parallel=20)
    assert max(d.end for d in dates) < MONDAY + dt.timedelta(days=4 * 365)
    sequential = schedule_waves([(n, mix) for n in range(1, 101)], MONDAY)
    assert max(d.end for d in sequential) > max(d.end for d in dates[:100])


def test_blackouts_are_parsed_and_checked() -> None:
    parsed = parse_blackouts(
        [
            {"start": "2026-03-01", "end": "2026-03-02", "reason": "b"},
            {"start": "2026-01-01", "end": "2026-01-01"},
        ]
    )
    assert [b.start for b in parsed] == [dt.date(2026, 1, 1), dt.date(2026, 3, 1)]
    assert parsed[0].reason == "blackout"
    with pytest.raises(ValueError, match=r"blackouts\[0\] ends"):
        parse_blackouts([{"start": "2026-03-02", "end": "2026-03-01"}])
    with pytest.raises(ValueError, match=r"blackouts\[0\]\.end must be an ISO date"):
        parse_blackouts([{"start": "2026-03-02", "end": "soon"}])
    with pytest.raises(ValueError, match="needs 'start' and 'end'"):
        parse_blackouts([{"start": "2026-03-02"}])


@given(
    sizes=st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=8),
    freezes=st.lists(
        st.tuples(st.integers(min_value=0, max_value=200), st.integers(min_value=0, max_value=20)), max_size=5
    ),
)
@settings(max_examples=60, deadline=None)
def test_property_no_cutover_in_any_blackout(sizes: list[int], freezes: list[tuple[int, int]]) -> None:
    blackouts = [
        Blackout(MONDAY + dt.timedelta(days=s), MONDAY + dt.timedelta(days=s + length), f"b{i}")
        for i, (s, length) in enumerate(freezes)
    ]
    dates = schedule_waves([(i + 1, ["replatform"] * k) for i, k in enumerate(sizes)], MONDAY, blackouts)
    for d in dates:
        assert not any(b.overlaps(d.cutover_start, d.cutover_end) for b in blackouts)
        assert d.start <= d.cutover_start <= d.cutover_end <= d.end
    for before, after in itertools.pairwise(dates):
        assert after.start > before.end


# --- properties -----------------------------------------------------------------------------------

ENVS = ("production", "development", "test", "staging", "dr", None)
CRITS = ("low", "medium", "high", "critical", None)
STRATS = ("rehost", "relocate", "replatform", "refactor", "rewrite", None)


@st.composite
def inventories(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(min_value=1, max_value=28))
    ids = [f"a{i:02d}" for i in range(n)]
    rows = [
        {
            "id": ids[i],
            "environment": draw(st.sampled_from(ENVS)),
            "application_name": draw(st.sampled_from(("app1", "app2", "app3", None))),
            "business_criticality": draw(st.sampled_from(CRITS)),
            "six_r_strategy": draw(st.sampled_from(STRATS)),
            "memory_gb": draw(st.one_of(st.none(), st.floats(min_value=0, max_value=64, allow_nan=False))),
            "storage_gb": draw(st.sampled_from((None, 0.0, 50.0, 120.5, 400.0))),
        }
        for i in range(n)
    ]
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=2 * n))
    limits = WaveLimits(
        max_servers=draw(st.integers(min_value=1, max_value=7)),
        max_ram_gb=draw(st.one_of(st.none(), st.floats(min_value=1, max_value=150))),
        max_storage_gb=draw(st.one_of(st.none(), st.sampled_from((100.0, 500.0, 1000.0)))),
    )
    pins = draw(
        st.dictionaries(st.sampled_from(ids), st.integers(min_value=1, max_value=6), max_size=3)
        if draw(st.booleans())
        else st.just({})
    )
    return {
        "assets": pd.DataFrame(rows),
        "edges": deps(*((ids[s], ids[t]) for s, t in pairs)),
        "limits": limits,
        "pins": pins,
        "pilot_size": draw(st.integers(min_value=0, max_value=5)),
    }


def _plan(case: dict[str, Any], assets: pd.DataFrame | None = None) -> WavePlan:
    return plan_waves(
        case["assets"] if assets is None else assets,
        case["edges"],
        case["limits"],
        pins=case["pins"],
        pilot_size=case["pilot_size"],
    )


def _sizes(assets: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """RAM and storage per asset id as the planner counts them (missing or negative = 0)."""

    def gb(column: str) -> list[float]:
        return pd.to_numeric(assets[column]).fillna(0).clip(lower=0).tolist()

    return dict(zip(assets["id"], zip(gb("memory_gb"), gb("storage_gb"), strict=True), strict=True))


def _totals(sizes: dict[str, tuple[float, float]], members: Sequence[str]) -> tuple[int, float, float]:
    return len(members), sum(sizes[k][0] for k in members), sum(sizes[k][1] for k in members)


def _over(limits: WaveLimits, totals: tuple[int, float, float]) -> bool:
    count, ram, storage = totals
    return (
        count > limits.max_servers
        or (limits.max_ram_gb is not None and ram > limits.max_ram_gb + 1e-3)
        or (limits.max_storage_gb is not None and storage > limits.max_storage_gb + 1e-3)
    )


def _graphs(case: dict[str, Any]) -> tuple[nx.Graph, nx.DiGraph]:
    ids = case["assets"]["id"].tolist()
    undirected, directed = nx.Graph(), nx.DiGraph()
    undirected.add_nodes_from(ids)
    directed.add_nodes_from(ids)
    for s, t in zip(case["edges"]["source_asset_id"], case["edges"]["target_asset_id"], strict=True):
        if s != t:
            undirected.add_edge(s, t)
            directed.add_edge(s, t)
    return undirected, directed


@given(case=inventories())
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_property_wave_plan_invariants(case: dict[str, Any]) -> None:
    assets, limits, pins = case["assets"], case["limits"], case["pins"]
    sizes = _sizes(assets)
    plan = _plan(case)
    wave = waves_of(plan)

    # Every asset in exactly one wave, numbered from 1; the wave table adds up.
    assert sorted(wave) == sorted(assets["id"]) and min(wave.values()) >= 1
    counts = pd.Series(wave).value_counts().sort_index()
    assert plan.waves.set_index("number")["asset_count"].to_dict() == counts.to_dict()

    # Pins are respected.
    assert all(wave[k] == w for k, w in pins.items())

    # No wave over its limits, unless one asset alone is, or the user pinned more than fits.
    members: dict[int, list[str]] = {}
    for k, w in wave.items():
        members.setdefault(w, []).append(k)
    for w, ids in members.items():
        if _over(limits, _totals(sizes, ids)):
            pinned_here = [k for k in ids if pins.get(k) == w]
            assert len(ids) == 1 or _over(limits, _totals(sizes, pinned_here)), (w, ids)

    # Every cross-wave dependency is explained; splits only happen to groups too big for a wave.
    undirected, directed = _graphs(case)
    cross = plan.cross_wave_dependencies
    assert set(cross["reason"]) <= REASONS
    for s, t in zip(cross["source_asset_id"], cross["target_asset_id"], strict=True):
        assert wave[s] != wave[t]
    if not pins:
        assert PINNED_BY_USER not in set(cross["reason"])
        for component in nx.connected_components(undirected):
            if not _over(limits, _totals(sizes, sorted(component))):
                assert len({wave[k] for k in component}) == 1, "a group that fits is never split"
        for cycle in nx.strongly_connected_components(directed):
            if not _over(limits, _totals(sizes, sorted(cycle))):
                assert len({wave[k] for k in cycle}) == 1, "a cycle that fits is never split"
    expected_crossing = sum(
        1
        for s, t in zip(case["edges"]["source_asset_id"], case["edges"]["target_asset_id"], strict=True)
        if wave[s] != wave[t]
    )
    assert len(cross) == expected_crossing

    # Pilot first: only whole, safe, non-production groups, within the pilot size.
    if plan.pilot_wave is not None:
        assert plan.pilot_wave == 1
        pilots = [k for k in members[1] if pins.get(k) != 1 and k not in _followers(plan)]
        assert 0 < len(pilots) <= case["pilot_size"]
        rows = assets.set_index("id").loc[pilots]
        assert rows["environment"].isin(NON_PRODUCTION).all()
        assert rows["business_criticality"].map(CRITICALITY_RANK).eq(0).all()
        assert rows["six_r_strategy"].map(STRATEGY_RISK).fillna(1).le(1).all()
        for k in pilots:
            assert all(wave[other] == 1 for other in nx.node_connected_component(undirected, k))

    # Non-production before production of an application, or a stated reason why not.
    order = plan.environment_order
    assert order["reason"].isna().eq(order["in_order"].astype(bool)).all()
    if not pins:
        assert set(order["reason"].dropna()) <= {SAME_DEPENDENCY_GROUP, APPLICATION_CYCLE}


def _followers(plan: WavePlan) -> set[str]:
    return set(plan.assets.loc[plan.assets["placement"] == "follows_pin", "id"])


@given(case=inventories(), seed=st.integers(min_value=0, max_value=2**31 - 1))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_property_deterministic_and_independent_of_row_order(case: dict[str, Any], seed: int) -> None:
    first, again = _plan(case), _plan(case)
    pd.testing.assert_frame_equal(first.assets, again.assets)
    pd.testing.assert_frame_equal(first.cross_wave_dependencies, again.cross_wave_dependencies)
    shuffled = case["assets"].sample(frac=1.0, random_state=seed).reset_index(drop=True)
    moved = _plan(case, shuffled)
    assert waves_of(moved) == waves_of(first)
    # UUID ids (the database's) plan exactly like the same ids written as text.
    by_uuid, uuid_edges, ids = _as_uuids(shuffled, case["edges"])
    pins = {ids[k]: w for k, w in case["pins"].items()}
    with_uuids = plan_waves(by_uuid, uuid_edges, case["limits"], pins=pins, pilot_size=case["pilot_size"])
    as_text = plan_waves(
        by_uuid.assign(id=by_uuid["id"].astype(str)),
        uuid_edges.astype(str),
        case["limits"],
        pins={str(k): w for k, w in pins.items()},
        pilot_size=case["pilot_size"],
    )
    assert waves_of(with_uuids) == waves_of(as_text)

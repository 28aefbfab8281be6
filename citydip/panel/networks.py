"""City-network measures per metro-year from the curated memberships (and ClimActor snapshots).

A *membership* is a distinct (metro, city or county, network) triple, names normalised;
several rows (sources) may describe one membership. Rules:

* conflicting stated join years of one membership are resolved by ``options.conflict_rule``
  (earliest by default); the rows whose year is not used are listed in the drop report and
  the build notes name each conflict and the year used;
* a membership with a stated join year counts from that year until a stated leaving year;
* a membership with no stated join year but a ``member_by`` year (the source shows the city
  as a member by then: an upper bound, not a join year) is undated by default
  (``options.member_by='undated'``). With ``'midpoint'`` its join year is placed inside the
  window [launch year of the network, earliest member_by] by :func:`place_join`;
* other memberships are undated: they enter only ``networks_ever`` unless
  ``options.undated='predate'`` (active in every panel year);
* a metro is a member of a network in year t when any of its memberships is active in t;
  WHO and AARP age-friendly memberships count as one network; ``networks_ever`` also counts
  C40 and Global Covenant memberships seen in the ClimActor snapshots.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from citydip.geo.names import normalize
from citydip.panel.options import PanelOptions
from citydip.panel.schema import NETWORKS
from citydip.sources.curated import NETWORK_LAUNCH

DATASET = "network_memberships (curated)"

#: curated ``network_code`` -> panel network code (one network per code).
NETWORK_OF = {"c40": "c40", "100rc": "100rc", "unesco_creative": "unesco_creative", "strong_cities": "strong_cities",
              "gcom": "gcom", "aarp_age_friendly": "age_friendly", "who_age_friendly": "age_friendly",
              "mayors_for_peace": "mayors_for_peace", "mayors_migration": "mayors_migration"}

#: ClimActor network indicator -> panel network code (networks in both sources).
CLIMACTOR_NETWORKS = {"c40": "c40", "gcom": "gcom"}


def place_join(launch: pd.Series | np.ndarray | int, member_by: pd.Series | np.ndarray | int):
    """Join year (calendar year) placed inside the window [``launch``, ``member_by``] (years).

    The middle year of the window, the later of the two middle years when the window has an
    even number of years: ``(launch + member_by + 1) // 2``. The middle bounds the dating error
    by half the window whatever the true year; the later middle year because the launch year
    is open only in part (the Compact of Mayors from 23 September 2014), so the window's
    midpoint in time falls in the later year (e.g. [2014, 2015] -> 2015, [2014, 2017] -> 2016).
    """
    return (np.asarray(launch) + np.asarray(member_by) + 1) // 2


def memberships(rows: pd.DataFrame, options: PanelOptions) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """One row per membership: join ``start`` and leaving ``end`` years (float, NaN = none), its
    ``basis`` ('stated', 'member_by' or 'undated'); the rows whose year is not used; notes.

    ``rows`` are matched curated rows of sample metros with ``cbsa_code`` and ``net`` (panel code).
    """
    rows = rows.assign(key=rows.cbsa_code + "|" + rows.network_code + "|" + rows.us_city.map(normalize) + "|"
                       + rows.us_state.fillna(""))
    dated = rows.dropna(subset=["year_joined"])
    rule = "min" if options.conflict_rule == "earliest" else "max"
    stated = dated.groupby("key").year_joined.agg(rule)
    years_of = dated.groupby("key").year_joined.agg(lambda s: ";".join(str(int(y)) for y in sorted(set(s))))
    conflicts = sorted(k for k, v in years_of.items() if ";" in v)
    losing = dated.year_joined.ne(dated.key.map(stated))
    reason = ("year not used: conflicting join years resolved by rule '" + options.conflict_rule
              + "' (membership counted from " + dated.key.map(stated).astype(str) + ")")
    dropped = pd.DataFrame({"dataset": DATASET, "record_id": dated.record_id[losing], "reason": reason[losing]})

    table = rows.groupby("key", sort=True).agg(cbsa_code=("cbsa_code", "first"), net=("net", "first"),
                                               network_code=("network_code", "first"), us_city=("us_city", "first"),
                                               us_state=("us_state", "first"))
    table = table.join(stated.rename("stated")).join(rows.groupby("key").member_by.min().rename("bound")).join(
        rows.groupby("key").year_left.min().rename("end"))
    table = table.astype({"stated": "float64", "bound": "float64", "end": "float64"})
    launch = table.network_code.map(lambda c: NETWORK_LAUNCH[c][0]).astype("float64")
    by_bound = table.stated.isna() & table.bound.notna()
    table["basis"] = np.where(table.stated.notna(), "stated", np.where(by_bound, "member_by", "undated"))
    table["start"] = table.stated
    if options.member_by == "midpoint":
        table.loc[by_bound, "start"] = place_join(launch[by_bound], table.bound[by_bound]).astype("float64")
    undated = table.start.isna()
    if options.undated == "predate":
        table.loc[undated, "start"] = options.first_year - 1

    notes = [(f"{len(rows)} membership rows in the sample, {int(rows.year_joined.notna().sum())} with a join "
              f"year, {int((rows.year_joined.isna() & rows.member_by.notna()).sum())} with only a member_by year; "
              f"{len(table)} memberships: {int((table.basis == 'stated').sum())} with a stated join year, "
              f"{int(by_bound.sum())} known only by member_by, {int((table.basis == 'undated').sum())} undated "
              f"(undated rule '{options.undated}', member_by rule '{options.member_by}')")]
    named = "; ".join(f"{_label(table.loc[k])} {int(stated[k])} ({years_of[k]})" for k in conflicts)
    notes.append(f"{len(conflicts)} memberships have conflicting join years; rule '{options.conflict_rule}' "
                 f"applied{': ' + named if named else ''}")
    if options.member_by == "midpoint" and by_bound.any():
        placed = table.start[by_bound].astype(int).value_counts().sort_index()
        notes.append(f"{int(by_bound.sum())} memberships known only by member_by placed at the middle year of "
                     "[network launch year, member_by], the later one when two (member_by rule 'midpoint'): "
                     + ", ".join(f"{n} in {y}" for y, n in placed.items()))
    else:
        notes.append(f"{int(by_bound.sum())} memberships known only by member_by counted as undated "
                     f"(member_by rule '{options.member_by}')")
    late = (table.basis == "stated") & (table.bound < table.stated)
    if late.any():
        notes.append(f"{int(late.sum())} memberships have a member_by year before the join year used (the join year "
                     "is kept): " + "; ".join(f"{_label(table.loc[k])} joined {int(table.stated[k])}, member by "
                                              f"{int(table.bound[k])}" for k in table.index[late]))
    return table.reset_index(drop=True), dropped, notes


def _label(membership: pd.Series) -> str:
    state = "" if pd.isna(membership.us_state) else f", {membership.us_state}"
    return f"{membership.us_city}{state} {membership.network_code}"


def network_measures(members: pd.DataFrame, cbsa_of: pd.Series, climactor_members: pd.DataFrame | None,
                     codes: list[str], options: PanelOptions) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Metro-year network measures, rows not used (with reasons), and notes.

    ``cbsa_of`` maps curated ``record_id`` to the March-2020 CBSA ('' if unmatched);
    ``climactor_members`` has ``cbsa_code`` and ``network`` (panel code) per snapshot member.
    """
    years = list(options.years)
    rows = members.assign(cbsa_code=members.record_id.map(cbsa_of).fillna(""),
                          net=members.network_code.map(NETWORK_OF))
    dropped = []
    unmatched = rows.cbsa_code.eq("")
    outside = ~unmatched & ~rows.cbsa_code.isin(codes)
    for mask, reason in ((unmatched, "no CBSA match (see the place-match report)"),
                         (outside, "metro not in the sample")):
        dropped.append(pd.DataFrame({"dataset": DATASET, "record_id": rows.record_id[mask], "reason": reason}))
    rows = rows[~unmatched & ~outside]
    table, not_used, notes = memberships(rows, options)
    dropped.append(not_used)

    start = table.start.to_numpy(dtype="float64")
    end = table.end.to_numpy(dtype="float64")
    grid = pd.MultiIndex.from_product([sorted(codes), years], names=["cbsa_code", "year"])
    yrs = np.asarray(years, dtype="float64")
    active = (start[:, None] <= yrs[None, :]) & ~(end[:, None] <= yrs[None, :])   # memberships x years
    per_row = pd.DataFrame(active, columns=years).assign(cbsa_code=table.cbsa_code.to_numpy(),
                                                         net=table.net.to_numpy())
    member = per_row.groupby(["cbsa_code", "net"])[years].any()                     # (metro, network) x years
    member.columns.name = "year"
    by_net = member.stack().unstack("net", fill_value=False).reindex(grid, fill_value=False).astype(bool)
    out = grid.to_frame(index=False)
    for net in NETWORKS:
        out[f"net_{net}"] = by_net[net].to_numpy(dtype=bool) if net in by_net else False
    out["networks_dated"] = by_net.sum(axis=1).to_numpy(dtype="int64") if by_net.shape[1] else 0

    ever = rows[["cbsa_code", "net"]]
    if climactor_members is not None and len(climactor_members):
        ever = pd.concat([ever, climactor_members[["cbsa_code", "network"]].rename(columns={"network": "net"})])
    ever_counts = ever[ever.cbsa_code.isin(codes)].drop_duplicates().groupby("cbsa_code").size()
    out["networks_ever"] = out.cbsa_code.map(ever_counts).fillna(0).astype("int64")
    report = pd.concat(dropped, ignore_index=True)
    return out, report, notes

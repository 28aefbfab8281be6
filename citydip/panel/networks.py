"""City-network measures per metro-year from the curated memberships (and ClimActor snapshots).

A metro is a member of a network in year t when at least one of its cities or counties
has a dated join in or before t and has not left by t. Undated memberships ("member as
of" snapshots) enter only ``networks_ever`` unless ``options.undated='predate'``.
``networks_ever`` also counts C40 and Global Covenant memberships seen in the ClimActor
snapshots. WHO and AARP age-friendly memberships count as one network.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from citydip.panel.options import PanelOptions
from citydip.panel.schema import NETWORKS

DATASET = "network_memberships (curated)"

#: curated ``network_code`` -> panel network code (one network per code).
NETWORK_OF = {"c40": "c40", "100rc": "100rc", "unesco_creative": "unesco_creative", "strong_cities": "strong_cities",
              "gcom": "gcom", "aarp_age_friendly": "age_friendly", "who_age_friendly": "age_friendly",
              "mayors_for_peace": "mayors_for_peace", "mayors_migration": "mayors_migration"}

#: ClimActor network indicator -> panel network code (networks in both sources).
CLIMACTOR_NETWORKS = {"c40": "c40", "gcom": "gcom"}


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

    start = rows.year_joined.astype("float64").to_numpy(na_value=np.nan)
    if options.undated == "predate":
        start = np.where(np.isnan(start), years[0] - 1, start)
    end = rows.year_left.astype("float64").to_numpy(na_value=np.nan)
    grid = pd.MultiIndex.from_product([sorted(codes), years], names=["cbsa_code", "year"])
    yrs = np.asarray(years, dtype="float64")
    active = (start[:, None] <= yrs[None, :]) & ~(end[:, None] <= yrs[None, :])   # rows x years
    per_row = pd.DataFrame(active, columns=years).assign(cbsa_code=rows.cbsa_code.to_numpy(), net=rows.net.to_numpy())
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
    n_dated = int(rows.year_joined.notna().sum())
    notes = [f"{len(rows)} membership rows in the sample, {n_dated} with a join year "
             f"(undated rule '{options.undated}')"]
    report = pd.concat(dropped, ignore_index=True)
    return out, report, notes

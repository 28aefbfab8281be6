"""Robustness variants: each switches exactly the choice it names, from the same inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from citydip.panel import variants
from citydip.panel.options import CHOICES, PanelOptions

KEY = ["cbsa_code", "year"]


def test_every_variant_changes_one_choice_from_the_default():
    base = PanelOptions()
    options = variants.variant_options(base)
    assert set(options) == set(variants.VARIANTS)
    for name, opt in options.items():
        changed = {k for k, v in opt.as_dict().items() if base.as_dict()[k] != v}
        assert changed == set(variants.VARIANTS[name][1]), name
    # every alternative of every categorical choice has a variant
    switched = {(k, v) for _, overrides in variants.VARIANTS.values() for k, v in overrides.items()}
    for name, allowed in CHOICES.items():
        for alternative in allowed[1:]:
            assert (name, alternative) in switched, (name, alternative)


def test_a_variant_equal_to_the_base_is_left_out():
    base = PanelOptions(undated="predate")
    assert "undated-predate" not in variants.variant_options(base)


@pytest.fixture(scope="module")
def written(real_inputs, real_build, tmp_path_factory):
    folder = tmp_path_factory.mktemp("variants")
    variants.write_variants(real_inputs, PanelOptions(), folder)
    index, panels = variants.read_variants(folder)
    return index, panels, real_build.panel.set_index(KEY).sort_index()


@pytest.mark.slow
def test_variants_on_real_data_differ_only_where_their_choice_acts(written):
    index, panels, base = written
    assert [v["name"] for v in index] == list(variants.VARIANTS)
    v = {name: p.set_index(KEY).sort_index() for name, p in panels.items()}

    short = v["years-2005-2019"]
    assert len(short) == 1500 and short.index.get_level_values("year").max() == 2019
    pd.testing.assert_series_equal(short.sister_active, base.sister_active.loc[short.index])

    snap = v["consulates-snapshots-only"]
    years = snap.index.get_level_values("year")
    assert snap.consular_posts[years == 2010].isna().all()
    for y in (2016, 2017, 2019):
        assert np.allclose(snap.consular_posts[years == y], base.consular_posts[years == y])
    pd.testing.assert_series_equal(snap.exports_usd, base.exports_usd)

    drop = v["boundary-drop"]
    breaks = base.exports_boundary_break
    assert breaks.any() and drop.exports_usd[breaks].isna().all()
    pd.testing.assert_series_equal(drop.exports_usd[~breaks], base.exports_usd[~breaks])

    predate = v["undated-predate"]
    assert (predate.sister_active >= base.sister_active).all()
    assert (predate.sister_active > base.sister_active).any()
    pd.testing.assert_series_equal(predate.consular_posts, base.consular_posts)

    strict = v["sister-strict"]
    assert (strict.sister_active <= base.sister_active).all()

    fixed = v["size-fixed-cutoffs"]
    cut_lo, cut_hi = PanelOptions().size_cutoffs
    pop = fixed.groupby(level="cbsa_code").first()
    ref = base.xs(2019, level="year").population_persons
    expected = np.where(ref < cut_lo, "small", np.where(ref < cut_hi, "mid", "large"))
    assert (pop.size_class.loc[ref.index].to_numpy() == expected).all()

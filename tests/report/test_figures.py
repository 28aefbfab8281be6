"""Figures: what the axes hold, reference-period marking, byte-identical atomic saves."""

from __future__ import annotations

import os

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.container import ErrorbarContainer

from citydip.errors import CitydipError
from citydip.report import coefficient_plot, event_study_plot, size_class_plot

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _rows(model, terms):
    return pd.DataFrame([{"model": model, "term": t, "estimate": b, "std_error": se, "p_value": 0.01,
                          "conf_low": b - 1.96 * se, "conf_high": b + 1.96 * se, "nobs": 100}
                         for t, b, se in terms])


@pytest.fixture
def tidy() -> pd.DataFrame:
    measures = [("sister_active", 0.010, 0.002), ("consular_posts", 0.009, 0.0016), ("networks_dated", 0.025, 0.006),
                ("log_population", 0.7, 0.07)]
    sizes = [("sister_active_x_small", 0.012, 0.003), ("sister_active_x_mid", 0.008, 0.0025),
             ("sister_active_x_large", 0.010, 0.0025), ("consular_posts", 0.009, 0.0016)]
    return pd.concat([_rows("OLS", measures), _rows("PPML", measures[:3] + [("const", 3.0, 1.0)]),
                      _rows("By size", sizes)], ignore_index=True)


@pytest.fixture
def path() -> pd.DataFrame:
    times = np.arange(-4, 5)
    estimate = np.where(times >= 0, 0.01 * (times + 1), 0.0)
    frame = pd.DataFrame({"event_time": times, "estimate": estimate, "conf_low": estimate - 0.02,
                          "conf_high": estimate + 0.02})
    frame.loc[frame.event_time == -1, ["conf_low", "conf_high"]] = 0.0
    return frame


def _errorbars(fig):
    return [c for c in fig.axes[0].containers if isinstance(c, ErrorbarContainer)]


def _ticklabels(labels):
    return [t.get_text() for t in labels]


def test_coefficient_plot_has_one_errorbar_per_model_and_one_row_per_term(tidy):
    fig = coefficient_plot(tidy, models=["OLS", "PPML"])
    ax = fig.axes[0]
    assert len(_errorbars(fig)) == 2
    ticks = sorted(zip(ax.get_yticks(), _ticklabels(ax.get_yticklabels())), reverse=True)
    # default terms: no controls, no intercept; the terms run top to bottom in order of appearance
    assert [label for _, label in ticks] == ["Sister-city ties (active)", "Consular posts", "City networks joined"]
    assert any(list(line.get_xdata()) == [0, 0] for line in ax.get_lines())  # zero line
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["OLS", "PPML"]
    ols = _errorbars(fig)[0]
    x, _ = ols.lines[0].get_data()
    assert np.allclose(x, [0.010, 0.009, 0.025])


def test_coefficient_plot_with_given_terms_and_labels(tidy):
    fig = coefficient_plot(tidy, terms=["log_population", "const"], labels={"const": "Intercept"})
    assert len(_errorbars(fig)) == 3
    assert sorted(_ticklabels(fig.axes[0].get_yticklabels())) == ["Intercept", "Log population"]
    with pytest.raises(CitydipError, match="none of the models"):
        coefficient_plot(tidy, terms=["nope"])


def test_png_is_written_atomically_and_byte_identical_across_runs(tidy, path, tmp_path):
    for name, draw in (("coef.png", lambda p: coefficient_plot(tidy, path=p)),
                       ("event.png", lambda p: event_study_plot(path, p)),
                       ("size.png", lambda p: size_class_plot(tidy, path=p))):
        first = tmp_path / "a" / name
        second = tmp_path / "b" / name
        draw(first)
        draw(second)
        data = first.read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 5000
        assert data == second.read_bytes()
        assert b"Software" not in data and b"matplotlib" not in data.lower()
        draw(first)  # overwriting gives the same bytes again
        assert first.read_bytes() == data
    assert sorted(os.listdir(tmp_path / "a")) == ["coef.png", "event.png", "size.png"]


@pytest.mark.parametrize("suffix", [".pdf", ".svg"])
def test_vector_formats_are_byte_identical_too(tidy, tmp_path, suffix):
    coefficient_plot(tidy, path=tmp_path / f"a{suffix}")
    coefficient_plot(tidy, path=tmp_path / f"b{suffix}")
    assert (tmp_path / f"a{suffix}").read_bytes() == (tmp_path / f"b{suffix}").read_bytes()


def test_unknown_suffix_is_refused_without_leaving_files(tidy, tmp_path):
    with pytest.raises(CitydipError, match="cannot save"):
        coefficient_plot(tidy, path=tmp_path / "figure.docx")
    assert os.listdir(tmp_path) == []


def test_event_study_marks_the_reference_period(path):
    fig = event_study_plot(path)
    ax = fig.axes[0]
    reference = [c for c in ax.collections if c.get_gid() == "reference-period"]
    assert len(reference) == 1
    assert reference[0].get_offsets().tolist() == [[-1.0, 0.0]]
    (bars,) = _errorbars(fig)
    x, _ = bars.lines[0].get_data()
    assert -1 not in x and len(x) == len(path) - 1
    assert any(list(line.get_xdata()) == [-0.5, -0.5] for line in ax.get_lines())
    assert any(list(line.get_ydata()) == [0, 0] for line in ax.get_lines())
    assert "Reference period (t = -1)" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(ax.get_xticks()) == len(path)


def test_event_study_marks_an_omitted_reference_period(path):
    fig = event_study_plot(path[path.event_time != -1])
    reference = [c for c in fig.axes[0].collections if c.get_gid() == "reference-period"]
    assert reference[0].get_offsets().tolist() == [[-1.0, 0.0]]
    with pytest.raises(CitydipError, match="no columns"):
        event_study_plot(path.drop(columns="conf_low"))


def test_size_class_plot_compares_the_three_classes(tidy):
    extra = _rows("By size 2", [("sister_active_x_small", 0.02, 0.004), ("sister_active_x_mid", 0.01, 0.004),
                                ("sister_active_x_large", 0.0, 0.004)])
    fig = size_class_plot(pd.concat([tidy, extra]))
    ax = fig.axes[0]
    assert _ticklabels(ax.get_xticklabels()) == ["Small metros", "Mid-size metros", "Large metros"]
    bars = _errorbars(fig)
    assert len(bars) == 2  # only the models with size-class terms
    _, y = bars[0].lines[0].get_data()
    assert np.allclose(y, [0.012, 0.008, 0.010])
    assert "Sister-city ties (active)" in ax.get_ylabel()
    with pytest.raises(CitydipError, match="size-class terms"):
        size_class_plot(tidy, measure="networks_dated")


def test_missing_intervals_fall_back_on_standard_errors(tidy):
    frame = tidy[tidy.model == "OLS"].assign(conf_low=np.nan, conf_high=np.nan)
    fig = coefficient_plot(frame)
    segments = _errorbars(fig)[0].lines[2][0].get_segments()
    low, high = segments[0][:, 0]
    assert low == pytest.approx(0.010 - 1.959964 * 0.002) and high == pytest.approx(0.010 + 1.959964 * 0.002)


def test_wild_bootstrap_rows_get_no_interval_from_the_standard_error(tidy):
    frame = tidy[tidy.model == "OLS"].assign(conf_low=np.nan, conf_high=np.nan,
                                             vcov_type="wild bootstrap cluster(cbsa_code)")
    fig = coefficient_plot(frame)
    segments = _errorbars(fig)[0].lines[2][0].get_segments()
    low, high = segments[0][:, 0]
    assert low == high == pytest.approx(0.010)


def test_figures_leave_the_global_matplotlib_state_alone(tidy):
    backend = matplotlib.get_backend()
    with matplotlib.rc_context({"font.size": 21.0}):
        before = dict(matplotlib.rcParams)
        fig = coefficient_plot(tidy)
        assert dict(matplotlib.rcParams) == before
    assert matplotlib.get_backend() == backend
    assert fig.axes[0].xaxis.label.get_fontsize() != 21.0  # drawn in the fixed style, not the user's


def test_png_is_a_palette_image_close_to_the_full_colour_render(tidy, tmp_path):
    """The saved PNG has a palette of at most ``PNG_COLORS`` colours, is smaller than the
    full-colour render and differs from it by little (few colours in a report figure)."""
    import io

    from PIL import Image

    from citydip.report.figures import DPI, PNG_COLORS

    fig = coefficient_plot(tidy, path=tmp_path / "coef.png")
    full = io.BytesIO()
    fig.savefig(full, format="png", dpi=DPI)
    with Image.open(tmp_path / "coef.png") as saved, Image.open(io.BytesIO(full.getvalue())) as render:
        assert saved.mode == "P" and len(saved.getcolors(maxcolors=1024)) <= PNG_COLORS
        assert saved.size == render.size
        a = np.asarray(saved.convert("RGB"), dtype=float)
        b = np.asarray(render.convert("RGB"), dtype=float)
    assert np.abs(a - b).mean() < 1.0 and np.quantile(np.abs(a - b), 0.99) < 16
    assert (tmp_path / "coef.png").stat().st_size < 0.7 * len(full.getvalue())

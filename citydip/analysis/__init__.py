"""Analysis on top of the panel and the fitted models: every statistic the report and the
README quote (variation diagnostics, descriptive statistics, size-class tests, event-study
summaries, robustness and multiverse summaries, comparisons with the anchor paper).

Notebooks call these functions, narrate and plot; each function has a test against an
independent implementation or a known truth in ``tests/analysis/``.
"""

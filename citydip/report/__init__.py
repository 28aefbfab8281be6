"""Reporting: regression tables (Markdown, LaTeX, HTML) and figures from the tidy estimates."""

from citydip.report.figures import coefficient_plot, event_study_plot, size_class_plot
from citydip.report.labels import TERM_LABELS, term_label
from citydip.report.tables import RegressionTable, regression_table

__all__ = ["TERM_LABELS", "RegressionTable", "coefficient_plot", "event_study_plot", "regression_table",
           "size_class_plot", "term_label"]

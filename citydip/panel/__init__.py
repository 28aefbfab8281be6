"""The metro-year panel: sample, exports, controls, diplomacy measures, build."""

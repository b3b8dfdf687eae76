"""RightsGap UI helpers: the only package importing both streamlit and core (cached loaders, widgets, state keys)."""

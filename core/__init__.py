"""RightsGap core: pure Python (never imports streamlit).

Domain vocabulary, the indicator catalogue, readers of statistical formats, the DuckDB store,
queries, the gap engine and figure builders. Usable from a notebook or ``python -m core``.
"""

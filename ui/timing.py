"""Server-side timing of script runs, for the benchmarks (off unless $RIGHTSGAP_TIMING_LOG is set).

Each run appends one line ``<page url path>\\t<seconds>`` to the file named by RIGHTSGAP_TIMING_LOG,
measured from the start of app.py to the end of the page script (st.stop included).
"""
from __future__ import annotations

import contextlib
import os
import time


@contextlib.contextmanager
def record_run(page_path: str, started: float):
    """Time the rest of the run (the page) and log it with the page's URL path when logging is on."""
    log_path = os.environ.get("RIGHTSGAP_TIMING_LOG")
    try:
        yield
    finally:
        if log_path:
            with open(log_path, "a", encoding="utf-8") as log:
                log.write(f"{page_path or 'explore'}\t{time.perf_counter() - started:.6f}\n")

"""Collect ``test_plugin_case`` only when ``--datalog-evaluator`` is given.

Its ``yaml_test_case`` fixture makes the datalog-conformance plugin load every YAML file of the suite
(minutes of pure-Python YAML parsing) at collection time, so the default run leaves it out and
``test_conformance`` covers the same cases.
"""

from __future__ import annotations

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector, name, obj):
    if name == "test_plugin_case" and collector.config.getoption("--datalog-evaluator", default=None) is None:
        return []
    return None

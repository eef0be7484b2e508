"""The vendored numpy/opt_einsum suites really run tlc's functions (else they would silently test the libraries)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy
import opt_einsum

from tlc.einsum import contract, contract_path, einsum

VENDORED = Path(__file__).resolve().parent / "vendored"


def _substitutes():
    spec = importlib.util.spec_from_file_location("tlc_substitutes_under_test", VENDORED / "tlc_substitutes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_substitutes_replace_only_the_drop_ins():
    subs = _substitutes()
    assert subs.numpy_with_tlc.einsum is einsum
    assert subs.numpy_with_tlc.einsum_path is numpy.einsum_path and subs.numpy_with_tlc.ones is numpy.ones
    assert subs.opt_einsum_with_tlc.contract is contract
    assert subs.opt_einsum_with_tlc.contract_path is contract_path
    assert subs.opt_einsum_with_tlc.contract_expression is opt_einsum.contract_expression


def test_every_vendored_test_file_imports_tlcs_functions():
    files = sorted(VENDORED.glob("test_*.py"))
    assert len(files) == 8
    for path in files:
        text = path.read_text()
        assert "from tlc_substitutes import" in text, path.name
        # no remaining import of the replaced functions from the libraries themselves
        for line in re.findall(r"^from opt_einsum import (.*)$", text, re.M):
            names = {n.strip() for n in line.split("#")[0].split(",")}
            assert not names & {"contract", "contract_path"}, path.name
        assert not re.search(r"^import (numpy as np|opt_einsum as oe)$", text, re.M), path.name


def test_vendored_files_keep_their_licences():
    assert "Redistribution and use in source and binary forms" in (VENDORED / "LICENSE-numpy.txt").read_text()
    assert "MIT" in (VENDORED / "LICENSE-opt_einsum.txt").read_text()

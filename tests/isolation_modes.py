"""The isolation modes the sandbox tests run under: ``unshare`` always, bubblewrap where it is
installed. The bubblewrap cases carry the ``bwrap`` mark: ``make test-ci`` installs bubblewrap
and runs them, so CI covers both modes on a machine that had only ``unshare``."""

from __future__ import annotations

import shutil

import pytest

HAS_BWRAP = shutil.which("bwrap") is not None

MODES = [
    pytest.param(False, id="unshare"),
    pytest.param(
        True,
        id="bwrap",
        marks=[pytest.mark.bwrap, pytest.mark.skipif(not HAS_BWRAP, reason="bwrap not installed")],
    ),
]

"""The JSON form of a record: what ``to_dict`` returns and ``from_dict`` reads.

The stage modules are type-checked with ``disallow_any_explicit`` (``pyproject.toml``): an
``Any`` can appear there only under these names, that is where a record is written to disk or
to the store and read back, never in what one stage hands the next.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

JSONValue = Any
"""A value ``json.dumps`` writes and ``json.loads`` gives back."""

JSONObject = dict[str, JSONValue]
"""A record's JSON form, as ``to_dict`` returns it."""

JSONMapping = Mapping[str, JSONValue]
"""A record's JSON form as read back (``from_dict``)."""

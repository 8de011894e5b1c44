"""Whether a Python file parses: the guard on loose placements, and the report of the model's
own syntax errors.

Checked with the running interpreter's parser, and only against a file that parsed before the
edit: a Python 2 file (or one using syntax newer than this interpreter) says nothing either way.
"""

from __future__ import annotations

import ast
import warnings

PYTHON_SUFFIXES = (".py", ".pyi", ".pyw")


def is_python(path: str) -> bool:
    return path.endswith(PYTHON_SUFFIXES)


def syntax_error(text: str) -> str | None:
    """``"line N: message"`` when ``text`` does not parse as Python, else ``None``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes etc. are not errors
            ast.parse(text)
    except SyntaxError as exc:
        return f"line {exc.lineno}: {exc.msg}" if exc.lineno else exc.msg
    except (ValueError, MemoryError, RecursionError) as exc:  # NUL bytes, absurd nesting
        return str(exc) or type(exc).__name__
    return None


def breaks(path: str, before: str, after: str) -> str | None:
    """The syntax error ``after`` has when ``before`` was a Python file that parsed."""
    if not is_python(path):
        return None
    error = syntax_error(after)
    if error is None or syntax_error(before) is not None:
        return None
    return error

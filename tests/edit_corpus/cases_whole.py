"""Whole-file ("whole") cases."""

from __future__ import annotations

from typing import Any

from common import base, case, change, edited

INV = "src/shop/inventory.py"
CART = "src/shop/cart.py"
GO = "cmd/server/main.go"

CLEAR_CHANGE = ("        self.lines.clear()\n", "        self.lines = {}\n")


def fenced(path_line: str, text: str, lang: str = "python", fence: str = "```") -> str:
    return f"{path_line}\n{fence}{lang}\n{text}{fence}\n"


def whole_cases() -> list[dict[str, Any]]:
    c: list[dict[str, Any]] = []
    new_cart = edited(base(CART), CLEAR_CHANGE)
    expected = {CART: new_cart}
    c.append(
        case(
            "w-clean",
            "whole",
            "clean",
            "Here is the updated file:\n\n" + fenced(CART, new_cart),
            changes=expected,
        )
    )
    c.append(
        case(
            "w-path-header",
            "whole",
            "path_header",
            fenced(f"### {CART}", new_cart),
            changes=expected,
        )
    )
    c.append(
        case(
            "w-path-bold",
            "whole",
            "path_decorated",
            fenced(f"**{CART}**", new_cart),
            changes=expected,
        )
    )
    c.append(
        case(
            "w-path-backticks",
            "whole",
            "path_decorated",
            fenced(f"`{CART}`:", new_cart),
            changes=expected,
        )
    )
    c.append(
        case(
            "w-path-info",
            "whole",
            "path_in_info",
            f"```python {CART}\n{new_cart}```\n",
            changes=expected,
        )
    )
    c.append(
        case(
            "w-path-inside",
            "whole",
            "path_inside_fence",
            f"```python\n{CART}\n{new_cart}```\n",
            changes=expected,
        )
    )
    c.append(
        case(
            "w-path-suffix", "whole", "odd_path", fenced("shop/cart.py", new_cart), changes=expected
        )
    )
    c.append(
        case(
            "w-tilde-fence",
            "whole",
            "fence_style",
            fenced(CART, new_cart, fence="~~~"),
            changes=expected,
        )
    )
    c.append(
        case(
            "w-prose-and-example",
            "whole",
            "prose_around",
            "The cart kept a stale dict. Usage:\n\n```python\ncart.checkout()\n```\n\n"
            + fenced(CART, new_cart)
            + "\nRun the tests with:\n\n```bash\npytest -q\n```\n",
            changes=expected,
        )
    )
    new_test = edited(
        base("tests/test_cart.py"),
        (
            "    assert cart.total() == 2.0\n",
            "    assert cart.total() == 2.0\n    assert cart.checkout() == 2.0\n",
        ),
    )
    c.append(
        case(
            "w-two-files",
            "whole",
            "several_files",
            fenced(CART, new_cart) + "\n" + fenced("tests/test_cart.py", new_test),
            changes={CART: new_cart, "tests/test_cart.py": new_test},
        )
    )
    errors = "class CartError(Exception):\n    pass\n"
    c.append(
        case(
            "w-new-file",
            "whole",
            "new_file",
            fenced("src/shop/errors.py", errors),
            changes={"src/shop/errors.py": errors},
        )
    )
    c.append(
        case(
            "w-new-file-empty",
            "whole",
            "new_file",
            fenced("src/shop/py.typed", "", lang=""),
            changes={"src/shop/py.typed": ""},
        )
    )
    legacy = "src/shop/legacy.py"
    legacy_lf = base(legacy).replace("\r\n", "\n")
    c.append(
        case(
            "w-crlf",
            "whole",
            "crlf",
            fenced(
                legacy,
                edited(legacy_lf, ("    return '%.2f' % value\n", "    return f'{value:.2f}'\n")),
            ),
            changes=change(
                legacy, ("    return '%.2f' % value\r\n", "    return f'{value:.2f}'\r\n")
            ),
        )
    )
    c.append(
        case(
            "w-crlf-reply",
            "whole",
            "crlf",
            fenced(CART, new_cart).replace("\n", "\r\n"),
            changes=expected,
        )
    )
    version = "src/shop/version.py"
    c.append(
        case(
            "w-no-eol",
            "whole",
            "no_final_newline",
            fenced(version, "VERSION = '1.2.4'\nBUILD = 7\nCHANNEL = 'stable'\n"),
            changes={version: "VERSION = '1.2.4'\nBUILD = 7\nCHANNEL = 'stable'"},
        )
    )
    readme = "docs/README.md"
    new_readme = edited(base(readme), ("in €;", "in € (VAT included);"))
    c.append(
        case(
            "w-non-ascii",
            "whole",
            "non_ascii",
            fenced(readme, new_readme, lang="markdown"),
            changes={readme: new_readme},
        )
    )
    md = "docs/GUIDE.md"
    guide = "# Guide\n\nRun:\n\n```bash\nmake test\n```\n"
    c.append(
        case(
            "w-nested-fence",
            "whole",
            "fence_style",
            fenced(md, guide, lang="markdown", fence="````"),
            changes={md: guide},
        )
    )
    new_go = edited(base(GO), ('":8080"', '":9090"'))
    c.append(case("w-tabs", "whole", "tabs", fenced(GO, new_go, lang="go"), changes={GO: new_go}))
    new_make = edited(base("Makefile"), ("\truff check src\n", "\truff check src tests\n"))
    c.append(
        case(
            "w-makefile",
            "whole",
            "tabs",
            fenced("Makefile", new_make, lang="make"),
            changes={"Makefile": new_make},
        )
    )
    c.append(case("w-unchanged", "whole", "noop", fenced(CART, base(CART)), changes={}))
    stub = edited(
        base(INV),
        (
            "    def value(self) -> float:\n        return sum(item.total() for item in self.items.values())\n",
            "    def value(self) -> float:\n        ...\n",
        ),
    )
    c.append(
        case(
            "w-ellipsis-code",
            "whole",
            "elision_code",
            fenced(INV, stub),
            changes={INV: stub},
            note="a bare `...` line is Python code (Ellipsis), not an elision comment",
        )
    )
    lazy = base(CART).split("    def total")[0] + "    # ... rest of the class unchanged ...\n"
    c.append(case("w-lazy-hash", "whole", "lazy", fenced(CART, lazy), fail=("lazy",)))
    lazy_go = base(GO).split("func main()")[0] + "func main() {\n\t// ... existing code ...\n}\n"
    c.append(case("w-lazy-slash", "whole", "lazy", fenced(GO, lazy_go, lang="go"), fail=("lazy",)))
    lazy_words = (
        base(CART).split("    def checkout")[0] + "    # checkout stays the same as before\n"
    )
    c.append(
        case(
            "w-lazy-words",
            "whole",
            "lazy",
            fenced(CART, lazy_words.replace("same as before", "unchanged")),
            fail=("lazy",),
        )
    )
    c.append(
        case(
            "w-no-path",
            "whole",
            "missing_path",
            "Here is the file:\n\n```python\n" + new_cart + "```\n",
            fail=("no_edits",),
        )
    )
    c.append(
        case(
            "w-path-dotdot", "whole", "bad_path", fenced("../cart.py", new_cart), fail=("bad_path",)
        )
    )
    c.append(
        case(
            "w-path-absolute",
            "whole",
            "bad_path",
            fenced("/etc/cron.d/job", "* * * * * root true\n", lang=""),
            fail=("bad_path",),
        )
    )
    c.append(
        case(
            "w-path-git",
            "whole",
            "bad_path",
            fenced(".git/hooks/post-checkout", "#!/bin/sh\nexit 0\n", lang="sh"),
            fail=("bad_path",),
        )
    )
    c.append(
        case(
            "w-path-ambiguous",
            "whole",
            "odd_path",
            fenced("utils.py", "def clamp(v, lo, hi):\n    return max(lo, min(v, hi))\n"),
            fail=("ambiguous_path",),
        )
    )
    second = edited(new_cart, ("        total = 0.0\n", "        total: float = 0.0\n"))
    c.append(
        case(
            "w-same-file-twice",
            "whole",
            "sequential",
            fenced(CART, new_cart)
            + "\nOn second thought, also annotate:\n\n"
            + fenced(CART, second),
            changes={CART: second},
        )
    )
    c.append(
        case(
            "w-prompt-example",
            "whole",
            "prompt_example",
            fenced("example/hello.py", "print('hello')\n") + "\n" + fenced(CART, new_cart),
            changes={"example/hello.py": "print('hello')\n", CART: new_cart},
            note="a whole file on a new path is a new file: the format cannot tell it from an example",
        )
    )
    return c

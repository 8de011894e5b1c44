"""SEARCH/REPLACE ("diff") cases."""

from __future__ import annotations

from typing import Any

from common import base, case, change, edited, sr

INV = "src/shop/inventory.py"
CART = "src/shop/cart.py"
GO = "cmd/server/main.go"
JS = "web/utils.js"

REMOVE_OLD = '            raise ValueError(f"only {item.quantity} of {sku} left")\n'
REMOVE_NEW = '            raise ValueError(f"not enough {sku}: {item.quantity} left")\n'


def diff_cases() -> list[dict[str, Any]]:
    cases = _hard()
    cases += _clean_and_paths()
    cases += _markers_and_new_files()
    cases += _whitespace_and_indentation()
    cases += _elision_ambiguity_not_found()
    cases += _malformed_and_prose()
    cases += _encodings()
    cases += _bad_paths_and_resolution()
    cases += _sequences_and_misc()
    return cases


def _clean_and_paths() -> list[dict[str, Any]]:
    c = []
    c.append(
        case(
            "d-clean-1",
            "diff",
            "clean",
            "Here is the fix.\n\n" + sr(INV, REMOVE_OLD, REMOVE_NEW),
            changes=change(INV, (REMOVE_OLD, REMOVE_NEW)),
        )
    )
    c.append(
        case(
            "d-clean-two-blocks",
            "diff",
            "clean",
            sr(INV, "import logging\n", "import logging\nimport math\n")
            + "\n"
            + sr(
                INV,
                "    def value(self) -> float:\n        return sum(item.total() for item in self.items.values())\n",
                "    def value(self) -> float:\n        return math.fsum(item.total() for item in self.items.values())\n",
            ),
            changes=change(
                INV,
                ("import logging\n", "import logging\nimport math\n"),
                ("return sum(item.total()", "return math.fsum(item.total()"),
            ),
        )
    )
    c.append(
        case(
            "d-clean-two-files",
            "diff",
            "clean",
            sr(CART, "        self.lines.clear()\n", "        self.lines = {}\n")
            + sr(
                "tests/test_cart.py",
                "    assert cart.total() == 2.0\n",
                "    assert cart.total() == 2.0\n    assert cart.checkout() == 2.0\n",
            ),
            changes={
                **change(CART, ("        self.lines.clear()\n", "        self.lines = {}\n")),
                **change(
                    "tests/test_cart.py",
                    (
                        "    assert cart.total() == 2.0\n",
                        "    assert cart.total() == 2.0\n    assert cart.checkout() == 2.0\n",
                    ),
                ),
            },
        )
    )
    block = f"<<<<<<< SEARCH\n{REMOVE_OLD}=======\n{REMOVE_NEW}>>>>>>> REPLACE\n"
    expected = change(INV, (REMOVE_OLD, REMOVE_NEW))
    c.append(
        case(
            "d-path-fenced",
            "diff",
            "path_inside_fence",
            f"```python\n{INV}\n{block}```\n",
            changes=expected,
        )
    )
    c.append(
        case(
            "d-path-header",
            "diff",
            "path_header",
            f"### {INV}\n\n```python\n{block}```\n",
            changes=expected,
        )
    )
    c.append(
        case(
            "d-path-bold",
            "diff",
            "path_decorated",
            f"**{INV}**\n```python\n{block}```\n",
            changes=expected,
        )
    )
    c.append(
        case(
            "d-path-backticks",
            "diff",
            "path_decorated",
            f"`{INV}`:\n```python\n{block}```\n",
            changes=expected,
        )
    )
    c.append(
        case(
            "d-path-label",
            "diff",
            "path_decorated",
            f"File: {INV}\n```python\n{block}```\n",
            changes=expected,
        )
    )
    c.append(
        case(
            "d-path-info",
            "diff",
            "path_in_info",
            f"```python {INV}\n{block}```\n",
            changes=expected,
        )
    )
    c.append(case("d-bare", "diff", "bare_blocks", f"{INV}\n{block}", changes=expected))
    c.append(
        case(
            "d-path-inherited",
            "diff",
            "path_inherited",
            f"{INV}\n```python\n{block}```\n\nAnd log it:\n\n```python\n<<<<<<< SEARCH\n"
            '        log.info("removed %s", sku)\n=======\n'
            '        log.info("removed %d of %s", quantity, sku)\n>>>>>>> REPLACE\n```\n',
            changes=change(
                INV,
                (REMOVE_OLD, REMOVE_NEW),
                ('log.info("removed %s", sku)', 'log.info("removed %d of %s", quantity, sku)'),
            ),
        )
    )
    c.append(
        case(
            "d-path-comment-in-fence",
            "diff",
            "path_inside_fence",
            f"```python\n# {INV}\n{block}```\n",
            changes=expected,
        )
    )
    return c


def _markers_and_new_files() -> list[dict[str, Any]]:
    c = []
    expected = change(INV, (REMOVE_OLD, REMOVE_NEW))
    for n, (s, d, r) in enumerate([(5, 5, 5), (9, 9, 9), (7, 5, 8), (6, 9, 7)], 1):
        reply = f"{INV}\n```python\n{'<' * s} SEARCH\n{REMOVE_OLD}{'=' * d}\n{REMOVE_NEW}{'>' * r} REPLACE\n```\n"
        c.append(case(f"d-markers-{n}", "diff", "marker_length", reply, changes=expected))
    c.append(
        case(
            "d-markers-indented",
            "diff",
            "marker_length",
            f"{INV}\n```python\n  <<<<<<< SEARCH\n{REMOVE_OLD}  =======\n{REMOVE_NEW}  >>>>>>> REPLACE\n```\n",
            changes=expected,
        )
    )
    new_text = "def percent(part, whole):\n    return 100.0 * part / whole\n"
    c.append(
        case(
            "d-new-file",
            "diff",
            "new_file",
            sr("src/shop/stats.py", "", new_text),
            changes={"src/shop/stats.py": new_text},
        )
    )
    c.append(
        case(
            "d-new-file-blank-search",
            "diff",
            "new_file",
            "src/shop/stats.py\n```python\n<<<<<<< SEARCH\n\n=======\n"
            + new_text
            + ">>>>>>> REPLACE\n```\n",
            changes={"src/shop/stats.py": new_text},
        )
    )
    c.append(
        case(
            "d-append-empty",
            "diff",
            "new_file",
            sr("src/shop/__init__.py", "", '__all__ = ["Cart", "Inventory"]\n'),
            changes={"src/shop/__init__.py": '__all__ = ["Cart", "Inventory"]\n'},
        )
    )
    c.append(
        case(
            "d-empty-search-existing",
            "diff",
            "new_file",
            sr(CART, "", "import math\n"),
            fail=("file_exists",),
            note="an empty SEARCH on a file with content would have to guess where to insert",
        )
    )
    c.append(
        case(
            "d-new-file-nested",
            "diff",
            "new_file",
            sr("src/shop/io/__init__.py", "", '"""I/O helpers."""\n'),
            changes={"src/shop/io/__init__.py": '"""I/O helpers."""\n'},
        )
    )
    return c


def _whitespace_and_indentation() -> list[dict[str, Any]]:
    c = []
    trailing = {"src/shop/ws.py": "def f(a, b):   \n    return a + b  \n\n\ndef g():\n    pass\n"}
    c.append(
        case(
            "d-ws-missing-trailing",
            "diff",
            "trailing_whitespace",
            sr(
                "src/shop/ws.py",
                "def f(a, b):\n    return a + b\n",
                "def f(a, b):\n    return a - b\n",
            ),
            files=trailing,
            changes={
                "src/shop/ws.py": "def f(a, b):   \n    return a - b\n\n\ndef g():\n    pass\n"
            },
        )
    )
    c.append(
        case(
            "d-ws-extra-trailing",
            "diff",
            "trailing_whitespace",
            sr(
                CART,
                "        self.lines.clear()  \n        return total \n",
                "        self.lines.clear()\n        return round(total, 2)\n",
            ),
            changes=change(
                CART,
                (
                    "        self.lines.clear()\n        return total\n",
                    "        self.lines.clear()\n        return round(total, 2)\n",
                ),
            ),
        )
    )
    c.append(
        case(
            "d-indent-dedented",
            "diff",
            "indent_shift",
            sr(
                INV,
                "def value(self) -> float:\n    return sum(item.total() for item in self.items.values())\n",
                "def value(self) -> float:\n    if not self.items:\n        return 0.0\n    return sum(item.total() for item in self.items.values())\n",
            ),
            changes=change(
                INV,
                (
                    "    def value(self) -> float:\n",
                    "    def value(self) -> float:\n        if not self.items:\n            return 0.0\n",
                ),
            ),
        )
    )
    c.append(
        case(
            "d-indent-overindented",
            "diff",
            "indent_shift",
            sr(
                CART,
                "            def checkout(self) -> float:\n                total = self.total()\n",
                "            def checkout(self) -> float:\n                if not self.lines:\n                    return 0.0\n                total = self.total()\n",
            ),
            changes=change(
                CART,
                (
                    "    def checkout(self) -> float:\n        total = self.total()\n",
                    "    def checkout(self) -> float:\n        if not self.lines:\n            return 0.0\n        total = self.total()\n",
                ),
            ),
        )
    )
    c.append(
        case(
            "d-tabs-as-spaces",
            "diff",
            "tabs_to_spaces",
            sr(
                GO,
                '    if addr == "" {\n        addr = ":8080"\n    }\n',
                '    if addr == "" {\n        addr = ":9090"\n    }\n    if os.Getenv("DEBUG") != "" {\n        fmt.Println("debug on")\n    }\n',
                lang="go",
            ),
            changes=change(
                GO,
                (
                    '\t\taddr = ":8080"\n\t}\n',
                    '\t\taddr = ":9090"\n\t}\n\tif os.Getenv("DEBUG") != "" {\n\t\tfmt.Println("debug on")\n\t}\n',
                ),
            ),
        )
    )
    c.append(
        case(
            "d-tabs-as-2-spaces",
            "diff",
            "tabs_to_spaces",
            sr(
                GO,
                '  if r.Method != http.MethodGet {\n    http.Error(w, "method not allowed", http.StatusMethodNotAllowed)\n    return\n  }\n',
                '  if r.Method != http.MethodGet && r.Method != http.MethodHead {\n    http.Error(w, "method not allowed", http.StatusMethodNotAllowed)\n    return\n  }\n',
                lang="go",
            ),
            changes=change(
                GO,
                (
                    "r.Method != http.MethodGet {",
                    "r.Method != http.MethodGet && r.Method != http.MethodHead {",
                ),
            ),
        )
    )
    c.append(
        case(
            "d-js-4-for-2",
            "diff",
            "indent_shift",
            sr(
                JS,
                "    let timer = null;\n    return function (...args) {\n        clearTimeout(timer);\n",
                "    let timer = null;\n    return function (...args) {\n        if (timer !== null) {\n            clearTimeout(timer);\n        }\n",
                lang="js",
            ),
            changes=change(
                JS,
                (
                    "    clearTimeout(timer);\n",
                    "    if (timer !== null) {\n      clearTimeout(timer);\n    }\n",
                ),
            ),
        )
    )
    c.append(
        case(
            "d-indent-dropped",
            "diff",
            "dropped_indentation",
            sr(
                INV,
                "if item.quantity == 0:\ndel self.items[sku]\n",
                "if item.quantity <= 0:\ndel self.items[sku]\n",
            ),
            fail=("no_match",),
            note="all indentation lost: the nesting cannot be recovered, so it must not be guessed",
        )
    )
    c.append(
        case(
            "d-indent-two-space-unit",
            "diff",
            "indent_shift",
            sr(
                INV,
                "    def find(self, name: str) -> list[Item]:\n      name = name.lower()\n",
                "    def find(self, name: str) -> list[Item]:\n      name = name.casefold()\n",
            ),
            changes=change(INV, ("name = name.lower()", "name = name.casefold()")),
            note="the model nests by two spaces; the nesting is the file's, so it is re-indented",
        )
    )
    c.append(
        case(
            "d-indent-nesting-lost",
            "diff",
            "inconsistent_indentation",
            sr(
                INV,
                "    def find(self, name: str) -> list[Item]:\n    name = name.lower()\n",
                "    def find(self, name: str) -> list[Item]:\n    name = name.casefold()\n",
            ),
            fail=("no_match",),
        )
    )
    c.append(
        case(
            "d-blank-lead",
            "diff",
            "blank_lines",
            sr(
                CART,
                "\n\n    def total(self) -> float:\n        total = 0.0\n",
                "\n\n    def total(self) -> float:\n        total: float = 0.0\n",
            ),
            changes=change(CART, ("        total = 0.0\n", "        total: float = 0.0\n")),
        )
    )
    c.append(
        case(
            "d-blank-trail",
            "diff",
            "blank_lines",
            sr(
                INV,
                '        log.info("added %s", item.sku)\n\n\n\n',
                '        log.info("added %s", item.sku)\n        return None\n\n\n\n',
            ),
            changes=change(
                INV,
                (
                    '        log.info("added %s", item.sku)\n',
                    '        log.info("added %s", item.sku)\n        return None\n',
                ),
            ),
        )
    )
    return c


def _elision_ambiguity_not_found() -> list[dict[str, Any]]:
    c = []
    c.append(
        case(
            "d-elision-pairs",
            "diff",
            "elision",
            sr(
                INV,
                '    def remove(self, sku: str, quantity: int = 1) -> None:\n...\n        log.info("removed %s", sku)\n',
                '    def remove(self, sku: str, quantity: int = 1) -> None:\n...\n        log.info("removed %s (%d)", sku, quantity)\n',
            ),
            changes=change(
                INV, ('log.info("removed %s", sku)', 'log.info("removed %s (%d)", sku, quantity)')
            ),
        )
    )
    c.append(
        case(
            "d-elision-range",
            "diff",
            "elision",
            sr(
                CART,
                "    def remove(self, sku: str, quantity: int = 1) -> None:\n        ...\n            self.lines.pop(sku, None)\n",
                "    def remove(self, sku: str, quantity: int = 1) -> None:\n        self.add(sku, -quantity)\n",
            ),
            changes=change(
                CART,
                (
                    '    def remove(self, sku: str, quantity: int = 1) -> None:\n        if quantity <= 0:\n            raise ValueError("quantity must be positive")\n        left = self.lines.get(sku, 0) - quantity\n        if left > 0:\n            self.lines[sku] = left\n        else:\n            self.lines.pop(sku, None)\n',
                    "    def remove(self, sku: str, quantity: int = 1) -> None:\n        self.add(sku, -quantity)\n",
                ),
            ),
        )
    )
    c.append(
        case(
            "d-elision-comment",
            "diff",
            "elision",
            sr(
                GO,
                "func main() {\n\t// ...\n\ts := NewServer(addr)\n",
                'func main() {\n\t// ...\n\ts := NewServer(addr)\n\ts.debug = os.Getenv("DEBUG") != ""\n',
                lang="go",
            ),
            changes=change(
                GO,
                (
                    "\ts := NewServer(addr)\n",
                    '\ts := NewServer(addr)\n\ts.debug = os.Getenv("DEBUG") != ""\n',
                ),
            ),
        )
    )
    c.append(
        case(
            "d-elision-mismatch",
            "diff",
            "elision",
            sr(
                INV,
                '    def add(self, item: Item) -> None:\n...\n...\n        log.info("added %s", item.sku)\n',
                '    def add(self, item: Item) -> None:\n...\n        log.info("added %s!", item.sku)\n',
            ),
            fail=("no_match",),
        )
    )
    c.append(
        case(
            "d-elision-ambiguous-tail",
            "diff",
            "elision",
            sr(
                CART,
                "    def total(self) -> float:\n...\n        return total\n",
                "    def total(self) -> float:\n...\n        return round(total, 2)\n",
            ),
            fail=("ambiguous",),
            note="the second segment occurs twice after the first one: nearest is a guess",
        )
    )
    c.append(
        case(
            "d-ambiguous-block",
            "diff",
            "ambiguous",
            sr(
                CART,
                '        if quantity <= 0:\n            raise ValueError("quantity must be positive")\n',
                '        if quantity < 1:\n            raise ValueError("quantity must be at least 1")\n',
            ),
            fail=("ambiguous",),
        )
    )
    c.append(
        case(
            "d-ambiguous-line",
            "diff",
            "ambiguous",
            sr(CART, "        return total\n", "        return round(total, 2)\n"),
            fail=("ambiguous",),
        )
    )
    c.append(
        case(
            "d-ambiguous-dedented",
            "diff",
            "ambiguous",
            sr(
                CART,
                "for sku, quantity in self.lines.items():\n",
                "for sku, quantity in sorted(self.lines.items()):\n",
            ),
            fail=("ambiguous",),
        )
    )
    c.append(
        case(
            "d-ambiguous-disambiguated",
            "diff",
            "clean",
            sr(
                CART,
                '    def remove(self, sku: str, quantity: int = 1) -> None:\n        if quantity <= 0:\n            raise ValueError("quantity must be positive")\n',
                '    def remove(self, sku: str, quantity: int = 1) -> None:\n        if quantity <= 0:\n            raise ValueError("cannot remove a negative quantity")\n',
            ),
            changes=change(
                CART,
                (
                    '    def remove(self, sku: str, quantity: int = 1) -> None:\n        if quantity <= 0:\n            raise ValueError("quantity must be positive")\n',
                    '    def remove(self, sku: str, quantity: int = 1) -> None:\n        if quantity <= 0:\n            raise ValueError("cannot remove a negative quantity")\n',
                ),
            ),
        )
    )
    c.append(
        case(
            "d-not-found-typo",
            "diff",
            "not_found",
            sr(
                INV,
                "    def value(self) -> float:\n        return sum(i.total() for i in self.items.values())\n",
                "    def value(self) -> float:\n        return round(sum(i.total() for i in self.items.values()), 2)\n",
            ),
            fail=("no_match",),
        )
    )
    c.append(
        case(
            "d-not-found-hallucinated",
            "diff",
            "not_found",
            sr(
                INV,
                "    def restock(self, sku):\n        self.items[sku].quantity += 10\n",
                "    def restock(self, sku, n=10):\n        self.items[sku].quantity += n\n",
            ),
            fail=("no_match",),
        )
    )
    c.append(
        case(
            "d-already-applied",
            "diff",
            "already_applied",
            sr(INV, REMOVE_NEW, REMOVE_OLD),
            fail=("no_match",),
            note="SEARCH shows text that is not in the file, REPLACE shows the file's text",
        )
    )
    c.append(
        case(
            "d-search-shows-edit",
            "diff",
            "already_applied",
            sr(INV, REMOVE_NEW, REMOVE_NEW),
            fail=("no_match",),
        )
    )
    return c


def _malformed_and_prose() -> list[dict[str, Any]]:
    c = []
    c.append(
        case(
            "d-missing-divider",
            "diff",
            "missing_divider",
            f"{INV}\n```python\n<<<<<<< SEARCH\n{REMOVE_OLD}{REMOVE_NEW}>>>>>>> REPLACE\n```\n",
            fail=("malformed",),
        )
    )
    c.append(
        case(
            "d-missing-replace",
            "diff",
            "truncated",
            f"{INV}\n```python\n<<<<<<< SEARCH\n{REMOVE_OLD}=======\n{REMOVE_NEW}",
            fail=("malformed",),
        )
    )
    c.append(
        case(
            "d-missing-replace-then-block",
            "diff",
            "truncated",
            f"{INV}\n```python\n<<<<<<< SEARCH\n{REMOVE_OLD}=======\n{REMOVE_NEW}```\n\n"
            + sr(CART, "        self.lines.clear()\n", "        self.lines = {}\n"),
            fail=("malformed",),
            changes=change(CART, ("        self.lines.clear()\n", "        self.lines = {}\n")),
        )
    )
    c.append(
        case(
            "d-two-dividers",
            "diff",
            "missing_divider",
            f"{INV}\n```python\n<<<<<<< SEARCH\n{REMOVE_OLD}=======\n{REMOVE_NEW}=======\n{REMOVE_NEW}>>>>>>> REPLACE\n```\n",
            fail=("malformed",),
        )
    )
    c.append(
        case(
            "d-no-path",
            "diff",
            "missing_path",
            f"Change this:\n```python\n<<<<<<< SEARCH\n{REMOVE_OLD}=======\n{REMOVE_NEW}>>>>>>> REPLACE\n```\n",
            fail=("malformed",),
        )
    )
    example = "mathweb/flask/app.py\n```python\n<<<<<<< SEARCH\nfrom flask import Flask\n=======\nimport math\nfrom flask import Flask\n>>>>>>> REPLACE\n```\n"
    c.append(case("d-prompt-example", "diff", "prompt_example", example, fail=("no_file",)))
    c.append(
        case(
            "d-prompt-example-and-fix",
            "diff",
            "prompt_example",
            example + "\n" + sr(INV, REMOVE_OLD, REMOVE_NEW),
            fail=("no_file",),
            changes=change(INV, (REMOVE_OLD, REMOVE_NEW)),
        )
    )
    c.append(
        case(
            "d-prose-in-fence",
            "diff",
            "prose_in_fence",
            f"{INV}\n```python\n# Fix: give a clearer message when stock runs out\n<<<<<<< SEARCH\n{REMOVE_OLD}=======\n{REMOVE_NEW}>>>>>>> REPLACE\n# This keeps the error readable.\n```\n",
            changes=change(INV, (REMOVE_OLD, REMOVE_NEW)),
        )
    )
    c.append(
        case(
            "d-echoed-instructions",
            "diff",
            "prose_in_fence",
            "Every SEARCH section must EXACTLY MATCH the existing file content.\n"
            "Use the format: path, fence, SEARCH, divider, REPLACE.\n\n"
            + sr(INV, REMOVE_OLD, REMOVE_NEW),
            changes=change(INV, (REMOVE_OLD, REMOVE_NEW)),
        )
    )
    c.append(
        case(
            "d-unrelated-code",
            "diff",
            "prose_around",
            "The error message is confusing. Usage after the fix:\n\n```python\ninv.remove('a', 99)\n```\n\n"
            + sr(INV, REMOVE_OLD, REMOVE_NEW)
            + "\nYou can test it with:\n\n```bash\npytest -q\n```\n",
            changes=change(INV, (REMOVE_OLD, REMOVE_NEW)),
        )
    )
    c.append(
        case(
            "d-path-then-prose",
            "diff",
            "prose_around",
            f"{INV}\nThis changes the message:\n```python\n<<<<<<< SEARCH\n{REMOVE_OLD}=======\n{REMOVE_NEW}>>>>>>> REPLACE\n```\n",
            changes=change(INV, (REMOVE_OLD, REMOVE_NEW)),
        )
    )
    return c


def _encodings() -> list[dict[str, Any]]:
    c = []
    legacy = "src/shop/legacy.py"
    c.append(
        case(
            "d-crlf-edit",
            "diff",
            "crlf",
            sr(legacy, "    return '%.2f' % value\n", "    return f'{value:.2f}'\n"),
            changes=change(
                legacy, ("    return '%.2f' % value\r\n", "    return f'{value:.2f}'\r\n")
            ),
        )
    )
    c.append(
        case(
            "d-crlf-insert",
            "diff",
            "crlf",
            sr(
                legacy,
                "def parse_price(text):\n    text = text.strip().replace(',', '.')\n",
                "def parse_price(text):\n    if not text:\n        return 0.0\n    text = text.strip().replace(',', '.')\n",
            ),
            changes=change(
                legacy,
                (
                    "def parse_price(text):\r\n",
                    "def parse_price(text):\r\n    if not text:\r\n        return 0.0\r\n",
                ),
            ),
        )
    )
    c.append(
        case(
            "d-crlf-reply",
            "diff",
            "crlf",
            sr(INV, REMOVE_OLD, REMOVE_NEW).replace("\n", "\r\n"),
            changes=change(INV, (REMOVE_OLD, REMOVE_NEW)),
        )
    )
    version = "src/shop/version.py"
    c.append(
        case(
            "d-no-eol-last-line",
            "diff",
            "no_final_newline",
            sr(version, "CHANNEL = 'stable'\n", "CHANNEL = 'beta'\n"),
            changes={version: "VERSION = '1.2.3'\nBUILD = 7\nCHANNEL = 'beta'"},
        )
    )
    c.append(
        case(
            "d-no-eol-other-line",
            "diff",
            "no_final_newline",
            sr(version, "BUILD = 7\n", "BUILD = 8\n"),
            changes={version: "VERSION = '1.2.3'\nBUILD = 8\nCHANNEL = 'stable'"},
        )
    )
    c.append(
        case(
            "d-no-eol-append",
            "diff",
            "no_final_newline",
            sr(version, "CHANNEL = 'stable'\n", "CHANNEL = 'stable'\nDATE = '2024-01-01'\n"),
            changes={
                version: "VERSION = '1.2.3'\nBUILD = 7\nCHANNEL = 'stable'\nDATE = '2024-01-01'"
            },
        )
    )
    readme = "docs/README.md"
    c.append(
        case(
            "d-non-ascii",
            "diff",
            "non_ascii",
            sr(
                readme,
                "Prices are in €; quantities are whole units.\n",
                "Prices are in € (VAT included); quantities are whole units.\n",
                lang="markdown",
            ),
            changes=change(readme, ("in €;", "in € (VAT included);")),
        )
    )
    c.append(
        case(
            "d-non-ascii-near",
            "diff",
            "non_ascii",
            sr(
                readme,
                "Report bugs to the maintainers (Zoë, Jürgen).\n",
                "Report bugs to the maintainers (Zoë, Jürgen, Łukasz).\n",
                lang="markdown",
            ),
            changes=change(readme, ("Jürgen).", "Jürgen, Łukasz).")),
        )
    )
    c.append(
        case(
            "d-tabs-exact",
            "diff",
            "tabs",
            sr(
                GO,
                '\tfmt.Fprintf(w, "hello %s\\n", r.URL.Path)\n',
                '\tfmt.Fprintf(w, "hello, %s\\n", r.URL.Path)\n',
                lang="go",
            ),
            changes=change(GO, ('"hello %s\\n"', '"hello, %s\\n"')),
        )
    )
    c.append(
        case(
            "d-makefile-tabs",
            "diff",
            "tabs",
            sr(
                "Makefile",
                "lint:\n\truff check src\n",
                "lint:\n\truff check src tests\n",
                lang="make",
            ),
            changes=change("Makefile", ("\truff check src\n", "\truff check src tests\n")),
        )
    )
    return c


def _bad_paths_and_resolution() -> list[dict[str, Any]]:
    c = []
    block = f"<<<<<<< SEARCH\n{REMOVE_OLD}=======\n{REMOVE_NEW}>>>>>>> REPLACE\n"
    expected = change(INV, (REMOVE_OLD, REMOVE_NEW))
    for cid, path in [
        ("d-path-absolute", "/src/shop/inventory.py"),
        ("d-path-absolute-new", "/tmp/evil.py"),
        ("d-path-dotdot", "../inventory.py"),
        ("d-path-dotdot-inner", "src/../../etc/passwd"),
        ("d-path-git", ".git/hooks/pre-commit"),
        ("d-path-nul", "src/shop/inventory.py\x00.txt"),
        ("d-path-windows-abs", "C:\\shop\\inventory.py"),
    ]:
        search = "" if "evil" in path or "hooks" in path or "passwd" in path else REMOVE_OLD
        reply = f"{path}\n```python\n<<<<<<< SEARCH\n{search}=======\n{REMOVE_NEW}>>>>>>> REPLACE\n```\n"
        c.append(case(cid, "diff", "bad_path", reply, fail=("bad_path",)))
    for cid, path in [
        ("d-path-suffix", "shop/inventory.py"),
        ("d-path-basename", "inventory.py"),
        ("d-path-dot-slash", "./src/shop/inventory.py"),
        ("d-path-a-prefix", "a/src/shop/inventory.py"),
        ("d-path-backslash", "src\\shop\\inventory.py"),
        ("d-path-wrong-dir", "lib/shop/inventory.py"),
    ]:
        c.append(
            case(cid, "diff", "odd_path", f"{path}\n```python\n{block}```\n", changes=expected)
        )
    c.append(
        case(
            "d-path-ambiguous-basename",
            "diff",
            "odd_path",
            sr("utils.py", "def clamp(value, low, high):\n", "def clamp(value, low=0, high=1):\n"),
            fail=("ambiguous_path",),
        )
    )
    c.append(
        case(
            "d-path-missing",
            "diff",
            "no_target_file",
            sr(
                "src/shop/orders.py", "def place(order):\n", "def place(order, *, dry_run=False):\n"
            ),
            fail=("no_file",),
        )
    )
    return c


def _sequences_and_misc() -> list[dict[str, Any]]:
    c = []
    c.append(
        case(
            "d-sequence",
            "diff",
            "sequential",
            sr(
                CART,
                "        self.lines.clear()\n",
                "        self.lines.clear()\n        self.checked_out = True\n",
            )
            + sr(
                CART,
                "        self.checked_out = True\n        return total\n",
                "        self.checked_out = True\n        return round(total, 2)\n",
            ),
            changes=change(
                CART,
                (
                    "        self.lines.clear()\n        return total\n",
                    "        self.lines.clear()\n        self.checked_out = True\n        return round(total, 2)\n",
                ),
            ),
        )
    )
    c.append(
        case(
            "d-duplicate-block",
            "diff",
            "already_applied",
            sr(INV, REMOVE_OLD, REMOVE_NEW) + sr(INV, REMOVE_OLD, REMOVE_NEW),
            changes=change(INV, (REMOVE_OLD, REMOVE_NEW)),
            fail=("no_match",),
            note="the second copy finds the text already replaced",
        )
    )
    c.append(
        case(
            "d-no-edits",
            "diff",
            "no_edits",
            "The bug is in Inventory.remove; it should check stock first.",
            fail=("no_edits",),
        )
    )
    c.append(
        case(
            "d-no-edits-code-only",
            "diff",
            "no_edits",
            "Replace the method with:\n\n```python\n    def value(self) -> float:\n        return 0.0\n```\n",
            fail=("no_edits",),
        )
    )
    c.append(case("d-noop", "diff", "noop", sr(INV, REMOVE_OLD, REMOVE_OLD), changes={}))
    whole_new = edited(base(CART), ("        self.lines.clear()\n", "        self.lines = {}\n"))
    c.append(
        case(
            "d-whole-file-in-search",
            "diff",
            "whole_file_dump",
            sr(CART, base(CART), whole_new),
            changes={CART: whole_new},
        )
    )
    c.append(
        case(
            "d-delete-lines",
            "diff",
            "clean",
            sr(INV, '        log.info("removed %s", sku)\n', ""),
            changes=change(INV, ('        log.info("removed %s", sku)\n', "")),
        )
    )
    c.append(
        case(
            "d-partial-many",
            "diff",
            "partial",
            sr(INV, "import logging\n", "import logging\nimport math\n")
            + sr(
                INV,
                "    def nothing(self):\n        pass\n",
                "    def nothing(self):\n        return None\n",
            )
            + sr(CART, "        self.lines.clear()\n", "        self.lines = {}\n"),
            changes={
                **change(INV, ("import logging\n", "import logging\nimport math\n")),
                **change(CART, ("        self.lines.clear()\n", "        self.lines = {}\n")),
            },
            fail=("no_match",),
        )
    )
    c.append(
        case(
            "d-search-unicode-quotes",
            "diff",
            "not_found",
            sr(
                INV,
                "        log.info(“removed %s”, sku)\n",
                "        log.info(“removed %s!”, sku)\n",
            ),
            fail=("no_match",),
        )
    )
    c.append(
        case(
            "d-lowercase-markers",
            "diff",
            "marker_length",
            f"{INV}\n```python\n<<<<<<< search\n{REMOVE_OLD}=======\n{REMOVE_NEW}>>>>>>> replace\n```\n",
            changes=change(INV, (REMOVE_OLD, REMOVE_NEW)),
        )
    )
    return c


def _hard() -> list[dict[str, Any]]:
    """Defects at the edge of what can be recovered without guessing."""
    c = []
    c.append(
        case(
            "d-search-skips-line",
            "diff",
            "not_found",
            sr(
                INV,
                "    def remove(self, sku: str, quantity: int = 1) -> None:\n        if quantity > item.quantity:\n",
                "    def remove(self, sku: str, quantity: int = 1) -> None:\n        if quantity >= item.quantity + 1:\n",
            ),
            fail=("no_match",),
            note="SEARCH leaves out a line of the file: the edit would drop or keep it, unknown",
        )
    )
    c.append(
        case(
            "d-search-invented-comment",
            "diff",
            "not_found",
            sr(
                CART,
                "        # empty the cart\n        self.lines.clear()\n",
                "        # empty the cart\n        self.lines = {}\n",
            ),
            fail=("no_match",),
        )
    )
    c.append(
        case(
            "d-tabs-partly-converted",
            "diff",
            "tabs_to_spaces",
            sr(
                GO,
                "\tif err := http.ListenAndServe(s.addr, nil); err != nil {\n        fmt.Fprintln(os.Stderr, err)\n        os.Exit(1)\n\t}\n",
                '\tif err := http.ListenAndServe(s.addr, nil); err != nil {\n        fmt.Fprintln(os.Stderr, "server:", err)\n        os.Exit(1)\n\t}\n',
                lang="go",
            ),
            changes=change(
                GO, ("fmt.Fprintln(os.Stderr, err)", 'fmt.Fprintln(os.Stderr, "server:", err)')
            ),
            note="the model kept some tabs and turned others into 8 spaces",
        )
    )
    c.append(
        case(
            "d-reply-indented-block",
            "diff",
            "indent_shift",
            f"  {INV}\n  ```python\n  <<<<<<< SEARCH\n  {REMOVE_OLD}  =======\n  {REMOVE_NEW}  >>>>>>> REPLACE\n  ```\n",
            changes=change(INV, (REMOVE_OLD, REMOVE_NEW)),
            note="the whole reply block is indented by two spaces (a list item in markdown)",
        )
    )
    return c

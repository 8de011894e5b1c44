"""Unified-diff ("udiff") cases.

In the diff texts below a line holding only ``~`` stands for a blank context line (a single
space), so that no line of this file ends in whitespace.
"""

from __future__ import annotations

from typing import Any

from common import base, case, change

INV = "src/shop/inventory.py"
CART = "src/shop/cart.py"
GO = "cmd/server/main.go"
JS = "web/utils.js"


def ud(text: str, fence: bool = True) -> str:
    body = "\n".join(" " if line == "~" else line for line in text.split("\n"))
    return f"```diff\n{body}```\n" if fence else body


REMOVE_CHANGE = (
    'raise ValueError(f"only {item.quantity} of {sku} left")',
    'raise ValueError(f"not enough {sku}: {item.quantity} left")',
)
CLEAR_CHANGE = ("        self.lines.clear()\n", "        self.lines = {}\n")


def udiff_cases() -> list[dict[str, Any]]:
    return _headers() + _numbers() + _context() + _files() + _shape() + _paths_and_misc() + _hard()


def _hard() -> list[dict[str, Any]]:
    """Defects at the edge of what can be recovered without guessing."""
    c = []
    c.append(
        case(
            "u-unprefixed-indented-context",
            "udiff",
            "context_unprefixed",
            ud(
                "--- a/src/shop/cart.py\n+++ b/src/shop/cart.py\n@@\n"
                "    def checkout(self) -> float:\n        total = self.total()\n"
                "-        for sku, quantity in self.lines.items():\n"
                "+        for sku, quantity in sorted(self.lines.items()):\n"
                "            self.inventory.remove(sku, quantity)\n"
            ),
            changes=change(
                CART,
                (
                    "        for sku, quantity in self.lines.items():\n            self.inventory",
                    "        for sku, quantity in sorted(self.lines.items()):\n            self.inventory",
                ),
            ),
            note="context lines lost their leading space: read as one space short",
        )
    )
    c.append(
        case(
            "u-tabs-partly-converted",
            "udiff",
            "tabs_to_spaces",
            ud(
                "--- a/cmd/server/main.go\n+++ b/cmd/server/main.go\n@@\n"
                " \tif r.Method != http.MethodGet {\n"
                '         http.Error(w, "method not allowed", http.StatusMethodNotAllowed)\n'
                "-        return\n"
                '+        log.Printf("rejected %s", r.Method)\n'
                "+        return\n"
                " \t}\n"
            ),
            changes=change(
                GO,
                (
                    "\t\treturn\n\t}\n\tfmt",
                    '\t\tlog.Printf("rejected %s", r.Method)\n\t\treturn\n\t}\n\tfmt',
                ),
            ),
            note="some lines keep their tab, others became 8 spaces",
        )
    )
    c.append(
        case(
            "u-context-line-skipped-inside",
            "udiff",
            "skipped_context",
            ud(
                "--- a/src/shop/inventory.py\n+++ b/src/shop/inventory.py\n@@\n"
                "     def remove(self, sku: str, quantity: int = 1) -> None:\n"
                "         if quantity > item.quantity:\n"
                '-            raise ValueError(f"only {item.quantity} of {sku} left")\n'
                '+            raise ValueError(f"not enough {sku}: {item.quantity} left")\n'
                "         item.quantity -= quantity\n"
            ),
            changes=change(INV, REMOVE_CHANGE),
            note="the hunk leaves out `item = self.items[sku]` between two context lines",
        )
    )
    c.append(
        case(
            "u-minus-line-skipped",
            "udiff",
            "skipped_context",
            ud(
                "--- a/src/shop/cart.py\n+++ b/src/shop/cart.py\n@@\n"
                "     def total(self) -> float:\n"
                "-        total = 0.0\n"
                "-            total += self.inventory.items[sku].price * quantity\n"
                "+        total = sum(self.inventory.items[s].price * q for s, q in self.lines.items())\n"
                "         return total\n"
            ),
            fail=("no_match",),
            note="removed lines are not contiguous in the file: what happens to the skipped one is unknown",
        )
    )
    return c


def _headers() -> list[dict[str, Any]]:
    c = []
    git = """diff --git a/src/shop/inventory.py b/src/shop/inventory.py
index 3b18e51..a9c04d2 100644
--- a/src/shop/inventory.py
+++ b/src/shop/inventory.py
@@ -33,7 +33,7 @@ class Inventory:
     def remove(self, sku: str, quantity: int = 1) -> None:
         item = self.items[sku]
         if quantity > item.quantity:
-            raise ValueError(f"only {item.quantity} of {sku} left")
+            raise ValueError(f"not enough {sku}: {item.quantity} left")
         item.quantity -= quantity
         if item.quantity == 0:
             del self.items[sku]
"""
    expected = change(INV, REMOVE_CHANGE)
    c.append(case("u-clean-git", "udiff", "clean", ud(git), changes=expected))
    c.append(case("u-clean-bare", "udiff", "bare_diff", git, changes=expected))
    c.append(
        case(
            "u-no-git-header",
            "udiff",
            "no_git_header",
            ud("\n".join(git.split("\n")[2:])),
            changes=expected,
        )
    )
    aider = """--- src/shop/inventory.py
+++ src/shop/inventory.py
@@ ... @@
     def remove(self, sku: str, quantity: int = 1) -> None:
         item = self.items[sku]
         if quantity > item.quantity:
-            raise ValueError(f"only {item.quantity} of {sku} left")
+            raise ValueError(f"not enough {sku}: {item.quantity} left")
         item.quantity -= quantity
"""
    c.append(case("u-aider-style", "udiff", "no_prefixes", ud(aider), changes=expected))
    c.append(
        case(
            "u-bare-at",
            "udiff",
            "no_line_numbers",
            ud(aider.replace("@@ ... @@", "@@")),
            changes=expected,
        )
    )
    c.append(
        case(
            "u-at-at-at",
            "udiff",
            "no_line_numbers",
            ud(aider.replace("@@ ... @@", "@@ @@")),
            changes=expected,
        )
    )
    c.append(
        case(
            "u-timestamps",
            "udiff",
            "odd_headers",
            ud(
                aider.replace(
                    "--- src/shop/inventory.py\n+++ src/shop/inventory.py",
                    "--- src/shop/inventory.py\t2024-05-01 10:00:00.000000000 +0200\n+++ src/shop/inventory.py\t2024-05-02 11:30:00.000000000 +0200",
                ).replace("@@ ... @@", "@@ -33,5 +33,5 @@")
            ),
            changes=expected,
        )
    )
    c.append(
        case(
            "u-git-header-only",
            "udiff",
            "odd_headers",
            ud(
                "diff --git a/src/shop/inventory.py b/src/shop/inventory.py\n"
                + "\n".join(aider.split("\n")[2:])
            ),
            changes=expected,
        )
    )
    c.append(
        case(
            "u-lone-plus-header",
            "udiff",
            "odd_headers",
            ud("+++ src/shop/inventory.py\n" + "\n".join(aider.split("\n")[2:])),
            changes=expected,
        )
    )
    c.append(
        case(
            "u-no-hunk-header",
            "udiff",
            "no_line_numbers",
            ud(aider.replace("@@ ... @@\n", "")),
            changes=expected,
        )
    )
    c.append(
        case(
            "u-func-context-header",
            "udiff",
            "clean",
            ud(
                aider.replace(
                    "@@ ... @@",
                    "@@ -33,5 +33,5 @@ def remove(self, sku: str, quantity: int = 1) -> None:",
                )
            ),
            changes=expected,
        )
    )
    c.append(
        case(
            "u-prose-around",
            "udiff",
            "prose_around",
            "The message should name the SKU first.\n\n"
            + ud(aider)
            + "\nThis keeps callers working.\n\n- changed the message\n- nothing else\n",
            changes=expected,
        )
    )
    c.append(
        case(
            "u-bare-with-prose",
            "udiff",
            "prose_around",
            "Here is the patch:\n\n" + aider + "\nThat should fix it.\n",
            changes=expected,
        )
    )
    c.append(
        case(
            "u-crlf-reply",
            "udiff",
            "crlf",
            ud(aider).replace("\n", "\r\n"),
            changes=expected,
        )
    )
    return c


def _numbers() -> list[dict[str, Any]]:
    c = []
    expected = change(INV, REMOVE_CHANGE)
    wrong = """--- a/src/shop/inventory.py
+++ b/src/shop/inventory.py
@@ -120,7 +120,7 @@
     def remove(self, sku: str, quantity: int = 1) -> None:
         item = self.items[sku]
         if quantity > item.quantity:
-            raise ValueError(f"only {item.quantity} of {sku} left")
+            raise ValueError(f"not enough {sku}: {item.quantity} left")
         item.quantity -= quantity
         if item.quantity == 0:
             del self.items[sku]
"""
    c.append(case("u-wrong-numbers", "udiff", "wrong_line_numbers", ud(wrong), changes=expected))
    c.append(
        case(
            "u-wrong-counts",
            "udiff",
            "wrong_counts",
            ud(wrong.replace("@@ -120,7 +120,7 @@", "@@ -33,3 +33,4 @@")),
            changes=expected,
        )
    )
    c.append(
        case(
            "u-counts-too-long",
            "udiff",
            "wrong_counts",
            ud(wrong.replace("@@ -120,7 +120,7 @@", "@@ -33,12 +33,12 @@")),
            changes=expected,
        )
    )
    c.append(
        case(
            "u-zero-numbers",
            "udiff",
            "wrong_line_numbers",
            ud(wrong.replace("@@ -120,7 +120,7 @@", "@@ -0,0 +0,0 @@")),
            changes=expected,
        )
    )
    two = """--- a/src/shop/cart.py
+++ b/src/shop/cart.py
@@ -9,4 +9,4 @@
     def add(self, sku: str, quantity: int = 1) -> None:
         if quantity <= 0:
-            raise ValueError("quantity must be positive")
+            raise ValueError("cannot add a negative quantity")
         self.lines[sku] = self.lines.get(sku, 0) + quantity
@@ -30,5 +30,5 @@
         total = self.total()
         for sku, quantity in self.lines.items():
             self.inventory.remove(sku, quantity)
-        self.lines.clear()
+        self.lines = {}
         return total
"""
    two_expected = change(
        CART,
        (
            'raise ValueError("quantity must be positive")\n        self.lines[sku]',
            'raise ValueError("cannot add a negative quantity")\n        self.lines[sku]',
        ),
        CLEAR_CHANGE,
    )
    c.append(case("u-two-hunks", "udiff", "clean", ud(two), changes=two_expected))
    c.append(
        case(
            "u-second-hunk-bare-at",
            "udiff",
            "second_hunk_bare",
            ud(two.replace("@@ -30,5 +30,5 @@", "@@")),
            changes=two_expected,
        )
    )
    c.append(
        case(
            "u-hunks-reversed",
            "udiff",
            "hunk_order",
            ud(
                "--- a/src/shop/cart.py\n+++ b/src/shop/cart.py\n"
                + two.split("@@ -30,5 +30,5 @@\n")[1].join(["@@ -30,5 +30,5 @@\n", ""])
                + two.split("+++ b/src/shop/cart.py\n")[1].split("@@ -30,5 +30,5 @@\n")[0]
            ),
            changes=two_expected,
        )
    )
    ambiguous = """--- a/src/shop/cart.py
+++ b/src/shop/cart.py
@@ -15,2 +15,2 @@
         if quantity <= 0:
-            raise ValueError("quantity must be positive")
+            raise ValueError("cannot remove a negative quantity")
"""
    remove_fix = change(
        CART,
        (
            'raise ValueError("quantity must be positive")\n        left',
            'raise ValueError("cannot remove a negative quantity")\n        left',
        ),
    )
    c.append(
        case(
            "u-ambiguous-numbered",
            "udiff",
            "ambiguous_with_numbers",
            ud(ambiguous),
            changes=remove_fix,
        )
    )
    c.append(
        case(
            "u-ambiguous-near-number",
            "udiff",
            "ambiguous_with_numbers",
            ud(ambiguous.replace("@@ -15,2 +15,2 @@", "@@ -17,2 +17,2 @@")),
            changes=remove_fix,
            note="off by two, still strictly nearest to the second copy",
        )
    )
    c.append(
        case(
            "u-ambiguous-bare",
            "udiff",
            "ambiguous",
            ud(ambiguous.replace("@@ -15,2 +15,2 @@", "@@ ... @@")),
            fail=("ambiguous",),
        )
    )
    c.append(
        case(
            "u-ambiguous-midway",
            "udiff",
            "ambiguous_with_numbers",
            ud(ambiguous.replace("@@ -15,2 +15,2 @@", "@@ -12,2 +12,2 @@")),
            fail=("ambiguous",),
            note="line 12 is 2 lines from one copy and 3 from the other: not clearly nearer",
        )
    )
    c.append(
        case(
            "u-ambiguous-line",
            "udiff",
            "ambiguous",
            ud(
                "--- a/src/shop/cart.py\n+++ b/src/shop/cart.py\n@@\n-        return total\n+        return round(total, 2)\n"
            ),
            fail=("ambiguous",),
        )
    )
    c.append(
        case(
            "u-ambiguous-line-numbered",
            "udiff",
            "ambiguous_with_numbers",
            ud(
                "--- a/src/shop/cart.py\n+++ b/src/shop/cart.py\n@@ -34 +34 @@\n-        return total\n+        return round(total, 2)\n"
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
    return c


def _context() -> list[dict[str, Any]]:
    c = []
    expected = change(INV, REMOVE_CHANGE)
    c.append(
        case(
            "u-blank-context-no-space",
            "udiff",
            "blank_context_unprefixed",
            ud(
                "--- a/src/shop/cart.py\n+++ b/src/shop/cart.py\n@@ -27,6 +27,6 @@\n         return total\n\n     def checkout(self) -> float:\n         total = self.total()\n"
                "         for sku, quantity in self.lines.items():\n             self.inventory.remove(sku, quantity)\n-        self.lines.clear()\n+        self.lines = {}\n"
            ),
            changes=change(CART, CLEAR_CHANGE),
        )
    )
    c.append(
        case(
            "u-blank-context-several",
            "udiff",
            "blank_context_unprefixed",
            ud(
                "--- a/src/shop/inventory.py\n+++ b/src/shop/inventory.py\n@@ -17,8 +17,9 @@\n\n     def total(self) -> float:\n         return self.price * self.quantity\n\n\n+@dataclass(frozen=False)\n-@dataclass\n class Inventory:\n"
            ),
            changes=change(
                INV,
                (
                    "\n\n@dataclass\nclass Inventory:",
                    "\n\n@dataclass(frozen=False)\nclass Inventory:",
                ),
            ),
        )
    )
    c.append(
        case(
            "u-unprefixed-context",
            "udiff",
            "context_unprefixed",
            ud(
                "--- a/src/shop/cart.py\n+++ b/src/shop/cart.py\n@@\nfrom shop.inventory import Inventory\n+from shop.errors import CartError\n\n\nclass Cart:\n"
            ),
            changes=change(
                CART,
                (
                    "from shop.inventory import Inventory\n",
                    "from shop.inventory import Inventory\nfrom shop.errors import CartError\n",
                ),
            ),
        )
    )
    c.append(
        case(
            "u-edge-context-wrong",
            "udiff",
            "bad_edge_context",
            ud(
                """--- a/src/shop/inventory.py
+++ b/src/shop/inventory.py
@@ -33,7 +33,7 @@
     def remove(self, sku, quantity=1):
         item = self.items[sku]
         if quantity > item.quantity:
-            raise ValueError(f"only {item.quantity} of {sku} left")
+            raise ValueError(f"not enough {sku}: {item.quantity} left")
         item.quantity -= quantity
"""
            ),
            fail=("no_match",),
            note="the context gives remove() another signature than the file has: context that "
            "contradicts the file is refused, never dropped to make a match",
        )
    )
    c.append(
        case(
            "u-both-edges-wrong",
            "udiff",
            "bad_edge_context",
            ud(
                """--- a/src/shop/inventory.py
+++ b/src/shop/inventory.py
@@ -33,7 +33,7 @@
     def remove(self, sku, quantity=1):
         item = self.items[sku]
         if quantity > item.quantity:
-            raise ValueError(f"only {item.quantity} of {sku} left")
+            raise ValueError(f"not enough {sku}: {item.quantity} left")
         item.quantity -= quantity
         if not item.quantity:
"""
            ),
            fail=("no_match",),
            note="the context gives remove() another signature than the file has: context that "
            "contradicts the file is refused, never dropped to make a match",
        )
    )
    c.append(
        case(
            "u-short-trailing-context",
            "udiff",
            "short_trailing_context",
            ud(
                """--- a/src/shop/inventory.py
+++ b/src/shop/inventory.py
@@ -33,4 +33,4 @@
     def remove(self, sku: str, quantity: int = 1) -> None:
         item = self.items[sku]
         if quantity > item.quantity:
-            raise ValueError(f"only {item.quantity} of {sku} left")
+            raise ValueError(f"not enough {sku}: {item.quantity} left")
"""
            ),
            changes=expected,
        )
    )
    c.append(
        case(
            "u-skipped-context",
            "udiff",
            "skipped_context",
            ud(
                """--- a/src/shop/inventory.py
+++ b/src/shop/inventory.py
@@ -26,15 +26,15 @@
     def add(self, item: Item) -> None:
         if item.sku in self.items:
             self.items[item.sku].quantity += item.quantity
         else:
             self.items[item.sku] = item
-        log.info("added %s", item.sku)
+        log.debug("added %s", item.sku)
~
     def remove(self, sku: str, quantity: int = 1) -> None:
         item = self.items[sku]
             del self.items[sku]
-        log.info("removed %s", sku)
+        log.debug("removed %s", sku)
"""
            ),
            changes=change(
                INV,
                ('log.info("added', 'log.debug("added'),
                ('log.info("removed', 'log.debug("removed'),
            ),
        )
    )
    glued = """--- a/src/shop/cart.py
+++ b/src/shop/cart.py
@@ -5,3 +5,4 @@
     def __init__(self, inventory: Inventory) -> None:
         self.inventory = inventory
         self.lines: dict[str, int] = {}
+        self.checked_out = False
     def checkout(self) -> float:
         total = self.total()
         for sku, quantity in self.lines.items():
             self.inventory.remove(sku, quantity)
         self.lines.clear()
+        self.checked_out = True
         return total
"""
    c.append(
        case(
            "u-glued-insert-unanchored",
            "udiff",
            "second_hunk_no_header",
            ud(glued),
            fail=("no_match",),
            note="the first insertion sits between two non-adjacent contexts: either side is a guess",
        )
    )
    c.append(
        case(
            "u-second-hunk-no-header",
            "udiff",
            "second_hunk_no_header",
            ud(
                """--- a/src/shop/cart.py
+++ b/src/shop/cart.py
@@ -5,3 +5,4 @@
     def __init__(self, inventory: Inventory) -> None:
         self.inventory = inventory
         self.lines: dict[str, int] = {}
+        self.checked_out = False
~
     def checkout(self) -> float:
         total = self.total()
         for sku, quantity in self.lines.items():
             self.inventory.remove(sku, quantity)
         self.lines.clear()
+        self.checked_out = True
         return total
"""
            ),
            changes=change(
                CART,
                (
                    "        self.lines: dict[str, int] = {}\n",
                    "        self.lines: dict[str, int] = {}\n        self.checked_out = False\n",
                ),
                (
                    "        self.lines.clear()\n",
                    "        self.lines.clear()\n        self.checked_out = True\n",
                ),
            ),
        )
    )
    c.append(
        case(
            "u-noop-pairs",
            "udiff",
            "noop_pairs",
            ud(
                """--- a/src/shop/cart.py
+++ b/src/shop/cart.py
@@ -29,6 +29,6 @@
-    def checkout(self) -> float:
+    def checkout(self) -> float:
-        total = self.total()
+        total = self.total()
         for sku, quantity in self.lines.items():
             self.inventory.remove(sku, quantity)
-        self.lines.clear()
+        self.lines = {}
         return total
"""
            ),
            changes=change(CART, CLEAR_CHANGE),
        )
    )
    c.append(
        case(
            "u-trailing-ws-context",
            "udiff",
            "trailing_whitespace",
            ud(
                "--- a/src/shop/cart.py\n+++ b/src/shop/cart.py\n@@\n             self.inventory.remove(sku, quantity)\t\n-        self.lines.clear()  \n+        self.lines = {}\n         return total\n"
            ),
            changes=change(CART, CLEAR_CHANGE),
        )
    )
    c.append(
        case(
            "u-already-applied",
            "udiff",
            "already_applied",
            ud(
                "--- a/src/shop/cart.py\n+++ b/src/shop/cart.py\n@@\n             self.inventory.remove(sku, quantity)\n-        self.lines = {}\n+        self.lines.clear()\n         return total\n"
            ),
            fail=("no_match",),
        )
    )
    c.append(
        case(
            "u-minus-not-found",
            "udiff",
            "not_found",
            ud(
                "--- a/src/shop/cart.py\n+++ b/src/shop/cart.py\n@@\n     def checkout(self) -> float:\n-        total = self.subtotal()\n+        total = self.total()\n"
            ),
            fail=("no_match",),
        )
    )
    c.append(
        case(
            "u-context-shows-edit",
            "udiff",
            "already_applied",
            ud(
                "--- a/src/shop/cart.py\n+++ b/src/shop/cart.py\n@@\n     def checkout(self) -> float:\n         total = round(self.total(), 2)\n-        for sku, quantity in self.lines.items():\n+        for sku, quantity in sorted(self.lines.items()):\n"
            ),
            fail=("ambiguous",),
            note="without the invented context line the change matches two loops",
        )
    )
    return c


def _files() -> list[dict[str, Any]]:
    c = []
    new_text = "class CartError(Exception):\n    pass\n"
    c.append(
        case(
            "u-new-file",
            "udiff",
            "new_file",
            ud(
                "--- /dev/null\n+++ b/src/shop/errors.py\n@@ -0,0 +1,2 @@\n+class CartError(Exception):\n+    pass\n"
            ),
            changes={"src/shop/errors.py": new_text},
        )
    )
    c.append(
        case(
            "u-new-file-git",
            "udiff",
            "new_file",
            ud(
                "diff --git a/src/shop/errors.py b/src/shop/errors.py\nnew file mode 100644\nindex 0000000..e69de29\n--- /dev/null\n+++ b/src/shop/errors.py\n@@ -0,0 +1,2 @@\n+class CartError(Exception):\n+    pass\n"
            ),
            changes={"src/shop/errors.py": new_text},
        )
    )
    c.append(
        case(
            "u-new-file-no-eol",
            "udiff",
            "no_final_newline",
            ud(
                "--- /dev/null\n+++ b/src/shop/errors.py\n@@ -0,0 +1,2 @@\n+class CartError(Exception):\n+    pass\n\\ No newline at end of file\n"
            ),
            changes={"src/shop/errors.py": new_text.rstrip("\n")},
        )
    )
    c.append(
        case(
            "u-new-file-exists",
            "udiff",
            "new_file",
            ud(
                "--- /dev/null\n+++ b/src/shop/utils.py\n@@ -0,0 +1,2 @@\n+def clamp(v, lo, hi):\n+    return max(lo, min(v, hi))\n"
            ),
            fail=("file_exists",),
        )
    )
    c.append(
        case(
            "u-delete-file",
            "udiff",
            "deleted_file",
            ud(
                "--- a/src/shop/utils.py\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-def clamp(value, low, high):\n-    return max(low, min(value, high))\n"
            ),
            changes={"src/shop/utils.py": None},
        )
    )
    c.append(
        case(
            "u-delete-file-git",
            "udiff",
            "deleted_file",
            ud(
                "diff --git a/src/shop/utils.py b/src/shop/utils.py\ndeleted file mode 100644\nindex 1..0\n--- a/src/shop/utils.py\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-def clamp(value, low, high):\n-    return max(low, min(value, high))\n"
            ),
            changes={"src/shop/utils.py": None},
        )
    )
    c.append(
        case(
            "u-delete-mismatch",
            "udiff",
            "deleted_file",
            ud(
                "--- a/src/shop/utils.py\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-def clamp(x, lo, hi):\n-    return max(lo, min(x, hi))\n"
            ),
            fail=("no_match",),
        )
    )
    c.append(
        case(
            "u-two-files",
            "udiff",
            "several_files",
            ud(
                "--- a/src/shop/cart.py\n+++ b/src/shop/cart.py\n@@ -33,2 +33,2 @@\n-        self.lines.clear()\n+        self.lines = {}\n         return total\n"
                "--- a/tests/test_cart.py\n+++ b/tests/test_cart.py\n@@ -10 +10,2 @@\n     assert cart.total() == 2.0\n+    assert cart.checkout() == 2.0\n"
            ),
            changes={
                **change(CART, CLEAR_CHANGE),
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
    c.append(
        case(
            "u-two-fences",
            "udiff",
            "several_files",
            "First the cart:\n\n"
            + ud(
                "--- src/shop/cart.py\n+++ src/shop/cart.py\n@@ ... @@\n-        self.lines.clear()\n+        self.lines = {}\n         return total\n"
            )
            + "\nThen the test:\n\n"
            + ud(
                "--- tests/test_cart.py\n+++ tests/test_cart.py\n@@ ... @@\n     assert cart.total() == 2.0\n+    assert cart.checkout() == 2.0\n"
            ),
            changes={
                **change(CART, CLEAR_CHANGE),
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
    c.append(
        case(
            "u-new-and-modified",
            "udiff",
            "several_files",
            ud(
                "--- /dev/null\n+++ b/src/shop/errors.py\n@@ -0,0 +1,2 @@\n+class CartError(Exception):\n+    pass\n"
                "--- a/src/shop/cart.py\n+++ b/src/shop/cart.py\n@@ -1,2 +1,3 @@\n from shop.inventory import Inventory\n+from shop.errors import CartError\n~\n"
            ),
            changes={
                "src/shop/errors.py": new_text,
                **change(
                    CART,
                    (
                        "from shop.inventory import Inventory\n",
                        "from shop.inventory import Inventory\nfrom shop.errors import CartError\n",
                    ),
                ),
            },
        )
    )
    version = "src/shop/version.py"
    c.append(
        case(
            "u-no-eol-edit-last",
            "udiff",
            "no_final_newline",
            ud(
                "--- a/src/shop/version.py\n+++ b/src/shop/version.py\n@@ -2,2 +2,2 @@\n BUILD = 7\n-CHANNEL = 'stable'\n\\ No newline at end of file\n+CHANNEL = 'beta'\n\\ No newline at end of file\n"
            ),
            changes={version: "VERSION = '1.2.3'\nBUILD = 7\nCHANNEL = 'beta'"},
        )
    )
    c.append(
        case(
            "u-no-eol-marker-missing",
            "udiff",
            "no_final_newline",
            ud(
                "--- a/src/shop/version.py\n+++ b/src/shop/version.py\n@@ -2,2 +2,2 @@\n BUILD = 7\n-CHANNEL = 'stable'\n+CHANNEL = 'beta'\n"
            ),
            changes={version: "VERSION = '1.2.3'\nBUILD = 7\nCHANNEL = 'beta'"},
            note="no marker at all: the file keeps its missing final newline",
        )
    )
    c.append(
        case(
            "u-no-eol-add-newline",
            "udiff",
            "no_final_newline",
            ud(
                "--- a/src/shop/version.py\n+++ b/src/shop/version.py\n@@ -3 +3,2 @@\n-CHANNEL = 'stable'\n\\ No newline at end of file\n+CHANNEL = 'stable'\n+DATE = '2024-01-01'\n"
            ),
            changes={
                version: "VERSION = '1.2.3'\nBUILD = 7\nCHANNEL = 'stable'\nDATE = '2024-01-01'\n"
            },
        )
    )
    c.append(
        case(
            "u-append-at-end",
            "udiff",
            "end_of_file",
            ud(
                "--- a/src/shop/inventory.py\n+++ b/src/shop/inventory.py\n@@ -46,2 +46,5 @@\n         name = name.lower()\n         return [item for item in self.items.values() if name in item.name.lower()]\n+\n+    def __len__(self) -> int:\n+        return len(self.items)\n"
            ),
            changes={
                INV: base(INV) + "\n    def __len__(self) -> int:\n        return len(self.items)\n"
            },
        )
    )
    c.append(
        case(
            "u-insert-at-start",
            "udiff",
            "start_of_file",
            ud(
                "--- a/src/shop/cart.py\n+++ b/src/shop/cart.py\n@@ -1,2 +1,4 @@\n+from __future__ import annotations\n+\n from shop.inventory import Inventory\n~\n"
            ),
            changes={CART: "from __future__ import annotations\n\n" + base(CART)},
        )
    )
    c.append(
        case(
            "u-crlf-file",
            "udiff",
            "crlf",
            ud(
                "--- a/src/shop/legacy.py\n+++ b/src/shop/legacy.py\n@@ -8,2 +8,3 @@\n def format_price(value):\n-    return '%.2f' % value\n+    text = '%.2f' % value\n+    return text.replace('.', ',')\n"
            ),
            changes=change(
                "src/shop/legacy.py",
                (
                    "    return '%.2f' % value\r\n",
                    "    text = '%.2f' % value\r\n    return text.replace('.', ',')\r\n",
                ),
            ),
        )
    )
    c.append(
        case(
            "u-non-ascii",
            "udiff",
            "non_ascii",
            ud(
                "--- a/docs/README.md\n+++ b/docs/README.md\n@@ -3 +3 @@\n-Prices are in €; quantities are whole units.\n+Prices are in € and include VAT; quantities are whole units.\n"
            ),
            changes=change("docs/README.md", ("in €;", "in € and include VAT;")),
        )
    )
    return c


def _shape() -> list[dict[str, Any]]:
    c = []
    whole_old = base("src/shop/utils.py")
    c.append(
        case(
            "u-whole-file-replaced",
            "udiff",
            "whole_file_dump",
            ud(
                "--- a/src/shop/utils.py\n+++ b/src/shop/utils.py\n@@ -1,2 +1,4 @@\n-def clamp(value, low, high):\n-    return max(low, min(value, high))\n"
                "+def clamp(value, low, high):\n+    if low > high:\n+        raise ValueError('low > high')\n+    return max(low, min(value, high))\n"
            ),
            changes={
                "src/shop/utils.py": "def clamp(value, low, high):\n    if low > high:\n        raise ValueError('low > high')\n"
                + whole_old.split("\n", 1)[1]
            },
        )
    )
    c.append(
        case(
            "u-whole-file-added-only",
            "udiff",
            "whole_file_dump",
            ud(
                "--- a/src/shop/utils.py\n+++ b/src/shop/utils.py\n@@\n+def clamp(value, low, high):\n+    if low > high:\n+        raise ValueError('low > high')\n+    return max(low, min(value, high))\n"
            ),
            fail=("no_match",),
            note="only + lines for a file that has content: nothing says what they replace",
        )
    )
    full_context = "".join(
        (" " + line + "\n")
        if "self.lines.clear()" not in line
        else "-        self.lines.clear()\n+        self.lines = {}\n"
        for line in base(CART).split("\n")[:-1]
    )
    c.append(
        case(
            "u-whole-file-context",
            "udiff",
            "whole_file_dump",
            ud(
                "--- a/src/shop/cart.py\n+++ b/src/shop/cart.py\n@@ -1,34 +1,34 @@\n" + full_context
            ),
            changes=change(CART, CLEAR_CHANGE),
        )
    )
    c.append(
        case(
            "u-dedented",
            "udiff",
            "indent_shift",
            ud(
                "--- a/src/shop/cart.py\n+++ b/src/shop/cart.py\n@@\n def checkout(self) -> float:\n     total = self.total()\n+    if not total:\n+        return 0.0\n     for sku, quantity in self.lines.items():\n"
            ),
            changes=change(
                CART,
                (
                    "        total = self.total()\n",
                    "        total = self.total()\n        if not total:\n            return 0.0\n",
                ),
            ),
        )
    )
    c.append(
        case(
            "u-tabs-as-spaces",
            "udiff",
            "tabs_to_spaces",
            ud(
                '--- a/cmd/server/main.go\n+++ b/cmd/server/main.go\n@@ -27,4 +27,4 @@\n     addr := os.Getenv("ADDR")\n     if addr == "" {\n-        addr = ":8080"\n+        addr = ":9090"\n     }\n'
            ),
            changes=change(GO, ('":8080"', '":9090"')),
        )
    )
    c.append(
        case(
            "u-tabs-exact",
            "udiff",
            "tabs",
            ud(
                "--- a/cmd/server/main.go\n+++ b/cmd/server/main.go\n@@ -33,4 +33,4 @@\n \tif err := http.ListenAndServe(s.addr, nil); err != nil {\n \t\tfmt.Fprintln(os.Stderr, err)\n-\t\tos.Exit(1)\n+\t\tos.Exit(2)\n \t}\n"
            ),
            changes=change(GO, ("os.Exit(1)", "os.Exit(2)")),
        )
    )
    c.append(
        case(
            "u-js-4-for-2",
            "udiff",
            "indent_shift",
            ud(
                "--- a/web/utils.js\n+++ b/web/utils.js\n@@\n function debounce(fn, wait) {\n-    let timer = null;\n+    let timer = undefined;\n     return function (...args) {\n"
            ),
            changes=change(JS, ("let timer = null;", "let timer = undefined;")),
        )
    )
    c.append(
        case(
            "u-ordered-pieces",
            "udiff",
            "skipped_context",
            ud(
                """--- a/src/shop/cart.py
+++ b/src/shop/cart.py
@@ ... @@
     def total(self) -> float:
         total = 0.0
-        for sku, quantity in self.lines.items():
+        for sku, quantity in sorted(self.lines.items()):
             total += self.inventory.items[sku].price * quantity
         return total
-        for sku, quantity in self.lines.items():
+        for sku, quantity in sorted(self.lines.items()):
             self.inventory.remove(sku, quantity)
"""
            ),
            changes=change(
                CART,
                (
                    "        total = 0.0\n        for sku, quantity in self.lines.items():\n",
                    "        total = 0.0\n        for sku, quantity in sorted(self.lines.items()):\n",
                ),
                (
                    "        for sku, quantity in self.lines.items():\n            self.inventory",
                    "        for sku, quantity in sorted(self.lines.items()):\n            self.inventory",
                ),
            ),
        )
    )
    c.append(
        case(
            "u-insert-ambiguous-anchor",
            "udiff",
            "ambiguous",
            ud(
                "--- a/src/shop/cart.py\n+++ b/src/shop/cart.py\n@@\n         return total\n+\n+    __len__ = None\n"
            ),
            fail=("ambiguous",),
        )
    )
    c.append(
        case(
            "u-partial-ambiguous",
            "udiff",
            "partial",
            ud(
                '--- a/src/shop/cart.py\n+++ b/src/shop/cart.py\n@@\n-        self.lines.clear()\n+        self.lines = {}\n@@\n         if quantity <= 0:\n-            raise ValueError("quantity must be positive")\n+            raise ValueError("bad quantity")\n'
            ),
            changes=change(CART, CLEAR_CHANGE),
            fail=("ambiguous",),
        )
    )
    return c


def _paths_and_misc() -> list[dict[str, Any]]:
    c = []
    body = "@@\n-        self.lines.clear()\n+        self.lines = {}\n"
    for cid, path in [
        ("u-path-absolute", "/etc/passwd"),
        ("u-path-dotdot", "../../src/shop/cart.py"),
        ("u-path-git", ".git/config"),
    ]:
        c.append(
            case(
                cid, "udiff", "bad_path", ud(f"--- {path}\n+++ {path}\n{body}"), fail=("bad_path",)
            )
        )
    c.append(
        case(
            "u-path-dotdot-new",
            "udiff",
            "bad_path",
            ud("--- /dev/null\n+++ b/../outside.py\n@@ -0,0 +1 @@\n+print('hi')\n"),
            fail=("bad_path",),
        )
    )
    c.append(
        case(
            "u-path-suffix",
            "udiff",
            "odd_path",
            ud(f"--- shop/cart.py\n+++ shop/cart.py\n{body}"),
            changes=change(CART, CLEAR_CHANGE),
        )
    )
    c.append(
        case(
            "u-path-basename",
            "udiff",
            "odd_path",
            ud(f"--- a/cart.py\n+++ b/cart.py\n{body}"),
            changes=change(CART, CLEAR_CHANGE),
        )
    )
    c.append(
        case(
            "u-path-missing",
            "udiff",
            "no_target_file",
            ud(f"--- a/src/shop/orders.py\n+++ b/src/shop/orders.py\n{body}"),
            fail=("no_file",),
        )
    )
    c.append(
        case(
            "u-prompt-example",
            "udiff",
            "prompt_example",
            ud(
                "--- mathweb/flask/app.py\n+++ mathweb/flask/app.py\n@@ ... @@\n-class MathWeb:\n+import sympy\n+\n+class MathWeb:\n"
            ),
            fail=("no_file",),
        )
    )
    c.append(
        case(
            "u-no-edits",
            "udiff",
            "no_edits",
            "I could not find the bug; please share more of the code.",
            fail=("no_edits",),
        )
    )
    c.append(
        case(
            "u-hunk-without-file",
            "udiff",
            "missing_path",
            ud(body),
            fail=("malformed",),
        )
    )
    c.append(
        case(
            "u-shrink-then-ambiguous",
            "udiff",
            "ambiguous",
            ud(
                '--- a/src/shop/cart.py\n+++ b/src/shop/cart.py\n@@\n     def clear(self):\n         if quantity <= 0:\n-            raise ValueError("quantity must be positive")\n+            raise ValueError("bad")\n'
            ),
            fail=("ambiguous",),
            note="dropping the invented first line leaves a hunk that matches twice",
        )
    )
    return c

"""Base file trees for the edit corpus (hand-written; see author.py)."""

from __future__ import annotations

INVENTORY = '''"""Stock keeping for the shop."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class Item:
    sku: str
    name: str
    price: float
    quantity: int = 0

    def total(self) -> float:
        return self.price * self.quantity


@dataclass
class Inventory:
    items: dict[str, Item] = field(default_factory=dict)

    def add(self, item: Item) -> None:
        if item.sku in self.items:
            self.items[item.sku].quantity += item.quantity
        else:
            self.items[item.sku] = item
        log.info("added %s", item.sku)

    def remove(self, sku: str, quantity: int = 1) -> None:
        item = self.items[sku]
        if quantity > item.quantity:
            raise ValueError(f"only {item.quantity} of {sku} left")
        item.quantity -= quantity
        if item.quantity == 0:
            del self.items[sku]
        log.info("removed %s", sku)

    def value(self) -> float:
        return sum(item.total() for item in self.items.values())

    def find(self, name: str) -> list[Item]:
        name = name.lower()
        return [item for item in self.items.values() if name in item.name.lower()]
'''

CART = """from shop.inventory import Inventory


class Cart:
    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self.lines: dict[str, int] = {}

    def add(self, sku: str, quantity: int = 1) -> None:
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        self.lines[sku] = self.lines.get(sku, 0) + quantity

    def remove(self, sku: str, quantity: int = 1) -> None:
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        left = self.lines.get(sku, 0) - quantity
        if left > 0:
            self.lines[sku] = left
        else:
            self.lines.pop(sku, None)

    def total(self) -> float:
        total = 0.0
        for sku, quantity in self.lines.items():
            total += self.inventory.items[sku].price * quantity
        return total

    def checkout(self) -> float:
        total = self.total()
        for sku, quantity in self.lines.items():
            self.inventory.remove(sku, quantity)
        self.lines.clear()
        return total
"""

SERVER = """package main

import (
\t"fmt"
\t"net/http"
\t"os"
)

type Server struct {
\taddr  string
\tdebug bool
}

func NewServer(addr string) *Server {
\treturn &Server{addr: addr}
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
\tif r.Method != http.MethodGet {
\t\thttp.Error(w, "method not allowed", http.StatusMethodNotAllowed)
\t\treturn
\t}
\tfmt.Fprintf(w, "hello %s\\n", r.URL.Path)
}

func main() {
\taddr := os.Getenv("ADDR")
\tif addr == "" {
\t\taddr = ":8080"
\t}
\ts := NewServer(addr)
\thttp.HandleFunc("/", s.handle)
\tif err := http.ListenAndServe(s.addr, nil); err != nil {
\t\tfmt.Fprintln(os.Stderr, err)
\t\tos.Exit(1)
\t}
}
"""

UTILS_JS = """'use strict';

function slugify(text) {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

function debounce(fn, wait) {
  let timer = null;
  return function (...args) {
    clearTimeout(timer);
    timer = setTimeout(() => fn.apply(this, args), wait);
  };
}

module.exports = { slugify, debounce };
"""

README = """# Café inventory — «Ünïcode» edition

Prices are in €; quantities are whole units.

## Usage

    python -m shop --help

Report bugs to the maintainers (Zoë, Jürgen).
"""

LEGACY_CRLF = (
    "# Legacy helpers, kept with Windows line endings.\r\n"
    "\r\n"
    "def parse_price(text):\r\n"
    "    text = text.strip().replace(',', '.')\r\n"
    "    return float(text)\r\n"
    "\r\n"
    "\r\n"
    "def format_price(value):\r\n"
    "    return '%.2f' % value\r\n"
)

VERSION_NO_EOL = "VERSION = '1.2.3'\nBUILD = 7\nCHANNEL = 'stable'"

SHOP_UTILS = """def clamp(value, low, high):
    return max(low, min(value, high))
"""

SCRIPT_UTILS = """import sys


def die(message):
    print(message, file=sys.stderr)
    sys.exit(1)
"""

MAKEFILE = """test:
\tpython -m pytest -q

lint:
\truff check src
"""

TEST_CART = """from shop.cart import Cart
from shop.inventory import Inventory, Item


def test_total():
    inventory = Inventory()
    inventory.add(Item("a", "Apple", 0.5, 10))
    cart = Cart(inventory)
    cart.add("a", 4)
    assert cart.total() == 2.0
"""

SHOP = {
    "src/shop/__init__.py": "",
    "src/shop/inventory.py": INVENTORY,
    "src/shop/cart.py": CART,
    "src/shop/legacy.py": LEGACY_CRLF,
    "src/shop/version.py": VERSION_NO_EOL,
    "src/shop/utils.py": SHOP_UTILS,
    "scripts/utils.py": SCRIPT_UTILS,
    "cmd/server/main.go": SERVER,
    "web/utils.js": UTILS_JS,
    "docs/README.md": README,
    "tests/test_cart.py": TEST_CART,
    "Makefile": MAKEFILE,
}

TREES = {"shop": SHOP}

"""Small projects and edit requests for the real-model corpus, all written for this corpus.

Each project is a few short files (short, so that a small local model can answer with a whole
file inside a bounded reply). Each request is an issue text and the files shown to the model;
the prompt is the one the repair stage sends (``agentless.repair.repair_messages``).
"""

from __future__ import annotations

STATS = '''"""Summary statistics for lists of numbers."""


def mean(values):
    if not values:
        raise ValueError("mean of empty data")
    return sum(values) / len(values)


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def variance(values):
    centre = mean(values)
    return sum((v - centre) ** 2 for v in values) / len(values)


def spread(values):
    return max(values) - min(values)
'''

CALC = '''"""Arithmetic helpers used by the command line calculator."""


def add(a, b):
    return a + b


def sub(a, b):
    return a - b


def mul(a, b):
    return a * b


def div(a, b):
    return a / b


def clamp(value, low, high):
    if value < low:
        return low
    if value > high:
        return high
    return value


def count_positive(numbers):
    count = 0
    for n in numbers:
        if n > 0:
            count += 1
    return 0
'''

SHAPES = '''"""Plane shapes."""

import math


class Circle:
    def __init__(self, r):
        self.r = r

    def area(self):
        return math.pi * self.r ** 2

    def perimeter(self):
        return 2 * math.pi * self.r


class Rectangle:
    def __init__(self, w, h):
        self.w = w
        self.h = h

    def area(self):
        return self.w * self.h

    def perimeter(self):
        return self.w * self.h
'''

CLI = '''"""Command line entry point of the notes tool."""

import argparse
import sys

from notes.store import NoteStore


def build_parser():
    parser = argparse.ArgumentParser(prog="notes")
    parser.add_argument("command", choices=["add", "list", "remove"])
    parser.add_argument("text", nargs="?", default="")
    parser.add_argument("--file", default="notes.txt")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    store = NoteStore(args.file)
    if args.command == "add":
        store.add(args.text)
    elif args.command == "list":
        for number, note in enumerate(store.notes(), 1):
            print(f"{number}. {note}")
    elif args.command == "remove":
        store.remove(int(args.text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''

STORE = '''"""Notes kept one per line in a text file."""

from pathlib import Path


class NoteStore:
    def __init__(self, path):
        self.path = Path(path)

    def notes(self):
        if not self.path.exists():
            return []
        return self.path.read_text().splitlines()

    def add(self, text):
        with self.path.open("a") as handle:
            handle.write(text + "\\n")

    def remove(self, number):
        notes = self.notes()
        del notes[number]
        self.path.write_text("".join(note + "\\n" for note in notes))
'''

TEXT = '''"""Text helpers for titles and previews."""

import re


def slugify(title):
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower())
    return slug.strip("-")


def truncate(text, width):
    return text[:width] + "..."


def word_count(text):
    return len(text.split(" "))


def initials(name):
    return "".join(part[0] for part in name.split())
'''

SETTINGS = '''"""Server settings read from the environment."""

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    debug: bool


def load_settings(env=None):
    env = os.environ if env is None else env
    host = env.get("APP_HOST", "127.0.0.1")
    port = int(env.get("APP_PORT", "80"))
    debug = env.get("APP_DEBUG", "0") == "1"
    return Settings(host=host, port=port, debug=debug)
'''

# A tab-indented file: models often answer with spaces.
TIMER = '''"""A stopwatch for timing steps of a job."""

import time


class Stopwatch:
\tdef __init__(self):
\t\tself.laps = []
\t\tself.started = None

\tdef start(self):
\t\tself.started = time.monotonic()

\tdef lap(self):
\t\tnow = time.monotonic()
\t\tself.laps.append(now - self.started)
\t\tself.started = now

\tdef total(self):
\t\treturn sum(self.laps) / len(self.laps)
'''

BANK = '''"""A toy bank account."""


class InsufficientFunds(Exception):
    pass


class Account:
    def __init__(self, owner, balance=0):
        self.owner = owner
        self.balance = balance
        self.history = []

    def deposit(self, amount):
        self.balance += amount
        self.history.append(("deposit", amount))

    def withdraw(self, amount):
        if amount > self.balance:
            raise InsufficientFunds(f"{self.owner} has only {self.balance}")
        self.balance -= amount
        self.history.append(("withdraw", amount))

    def statement(self):
        lines = [f"Account of {self.owner}"]
        for kind, amount in self.history:
            lines.append(f"{kind}: {amount}")
        return "\\n".join(lines)
'''

GRADES = '''"""Turn exam scores into letter grades."""

BOUNDS = [(90, "A"), (80, "B"), (70, "C"), (60, "D")]


def letter(score):
    for bound, grade in BOUNDS:
        if score > bound:
            return grade
    return "F"


def report(scores):
    return {name: letter(score) for name, score in scores.items()}
'''

CONVERT = '''"""Unit conversions for the weather station."""


def celsius_to_fahrenheit(c):
    return c * 9 / 5 + 32


def fahrenheit_to_celsius(f):
    return (f - 32) * 5 / 9
'''

WEATHER = '''"""Readings of the weather station."""

from station.convert import celsius_to_fahrenheit


def describe(reading):
    temp = celsius_to_fahrenheit(reading["temp_c"])
    return f"{reading['place']}: {temp:.1f} F"
'''

# --- the second round of the corpus: more projects, longer files shown as windows, CRLF,
# non-ASCII text, two-file changes and exercise stubs ---

STOCK = '''"""Stock kept in a small shop's back room."""


class Stock:
    def __init__(self):
        self.items = {}
        self.prices = {}

    def add(self, name, count, price):
        self.items[name] = self.items.get(name, 0) + count
        self.prices[name] = price

    def remove(self, name, count):
        self.items[name] = self.items.get(name, 0) - count

    def value(self):
        total = 0
        for name, count in self.items.items():
            total += count * self.prices[name]
        return total

    def low(self, threshold):
        return sorted(name for name, count in self.items.items() if count < threshold)
'''

VECTOR = '''"""Two-dimensional vectors."""

import math


class Vector:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __add__(self, other):
        return Vector(self.x + other.x, self.y + other.y)

    def __sub__(self, other):
        return Vector(self.x + other.x, self.y + other.y)

    def __mul__(self, k):
        return Vector(self.x * k, self.y * k)

    def __eq__(self, other):
        return (self.x, self.y) == (other.x, other.y)

    def dot(self, other):
        return self.x * other.x + self.y * other.y

    def norm(self):
        return math.sqrt(self.x ** 2 + self.y)
'''

INI = '''"""A reader for simple key = value configuration files."""


def parse_line(line):
    key, value = line.split("=")
    return key.strip(), value


def parse(text):
    settings = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, value = parse_line(line)
        settings[key] = value
    return settings


def dump(settings):
    return "".join(f"{key} = {value}\\n" for key, value in settings.items())
'''

DATES = '''"""Calendar arithmetic without the datetime module (for the embedded board)."""

MONTH_NAMES = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]
DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def is_leap(year):
    return year % 4 == 0


def days_in_month(month, year):
    if month == 2 and is_leap(year):
        return 29
    return DAYS[month]


def days_in_year(year):
    return 366 if is_leap(year) else 365


def day_of_year(day, month, year):
    total = day
    for m in range(1, month):
        total += days_in_month(m, year)
    return total


def month_name(month):
    return MONTH_NAMES[month - 1]


def quarter(month):
    return month // 3 + 1


def weekday(day, month, year):
    # Zeller's congruence, shifted so that Monday is 0.
    if month < 3:
        month += 12
        year -= 1
    k = year % 100
    j = year // 100
    h = (day + 13 * (month + 1) // 5 + k + k // 4 + j // 4 + 5 * j) % 7
    return (h + 5) % 7


def weekday_name(day, month, year):
    return DAY_NAMES[weekday(day, month, year)]


def parse_iso(text):
    year, month, day = text.split("-")
    return int(day), int(month), int(year)


def format_iso(day, month, year):
    return f"{year:04d}-{month:02d}-{day:02d}"


def add_days(day, month, year, n):
    day += n
    while day > days_in_month(month, year):
        day -= days_in_month(month, year)
        month += 1
        if month > 12:
            month = 1
            year += 1
    return day, month, year


def is_weekend(day, month, year):
    return weekday(day, month, year) >= 5


def days_between(first, second):
    (d1, m1, y1), (d2, m2, y2) = first, second
    if (y1, m1, d1) > (y2, m2, d2):
        return -days_between(second, first)
    count = 0
    while (d1, m1, y1) != (d2, m2, y2):
        d1, m1, y1 = add_days(d1, m1, y1, 1)
        count += 1
    return count


def season(month):
    if month in (12, 1, 2):
        return "winter"
    if month in (3, 4, 5):
        return "spring"
    if month in (6, 7, 8):
        return "summer"
    return "autumn"
'''

# Windows line endings, as files of older projects have.
LEDGER = (
    '"""Monthly ledger exported for the accountant."""\r\n'
    "\r\n"
    "\r\n"
    "def total(rows):\r\n"
    "    result = 0\r\n"
    "    for row in rows[:-1]:\r\n"
    '        result += row["amount"]\r\n'
    "    return result\r\n"
    "\r\n"
    "\r\n"
    "def by_category(rows):\r\n"
    "    groups = {}\r\n"
    "    for row in rows:\r\n"
    '        groups.setdefault(row["category"], []).append(row)\r\n'
    "    return groups\r\n"
)

GREET = '''"""Greetings in the languages the front desk speaks."""

GREETINGS = {
    "de": "Grüß Gott",
    "fr": "Bonjur",
    "ja": "こんにちは",
    "es": "¡Hola!",
}


def greet(lang, name):
    word = GREETINGS[lang]
    return f"{word}, {name}"


def languages():
    return sorted(GREETINGS)
'''

QUEUE = '''"""A priority queue of jobs: lower numbers run first."""

import heapq
import itertools


class JobQueue:
    def __init__(self):
        self._heap = []
        self._order = itertools.count()

    def push(self, priority, job):
        heapq.heappush(self._heap, (priority, next(self._order), job))

    def pop(self):
        priority, _, job = heapq.heappop(self._heap)
        return job

    def peek(self):
        return self._heap[0][2]

    def __len__(self):
        return len(self._heap)
'''

CART = '''"""The shopping cart."""

from shop.pricing import price_with_tax


class Cart:
    def __init__(self):
        self.lines = []

    def add(self, name, price, quantity=1):
        self.lines.append((name, price, quantity))

    def total(self):
        return sum(price * quantity for _, price, quantity in self.lines)

    def total_with_tax(self):
        return price_with_tax(self.total())
'''

PRICING = '''"""Prices: tax and discounts."""

TAX_RATE = 0.2


def price_with_tax(amount):
    return round(amount * (1 + TAX_RATE), 2)


def apply_discount(amount, percent):
    return amount - amount * percent
'''

MATRIX = '''"""Matrices as lists of rows."""


def shape(m):
    return len(m), len(m[0])


def transpose(m):
    rows, cols = shape(m)
    return [[m[r][c] for r in range(rows)] for c in range(cols)]


def multiply(a, b):
    rows, inner = shape(a)
    _, cols = shape(b)
    result = []
    for r in range(rows):
        row = []
        for c in range(cols):
            cell = 0
            for k in range(inner):
                cell += a[r][k] * b[r][c]
            row.append(cell)
        result.append(row)
    return result


def identity(n):
    return [[1 if r == c else 0 for c in range(n)] for r in range(n)]
'''

RETRY = '''"""Retrying flaky calls."""

import functools
import time


def retry(times, delay=0.0, exceptions=(Exception,)):
    """Call the function up to `times` times until it does not raise."""

    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for attempt in range(times - 1):
                try:
                    return func(*args, **kwargs)
                except exceptions:
                    if attempt == times - 1:
                        raise
                    time.sleep(delay)

        return wrapper

    return decorate
'''

# Exercise stubs (sent with the exercise benchmark's prompt): bodies that are all `pass`.
ACRONYM = """def abbreviate(phrase):
    pass
"""

CLOCK = """class Clock:
    def __init__(self, hour, minute):
        pass

    def __repr__(self):
        pass

    def __add__(self, minutes):
        pass

    def __eq__(self, other):
        pass
"""

RUNLENGTH = """def encode(text):
    pass


def decode(text):
    pass
"""

PROJECTS: dict[str, dict[str, str]] = {
    "stats": {"stats/summary.py": STATS},
    "calc": {"calc/ops.py": CALC},
    "shapes": {"geometry/shapes.py": SHAPES},
    "notes": {"notes/cli.py": CLI, "notes/store.py": STORE},
    "text": {"textkit/text.py": TEXT},
    "settings": {"app/settings.py": SETTINGS},
    "timer": {"jobs/timer.py": TIMER},
    "bank": {"bank/account.py": BANK},
    "grades": {"school/grades.py": GRADES},
    "station": {"station/convert.py": CONVERT, "station/weather.py": WEATHER},
    "stock": {"shop/stock.py": STOCK},
    "vector": {"vec/vector.py": VECTOR},
    "ini": {"conf/ini.py": INI},
    "dates": {"board/dates.py": DATES},
    "ledger": {"ledger/ledger.py": LEDGER},
    "greet": {"desk/greet.py": GREET},
    "queue": {"jobs/queue.py": QUEUE},
    "shop": {"shop/cart.py": CART, "shop/pricing.py": PRICING},
    "matrix": {"mat/matrix.py": MATRIX},
    "retry": {"tools/retry.py": RETRY},
    "acronym": {"acronym.py": ACRONYM},
    "clock": {"clock.py": CLOCK},
    "runlength": {"run_length.py": RUNLENGTH},
}

#: (request id, project, files shown, issue text). Files shown: all of the project when empty;
#: ``path`` shows a whole file, ``path:START-END`` a window around those lines (1-based), as
#: the repair stage shows located code.
REQUESTS: list[tuple[str, str, tuple[str, ...], str]] = [
    (
        "median-empty",
        "stats",
        (),
        "median([]) crashes with IndexError. It should raise ValueError('median of empty data'),"
        " like mean() does.",
    ),
    (
        "sample-variance",
        "stats",
        (),
        "variance() computes the population variance, but callers expect the sample variance:"
        " divide by len(values) - 1 instead of len(values).",
    ),
    (
        "div-zero",
        "calc",
        (),
        "div(1, 0) raises a bare ZeroDivisionError. It should raise ValueError('cannot divide by"
        " zero') instead.",
    ),
    (
        "count-positive",
        "calc",
        (),
        "count_positive([1, -2, 3]) returns 0; it should return 2.",
    ),
    (
        "add-power",
        "calc",
        (),
        "Add a function power(a, b) that returns a raised to the power b, after mul().",
    ),
    (
        "rect-perimeter",
        "shapes",
        (),
        "Rectangle(2, 3).perimeter() returns 6, but the perimeter of a 2 by 3 rectangle is 10.",
    ),
    (
        "circle-diameter",
        "shapes",
        (),
        "Circle has no way to get its diameter. Add a method diameter() returning twice the"
        " radius.",
    ),
    (
        "notes-verbose",
        "notes",
        ("notes/cli.py",),
        "Add a --verbose flag to the notes command line (store_true); when set, main() prints"
        " 'using <file>' before running the command.",
    ),
    (
        "notes-remove-index",
        "notes",
        (),
        "`notes remove 1` removes the second note: the numbers shown by `notes list` start at 1,"
        " but remove() uses them as 0-based indexes.",
    ),
    (
        "truncate-short",
        "text",
        (),
        "truncate('hi', 10) returns 'hi...'. Only add '...' when the text is longer than width.",
    ),
    (
        "word-count-spaces",
        "text",
        (),
        "word_count('a  b') returns 3 because of the double space. Count words separated by any"
        " whitespace.",
    ),
    (
        "default-port",
        "settings",
        (),
        "The default port should be 8080, not 80 (80 needs root).",
    ),
    (
        "stopwatch-total",
        "timer",
        (),
        "Stopwatch.total() returns the average lap time instead of the total of all laps.",
    ),
    (
        "withdraw-negative",
        "bank",
        (),
        "withdraw(-5) adds money to the account. Negative or zero amounts must raise"
        " ValueError('amount must be positive').",
    ),
    (
        "deposit-negative",
        "bank",
        (),
        "deposit() accepts negative amounts. Raise ValueError('amount must be positive') for an"
        " amount that is not positive.",
    ),
    (
        "grade-bounds",
        "grades",
        (),
        "A score of exactly 90 gets a B; a score equal to a bound should get that bound's grade"
        " (90 is an A, 80 a B, and so on).",
    ),
    (
        "kelvin",
        "station",
        ("station/convert.py",),
        "Add celsius_to_kelvin(c) to station/convert.py (c + 273.15).",
    ),
    (
        "units-module",
        "shapes",
        (),
        "Add a new module geometry/units.py with a function inch_to_cm(inches) that returns"
        " inches * 2.54.",
    ),
    (
        "weather-rename",
        "station",
        (),
        "Rename celsius_to_fahrenheit to c_to_f in station/convert.py, and update its use in"
        " station/weather.py.",
    ),
    # --- the second round ---
    (
        "clamp-order",
        "calc",
        (),
        "clamp(5, 10, 1) returns 10 although low is greater than high. Raise"
        " ValueError('low must not exceed high') in that case.",
    ),
    (
        "initials-upper",
        "text",
        (),
        "initials('ada lovelace') returns 'al'; initials should be upper case: 'AL'.",
    ),
    (
        "statement-balance",
        "bank",
        (),
        "statement() should end with a line 'balance: <balance>' after the history lines.",
    ),
    (
        "report-missing",
        "grades",
        (),
        "report() crashes when a score is None (a student who missed the exam); leave such"
        " students out of the report.",
    ),
    (
        "debug-true",
        "settings",
        (),
        "APP_DEBUG=true is read as False. Accept '1', 'true' and 'yes', in any case, as true.",
    ),
    (
        "notes-empty",
        "notes",
        ("notes/cli.py",),
        "`notes list` prints nothing when there are no notes; it should print 'no notes'.",
    ),
    (
        "lap-not-started",
        "timer",
        (),
        "Stopwatch.lap() called before start() fails with a TypeError. Raise"
        " RuntimeError('stopwatch not started') instead.",
    ),
    (
        "describe-round",
        "station",
        ("station/weather.py",),
        "describe() should show the temperature rounded to a whole number: 'Oslo: 41 F', not"
        " 'Oslo: 41.0 F'.",
    ),
    (
        "shapes-repr",
        "shapes",
        (),
        "Add __repr__ to Circle and to Rectangle: Circle(2) shows as 'Circle(r=2)' and"
        " Rectangle(2, 3) as 'Rectangle(w=2, h=3)'.",
    ),
    (
        "bank-positive",
        "bank",
        (),
        "Both deposit() and withdraw() must raise ValueError('amount must be positive') for an"
        " amount that is zero or negative.",
    ),
    (
        "stats-iterables",
        "stats",
        (),
        "mean() and median() fail on generators (len() of a generator). Both should turn their"
        " argument into a list first.",
    ),
    (
        "stock-remove",
        "stock",
        (),
        "Stock.remove() lets a count go below zero. Raise ValueError(f'not enough {name}') when"
        " more is removed than there is in stock.",
    ),
    (
        "stock-low",
        "stock",
        (),
        "Stock.low(3) leaves out items with exactly 3 left: an item is low when its count is at"
        " or below the threshold.",
    ),
    (
        "vector-sub",
        "vector",
        (),
        "Vector(3, 4) - Vector(1, 1) gives Vector(4, 5); it should give Vector(2, 3).",
    ),
    (
        "vector-norm",
        "vector",
        (),
        "Vector(3, 4).norm() returns 3.6..., it should return 5.0.",
    ),
    (
        "vector-two",
        "vector",
        (),
        "Two bugs in Vector: subtraction adds the coordinates instead of subtracting them, and"
        " norm() does not square y.",
    ),
    (
        "ini-value-strip",
        "ini",
        (),
        "parse('a = 1') gives {'a': ' 1'}: values keep their surrounding spaces. Strip them, as"
        " keys are stripped.",
    ),
    (
        "ini-semicolon",
        "ini",
        (),
        "Lines starting with ';' are comments too (as in Windows INI files); parse() should skip"
        " them like lines starting with '#'.",
    ),
    (
        "ini-equals",
        "ini",
        (),
        "parse_line('url = http://x/?a=b') raises ValueError: a value may contain '='. Split"
        " only at the first '='.",
    ),
    (
        "leap-century",
        "dates",
        ("board/dates.py:11-12",),
        "is_leap(1900) returns True. Years divisible by 100 are leap years only when they are"
        " also divisible by 400.",
    ),
    (
        "days-in-month-index",
        "dates",
        ("board/dates.py:15-18",),
        "days_in_month(1, 2023) returns 28 and days_in_month(12, 2023) raises IndexError: DAYS"
        " is indexed from 0, months from 1.",
    ),
    (
        "quarter-december",
        "dates",
        ("board/dates.py:36-37",),
        "quarter(12) returns 5 and quarter(3) returns 2. Quarters are months 1-3, 4-6, 7-9 and"
        " 10-12.",
    ),
    (
        "parse-iso-spaces",
        "dates",
        ("board/dates.py:55-57",),
        "parse_iso(' 2024-01-05 ') raises ValueError; surrounding whitespace should be ignored.",
    ),
    (
        "dates-two",
        "dates",
        ("board/dates.py:11-12", "board/dates.py:36-37"),
        "Two bugs: is_leap(1900) returns True (a century year is a leap year only when it is"
        " divisible by 400), and quarter(12) returns 5 (quarters are months 1-3, 4-6, 7-9 and"
        " 10-12).",
    ),
    (
        "ledger-last",
        "ledger",
        (),
        "total() leaves out the last row of the ledger; it should add up every row.",
    ),
    (
        "ledger-sorted",
        "ledger",
        (),
        "by_category() should return its groups in alphabetical order of category.",
    ),
    (
        "greet-typo",
        "greet",
        (),
        "greet('fr', 'Anne') says 'Bonjur, Anne'; the French greeting is 'Bonjour'.",
    ),
    (
        "greet-unknown",
        "greet",
        (),
        "greet() raises KeyError for a language it does not know; it should fall back to the"
        " English 'Hello'.",
    ),
    (
        "queue-peek-empty",
        "queue",
        (),
        "JobQueue.peek() on an empty queue raises IndexError; it should return None.",
    ),
    (
        "queue-pop-empty",
        "queue",
        (),
        "JobQueue.pop() on an empty queue raises heapq's IndexError. Raise LookupError('no"
        " jobs') instead.",
    ),
    (
        "discount-percent",
        "shop",
        ("shop/pricing.py",),
        "apply_discount(100, 10) returns -900: percent is a percentage and must be divided by 100.",
    ),
    (
        "cart-discount",
        "shop",
        (),
        "Add a method total_with_discount(percent) to Cart that returns"
        " pricing.apply_discount(self.total(), percent); import apply_discount in cart.py.",
    ),
    (
        "rename-gross",
        "shop",
        (),
        "Rename price_with_tax to gross_price in shop/pricing.py, and update shop/cart.py, which"
        " imports and calls it.",
    ),
    (
        "matrix-multiply",
        "matrix",
        (),
        "multiply() gives wrong products: its inner loop reads b[r][c] where it should read"
        " b[k][c].",
    ),
    (
        "matrix-shape-check",
        "matrix",
        (),
        "multiply() of a 2x3 and a 2x2 matrix gives a wrong result or an IndexError. It should"
        " raise ValueError('shapes do not match') when a's columns differ from b's rows.",
    ),
    (
        "retry-count",
        "retry",
        (),
        "@retry(3) calls the function only twice, and when every call fails the wrapper returns"
        " None instead of raising the last error.",
    ),
    (
        "ex-acronym",
        "acronym",
        (),
        "Write abbreviate(phrase), which returns the acronym of a phrase in upper case: the first"
        " letter of each word. Words are separated by spaces or hyphens; other punctuation is"
        " ignored. 'Portable Network Graphics' gives 'PNG', 'Complementary metal-oxide"
        " semiconductor' gives 'CMOS', 'The Road _Not_ Taken' gives 'TRNT'.",
    ),
    (
        "ex-clock",
        "clock",
        (),
        "Implement a clock that handles times without dates. Clock(hour, minute) keeps the time"
        " within a day: Clock(25, 70) is 02:10, Clock(0, -1) is 23:59. repr() gives 'HH:MM'"
        " with leading zeros. clock + minutes returns a new Clock that many minutes later (the"
        " minutes may be negative). Two clocks showing the same time are equal.",
    ),
    (
        "ex-runlength",
        "runlength",
        (),
        "Implement run-length encoding. encode('WWWWBBBA') returns '4W3BA': each run of the same"
        " character becomes its length followed by the character, and a run of one character is"
        " written without a count. decode() reverses encode(): decode('4W3BA') is 'WWWWBBBA'."
        " Text may contain letters and spaces, but no digits.",
    ),
]

#: Requests sent with the exercise benchmark's prompt (the request's text as the exercise's
#: instructions, the shown files as the files it may change) instead of the repair prompt.
EXERCISE_STYLE: frozenset[str] = frozenset({"ex-acronym", "ex-clock", "ex-runlength"})

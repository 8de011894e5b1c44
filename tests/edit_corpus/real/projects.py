"""Small projects and edit requests for the real-model corpus, all written for this corpus.

Each project is a few short files (short, so that a small local model can answer with a whole
file inside a bounded reply). Each request is an issue text and the files shown to the model;
the prompt is the one the repair stage sends (``agentless.repair.sample.repair_messages``).
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
}

#: (request id, project, files shown (all of the project when empty), issue text)
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
]

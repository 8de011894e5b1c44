import pytest

from textstats import mean, median, word_counts


def test_word_counts_ignore_case():
    assert word_counts("The cat and the hat")["the"] == 2


def test_mean():
    assert mean([1, 2, 3, 4]) == 2.5


def test_median_odd():
    assert median([3, 1, 2]) == 2


def test_median_even():
    assert median([4, 1, 3, 2]) == 2.5


def test_median_empty():
    with pytest.raises(ValueError):
        median([])

"""Minimum ids on the command line: integers, gm, ranges and lowest:K."""
import numpy as np
import pytest

from mlcore.errors import InputError
from mlcore.session import minimum_id, minimum_ids


class _Reader:
    """The two things the resolver reads from a file: the count and the energies."""

    def __init__(self, energies):
        self._energies = np.asarray(energies, dtype=float)

    @property
    def n_minima(self):
        return len(self._energies)

    def minima(self):
        return {"energy": self._energies}


READER = _Reader([-1.0, -3.0, -2.0, -0.5, -2.5])   # global minimum: id 2


def test_single_ids_and_gm():
    assert minimum_id(READER, "gm") == 2
    assert minimum_id(READER, "GM") == 2
    assert minimum_id(READER, "4") == 4
    assert minimum_id(READER, 5) == 5


@pytest.mark.parametrize("token", ["0", "6", "-1", "two", "", "1.5"])
def test_bad_single_ids_are_refused(token):
    with pytest.raises(InputError) as err:
        minimum_id(READER, token, "MIN1")
    assert "MIN1" in str(err.value) and "\n" not in str(err.value)


def test_gm_of_an_empty_file():
    with pytest.raises(InputError, match="no minima"):
        minimum_id(_Reader([]), "gm")


@pytest.mark.parametrize("text, ids", [
    ("1,3", [1, 3]),
    ("1 3", [1, 3]),
    ("2-4", [2, 3, 4]),
    ("gm", [2]),
    ("lowest:1", [2]),
    ("lowest:3", [2, 3, 5]),
    ("lowest:5", [1, 2, 3, 4, 5]),
    ("gm,2,1-2", [1, 2]),
    ("4, lowest:2", [2, 4, 5]),
])
def test_sets_of_minima(text, ids):
    assert minimum_ids(READER, text, "--A") == ids


@pytest.mark.parametrize("text, words", [
    ("", "empty"),
    ("4-2", "FIRST <= LAST"),
    ("1-9", "does not exist"),
    ("lowest:0", "K >= 1"),
    ("lowest:x", "K >= 1"),
    ("lowest:6", "only 5 minima"),
    ("7", "does not exist"),
    ("a", "give minimum ids"),
    ("1-", "give minimum ids"),
])
def test_bad_sets_are_refused(text, words):
    with pytest.raises(InputError) as err:
        minimum_ids(READER, text, "--B")
    assert words in str(err.value) and "--B" in str(err.value)


def test_ties_in_lowest_are_broken_by_id():
    reader = _Reader([0.0, -1.0, -1.0, -1.0])
    assert minimum_ids(reader, "lowest:2") == [2, 3]

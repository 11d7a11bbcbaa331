"""order_merge.read_ahead: a file's chunks typed by a thread ahead of the COPY that stages
them come in order, a reading error is raised to the importer, and an importer that stops
stops the thread."""

from __future__ import annotations

import threading
import time

import pytest

from catalogs.order_io import FileError
from catalogs.order_merge import read_ahead


def test_items_come_in_order():
    assert list(read_ahead(iter(range(50)), depth=1)) == list(range(50))
    assert list(read_ahead(iter([]))) == []


def test_an_error_while_reading_is_raised_after_the_items_before_it():
    def chunks():
        yield 1
        yield 2
        raise FileError("line 7: broken")

    got = []
    with pytest.raises(FileError, match="line 7"):
        for item in read_ahead(chunks()):
            got.append(item)
    assert got == [1, 2]


def test_an_importer_that_stops_stops_the_reading_thread():
    produced = []

    def chunks():
        for i in range(1000):
            produced.append(i)
            yield i

    items = read_ahead(chunks(), depth=1)
    assert next(items) == 0
    items.close()  # the import failed or finished early
    time.sleep(0.3)
    assert len(produced) < 10
    assert not any(t.name == "order-read-ahead" for t in threading.enumerate())

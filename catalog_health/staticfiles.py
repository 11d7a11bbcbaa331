"""Serves the plotly.min.js that the plotly Python package ships, as static
`vendor/plotly.min.js`: graphs never load JavaScript from a CDN, and the version always
matches the Python library that builds the figures."""

from pathlib import Path

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
STATIC_PATH = "vendor/plotly.min.js"


class _SingleFileStorage(FileSystemStorage):
    def __init__(self):
        super().__init__(location=str(PLOTLY_JS.parent))
        self.prefix = "vendor"

    def listdir(self, path):
        return [], [PLOTLY_JS.name]


class PlotlyFinder(BaseFinder):
    def check(self, **kwargs):
        return []

    def find(self, path, find_all=False, **kwargs):
        if path == STATIC_PATH and PLOTLY_JS.exists():
            return [str(PLOTLY_JS)] if find_all else str(PLOTLY_JS)
        return []

    def list(self, ignore_patterns):
        if PLOTLY_JS.exists():
            yield PLOTLY_JS.name, _SingleFileStorage()

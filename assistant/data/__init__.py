"""Indicator data: the import (``importer``), the statistics (``stats``) and the flags (``flags``)."""

from pathlib import Path

DEMO_FILE = Path(__file__).resolve().parent / "demo" / "indikatorer-demo.csv"

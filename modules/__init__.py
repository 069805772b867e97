"""Reusable constructs, one concern per file. Importing the package enables the lean provider import."""

from tools import fast_import

fast_import.install()

"""ictgov: open platform for a national ICT ministry."""

__version__ = "0.1.0"

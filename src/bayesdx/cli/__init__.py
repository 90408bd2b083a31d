"""The ``bayesdx`` command line: :func:`main` parses and dispatches
(:mod:`.main`); one function per subcommand lives in :mod:`.commands`."""

from __future__ import annotations

from .main import main

__all__ = ["main"]

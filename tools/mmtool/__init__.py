"""Modules behind tools/mm, one topic each (see tools/mm.py for the command line)."""

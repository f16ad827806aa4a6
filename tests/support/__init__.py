"""Helpers and shared values of the tests (fixtures stay in conftest.py files)."""

"""Fixtures shared by the flow tests."""

from tests.flows.test_master_discovery import new_engagement  # noqa: F401 - re-exported fixture

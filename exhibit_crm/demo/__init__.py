"""The demo: a realistic, deterministic data set — one series, its past edition with the show and its current one."""

from .build import build_demo
from .data import EXHIBITOR_PASSWORD, STAFF_LOGINS
from .save import DemoResult, EditionSummary

__all__ = ["EXHIBITOR_PASSWORD", "STAFF_LOGINS", "DemoResult", "EditionSummary", "build_demo"]

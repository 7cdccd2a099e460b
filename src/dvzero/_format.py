"""Numbers in words for messages: durations, counts, rates."""

from __future__ import annotations


def count(number: int, noun: str) -> str:
    """``1 step``, ``2 steps``."""
    return f"{number} {noun}" + ("" if number == 1 else "s")


def duration(seconds: float) -> str:
    """``3.6 s``, ``4.2 minutes``, ``27.4 hours``, ``5.2 days``."""
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.1f} minutes"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 86400:.1f} days"


def rate(steps: int, seconds: float) -> str:
    """Steps per second for fast runs (2 a second or more), seconds per step for slow ones."""
    if steps == 0 or seconds <= 0:
        return "no steps timed"
    if steps >= 2 * seconds:
        return f"{steps / seconds:.0f} steps/s"
    return f"{duration(seconds / steps)} per step"

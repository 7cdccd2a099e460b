"""Numbers in words for messages, in the user's language: durations and rates."""

from __future__ import annotations

from ._i18n import _


def duration(seconds: float) -> str:
    """``3.6 s``, ``4.2 minutes``, ``27.4 hours``, ``5.2 days`` (never one of a unit: 120 s
    or more is 2.0 minutes or more, and so on)."""
    if seconds < 120:
        return _("{value:.1f} s").format(value=seconds)
    if seconds < 2 * 3600:
        return _("{value:.1f} minutes").format(value=seconds / 60)
    if seconds < 2 * 86400:
        return _("{value:.1f} hours").format(value=seconds / 3600)
    return _("{value:.1f} days").format(value=seconds / 86400)


def rate(steps: int, seconds: float) -> str:
    """Steps per second for fast runs (2 a second or more), seconds per step for slow ones."""
    if steps == 0 or seconds <= 0:
        return _("no steps timed")
    if steps >= 2 * seconds:
        return _("{rate:.0f} steps/s").format(rate=steps / seconds)
    return _("{duration} per step").format(duration=duration(seconds / steps))

"""What may leave the device: text sanitizing and the biometrics filter."""

import re
from typing import Any

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
IPV4 = re.compile(rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?![\w.]*\d)")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Nine or more digits in phone-like groups: +44 20 7946 0958, (555) 123-4567, 555.123.4567.
PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]?\d{2,4}){1,3}(?![\w])"
)
MIN_PHONE_DIGITS = 9

# Context fields that are biometrics (kept off the wire with excludeBiometrics).
BIOMETRIC_FIELDS = frozenset(
    {"heartRate", "peakHeartRate", "strain", "sleepHours", "zoneLow", "zoneHigh"}
)


def _phone_or_keep(match: re.Match[str]) -> str:
    digits = sum(char.isdigit() for char in match.group())
    return "[PHONE]" if digits >= MIN_PHONE_DIGITS else match.group()


def sanitize_text(text: str) -> str:
    """Replace emails, IPv4 addresses and phone numbers with [EMAIL], [IP], [PHONE]."""
    text = EMAIL.sub("[EMAIL]", text)
    text = IPV4.sub("[IP]", text)
    return PHONE.sub(_phone_or_keep, text)


def strip_biometrics(value: Any) -> Any:
    """A copy of a JSON-like value with every biometric key removed, at any depth."""
    if isinstance(value, dict):
        return {
            key: strip_biometrics(item)
            for key, item in value.items()
            if key not in BIOMETRIC_FIELDS
        }
    if isinstance(value, list):
        return [strip_biometrics(item) for item in value]
    return value

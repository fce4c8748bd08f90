"""Bluetooth SIG numbers and the Heart Rate Measurement (0x2A37) parser.

The packet layout follows the GATT specification of the Heart Rate Service 1.0:

    flags (uint8)
      bit 0     heart-rate value format: 0 = uint8, 1 = uint16
      bits 1-2  sensor contact: 0b0x = not supported, 0b10 = supported but no
                contact, 0b11 = supported and in contact
      bit 3     energy expended present (uint16, kJ)
      bit 4     RR intervals present (uint16 each, units of 1/1024 s, as many as fit)
    heart rate (uint8 or uint16, bpm)
    [energy expended]
    [RR intervals...]

All multi-byte fields are little-endian.
"""

import struct
from dataclasses import dataclass

from edgecoach.errors import SourceError

HEART_RATE_SERVICE = "0000180d-0000-1000-8000-00805f9b34fb"
HEART_RATE_MEASUREMENT = "00002a37-0000-1000-8000-00805f9b34fb"
BATTERY_SERVICE = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL = "00002a19-0000-1000-8000-00805f9b34fb"

FLAG_UINT16 = 0x01
FLAG_CONTACT_DETECTED = 0x02
FLAG_CONTACT_SUPPORTED = 0x04
FLAG_ENERGY = 0x08
FLAG_RR = 0x10
RR_UNITS_PER_SECOND = 1024


class MalformedMeasurement(SourceError):
    """A Heart Rate Measurement packet that does not follow the specification."""


@dataclass(frozen=True)
class HeartRateMeasurement:
    """One decoded 0x2A37 notification."""

    bpm: int
    contact: bool | None
    energy_expended_kj: int | None
    rr_intervals: tuple[float, ...]


def parse_heart_rate_measurement(data: bytes | bytearray) -> HeartRateMeasurement:
    """Decode a Heart Rate Measurement; MalformedMeasurement for anything else.

    Short packets, and an odd byte left where RR intervals should be, are malformed.
    Reserved flag bits (5-7), and bytes after the last field when no RR intervals are
    flagged, are ignored: a later revision of the specification may add fields there.
    """
    packet = bytes(data)
    if not packet:
        raise MalformedMeasurement("empty heart-rate packet")
    flags = packet[0]
    position = 1
    hr_format = "<H" if flags & FLAG_UINT16 else "<B"
    bpm, position = _take(packet, position, hr_format, "heart rate")
    contact = bool(flags & FLAG_CONTACT_DETECTED) if flags & FLAG_CONTACT_SUPPORTED else None
    energy = None
    if flags & FLAG_ENERGY:
        energy, position = _take(packet, position, "<H", "energy expended")
    rr: tuple[float, ...] = ()
    if flags & FLAG_RR:
        rest = packet[position:]
        if not rest or len(rest) % 2:
            raise MalformedMeasurement(
                f"RR-interval flag set but {len(rest)} byte(s) left (expected pairs)")
        raw = struct.unpack(f"<{len(rest) // 2}H", rest)
        rr = tuple(value / RR_UNITS_PER_SECOND for value in raw)
    return HeartRateMeasurement(bpm=bpm, contact=contact, energy_expended_kj=energy,
                                rr_intervals=rr)


def _take(packet: bytes, position: int, fmt: str, field: str) -> tuple[int, int]:
    size = struct.calcsize(fmt)
    if len(packet) < position + size:
        raise MalformedMeasurement(f"packet of {len(packet)} bytes too short for {field}")
    (value,) = struct.unpack_from(fmt, packet, position)
    return value, position + size

"""The athlete's Bluetooth devices: finding, pairing and forgetting straps and earbuds."""

from edgecoach.devices.bluez import (
    AdapterOff,
    AlreadyPaired,
    BluetoothError,
    BluezDevices,
    Device,
    NoAdapter,
    PairingRefused,
    UnknownDevice,
    check_address,
)

__all__ = ["AdapterOff", "AlreadyPaired", "BluetoothError", "BluezDevices", "Device",
           "NoAdapter", "PairingRefused", "UnknownDevice", "check_address"]

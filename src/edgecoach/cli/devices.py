"""`edgecoach devices scan|pair|forget|list`: the strap and the earbuds, without bluetoothctl."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

from edgecoach.cli import app
from edgecoach.cli.common import print_json
from edgecoach.devices import BluezDevices, Device, check_address
from edgecoach.errors import ValidationFailed

devices_app = typer.Typer(help="Find, pair, list and forget the heart-rate strap and earbuds.",
                          no_args_is_help=True)
app.add_typer(devices_app, name="devices")

T = TypeVar("T")
PowerOn = Annotated[bool, typer.Option("--power-on", help="Switch the adapter on if it is off.")]
MAX_SCAN_SECONDS = 120.0


def with_bluez(action: Callable[[BluezDevices], Awaitable[T]]) -> T:
    async def run() -> T:
        async with BluezDevices() as bluez:
            return await action(bluez)

    return asyncio.run(run())


def describe(device: Device) -> str:
    state = ", ".join(flag for flag, on in (("paired", device.paired), ("trusted", device.trusted),
                                            ("connected", device.connected)) if on)
    signal = f" {device.rssi} dBm" if device.rssi is not None else ""
    return f"{device.address}  {device.kind:<16} {device.name}{signal}" + (
        f"  ({state})" if state else "")


@devices_app.command("scan")
def scan(
    seconds: Annotated[float, typer.Option("--seconds", help="How long to look (1-120).")
                       ] = 10.0,
    power_on: PowerOn = False,
) -> None:
    """Look for heart-rate straps and audio earbuds/headphones nearby (put them in pairing
    mode first); prints each one found, then pair with `edgecoach devices pair ADDRESS`."""
    if not 1 <= seconds <= MAX_SCAN_SECONDS:  # also refuses nan
        raise ValidationFailed("--seconds", f"must be between 1 and {MAX_SCAN_SECONDS:g}")
    console = Console(stderr=True)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("scanning: 0 found", total=seconds)
        count = 0

        def found(device: Device) -> None:
            nonlocal count
            count += 1
            progress.console.print(f"found {describe(device)}", highlight=False)
            progress.update(task, description=f"scanning: {count} found")

        devices = with_bluez(lambda bluez: bluez.scan(
            seconds, found, lambda elapsed: progress.update(task, completed=elapsed), power_on))
    print_json([device.to_json_dict() for device in devices])


@devices_app.command("pair")
def pair(address: Annotated[str, typer.Argument(help="As `devices scan` printed it.")],
         power_on: PowerOn = False) -> None:
    """Pair, trust and connect a strap or earbuds found by `devices scan`."""
    wanted = check_address(address)
    device = with_bluez(lambda bluez: bluez.pair(wanted, power_on))
    print_json(device.to_json_dict())


@devices_app.command("forget")
def forget(address: Annotated[str, typer.Argument(help="The device's address.")]) -> None:
    """Unpair a device and remove it from BlueZ."""
    wanted = check_address(address)
    device = with_bluez(lambda bluez: bluez.forget(wanted))
    print_json({"forgotten": device.to_json_dict()})


@devices_app.command("list")
def list_devices() -> None:
    """The paired devices: strap, earbuds and others, with trusted/connected state."""
    print_json([device.to_json_dict() for device in with_bluez(BluezDevices.paired)])

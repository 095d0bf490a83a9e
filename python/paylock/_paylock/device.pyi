"""``paylock._paylock.device``: the device-lock engine on simulated flash, behind
:mod:`paylock.device`."""

from typing import Any, Dict, List, Mapping, final

__all__ = [
    "Device",
    "simulate",
]

def simulate(scheme: str, device: Mapping[str, Any], events: Any) -> List[Dict[str, Any]]:
    """Runs a whole scenario on a new device and returns the timeline rows."""

@final
class Device:
    """A simulated device of any scheme."""

    def __new__(cls, scheme: str, device: Mapping[str, Any]) -> Device: ...
    def step(self, event: Mapping[str, Any]) -> Dict[str, Any]:
        """Runs one event and returns its timeline row."""

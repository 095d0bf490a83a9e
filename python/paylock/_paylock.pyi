# The compiled extension behind the package; its public names are re-exported (and typed) by
# paylock.openpaygo (Metrics through paylock._metrics), paylock.nexus, paylock.access, paylock.device and
# paylock.issue_many / verify_many.
from types import ModuleType

__all__ = ["openpaygo", "nexus", "access", "batch", "device", "metrics"]

openpaygo: ModuleType
nexus: ModuleType
access: ModuleType
batch: ModuleType
device: ModuleType
metrics: ModuleType

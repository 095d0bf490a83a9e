# The compiled extension behind the package, one submodule per module it serves, each typed in
# its own stub here (as pydantic-core types `_pydantic_core`); the public modules re-export its
# names, so their types come from these stubs.
from . import access as access
from . import batch as batch
from . import device as device
from . import metrics as metrics
from . import nexus as nexus
from . import openpaygo as openpaygo

__all__ = ["access", "batch", "device", "metrics", "nexus", "openpaygo"]

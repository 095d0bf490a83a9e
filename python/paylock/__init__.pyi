from typing import Any, Iterable, List, Mapping, Optional, Union, overload

from . import access as access
from . import device as device
from . import nexus as nexus
from . import openpaygo as openpaygo
from ._errors import CounterExhausted as CounterExhausted
from ._errors import Error as Error
from ._errors import IdCollision as IdCollision
from ._errors import IdReserved as IdReserved
from ._errors import InvalidArgument as InvalidArgument
from ._errors import InvalidKey as InvalidKey
from ._errors import MalformedToken as MalformedToken
from ._errors import OutOfRange as OutOfRange
from ._errors import UnsupportedCommand as UnsupportedCommand

__version__: str
__all__ = [
    "CounterExhausted",
    "Error",
    "IdCollision",
    "IdReserved",
    "InvalidArgument",
    "InvalidKey",
    "MalformedToken",
    "OutOfRange",
    "UnsupportedCommand",
    "access",
    "device",
    "issue_many",
    "nexus",
    "openpaygo",
    "verify_many",
]

Request = Union[str, Mapping[str, Any]]

@overload
def issue_many(requests: str, *, threads: Optional[int] = ...) -> str: ...  # type: ignore[overload-overlap]
@overload
def issue_many(requests: Iterable[str], *, threads: Optional[int] = ...) -> List[str]: ...
@overload
def issue_many(requests: Iterable[Mapping[str, Any]], *, threads: Optional[int] = ...) -> List[dict]: ...
@overload
def issue_many(requests: Iterable[Request], *, threads: Optional[int] = ...) -> List[Union[str, dict]]: ...
@overload
def verify_many(requests: str, *, threads: Optional[int] = ...) -> str: ...  # type: ignore[overload-overlap]
@overload
def verify_many(requests: Iterable[str], *, threads: Optional[int] = ...) -> List[str]: ...
@overload
def verify_many(requests: Iterable[Mapping[str, Any]], *, threads: Optional[int] = ...) -> List[dict]: ...
@overload
def verify_many(requests: Iterable[Request], *, threads: Optional[int] = ...) -> List[Union[str, dict]]: ...

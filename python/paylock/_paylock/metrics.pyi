"""``paylock._paylock.metrics``: OpenPAYGO Metrics, behind :mod:`paylock._metrics`."""

from typing import Any, Dict, Optional, Tuple, Union, final

__all__ = [
    "Report",
    "Format",
    "sign_request",
    "dumps",
]

_Key = Union[str, bytes]

def sign_request(fields: Dict[str, Any], auth_method: str, secret_key: Optional[_Key]) -> str:
    """The ``auth`` of a request, as ``generate_request_signature_from_data`` gives it."""

def dumps(value: Any, condense: bool = False) -> str:
    """JSON text as ``openpaygo`` writes it."""

@final
class Format:
    """A data format, read once."""

    def __new__(cls, data_format: Dict[str, Any]) -> Format: ...

@final
class Report:
    """A received Metrics request."""

    def __new__(cls, received_metrics: Any) -> Report: ...
    def fields(self) -> Dict[str, Any]: ...
    def get(self, name: str) -> Any: ...
    @property
    def timestamp(self) -> Any: ...
    def is_auth_valid(
        self,
        secret_key: Optional[_Key],
        last_request_count: Optional[Any] = None,
        last_request_timestamp: Optional[Any] = None,
    ) -> Tuple[bool, Optional[str]]: ...
    def simple_data(self, data_format: Optional[Format], compat: str) -> Dict[str, Any]: ...
    def answer(self, response: Dict[str, Any], secret_key: Optional[_Key] = None) -> str: ...
    def simple_metrics(
        self, data_format: Optional[Format], received_at: int, compat: str
    ) -> Dict[str, Any]: ...

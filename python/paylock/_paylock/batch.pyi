"""``paylock._paylock.batch``: the batch protocol on every core, behind
:func:`paylock.issue_many` and :func:`paylock.verify_many`."""

from typing import Any, Optional

__all__ = [
    "handle_many",
]

def handle_many(requests: Any, ops: str, threads: Optional[int] = None) -> Any:
    """Answers ``requests`` (a JSON Lines ``str``, or an iterable of ``str`` / ``dict``) in
    order; ``ops`` is ``"issue"`` or ``"verify"``."""

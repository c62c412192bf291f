"""Each processor's API rules for ``embedded.processor_api``: one module per processor.

A module provides ``ROUTES`` ({(method, path): handler(api, request) -> Response}, matched
exactly: Stripe and PayPal share ``/v1/``) and ``error_body(status)`` (its error shape).
Register it in ``PROCESSORS`` below.
"""

from __future__ import annotations

from types import ModuleType

from embedded.processors import paypal, square, stripe

PROCESSORS: dict[str, ModuleType] = {
    "paypal": paypal,
    "stripe": stripe,
    "square": square,
}

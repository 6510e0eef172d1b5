"""Strict JSON for request bodies from outside (HubSpot workflow requests, webhooks).

Python's json module accepts what PostgreSQL's jsonb and text columns refuse: `NaN`,
`Infinity`, numbers overflowing to infinity (`1e999`) and lone UTF-16 surrogates
(`"\\ud800"`, in values or keys). Such a body stored as is fails the INSERT with a 500,
and HubSpot retries a 5xx for 3 days. `loads_strict` refuses all of them up front with a
typed error (its `code` says which), so the endpoint answers a clear 400 and stores
nothing. NUL characters are removed (HubSpot never sends them; PostgreSQL refuses them).
"""

from __future__ import annotations

import json
import math
from typing import Any


class StrictJSONError(ValueError):
    """The body is not strict JSON. `code` is one of the class constants."""

    NOT_UTF8 = "not_utf8"
    NOT_JSON = "not_json"
    NON_FINITE_NUMBER = "non_finite_number"
    LONE_SURROGATE = "lone_surrogate"
    TOO_DEEP = "too_deep"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _constant(name: str) -> Any:
    raise StrictJSONError(StrictJSONError.NON_FINITE_NUMBER, f"{name} is not a JSON number")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise StrictJSONError(StrictJSONError.NON_FINITE_NUMBER, f"number {text[:40]} is out of range")
    return value


def _clean_str(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise StrictJSONError(
            StrictJSONError.LONE_SURROGATE, "text holds a lone UTF-16 surrogate (not a character)"
        ) from exc
    return value.replace("\x00", "")


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return _clean_str(value)
    if isinstance(value, dict):
        return {_clean_str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def loads_strict(raw: bytes | str) -> Any:
    """Parse strict JSON (UTF-8, finite numbers, real characters); NUL removed.

    Raises StrictJSONError (a ValueError) with a `code` and a message safe to answer with.
    """
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StrictJSONError(StrictJSONError.NOT_UTF8, "body is not UTF-8") from exc
    else:
        text = raw
    try:
        parsed = json.loads(text, parse_constant=_constant, parse_float=_float)
        return _clean(parsed)
    except StrictJSONError:
        raise
    except RecursionError as exc:
        raise StrictJSONError(StrictJSONError.TOO_DEEP, "body is nested too deeply") from exc
    except ValueError as exc:  # JSONDecodeError, and int conversion limits
        raise StrictJSONError(StrictJSONError.NOT_JSON, "body is not JSON") from exc

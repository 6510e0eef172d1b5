"""Validate HTTP traffic against the official OpenAPI documents (issue 3, item 8).

Specs are read from `ZOOMSYNC_API_SPECS` (default `<repo>/../shared/specs`), never copied into
this repository. Each exchange is matched to the spec file and path template that describe it;
for Zoom's very large files only that one path item is turned into a validator (openapi-core is
slow on 2 MB documents), and validators are cached for the process.

    from sandbox.contract import validate_exchange, ContractRecorder
    problems = validate_exchange("zoom", "GET", url, None, 200, headers, body)

    recorder = ContractRecorder.attach(session)   # a requests.Session
    ... use the session ...
    recorder.assert_clean()

Our URLs map to the spec servers: `{sandbox}/zoom/v2/...` → `https://api.zoom.us/v2/...`,
`{sandbox}/hubspot/...` → `https://api.hubapi.com/...`; real hosts are accepted as they are.
Security requirements are not checked (tokens are the sandbox's business); parameters, request
bodies, and response bodies of documented statuses are.
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

REPO_DIR = Path(__file__).resolve().parent.parent
SERVICES = ("zoom", "hubspot")
SERVERS = {"zoom": ("https://api.zoom.us", "/v2"), "hubspot": ("https://api.hubapi.com", "")}

# Where a spec is known to be stricter than what the real API sends: (service, template) →
# {property name: reason}. The property's `format` is relaxed in that operation only.
KNOWN_SPEC_DEVIATIONS: dict[tuple[str, str], dict[str, str]] = {
    ("zoom", "/past_webinars/{webinarId}/participants"): {
        "user_email": "guests' user_email is an empty string (research/zoom-api.md §5.2, §7)"},
    ("zoom", "/report/webinars/{webinarId}/participants"): {
        "user_email": "guests' user_email is an empty string (research/zoom-api.md §5.3, §7)"},
}


def _relax(node: Any, names: dict[str, str]) -> Any:
    """A copy of a schema tree with `format` removed from the named properties."""
    if isinstance(node, list):
        return [_relax(v, names) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _relax(v, names) for k, v in node.items()}
    props = out.get("properties")
    if isinstance(props, dict):
        for name in names:
            if isinstance(props.get(name), dict):
                props[name] = {k: v for k, v in props[name].items() if k != "format"}
    return out


# HubSpot's settings-users entry is a typo in the spec; the SDKs call /settings/v3/users/
# (specs/hubspot/SOURCES.md, "Notes").
HUBSPOT_PATH_ALIASES = (
    (re.compile(r"^/settings/v3/users/?$"), "/settings/users/v3"),
)


def specs_dir() -> Path:
    configured = os.environ.get("ZOOMSYNC_API_SPECS")
    return Path(configured) if configured else (REPO_DIR.parent / "shared" / "specs")


def specs_available() -> bool:
    base = specs_dir()
    return all((base / s).is_dir() and any((base / s).glob("*.json")) for s in SERVICES)


def specs_require() -> None:
    """For tests marked `contract`: skip without the specs, unless REQUIRE_SPECS=1 (then fail)."""
    import pytest

    if specs_available():
        return
    if os.environ.get("REQUIRE_SPECS") == "1":
        pytest.fail(f"REQUIRE_SPECS=1 but {specs_missing_reason()}")
    pytest.skip(specs_missing_reason())


def specs_missing_reason() -> str:
    return (f"official API specs not found at {specs_dir()} (set ZOOMSYNC_API_SPECS to the "
            f"directory holding zoom/*.json and hubspot/*.json)")


@dataclass
class _Template:
    file: str
    template: str  # as in the spec, e.g. /webinars/{webinarId}
    regex: re.Pattern[str]
    params: int


@dataclass
class _ServiceSpecs:
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    templates: list[_Template] = field(default_factory=list)


_lock = threading.Lock()
_services: dict[str, _ServiceSpecs] = {}


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    pattern = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{pattern}/?$")


def _service(service: str) -> _ServiceSpecs:
    if service not in SERVICES:
        raise ValueError(f"service must be one of {SERVICES}")
    with _lock:
        loaded = _services.get(service)
        if loaded is not None:
            return loaded
        specs = _ServiceSpecs()
        for path in sorted((specs_dir() / service).glob("*.json")):
            document = json.loads(path.read_text())
            if "paths" not in document or "webhooks" in path.name:
                continue
            specs.documents[path.name] = document
            for template in document["paths"]:
                specs.templates.append(_Template(
                    file=path.name, template=template, regex=_template_regex(template),
                    params=template.count("{")))
        _services[service] = specs
        return specs


def _match(service: str, spec_path: str, method: str) -> _Template | None:
    """The most specific template (fewest parameters) that has this method."""
    specs = _service(service)
    candidates = [
        t for t in specs.templates
        if t.regex.match(spec_path)
        and method.lower() in specs.documents[t.file]["paths"][t.template]
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda t: (t.params, -len(t.template)))


@functools.lru_cache(maxsize=512)
def _openapi(service: str, file: str, template: str) -> Any:
    from openapi_core import Config, OpenAPI

    document = _service(service).documents[file]
    # Security is not checked (the sandbox's tokens are its own business); removing it lets
    # the validator go on to parameters and bodies.
    item = {
        key: ({k: v for k, v in value.items() if k != "security"} if isinstance(value, dict)
              else value)
        for key, value in document["paths"][template].items()
    }
    relaxed = KNOWN_SPEC_DEVIATIONS.get((service, template))
    if relaxed:
        item = _relax(item, relaxed)
    reduced = {
        "openapi": document["openapi"],
        "info": document.get("info", {"title": file, "version": "1"}),
        "servers": document.get("servers", []),
        "paths": {template: item},
        "components": document.get("components", {}),
    }
    config = Config(spec_validator_cls=None,
                    extra_format_validators={"date-time": _is_date_time, "email": _is_email})
    with warnings.catch_warnings():
        # openapi-core warns about Zoom's OAuth security scheme type, which is not checked.
        warnings.simplefilter("ignore", UserWarning)
        return OpenAPI.from_dict(reduced, config=config)


def _is_date_time(value: Any) -> bool:
    if not isinstance(value, str):
        return True
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return "T" in value


def _is_email(value: Any) -> bool:
    return not isinstance(value, str) or bool(re.fullmatch(r"[^@\s]+@[^@\s]+", value))


def _spec_path(service: str, url: str) -> tuple[str, str, str] | None:
    """(host_url, path as the spec server sees it, path relative to the server's base)."""
    split = urlsplit(url)
    host, base = SERVERS[service]
    path = split.path
    if split.netloc in ("api.zoom.us", "api.hubapi.com"):
        rel = path[len(base):] if base and path.startswith(base) else path
    else:
        prefix = "/zoom/v2" if service == "zoom" else "/hubspot"
        if not path.startswith(prefix):
            return None
        rel = path[len(prefix):]
    if service == "hubspot":
        for pattern, replacement in HUBSPOT_PATH_ALIASES:
            if pattern.match(rel):
                rel = replacement
    return host, base + rel, rel


@dataclass
class ContractProblem:
    service: str
    method: str
    url: str
    status: int
    kind: str  # "request" | "response" | "unknown-operation"
    message: str

    def __str__(self) -> str:
        return f"{self.service} {self.method} {self.url} → {self.status}: {self.kind}: {self.message}"


def _messages(error: BaseException) -> list[str]:
    """Flatten openapi-core's nested errors into readable lines."""
    lines = [f"{type(error).__name__}: {error}"]
    for attr in ("schema_errors", "errors"):
        for inner in getattr(error, attr, None) or []:
            path = "/".join(str(p) for p in getattr(inner, "absolute_path", []) or [])
            lines.append(f"  at {path or '<root>'}: {getattr(inner, 'message', inner)}")
    cause = error.__cause__
    if cause is not None and cause is not error:
        lines.extend("  " + line for line in _messages(cause))
    return lines


def validate_exchange(
    service: str,
    method: str,
    url: str,
    request_body: bytes | str | dict[str, Any] | list[Any] | None,
    status: int,
    response_headers: dict[str, str] | None,
    response_body: bytes | str | dict[str, Any] | list[Any] | None,
    *,
    request_headers: dict[str, str] | None = None,
    validate_response: bool = True,
) -> list[ContractProblem]:
    """Problems found in one request/response pair (empty list: it follows the spec)."""
    from openapi_core.testing import MockRequest, MockResponse
    from openapi_core.validation.request.exceptions import SecurityValidationError
    from openapi_core.validation.response.exceptions import DataValidationError

    method = method.upper()
    mapped = _spec_path(service, url)
    if mapped is None:
        return [ContractProblem(service, method, url, status, "unknown-operation",
                                "not a URL of this service")]
    host, full_path, rel = mapped
    template = _match(service, rel, method)
    if template is None:
        return [ContractProblem(service, method, url, status, "unknown-operation",
                                f"no operation {method} {rel} in the {service} specs")]
    openapi = _openapi(service, template.file, template.template)

    def as_bytes(body: Any) -> bytes | None:
        if body is None:
            return None
        if isinstance(body, bytes):
            return body
        if isinstance(body, str):
            return body.encode()
        return json.dumps(body).encode()

    req_headers = {k: v for k, v in (request_headers or {}).items()}
    content_type = next((v for k, v in req_headers.items() if k.lower() == "content-type"),
                        "application/json")
    query = urlsplit(url).query
    request = MockRequest(
        host, method.lower(), full_path,
        args=dict(parse_qsl(query, keep_blank_values=True)), headers=req_headers,
        data=as_bytes(request_body), content_type=content_type.split(";")[0].strip(),
    )
    problems: list[ContractProblem] = []
    for error in openapi.iter_request_errors(request):
        if isinstance(error, SecurityValidationError):
            continue
        problems.append(ContractProblem(service, method, url, status, "request",
                                        "\n".join(_messages(error))))

    if validate_response:
        operation = _service(service).documents[template.file]["paths"][template.template][method.lower()]
        declared = operation.get("responses", {})
        spec_response = declared.get(str(status)) or declared.get("default")
        # Undocumented statuses (Zoom documents most errors in prose only) are not checked;
        # documented ones are, body included.
        if spec_response is not None and (spec_response.get("content") or status < 300):
            headers = dict(response_headers or {})
            response_type = next((v for k, v in headers.items() if k.lower() == "content-type"),
                                 "application/json")
            response = MockResponse(as_bytes(response_body) or b"", status_code=status,
                                    headers=headers,
                                    content_type=response_type.split(";")[0].strip())
            for error in openapi.iter_response_errors(request, response):
                text = "\n".join(_messages(error))
                if isinstance(error, DataValidationError) and not spec_response.get("content"):
                    continue
                problems.append(ContractProblem(service, method, url, status, "response", text))
    return problems


class ContractRecorder:
    """A `requests` response hook that validates every exchange of a session.

    `ContractRecorder.attach(session)` validates calls whose URL belongs to a service (by the
    sandbox prefixes /zoom/v2 and /hubspot, or the real hosts); `.exchanges` counts them,
    `.problems` lists what did not follow the spec, `.assert_clean()` raises with all of them.
    Control calls (/_sandbox/...) and OAuth token calls to the sandbox's Zoom are skipped
    (Zoom's OAuth server has no OpenAPI document).
    """

    def __init__(self) -> None:
        self.exchanges = 0
        self.problems: list[ContractProblem] = []
        self.operations: set[str] = set()
        self._lock = threading.Lock()

    @classmethod
    def attach(cls, session: Any) -> ContractRecorder:
        recorder = cls()
        session.hooks.setdefault("response", []).append(recorder.hook)
        return recorder

    @staticmethod
    def service_of(url: str) -> str | None:
        split = urlsplit(url)
        if split.netloc == "api.zoom.us" or split.path.startswith("/zoom/v2/"):
            return "zoom"
        if split.netloc == "api.hubapi.com" or split.path.startswith("/hubspot/"):
            return "hubspot"
        return None

    def hook(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        request = response.request
        service = self.service_of(request.url)
        if service is None:
            return response
        body: Any = request.body
        content = response.content
        problems = validate_exchange(
            service, request.method, request.url, body, response.status_code,
            dict(response.headers), content, request_headers=dict(request.headers))
        with self._lock:
            self.exchanges += 1
            self.operations.add(f"{service} {request.method} {urlsplit(request.url).path}")
            self.problems.extend(problems)
        return response

    def assert_clean(self) -> None:
        if self.problems:
            listing = "\n\n".join(str(p) for p in self.problems[:20])
            raise AssertionError(f"{len(self.problems)} contract problem(s) in "
                                 f"{self.exchanges} exchanges:\n{listing}")

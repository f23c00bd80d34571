"""A request as the faces see it, the answer they give, and the body formats vendors use."""

from __future__ import annotations

import base64
import binascii
import email.parser
import email.policy
import json
from dataclasses import dataclass, field
from urllib.parse import parse_qs
from xml.sax.saxutils import quoteattr


class BadRequest(Exception):
    """The request cannot be read (bad JSON, a missing field); the face words the answer."""


@dataclass
class Request:
    method: str
    path: str  # below the vendor prefix, e.g. /api/v1/claims
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    client_host: str = ""
    _form: dict[str, str] | None = field(default=None, repr=False)
    _files: dict[str, tuple[str, bytes]] | None = field(default=None, repr=False)

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    @property
    def content_type(self) -> str:
        return self.header("content-type").split(";")[0].strip().lower()

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> dict:
        try:
            value = json.loads(self.body or b"{}")
        except ValueError as error:
            raise BadRequest(f"the body is not valid JSON ({error})") from None
        if not isinstance(value, dict):
            raise BadRequest("the body must be a JSON object")
        return value

    @property
    def form(self) -> dict[str, str]:
        """URL-encoded or multipart form fields (first value of each), files excluded."""
        if self._form is None:
            self._parse_form()
        assert self._form is not None
        return self._form

    @property
    def files(self) -> dict[str, tuple[str, bytes]]:
        """Multipart file fields: name -> (file name, content)."""
        if self._files is None:
            self._parse_form()
        assert self._files is not None
        return self._files

    def _parse_form(self) -> None:
        self._form, self._files = {}, {}
        if self.content_type == "multipart/form-data":
            head = f"Content-Type: {self.header('content-type')}\r\n\r\n".encode()
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                head + self.body
            )
            if not message.is_multipart():
                raise BadRequest("the multipart body cannot be read")
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if not name:
                    continue
                payload = part.get_payload(decode=True)
                content = payload if isinstance(payload, bytes) else b""
                filename = part.get_filename()
                if filename is not None:
                    self._files[str(name)] = (filename, content)
                else:
                    self._form.setdefault(str(name), content.decode("utf-8", errors="replace"))
        else:
            parsed = parse_qs(self.text, keep_blank_values=True)
            self._form = {name: values[0] for name, values in parsed.items()}

    def basic_auth(self) -> tuple[str, str] | None:
        scheme, _, value = self.header("authorization").partition(" ")
        if scheme.lower() != "basic" or not value:
            return None
        try:
            user, sep, password = base64.b64decode(value.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return (user, password) if sep else None

    def bearer_token(self) -> str:
        scheme, _, value = self.header("authorization").partition(" ")
        return value.strip() if scheme.lower() == "bearer" else ""


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    remember: bool = False  # it settled a transaction: a repeated idempotency key gets it again

    def to_record(self) -> dict:
        """What the idempotency table keeps to answer a repeat the same way."""
        return {
            "status": self.status,
            "body": self.body.decode("utf-8"),
            "content_type": self.content_type,
            "headers": self.headers,
        }

    @classmethod
    def from_record(cls, record: dict) -> Response:
        return cls(
            status=record["status"],
            body=record["body"].encode("utf-8"),
            content_type=record["content_type"],
            headers=dict(record["headers"]),
        )


def json_response(status: int, value: object, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(value, indent=None).encode()
    return Response(status, body, "application/json", dict(headers or {}))


def text_response(status: int, text: str, content_type: str = "text/plain") -> Response:
    return Response(status, text.encode("utf-8"), f"{content_type}; charset=utf-8")


def xml_response(status: int, xml: str) -> Response:
    document = '<?xml version="1.0" encoding="UTF-8"?>\n' + xml
    return Response(status, document.encode("utf-8"), "text/xml; charset=utf-8")


def xml_element(tag: str, attributes: dict[str, object]) -> str:
    attrs = "".join(f" {name}={quoteattr(str(value))}" for name, value in attributes.items())
    return f"<{tag}{attrs}/>"

"""Render playbook emails from sandboxed Jinja2 templates and send them over SMTP.

A template file ``NAME.j2`` defines the blocks ``subject``, ``text`` and optionally ``html``.
Each block is rendered on its own; the ``html`` block is rendered with autoescaping, the
others as plain text. Every email must carry the recipient's unsubscribe link.
"""

from __future__ import annotations

import email.policy
import email.utils
import os
import re
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from email.message import EmailMessage
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from jinja2 import FileSystemLoader, StrictUndefined, Template, TemplateError, TemplateNotFound
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import escape

TEMPLATES_DIR = Path(__file__).parent / "templates"
PASSWORD_ENV_VAR = "HELIX_SMTP_PASSWORD"
SECURITY_MODES = ("none", "starttls", "ssl")

_TEMPLATE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
# Bodies are encoded with the usual 78-character lines (quoted-printable/base64 when not ASCII).
_BODY_POLICY = email.policy.SMTP.clone(cte_type="7bit")
# Headers are folded only past RFC 5322's 998-character limit: with 78, a long
# List-Unsubscribe URL has no folding point and Python RFC 2047-encodes it, which mail
# clients then cannot parse as a URL.
_WIRE_POLICY = email.policy.SMTP.clone(max_line_length=998)


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the SMTP server that sends playbook emails."""

    host: str = "127.0.0.1"
    port: int = 25
    from_address: str = "helix@localhost"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    security: Literal["none", "starttls", "ssl"] = "none"
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.security not in SECURITY_MODES:
            raise ValueError(
                f"smtp security must be one of {', '.join(SECURITY_MODES)}, not {self.security!r}"
            )
        if isinstance(self.port, bool) or not isinstance(self.port, int):
            raise ValueError(f"smtp port must be a whole number, not {self.port!r}")
        if not 0 < self.port < 65536:
            raise ValueError(f"smtp port must be between 1 and 65535, not {self.port}")
        if isinstance(self.timeout, bool) or not isinstance(self.timeout, int | float):
            raise ValueError(f"smtp timeout must be a number of seconds, not {self.timeout!r}")

    @classmethod
    def from_mapping(
        cls, value: Mapping[str, Any] | None, env: Mapping[str, str] = os.environ
    ) -> SmtpSettings:
        """Build settings from the stored "smtp" setting (a dict keyed by field name).

        A non-empty HELIX_SMTP_PASSWORD in ``env`` overrides the stored password.
        Raises ValueError naming the first unknown key, or describing an invalid value.
        """
        data = dict(value or {})
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise ValueError(
                    f"unknown smtp setting {key!r}; expected one of {', '.join(sorted(known))}"
                )
        env_password = env.get(PASSWORD_ENV_VAR)
        if env_password:
            data["password"] = env_password
        return cls(**data)


@dataclass(frozen=True)
class RenderedEmail:
    """An email rendered from a template, ready to be put into a message."""

    subject: str
    text: str
    html: str | None


class EmailSendError(Exception):
    """Sending failed; ``permanent`` tells whether retrying the same message can help."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


def template_names() -> list[str]:
    """Return the names of the shipped templates, sorted."""
    return sorted(path.stem for path in TEMPLATES_DIR.glob("*.j2"))


def render_email(
    template: str, context: Mapping[str, Any], *, extra_dir: Path | None = None
) -> RenderedEmail:
    """Render template ``template`` with ``context``; ``extra_dir`` is searched first.

    Raises ValueError when the template is unknown or broken, uses a variable the context
    lacks, tries something the sandbox forbids, or leaves out the unsubscribe link.
    """
    if not _TEMPLATE_NAME.match(template):
        raise ValueError(f"invalid email template name {template!r}")
    unsubscribe_url = context.get("unsubscribe_url")
    if not unsubscribe_url:
        raise ValueError(f"email template {template!r}: the context has no unsubscribe_url")
    search_path = str(extra_dir.resolve()) if extra_dir is not None else None
    try:
        rendered = _render_blocks(template, context, search_path)
    except TemplateNotFound as exc:
        raise ValueError(f"unknown email template {template!r}") from exc
    except TemplateError as exc:
        raise ValueError(f"email template {template!r}: {exc.message or exc}") from exc
    _require_unsubscribe_link(template, rendered, str(unsubscribe_url))
    return rendered


def build_message(
    rendered: RenderedEmail,
    *,
    to_address: str,
    from_address: str,
    message_id: str,
    unsubscribe_url: str,
    reply_to: str | None = None,
) -> EmailMessage:
    """Build the MIME message: text body, optional HTML alternative, one-click unsubscribe."""
    message = EmailMessage(policy=_BODY_POLICY)
    message.set_content(rendered.text)
    if rendered.html is not None:
        message.add_alternative(rendered.html, subtype="html")
    # The generator folds every header, parts included, with the top-level message's policy.
    message.policy = _WIRE_POLICY
    message["To"] = to_address
    message["From"] = from_address
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = rendered.subject
    message["Message-ID"] = message_id
    message["Date"] = email.utils.formatdate(usegmt=True)
    message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return message


def send_message(settings: SmtpSettings, message: EmailMessage) -> None:
    """Send ``message`` through the server in ``settings``.

    Raises EmailSendError; its reason never contains the password.
    """
    where = f"{settings.host}:{settings.port}"
    try:
        client = _connect(settings)
        try:
            _deliver(client, settings, message)
        finally:
            _close_quietly(client)
    except smtplib.SMTPRecipientsRefused as exc:
        raise _refused_error(settings, exc.recipients) from exc
    except smtplib.SMTPResponseException as exc:
        reason = f"SMTP server {where} answered {exc.smtp_code} {_decode(exc.smtp_error)}"
        raise EmailSendError(_redact(reason, settings), permanent=exc.smtp_code >= 500) from exc
    except smtplib.SMTPNotSupportedError as exc:
        reason = f"SMTP server {where} does not support what the settings ask for: {exc}"
        raise EmailSendError(_redact(reason, settings), permanent=True) from exc
    except (smtplib.SMTPException, OSError) as exc:
        reason = f"could not send through SMTP server {where}: {_describe_os_error(exc)}"
        raise EmailSendError(_redact(reason, settings), permanent=False) from exc


@lru_cache(maxsize=32)
def _environments(
    search_path: str | None,
) -> tuple[ImmutableSandboxedEnvironment, ImmutableSandboxedEnvironment]:
    """Return (plain, html) environments over the same templates; only html autoescapes."""
    paths = [search_path, str(TEMPLATES_DIR)] if search_path else [str(TEMPLATES_DIR)]
    loader = FileSystemLoader(paths)
    options: dict[str, Any] = {
        "loader": loader,
        "undefined": StrictUndefined,
        "trim_blocks": True,
        "lstrip_blocks": True,
    }
    # Autoescaping is decided when a template is compiled, hence two environments.
    plain = ImmutableSandboxedEnvironment(autoescape=False, **options)
    html = ImmutableSandboxedEnvironment(autoescape=True, **options)
    return plain, html


def _render_blocks(
    template: str, context: Mapping[str, Any], search_path: str | None
) -> RenderedEmail:
    """Render the subject, text and html blocks of ``template``."""
    plain_env, html_env = _environments(search_path)
    filename = f"{template}.j2"
    plain = plain_env.get_template(filename)
    for required in ("subject", "text"):
        if required not in plain.blocks:
            raise ValueError(f"email template {template!r} has no {required!r} block")
    subject = " ".join(_render_block(plain, "subject", context).split())
    text = _render_block(plain, "text", context).strip() + "\n"
    html = None
    if "html" in plain.blocks:
        html_template = html_env.get_template(filename)
        html = _render_block(html_template, "html", context).strip() + "\n"
    if not subject:
        raise ValueError(f"email template {template!r} rendered an empty subject")
    return RenderedEmail(subject=subject, text=text, html=html)


def _render_block(template: Template, block: str, context: Mapping[str, Any]) -> str:
    """Render one block of ``template`` on its own."""
    return "".join(template.blocks[block](template.new_context(dict(context))))


def _require_unsubscribe_link(template: str, rendered: RenderedEmail, url: str) -> None:
    """Refuse an email whose text (or HTML) part leaves out the unsubscribe link."""
    if url not in rendered.text:
        raise ValueError(
            f"email template {template!r}: the text part must contain the unsubscribe link "
            "{{ unsubscribe_url }}"
        )
    html = rendered.html
    if html is not None and url not in html and str(escape(url)) not in html:
        raise ValueError(
            f"email template {template!r}: the html part must contain the unsubscribe link "
            "{{ unsubscribe_url }}"
        )


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    """Open the connection, over TLS from the start when security is "ssl"."""
    if settings.security == "ssl":
        return smtplib.SMTP_SSL(
            settings.host,
            settings.port,
            timeout=settings.timeout,
            context=ssl.create_default_context(),
        )
    return smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)


def _deliver(client: smtplib.SMTP, settings: SmtpSettings, message: EmailMessage) -> None:
    """Upgrade to TLS and log in when asked, then hand the message over."""
    if settings.security == "starttls":
        client.starttls(context=ssl.create_default_context())
    if settings.username:
        client.login(settings.username, settings.password or "")
    refused = client.send_message(message)
    if refused:
        # Some, not all, recipients were refused; the message went to the others.
        raise smtplib.SMTPRecipientsRefused(refused)


def _close_quietly(client: smtplib.SMTP) -> None:
    """End the session; a failed QUIT after a delivered message is not a send failure."""
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _refused_error(settings: SmtpSettings, recipients: Mapping[str, Any]) -> EmailSendError:
    """Describe refused recipients; permanent when every refusal is a 5xx answer."""
    parts = [f"{address} ({code} {_decode(text)})" for address, (code, text) in recipients.items()]
    permanent = all(code >= 500 for code, _ in recipients.values())
    reason = f"SMTP server {settings.host}:{settings.port} refused recipient " + ", ".join(parts)
    return EmailSendError(_redact(reason, settings), permanent=permanent)


def _describe_os_error(exc: BaseException) -> str:
    """Plain-language text for a connection-level failure."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the server running and the port right?)"
    if isinstance(exc, TimeoutError):
        return "the server did not answer in time"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "the server closed the connection"
    return str(exc) or type(exc).__name__


def _decode(value: bytes | str) -> str:
    """Server answers arrive as bytes; show them as text."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _redact(reason: str, settings: SmtpSettings) -> str:
    """Make sure the password can never leak through a server's echoed answer."""
    if settings.password:
        return reason.replace(settings.password, "***")
    return reason

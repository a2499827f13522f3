"""Email rendering and SMTP delivery, against a real local aiosmtpd server."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from jinja2.exceptions import SecurityError

from helix.playbooks.email import (
    PASSWORD_ENV_VAR,
    EmailSendError,
    RenderedEmail,
    SmtpSettings,
    build_message,
    render_email,
    send_message,
    template_names,
)

UNSUBSCRIBE_URL = "https://helix.example.com/unsubscribe?token=" + "t0k3n" * 20 + "&company=acme"

SHIPPED = [
    "welcome",
    "onboarding_nudge",
    "first_value_congrats",
    "nps_detractor_followup",
    "nps_promoter_advocacy",
    "renewal_upcoming",
    "payment_failed",
    "tech_touch_monthly",
    "usage_plateau_tips",
]


def sample_context(**overrides: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        "contact_name": "Zoë <Admin>",
        "account_name": "Acme & Sons",
        "owner_name": "Sam Rivera",
        "owner_email": "sam@vendor.example",
        "unsubscribe_url": UNSUBSCRIBE_URL,
        "evidence": "your team has not logged in for 14 days",
        "renewal_date": "2025-09-30",
        "days_to_renewal": 45,
    }
    context.update(overrides)
    return context


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RecordingHandler:
    """Stores what arrives; refuses recipients whose address starts with "refused"."""

    messages: list[bytes] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("refused"):
            return "550 5.1.1 No such user here"
        if address.startswith("busy"):
            return "450 4.2.1 Mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(envelope.original_content or envelope.content)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


def _accept_only(login: bytes, password: bytes):
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login == login and auth_data.password == password
        )
        # handled=False: let aiosmtpd answer 235 / 535 itself
        return AuthResult(success=ok, handled=False)

    return authenticator


@pytest.fixture
def smtp_server() -> Iterator[tuple[RecordingHandler, SmtpSettings]]:
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, SmtpSettings(host="127.0.0.1", port=port, timeout=5)
    finally:
        controller.stop()


@pytest.fixture
def smtp_auth_server() -> Iterator[tuple[RecordingHandler, SmtpSettings]]:
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=_accept_only(b"helix", b"s3cret-pw"),
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield handler, SmtpSettings(host="127.0.0.1", port=port, username="helix", timeout=5)
    finally:
        controller.stop()


def make_message(rendered: RenderedEmail, to_address: str = "zoe@customer.example") -> EmailMessage:
    return build_message(
        rendered,
        to_address=to_address,
        from_address="Sam Rivera <sam@vendor.example>",
        message_id="<step-42@helix>",
        unsubscribe_url=UNSUBSCRIBE_URL,
        reply_to="sam@vendor.example",
    )


def parse(raw: bytes) -> EmailMessage:
    # the wire format uses CRLF; compare bodies with the LF text that was rendered
    message = email.message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


# -- rendering -----------------------------------------------------------------------------


def test_template_names_lists_every_shipped_template() -> None:
    assert template_names() == sorted(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_template_renders_with_the_unsubscribe_link(name: str) -> None:
    rendered = render_email(name, sample_context())

    assert rendered.subject and "\n" not in rendered.subject
    assert UNSUBSCRIBE_URL in rendered.text
    assert "Sam Rivera" in rendered.text
    assert "{{" not in rendered.text and "{%" not in rendered.text
    assert rendered.html is not None
    # the html part is autoescaped, the text part is not
    assert "Zoë &lt;Admin&gt;" in rendered.html and "<Admin>" not in rendered.html
    assert 'href="' + UNSUBSCRIBE_URL.replace("&", "&amp;") + '"' in rendered.html
    assert "Zoë <Admin>" in rendered.text


def test_renewal_template_uses_the_renewal_date_and_days() -> None:
    rendered = render_email("renewal_upcoming", sample_context())

    assert "2025-09-30" in rendered.subject
    assert "in 45 days" in rendered.text


def test_missing_variable_is_named_with_the_template() -> None:
    context = sample_context()
    del context["renewal_date"]

    with pytest.raises(ValueError, match="renewal_upcoming") as caught:
        render_email("renewal_upcoming", context)
    assert "renewal_date" in str(caught.value)


def test_context_without_unsubscribe_url_is_refused() -> None:
    with pytest.raises(ValueError, match="unsubscribe_url"):
        render_email("welcome", sample_context(unsubscribe_url=""))


def test_unknown_template_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown email template 'no_such_email'"):
        render_email("no_such_email", sample_context())


def test_template_name_cannot_leave_the_template_directories() -> None:
    with pytest.raises(ValueError, match="invalid email template name"):
        render_email("../secrets", sample_context())


def test_template_without_unsubscribe_link_is_refused(tmp_path: Path) -> None:
    (tmp_path / "no_link.j2").write_text(
        "{% block subject %}Hello{% endblock %}"
        "{% block text %}Hi {{ contact_name }}, no way out here.{% endblock %}",
        encoding="utf-8",
    )

    with pytest.raises(ValueError, match="no_link.*unsubscribe link"):
        render_email("no_link", sample_context(), extra_dir=tmp_path)


def test_html_part_without_unsubscribe_link_is_refused(tmp_path: Path) -> None:
    (tmp_path / "html_no_link.j2").write_text(
        "{% block subject %}Hello{% endblock %}"
        "{% block text %}Bye: {{ unsubscribe_url }}{% endblock %}"
        "{% block html %}<p>Hi</p>{% endblock %}",
        encoding="utf-8",
    )

    with pytest.raises(ValueError, match="html part must contain the unsubscribe link"):
        render_email("html_no_link", sample_context(), extra_dir=tmp_path)


def test_template_without_text_block_is_refused(tmp_path: Path) -> None:
    (tmp_path / "subject_only.j2").write_text(
        "{% block subject %}Hello{% endblock %}", encoding="utf-8"
    )

    with pytest.raises(ValueError, match="no 'text' block"):
        render_email("subject_only", sample_context(), extra_dir=tmp_path)


def test_extra_dir_overrides_a_shipped_template(tmp_path: Path) -> None:
    (tmp_path / "welcome.j2").write_text(
        "{% block subject %}Our own welcome for {{ account_name }}{% endblock %}\n"
        "{% block text %}\nCustom hello.\nLeave: {{ unsubscribe_url }}\n{% endblock %}\n",
        encoding="utf-8",
    )

    rendered = render_email("welcome", sample_context(), extra_dir=tmp_path)

    assert rendered == RenderedEmail(
        subject="Our own welcome for Acme & Sons",
        text=f"Custom hello.\nLeave: {UNSUBSCRIBE_URL}\n",
        html=None,
    )
    # shipped templates not overridden are still found
    assert (
        "Acme & Sons" in render_email("payment_failed", sample_context(), extra_dir=tmp_path).text
    )


def test_sandbox_blocks_unsafe_attribute_access(tmp_path: Path) -> None:
    (tmp_path / "sneaky.j2").write_text(
        "{% block subject %}x{% endblock %}"
        "{% block text %}{{ ''.__class__.__mro__ }} {{ unsubscribe_url }}{% endblock %}",
        encoding="utf-8",
    )

    with pytest.raises(ValueError, match="unsafe") as caught:
        render_email("sneaky", sample_context(), extra_dir=tmp_path)
    assert isinstance(caught.value.__cause__, SecurityError)


def test_subject_is_a_single_line_whatever_the_context() -> None:
    rendered = render_email("welcome", sample_context(account_name="Acme\r\nBcc: victim@x.example"))

    assert "\n" not in rendered.subject and "\r" not in rendered.subject


# -- message and delivery ------------------------------------------------------------------


def test_message_arrives_with_headers_and_both_parts(smtp_server) -> None:
    handler, settings = smtp_server
    rendered = render_email("renewal_upcoming", sample_context())

    send_message(settings, make_message(rendered))

    assert len(handler.messages) == 1
    assert handler.envelopes[0][1] == ["zoe@customer.example"]
    received = parse(handler.messages[0])
    assert received["Message-ID"] == "<step-42@helix>"
    assert received["Subject"] == rendered.subject
    assert received["To"] == "zoe@customer.example"
    assert received["Reply-To"] == "sam@vendor.example"
    assert received["Date"] is not None
    assert received["List-Unsubscribe"] == f"<{UNSUBSCRIBE_URL}>"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received.get_content_type() == "multipart/alternative"
    text_part = received.get_body(preferencelist=("plain",))
    html_part = received.get_body(preferencelist=("html",))
    assert text_part is not None and html_part is not None
    assert text_part.get_content() == rendered.text
    assert html_part.get_content() == rendered.html


def test_text_only_email_is_a_single_part(smtp_server) -> None:
    handler, settings = smtp_server
    rendered = RenderedEmail(subject="Hi", text=f"Plain only. {UNSUBSCRIBE_URL}\n", html=None)

    send_message(settings, make_message(rendered))

    received = parse(handler.messages[0])
    assert received.get_content_type() == "text/plain"
    assert received.get_content() == rendered.text


def test_refused_recipient_is_a_permanent_error(smtp_server) -> None:
    handler, settings = smtp_server
    message = make_message(render_email("welcome", sample_context()), "refused@customer.example")

    with pytest.raises(EmailSendError) as caught:
        send_message(settings, message)

    assert caught.value.permanent is True
    assert "refused@customer.example" in str(caught.value)
    assert "550" in str(caught.value)
    assert handler.messages == []


def test_temporarily_refused_recipient_is_a_temporary_error(smtp_server) -> None:
    _, settings = smtp_server
    message = make_message(render_email("welcome", sample_context()), "busy@customer.example")

    with pytest.raises(EmailSendError) as caught:
        send_message(settings, message)

    assert caught.value.permanent is False
    assert "450" in str(caught.value)


def test_closed_port_is_a_temporary_error() -> None:
    settings = SmtpSettings(host="127.0.0.1", port=free_port(), timeout=5, password="s3cret-pw")
    message = make_message(render_email("welcome", sample_context()))

    with pytest.raises(EmailSendError) as caught:
        send_message(settings, message)

    assert caught.value.permanent is False
    assert "connection refused" in str(caught.value)
    assert "s3cret-pw" not in str(caught.value)


def test_login_with_the_right_password_delivers(smtp_auth_server) -> None:
    handler, settings = smtp_auth_server
    settings = SmtpSettings.from_mapping(
        {"host": settings.host, "port": settings.port, "username": "helix"},
        env={PASSWORD_ENV_VAR: "s3cret-pw"},
    )

    send_message(settings, make_message(render_email("welcome", sample_context())))

    assert len(handler.messages) == 1


def test_wrong_password_is_permanent_and_not_in_the_reason(smtp_auth_server) -> None:
    handler, settings = smtp_auth_server
    settings = SmtpSettings(
        host=settings.host, port=settings.port, username="helix", password="wrong-pw", timeout=5
    )

    with pytest.raises(EmailSendError) as caught:
        send_message(settings, make_message(render_email("welcome", sample_context())))

    assert caught.value.permanent is True
    assert "535" in str(caught.value)
    assert "wrong-pw" not in str(caught.value)
    assert handler.messages == []


def test_starttls_against_a_server_without_it_is_permanent(smtp_server) -> None:
    _, settings = smtp_server
    settings = SmtpSettings(host=settings.host, port=settings.port, security="starttls", timeout=5)

    with pytest.raises(EmailSendError) as caught:
        send_message(settings, make_message(render_email("welcome", sample_context())))

    assert caught.value.permanent is True


# -- settings ------------------------------------------------------------------------------


def test_password_is_not_in_repr() -> None:
    settings = SmtpSettings(password="s3cret")

    assert "s3cret" not in repr(settings)
    assert "s3cret" not in str(settings)


def test_from_mapping_rejects_unknown_keys() -> None:
    with pytest.raises(ValueError, match="'hostname'"):
        SmtpSettings.from_mapping({"hostname": "mail.example.com"}, env={})


def test_from_mapping_reads_fields_and_env_password_wins() -> None:
    settings = SmtpSettings.from_mapping(
        {"host": "mail.example.com", "port": 587, "security": "starttls", "password": "stored"},
        env={PASSWORD_ENV_VAR: "from-env"},
    )

    assert settings.host == "mail.example.com"
    assert settings.port == 587
    assert settings.security == "starttls"
    assert settings.password == "from-env"


def test_from_mapping_keeps_stored_password_without_env_and_defaults_for_none() -> None:
    assert SmtpSettings.from_mapping({"password": "stored"}, env={}).password == "stored"
    assert SmtpSettings.from_mapping(None, env={}) == SmtpSettings()


@pytest.mark.parametrize(
    "value",
    [{"security": "tls"}, {"port": "25"}, {"port": 70000}, {"timeout": "soon"}],
)
def test_from_mapping_rejects_invalid_values(value: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        SmtpSettings.from_mapping(value, env={})

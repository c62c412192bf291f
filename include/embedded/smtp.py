"""An SMTP server on loopback (aiosmtpd Controller) that requires AUTH and keeps every message."""

from __future__ import annotations

import email.policy
import hmac
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from embedded.base import LOOPBACK, AirflowConnection, Managed, ServiceError, free_port

USER = "recon"
FROM_EMAIL = "recon@example.test"


@dataclass(frozen=True)
class CapturedEmail:
    """One accepted message: the SMTP envelope and the parsed message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["subject"] or "")

    def attachment_names(self) -> list[str]:
        return [
            part.get_filename() or ""
            for part in self.message.iter_attachments()
            if isinstance(part, EmailMessage)
        ]


class _Mailbox:
    """aiosmtpd handler: appends each message to a list guarded by a condition."""

    def __init__(self) -> None:
        self.messages: list[CapturedEmail] = []
        self.changed = threading.Condition()

    async def handle_MAIL(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        # AUTH is enforced here rather than with aiosmtpd's auth_required, which warns at every
        # session that AUTH without TLS is unsafe (true, and deliberate on loopback)
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = cast(EmailMessage, BytesParser(policy=email.policy.default).parsebytes(raw))
        captured = CapturedEmail(
            mail_from=envelope.mail_from or "",
            rcpt_tos=tuple(envelope.rcpt_tos),
            message=message,
        )
        with self.changed:
            self.messages.append(captured)
            self.changed.notify_all()
        return "250 Message accepted for delivery"


class _Authenticator:
    def __init__(self, user: str, password: str) -> None:
        self._user = user.encode()
        self._password = password.encode()

    def __call__(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and hmac.compare_digest(auth_data.login, self._user)
            and hmac.compare_digest(auth_data.password, self._password)
        )
        # handled=False lets aiosmtpd send the 535 answer; handled=True would leave the client
        # waiting for a reply that never comes
        return AuthResult(success=ok, handled=False)


class EmbeddedSmtp(Managed):
    """aiosmtpd on a free loopback port: AUTH LOGIN/PLAIN required, no TLS, messages kept."""

    def __init__(self) -> None:
        self.user = USER
        self.password = secrets.token_urlsafe(16)
        self.host = LOOPBACK
        self.port = 0
        self._mailbox = _Mailbox()
        self._controller: Controller | None = None

    def start(self) -> EmbeddedSmtp:
        if self._controller is not None:
            return self
        # aiosmtpd's own AUTH code trips its "login_data is deprecated" warning on every login
        logging.getLogger("mail.log").setLevel(logging.ERROR)
        self.port = free_port()
        controller = Controller(
            self._mailbox,
            hostname=LOOPBACK,
            port=self.port,
            authenticator=_Authenticator(self.user, self.password),
            # plain-text AUTH on loopback only: there is no TLS to require
            auth_require_tls=False,
            ready_timeout=10,
        )
        try:
            controller.start()
        except Exception as exc:
            raise ServiceError(
                f"SMTP server did not start on {LOOPBACK}:{self.port}: {exc}"
            ) from exc
        self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def connections(self) -> list[AirflowConnection]:
        """``recon_smtp``: plain SMTP with AUTH, no STARTTLS, no SSL, one attempt per send."""
        return [
            AirflowConnection(
                "recon_smtp",
                "smtp",
                host=self.host,
                port=self.port,
                login=self.user,
                password=self.password,
                extra={
                    "disable_tls": True,
                    "disable_ssl": True,
                    "from_email": FROM_EMAIL,
                    "timeout": 10,
                    # the provider's default is 5 retries; a local server either works or not
                    "retry_limit": 0,
                },
            )
        ]

    def messages(self) -> list[CapturedEmail]:
        with self._mailbox.changed:
            return list(self._mailbox.messages)

    def reset(self) -> None:
        with self._mailbox.changed:
            self._mailbox.messages.clear()

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[CapturedEmail]:
        """Return the messages once at least ``count`` arrived; ServiceError after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._mailbox.changed:
            while len(self._mailbox.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ServiceError(
                        f"SMTP server received {len(self._mailbox.messages)} of {count} "
                        f"messages within {timeout:.0f} s"
                    )
                self._mailbox.changed.wait(left)
            return list(self._mailbox.messages)

"""Real servers that notifications reach in the tests: an SMTP server (aiosmtpd) and an HTTP server.

``MailSink`` keeps every message it receives, parsed (``email.message.EmailMessage``);
``HookSink`` keeps every POST (path and JSON body), answering 200 ``ok`` as Slack's incoming
webhooks do. Both run in threads of the test process on free ports; ``connections`` gives the
``AIRFLOW_CONN_*`` variables that point Airflow's notifiers at them.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from tests.conftest import free_port

SLACK_TOKEN = "T0000/B0000/xoxb-sink-secret-token"  # noqa: S105 - the test webhook's secret path


class _Collect:
    """aiosmtpd's handler: every message, parsed, with its envelope recipients."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"


class MailSink:
    """A real SMTP server on 127.0.0.1 (``start``/``stop``; stopped, its port refuses connections)."""

    def __init__(self) -> None:
        self.port = free_port()
        self._handler = _Collect()
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self._handler.messages

    def start(self) -> None:
        self._controller = Controller(self._handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def connection(self) -> str:
        """The Airflow SMTP connection (JSON) to this server: no TLS, no login, one try, a sender."""
        extra = {"disable_ssl": True, "disable_tls": True, "retry_limit": 0, "timeout": 5}
        extra["from_email"] = "nbreports@nbreports.test"
        return json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": self.port, "extra": extra})

    def wait_for(self, match: Callable[[EmailMessage], bool], timeout: float = 30) -> EmailMessage:
        """The first message ``match`` accepts, waiting up to ``timeout`` seconds for it."""
        return _wait(lambda: next((m for m in self.messages if match(m)), None), timeout, "mail")


class HookSink:
    """A real HTTP server on 127.0.0.1 keeping every POST: ``posts`` is a list of (path, JSON body)."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, Any]] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                sink.posts.append((self.path, json.loads(body or b"null")))
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def slack_connection(self) -> str:
        """A Slack incoming-webhook connection whose URL (its secret) is this server's ``/slack/...``."""
        return json.dumps(
            {"conn_type": "slackwebhook", "password": f"http://127.0.0.1:{self.port}/slack/services/{SLACK_TOKEN}"}
        )

    def webhook_connection(self) -> str:
        """A generic HTTP connection to this server's ``/hook``."""
        return json.dumps({"conn_type": "http", "host": f"http://127.0.0.1:{self.port}/hook"})

    def wait_for(self, match: Callable[[str, Any], bool], timeout: float = 30) -> Any:
        """The body of the first POST ``match(path, body)`` accepts, waiting up to ``timeout`` seconds."""
        found = _wait(lambda: next(((p, b) for p, b in self.posts if match(p, b)), None), timeout, "POST")
        return found[1]


def _wait(find: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while (found := find()) is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"no matching {what} within {timeout:.0f} s")
        time.sleep(0.1)
    return found


@contextlib.contextmanager
def running_sinks() -> Iterator[tuple[MailSink, HookSink]]:
    """A started SMTP server and HTTP server, stopped on exit."""
    mail, hooks = MailSink(), HookSink()
    mail.start()
    hooks.start()
    try:
        yield mail, hooks
    finally:
        mail.stop()
        hooks.stop()


def connections(mail: MailSink, hooks: HookSink) -> dict[str, str]:
    """The ``AIRFLOW_CONN_*`` variables of the example reports' notify rules, pointing at the sinks."""
    return {
        "AIRFLOW_CONN_NBREPORTS_SMTP": mail.connection(),
        "AIRFLOW_CONN_NBREPORTS_SLACK": hooks.slack_connection(),
        "AIRFLOW_CONN_NBREPORTS_WEBHOOK": hooks.webhook_connection(),
    }

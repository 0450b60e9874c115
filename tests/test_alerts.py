"""Alerts reach a real SMTP server (aiosmtpd, started by the test) and the alerts log:

- a rejected file (real ingest into a throw-away warehouse) -> the Dagster sensor
  ``alert_on_rejected_files`` e-mails once, with the ledger's error and no personal
  reference; the next tick sends nothing; a writer holding the warehouse makes it skip;
- a failed run (a real in-process run of a failing asset) -> ``alert_on_run_failure``
  evaluated with ``build_run_status_sensor_context``, and ``alert_run_result`` (the
  ``make run`` path) both e-mail, naming the failed step;
- a failed blocking check in a run that succeeds -> a check_failed alert;
- login over SMTP AUTH with CSP_SMTP_USER/CSP_SMTP_PASSWORD; with no CSP_SMTP_HOST only
  the JSON line is written.
"""

from __future__ import annotations

import json
import socket
from email import message_from_bytes
from email.message import Message

import dagster as dg
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from orchestration.alerts import (
    alert_on_failed_checks,
    alert_on_rejected_files,
    alert_on_run_failure,
    alert_run_result,
)
from tests.conftest import IDVA_HEADER, IDVA_ROWS, csv_text
from tests.test_sensors import writer_holding

USER, PASSWORD = "csp-alerts", "s3cret"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.logins: list[str] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(message_from_bytes(envelope.original_content))
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
        if ok:
            self.logins.append(mechanism)
        return AuthResult(success=ok)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def inbox(monkeypatch, settings):
    box = Inbox()
    port = _free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        authenticator=box.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    monkeypatch.setenv("CSP_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CSP_SMTP_PORT", str(port))
    monkeypatch.setenv("CSP_SMTP_FROM", "warehouse@csp.example")
    monkeypatch.setenv("CSP_SMTP_TO", "team@csp.example, duty@csp.example")
    monkeypatch.setenv("CSP_SMTP_USER", USER)
    monkeypatch.setenv("CSP_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("CSP_WAREHOUSE", str(settings.warehouse))
    monkeypatch.delenv("CSP_ALERTS_LOG", raising=False)
    yield box
    controller.stop()


def _log(settings) -> list[dict]:
    path = settings.warehouse.parent / "alerts.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_rejected_file_is_emailed_once(inbox, settings, deliver, ingest):
    deliver("idva_referrals/q3.csv", csv_text(IDVA_HEADER, IDVA_ROWS))
    bad = [row.replace(",engaged,", ",maybe,") for row in IDVA_ROWS]
    deliver("idva_referrals/q3-bad.csv", csv_text(IDVA_HEADER, bad))
    results = ingest()
    error = next(r.error for r in results if r.status == "rejected")

    with dg.build_sensor_context() as context:
        alert_on_rejected_files(context)
    assert len(inbox.messages) == 1 and inbox.logins
    mail = inbox.messages[0]
    assert mail["Subject"] == "[CSP warehouse] rejected file idva_referrals/q3-bad.csv"
    assert mail["To"] == "team@csp.example, duty@csp.example"
    body = mail.get_payload(decode=True).decode()
    assert error in body
    assert not any(ref in body for ref in ("CL-0001", "CL-0002", "CL-0003"))
    [line] = _log(settings)
    assert line["kind"] == "rejected_file" and line["error"] == error
    assert line["email"].startswith("sent to team@csp.example")

    with dg.build_sensor_context() as context:
        alert_on_rejected_files(context)
    assert len(inbox.messages) == 1 and len(_log(settings)) == 1  # alerted once

    # the warehouse rebuilt from the landing folder: the same file under another load id
    first_id = line["load_id"]
    for path in settings.warehouse.parent.glob(settings.warehouse.name + "*"):
        path.unlink()
    (settings.landing / "idva_referrals" / "q3.csv").unlink()
    again = next(r for r in ingest() if r.status == "rejected")
    assert again.load_id != first_id
    with dg.build_sensor_context() as context:
        alert_on_rejected_files(context)
    assert len(inbox.messages) == 1 and len(_log(settings)) == 1  # the same file: no alert

    deliver("idva_referrals/q4-bad.csv", csv_text(IDVA_HEADER, bad[:1]))
    ingest()
    with writer_holding(settings.warehouse):
        with dg.build_sensor_context() as context:
            busy = alert_on_rejected_files(context)
        assert "busy" in busy.skip_message and len(inbox.messages) == 1
    with dg.build_sensor_context() as context:
        alert_on_rejected_files(context)
    assert [m["Subject"] for m in inbox.messages][-1].endswith("idva_referrals/q4-bad.csv")


@dg.asset
def upstream_ok():
    return 1


@dg.asset(deps=[upstream_ok])
def broken_mart():
    raise RuntimeError("the build broke")


def test_failed_run_is_emailed_by_the_sensor_and_by_the_make_run_path(inbox, settings):
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([upstream_ok, broken_mart], instance=instance, raise_on_error=False)
    assert not result.success

    context = dg.build_run_status_sensor_context(
        sensor_name="alert_on_run_failure",
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=result.get_run_failure_event(),
    ).for_run_failure()
    alert_on_run_failure(context)
    assert len(inbox.messages) == 1
    mail = inbox.messages[0]
    assert mail["Subject"] == f"[CSP warehouse] run of {result.dagster_run.job_name} failed"
    body = mail.get_payload(decode=True).decode()
    assert f"run {result.run_id}" in body and "Failed steps: broken_mart" in body

    lines = alert_run_result(result, settings.warehouse)  # make run's path
    assert [line["kind"] for line in lines] == ["run_failed"]
    assert len(inbox.messages) == 2
    assert [line["kind"] for line in _log(settings)] == ["run_failed", "run_failed"]


@dg.asset
def checked_mart():
    return 1


@dg.asset_check(asset=checked_mart, blocking=True)
def grain_holds():
    return dg.AssetCheckResult(passed=False, description="2 duplicate rows")


@dg.asset_check(asset=checked_mart)
def totals_add_up():
    return dg.AssetCheckResult(
        passed=False, severity=dg.AssetCheckSeverity.ERROR, description="Q4 total differs"
    )


def test_failed_blocking_check_fails_the_run_and_is_named_in_its_alert(inbox, settings):
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([checked_mart, grain_holds], instance=instance, raise_on_error=False)
    assert not result.success  # Dagster fails a run whose blocking check fails
    context = dg.build_run_status_sensor_context(
        sensor_name="alert_on_run_failure",
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=result.get_run_failure_event(),
    ).for_run_failure()
    alert_on_run_failure(context)
    [mail] = inbox.messages
    assert "checked_mart grain_holds: 2 duplicate rows" in mail.get_payload(decode=True).decode()
    [line] = _log(settings)
    assert line["failed_checks"] == ["checked_mart grain_holds: 2 duplicate rows"]


def test_failed_error_check_in_a_successful_run_alerts(inbox, settings):
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([checked_mart, totals_add_up], instance=instance, raise_on_error=False)
    assert result.success
    context = dg.build_run_status_sensor_context(
        sensor_name="alert_on_failed_checks",
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=result.get_run_success_event(),
    )
    alert_on_failed_checks(context)
    [mail] = inbox.messages
    assert mail["Subject"].endswith("1 check(s) failed in __ephemeral_asset_job__")
    [line] = _log(settings)
    assert line["kind"] == "check_failed"
    assert line["failed_checks"] == ["checked_mart totals_add_up: Q4 total differs"]


def test_without_smtp_only_the_log_is_written(settings, monkeypatch, tmp_path):
    monkeypatch.delenv("CSP_SMTP_HOST", raising=False)
    log = tmp_path / "elsewhere" / "alerts.jsonl"
    monkeypatch.setenv("CSP_ALERTS_LOG", str(log))
    result = dg.materialize([upstream_ok, broken_mart], raise_on_error=False)
    [line] = alert_run_result(result, settings.warehouse)
    assert line["email"] == "not configured"
    assert json.loads(log.read_text())["run_id"] == result.run_id


def test_test_alert_command_reaches_the_server(inbox, settings):
    from orchestration.alerts import main

    assert main(["--test"]) == 0
    [mail] = inbox.messages
    assert mail["Subject"] == "[CSP warehouse] test alert"
    assert _log(settings)[0]["email"] == "sent to team@csp.example, duty@csp.example"

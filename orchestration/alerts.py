"""Alerts: a failed run, a failed blocking check or a rejected file tells someone.

Every alert appends one JSON line to the alerts log (``CSP_ALERTS_LOG``, default
``alerts.jsonl`` beside the warehouse) and, when ``CSP_SMTP_HOST`` is set, is e-mailed
with the standard library's ``smtplib`` (``CSP_SMTP_PORT``, ``CSP_SMTP_FROM``,
``CSP_SMTP_TO`` (comma-separated), optional ``CSP_SMTP_USER``/``CSP_SMTP_PASSWORD`` and
``CSP_SMTP_STARTTLS``).  The JSON line says whether the e-mail went.

Where alerts come from:

- runs the daemon launches (UI, schedule, landing sensor): the Dagster sensors
  ``alert_on_run_failure`` (``@run_failure_sensor``: the failed steps and failed
  blocking checks) and ``alert_on_failed_checks`` (``@run_status_sensor`` on success:
  failed blocking checks of a run that still succeeded);
- rejected files: the sensor ``alert_on_rejected_files`` reads ``raw.load_log``
  read-only (skipping a tick while a writer holds the file) and alerts each rejected
  file (name and sha256) once, however many ledger rows or rebuilt warehouses record it;
  the alerts log is the record of what was alerted;
- ``make run`` (in-process, no daemon): ``alert_run_result(result)`` at the end of
  ``orchestration/run.py`` does the same for its run.

Alerts carry only what is safe to send: job, run id, step and check names, check
descriptions and the ledger's error text (which names file, row and column, never a
personal reference); no values from the data are added here.
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
import ssl
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import dagster as dg
import duckdb

from ingest.config import Settings

log = logging.getLogger("csp.alerts")

ALERTS_FILE = "alerts.jsonl"
SUBJECT_PREFIX = "[CSP warehouse]"
TRUE = ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Alert:
    kind: str  # run_failed | check_failed | rejected_file
    subject: str
    text: str
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    user: str | None = None
    password: str | None = None
    starttls: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmtpConfig | None:
        env = os.environ if environ is None else environ
        host = env.get("CSP_SMTP_HOST")
        if not host:
            return None
        recipients = tuple(a.strip() for a in env.get("CSP_SMTP_TO", "").split(",") if a.strip())
        if not recipients or not env.get("CSP_SMTP_FROM"):
            raise ValueError("CSP_SMTP_HOST is set: set CSP_SMTP_FROM and CSP_SMTP_TO too")
        return cls(
            host=host,
            port=int(env.get("CSP_SMTP_PORT") or 25),
            sender=env["CSP_SMTP_FROM"],
            recipients=recipients,
            user=env.get("CSP_SMTP_USER") or None,
            password=env.get("CSP_SMTP_PASSWORD") or None,
            starttls=env.get("CSP_SMTP_STARTTLS", "").lower() in TRUE,
        )


def alerts_log_path(warehouse: Path | str, environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    configured = env.get("CSP_ALERTS_LOG")
    return Path(configured) if configured else Path(warehouse).resolve().parent / ALERTS_FILE


def send_email(config: SmtpConfig, alert: Alert) -> None:
    message = EmailMessage()
    message["Subject"] = f"{SUBJECT_PREFIX} {alert.subject}"
    message["From"] = config.sender
    message["To"] = ", ".join(config.recipients)
    message.set_content(alert.text)
    with smtplib.SMTP(config.host, config.port, timeout=30) as smtp:
        if config.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if config.user:
            smtp.login(config.user, config.password or "")
        smtp.send_message(message)


def emit(alerts: Iterable[Alert], warehouse: Path | str) -> list[dict]:
    """E-mail each alert (when SMTP is configured) and append its JSON line."""
    path = alerts_log_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for alert in alerts:
        try:
            config = SmtpConfig.from_env()
            if config is None:
                email = "not configured"
            else:
                send_email(config, alert)
                email = "sent to " + ", ".join(config.recipients)
        except (OSError, smtplib.SMTPException, ValueError) as error:
            email = f"failed: {type(error).__name__}: {error}"
            log.error("alert e-mail failed (%s): %s", alert.subject, email)
        line = {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "kind": alert.kind,
            "subject": alert.subject,
            "text": alert.text,
            **alert.details,
            "email": email,
        }
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(line, default=str) + "\n")
        log.warning("ALERT %s: %s", alert.kind, alert.subject)
        written.append(line)
    return written


# -- what to alert --------------------------------------------------------------------


def _failed_blocking(checks: Iterable[dg.AssetCheckEvaluation]) -> list[str]:
    return [
        f"{c.asset_key.to_user_string()} {c.check_name}: {c.description or 'failed'}"
        for c in checks
        if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR
    ]


def run_alerts(
    job_name: str,
    run_id: str,
    success: bool,
    failed_steps: Sequence[str],
    checks: Iterable[dg.AssetCheckEvaluation],
) -> list[Alert]:
    """A run_failed alert for a failed run, else a check_failed alert when a blocking
    check failed; nothing for a clean run."""
    failed_checks = _failed_blocking(checks)
    details = {"job": job_name, "run_id": run_id, "failed_checks": failed_checks}
    lines = [f"Job {job_name}, run {run_id}."]
    if failed_checks:
        lines += [
            "",
            "Failed checks (blocking or severity ERROR):",
            *(f"- {c}" for c in failed_checks),
        ]
    if not success:
        lines[1:1] = ["", "Failed steps: " + (", ".join(failed_steps) or "(none: see the run)")]
        lines += ["", "The run's logs are in the Dagster UI (Runs) or the console of make run."]
        details["failed_steps"] = list(failed_steps)
        return [Alert("run_failed", f"run of {job_name} failed", "\n".join(lines), details)]
    if failed_checks:
        subject = f"{len(failed_checks)} check(s) failed in {job_name}"
        return [Alert("check_failed", subject, "\n".join(lines), details)]
    return []


def _alerted_rejections(path: Path) -> set[tuple[str, str]]:
    if not path.exists():
        return set()
    seen = set()
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if row.get("kind") == "rejected_file":
                seen.add((row.get("file_name"), row.get("sha256")))
    return seen


def rejected_file_alerts(warehouse: Path | str) -> list[Alert]:
    """One alert per rejected file (name and sha256) not yet in the alerts log.  Opens the warehouse
    read-only; raises ``duckdb.Error`` while a writer holds it."""
    if not Path(warehouse).exists():
        return []
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select load_id, feed, file_name, sha256, received_at, error from raw.load_log"
            " where status = 'rejected' order by load_id"
        ).fetchall()
    except duckdb.CatalogException:  # no ledger yet
        rows = []
    finally:
        con.close()
    seen = _alerted_rejections(alerts_log_path(warehouse))
    alerts = []
    for load_id, feed, file_name, sha256, received_at, error in rows:
        # once per file (name and bytes), not per ledger row: a warehouse rebuilt from
        # the landing folder (re-keying, recovery) records the same file under a new id
        if (file_name, sha256) in seen:
            continue
        seen.add((file_name, sha256))
        text = (
            f"The file {file_name} (feed {feed or 'none'}) was rejected and nothing of it"
            f" was loaded.\n\n{error}\n\nAsk the agency for a corrected file and drop it in"
            " the landing folder; the next run loads it."
        )
        details = {
            "load_id": load_id,
            "sha256": sha256,
            "feed": feed,
            "file_name": file_name,
            "received_at": received_at,
            "error": error,
        }
        alerts.append(Alert("rejected_file", f"rejected file {file_name}", text, details))
    return alerts


def alert_run_result(result, warehouse: Path | str | None = None) -> list[dict]:
    """The in-process path (``make run``): alerts for one ``execute_in_process`` result
    and for rejected files not yet alerted."""
    warehouse = warehouse or Settings.from_env().warehouse
    steps = [e.step_key for e in result.get_step_failure_events() if e.step_key]
    alerts = run_alerts(
        result.dagster_run.job_name,
        result.run_id,
        result.success,
        steps,
        result.get_asset_check_evaluations(),
    )
    try:
        alerts += rejected_file_alerts(warehouse)
    except duckdb.Error as error:
        log.error("rejected files not checked for alerts (warehouse busy: %s)", error)
    return emit(alerts, warehouse)


# -- Dagster sensors (the daemon's path) ------------------------------------------------


def _run_events(instance: dg.DagsterInstance, run_id: str):
    steps = [
        e.dagster_event.step_key
        for e in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
        if e.dagster_event and e.dagster_event.step_key
    ]
    checks = [
        e.dagster_event.asset_check_evaluation_data
        for e in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        if e.dagster_event
    ]
    return steps, checks


@dg.run_failure_sensor(
    name="alert_on_run_failure",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Alerts (alerts log, e-mail when CSP_SMTP_HOST is set) for every failed run.",
)
def alert_on_run_failure(context: dg.RunFailureSensorContext):
    run = context.dagster_run
    steps, checks = _run_events(context.instance, run.run_id)
    emit(run_alerts(run.job_name, run.run_id, False, steps, checks), Settings.from_env().warehouse)


@dg.run_status_sensor(
    name="alert_on_failed_checks",
    run_status=dg.DagsterRunStatus.SUCCESS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Alerts when a run succeeded but one of its blocking checks failed.",
)
def alert_on_failed_checks(context: dg.RunStatusSensorContext):
    run = context.dagster_run
    steps, checks = _run_events(context.instance, run.run_id)
    emit(run_alerts(run.job_name, run.run_id, True, steps, checks), Settings.from_env().warehouse)


@dg.sensor(
    name="alert_on_rejected_files",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Alerts once for every rejected file in the ledger (raw.load_log, read-only).",
)
def alert_on_rejected_files(context: dg.SensorEvaluationContext):
    warehouse = Settings.from_env().warehouse
    try:
        alerts = rejected_file_alerts(warehouse)
    except duckdb.Error as error:
        return dg.SkipReason(f"warehouse {warehouse} is busy ({error}); will look again")
    sent = emit(alerts, warehouse)
    return dg.SkipReason(f"{len(sent)} rejected file(s) alerted")


alert_sensors = [alert_on_run_failure, alert_on_failed_checks, alert_on_rejected_files]


def main(argv: list[str] | None = None) -> int:
    """``python -m orchestration.alerts --test``: send one test alert through the
    configured sinks (alerts log, and e-mail when CSP_SMTP_HOST is set)."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--test", action="store_true", required=True)
    parser.parse_args(argv)
    warehouse = Settings.from_env().warehouse
    text = "A test alert from the CSP warehouse: alerts reach you."
    [line] = emit([Alert("test", "test alert", text)], warehouse)
    print(f"alert written to {alerts_log_path(warehouse)}; e-mail: {line['email']}")
    return 0 if not line["email"].startswith("failed") else 1


if __name__ == "__main__":
    raise SystemExit(main())

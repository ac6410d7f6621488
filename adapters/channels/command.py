"""Deliver by running a program, one argv element per template entry, never through a shell."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field

from adapters.channels.kind import ChannelKind, Context, Section
from domain.notifications import DeliveryError, Notification

UPSTREAM_ARGV = ["python3", "scripts/fixed_agent_communication.py", "--agent={agent}", "--message={message}"]
"""The upstream hive's messaging script. Each value is joined to its option (`--agent=...`), so that an id such as
`--help` stays the option's value and never becomes an option of its own."""
STDERR_LIMIT = 500


class _Fields(dict[str, str]):
    """Template values; an unknown `{name}` stays as written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fields(notification: Notification) -> dict[str, str]:
    """The values a template may name."""
    return _Fields(
        agent=notification.recipient,
        message=notification.message,
        priority=notification.priority,
        kind=notification.kind,
        subject=notification.subject,
        key=notification.key,
        hive=notification.hive or "default",
    )


def render(template: str, values: dict[str, str]) -> str:
    """`template` with its `{name}` fields filled; values are inserted verbatim, never re-formatted."""
    return template.format_map(values)


def check_template(template: str) -> None:
    """Raise ValueError if `template` cannot be rendered (e.g. a lone `{` or a positional `{0}`)."""
    try:
        render(template, _Fields(agent="", message="", priority="", kind="", subject="", key="", hive=""))
    except (ValueError, IndexError, KeyError, AttributeError) as error:
        raise ValueError(f"bad template {template!r}: {error}") from error


def trimmed(output: bytes, limit: int = STDERR_LIMIT) -> str:
    """Decoded, stripped program output, cut to its last `limit` characters."""
    text = output.decode("utf-8", errors="replace").strip()
    return text if len(text) <= limit else "…" + text[-limit:]


def run(argv: list[str], timeout: float, cwd: Path | None = None) -> None:
    """Run `argv` without a shell; raise DeliveryError unless it exits 0."""
    program = argv[0] if argv else "(empty argv)"
    try:
        result = subprocess.run(argv, shell=False, timeout=timeout, capture_output=True, cwd=cwd, check=False)
    except subprocess.TimeoutExpired as error:
        raise DeliveryError(f"{program} did not finish within {timeout:g} s", retryable=True) from error
    except FileNotFoundError as error:
        where = f" (working directory {cwd})" if cwd is not None else ""
        raise DeliveryError(f"program not found: {error.filename or program}{where}", retryable=False) from error
    except PermissionError as error:
        raise DeliveryError(f"program not executable: {error.filename or program}", retryable=False) from error
    except ValueError as error:  # e.g. a NUL byte in an argument: no retry can fix it
        raise DeliveryError(f"cannot run {program}: {error}", retryable=False) from error
    except OSError as error:
        raise DeliveryError(f"cannot run {program}: {error}", retryable=True) from error
    if result.returncode != 0:
        stderr = trimmed(result.stderr)
        detail = f": {stderr}" if stderr else ""
        raise DeliveryError(f"{program} exited with code {result.returncode}{detail}", retryable=True)


class CommandChannel:
    """Runs a program per notification; `argv` entries may name {agent} {message} {priority} {kind} {subject} {key}
    {hive}."""

    name = "command"

    def __init__(self, argv: list[str], timeout: float = 10.0, cwd: Path | None = None) -> None:
        if not argv:
            raise ValueError("argv must name a program")
        for template in argv:
            check_template(template)
        self.argv = list(argv)
        self.timeout = timeout
        self.cwd = cwd

    def deliver(self, notification: Notification) -> None:
        """Run the program with the filled-in argv; it must exit 0 within the timeout."""
        values = fields(notification)
        run([render(template, values) for template in self.argv], self.timeout, self.cwd)


def _template(value: str) -> str:
    check_template(value)
    return value


Template = Annotated[str, AfterValidator(_template)]
"""A checked template (a setting that cannot be rendered is refused when the configuration is read)."""


class CommandSection(Section):
    """Run a program per message, never through a shell."""

    argv: list[Template] = Field(default_factory=lambda: list(UPSTREAM_ARGV), min_length=1)
    timeout: float = Field(default=10.0, gt=0)
    cwd: Path | None = None


def _build(section: CommandSection, context: Context) -> CommandChannel:
    return CommandChannel(section.argv, timeout=section.timeout, cwd=section.cwd)


KIND = ChannelKind("command", CommandSection, _build)

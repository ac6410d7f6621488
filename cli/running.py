"""What `coordinator run` and `coordinator tick` do once their options are parsed: ingest, tick, deliver, report."""

from __future__ import annotations

import signal
import sys
import threading
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from adapters.alert_file import read_alerts
from adapters.delivery import Dispatcher
from adapters.http.address import ListenError, is_loopback, parse_listen
from cli.bootstrap import Services
from cli.options import EXIT_BUSY, EXIT_USAGE, fail, writing
from cli.render import level_text, print_json, say, show, table, timestamp
from cli.service import Service
from cli.service_log import Log, ServiceLog
from cli.settings import Settings
from domain.notifications import DeliveryOutcome, Notification
from projections import queries

if TYPE_CHECKING:
    from adapters.home_lock import HomeLock
    from adapters.http.deps import Side
    from adapters.http.server import HttpServer
    from adapters.postgres_lease import WriterLease

TABLE_ROWS = 40
FOLLOW_FROM_BYTES = 2_000_000
"""An alerts file at least this big (some 10,000 alerts or more) is read while a second process keeps the read models
up to date (`ProjectionRunner.follow_elsewhere`); a smaller one is done before such a process would have started."""


def once(settings: Settings, path: Path, moment: datetime, test_mode: bool, json_output: bool) -> int:
    """`run --once`: ingest the file, evaluate time rules, deliver, bring the read models up to date and report;
    returns how many items were quarantined."""
    with writing(settings, "run --once") as built:
        newest = _newest_notification(built)
        # With --json, standard output carries the JSON alone: what test mode prints goes to standard error.
        observer = partial(_print_delivery, err=json_output) if test_mode else None
        cycle = built.cycle(built.dispatcher(test_mode, observer, sys.stderr if json_output else None))
        decided = partial(_print_decisions, built, newest, err=json_output) if test_mode else None
        if _size(path) >= FOLLOW_FROM_BYTES:
            built.views.follow_elsewhere()
        done = cycle.once(read_alerts(path), moment, decided)
        report, delivery = done.ingested, done.delivered
        if json_output:
            print_json(report.as_dict())
        else:
            typer.echo(
                f"{path}: {report.processed} processed, {report.duplicates} duplicates, "
                f"{report.quarantined} quarantined{' (see `coordinator quarantine`)' if report.quarantined else ''}, "
                f"{report.observed} observed "
                f"(as of {timestamp(moment)})"
            )
            _print_escalations(built)
            say(f"notifications: {delivery.delivered} delivered, {delivery.failed} failed (will retry), "
                       f"{delivery.dead} dead; see `coordinator notifications`")
    return report.quarantined


def _size(path: Path) -> int:
    """The file's size in bytes (0 when it cannot be told: the reader then says why)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def tick(settings: Settings, moment: datetime, json_output: bool) -> None:
    """`tick`: record the crossings time alone caused by `moment`."""
    with writing(settings, "tick") as built:
        done = built.cycle(built.dispatcher()).tick(moment)
        moved, delivery = done.moved, done.delivered
        if json_output:
            print_json({"as_of": timestamp(moment), "changed": moved, "delivered": delivery.delivered,
                        "failed": delivery.failed, "dead": delivery.dead})
        else:
            say(f"{moved} task(s)/agent(s) changed level as of {timestamp(moment)}; notifications: "
                f"{delivery.delivered} delivered, {delivery.failed} failed (will retry), {delivery.dead} dead")


def follow(settings: Settings, path: Path, test_mode: bool, log: Log | None = None) -> None:
    """Run the coordinator as a service on `path` until stopped, serving its HTTP API unless it is turned off; on a
    store with hives, writing those it can take (`path` is the default hive's alerts file)."""
    http = settings.http
    host, port = "", 0
    if http.enabled:
        host, port = _listen(http.listen)
        if not is_loopback(host) and http.token is None:
            raise fail(f"refusing to serve the HTTP API on {host}, which other machines can reach, without a token: "
                       "set [http] token (or COORDINATOR_HTTP__TOKEN), or listen on 127.0.0.1", EXIT_USAGE)
    log = log or ServiceLog()
    if settings.hives and "hive" not in settings.model_fields_set:  # with --hive NAME, that hive alone
        from cli.hives import share

        share(settings, path, test_mode, log, (host, port) if http.enabled else None)
        return
    lease = lock = server = None
    stopping = threading.Event()
    """Set by SIGTERM or SIGINT before the service handles them itself (while standing by, and starting)."""
    if settings.store is not None:
        lock = home_lock(settings)  # held while standing by: this home has its one coordinator
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stopping.set())
        try:
            if http.enabled:  # a standby answers queries over HTTP, and refuses commands, while it waits
                server = _serve_standby(settings, host, port, log)
            lock.announce(standby=True, http=None if server is None else server.address)
            lease = _standby(settings.store, log, stopping)
        except BaseException:
            if server is not None:
                server.stop()
            lock.release()
            raise
        if lease is None:
            if server is not None:
                server.stop()
            lock.release()
            return  # stopped while waiting to take over
        lock.announce(standby=False)
    try:
        with writing(settings, "run", lease, lock) as built:
            service, dispatcher = serving(built, path, test_mode, log)
            if server is not None:
                take_over_api(server.app.state.hives[built.settings.hive], built, service, dispatcher)
            elif http.enabled:
                server = _serve(built, service, dispatcher, host, port, log)
            service.handle_signals()
            if stopping.is_set():  # asked to stop while taking over: it stops after its first pass
                service.stop.set()
            held = built.lock
            assert held is not None, "the service holds the home's lock"
            address = None if server is None else server.address
            try:
                service.run(ready=lambda: held.announce(http=address, ready=True))
            finally:
                if server is not None:
                    server.stop()
    finally:
        if lock is not None:
            lock.release()
    if service.lease_lost:
        raise fail("lost the writer lease of the store (its connection ended); another coordinator may write now",
                   EXIT_BUSY)


def serving(built: Services, path: Path, test_mode: bool, log: Log) -> tuple[Service, Dispatcher]:
    """The service following `path` for `built`, and the dispatcher it delivers through (logging dead letters;
    in test mode printing every decision and delivery)."""

    def observe(notification: Notification, outcome: DeliveryOutcome) -> None:
        if test_mode:
            _print_delivery(notification, outcome)
        if outcome.dead:
            log(f"dead letter {notification.key} to {notification.recipient} via {outcome.channel} after "
                f"{outcome.attempt} attempt(s): {outcome.error} (see `coordinator notifications --status dead`)",
                event="dead_letter", key=notification.key, recipient=notification.recipient,
                channel=outcome.channel, attempts=outcome.attempt, error=outcome.error)

    dispatcher = built.dispatcher(test_mode, observe)
    seen = [_newest_notification(built)]

    def print_decisions() -> None:
        _print_decisions(built, seen[0])
        seen[0] = _newest_notification(built)

    return Service(built, path.absolute(), dispatcher, log, print_decisions if test_mode else None), dispatcher


def home_lock(settings: Settings) -> HomeLock:
    """The home's lock for `run` (exit 3 naming the holder when another process has it)."""
    from adapters.home_lock import HomeLock, HomeLocked
    from cli.storage import guarded

    try:
        with guarded(settings.home):  # a home that cannot be made or written is said plainly
            return HomeLock(settings.home, "run").acquire()
    except HomeLocked as error:
        raise fail(str(error), EXIT_BUSY) from None


def _standby(store: str, log: Log, stop: threading.Event) -> WriterLease | None:
    """Wait as a standby until this coordinator holds the store's writer lease (None when `stop` is set first)."""
    from adapters.postgres_lease import WriterLease, describe
    from adapters.store_url import redacted

    where = redacted(store)

    def waiting(holder: dict[str, Any] | None, error: str | None) -> None:
        if error is not None:
            log(f"standby: cannot reach {where} ({error}); trying again", event="standby", error=error)
        else:
            log(f"standby: {describe(holder)} writes to {where}; taking over when it stops", event="standby",
                holder=holder)

    lease = WriterLease(store, "run")
    if not lease.wait(stop, waiting):
        log("stopped", event="stopped")
        return None
    log(f"writing to {where} (holding its writer lease)", event="writer", session=lease.session)
    return lease


def _listen(listen: str) -> tuple[str, int]:
    try:
        return parse_listen(listen)
    except ListenError as error:
        raise fail(f"--http / [http] listen: {error}", EXIT_USAGE) from None


def _serve(built: Services, service: Service, dispatcher: Dispatcher, host: str, port: int, log: Log) -> HttpServer:
    """Bind the API's address (exit 2 naming it when taken) and start serving it."""
    from cli.live import WriterCommands
    from cli.queries import HomeQueries

    commands = WriterCommands(service.mailbox, built, service.cycle, dispatcher)
    return serve_http(built.settings, HomeQueries(built.settings.home, fresh=False), commands, host, port, log,
                      built.clock)


def _serve_standby(settings: Settings, host: str, port: int, log: Log) -> HttpServer:
    """The API of a standby: queries answered from the read models (brought up to date from the store
    first), commands refused with 503 naming who writes."""
    from adapters.clock import clock_from_environment

    side = standby_side(settings)
    return serve_http(settings, side.queries, side.commands, host, port, log, clock_from_environment())


def standby_side(settings: Settings) -> Side:
    """A hive's side of the API while another coordinator writes it: queries answered from its read
    models (brought up to date from the store first), commands refused with 503 naming who writes."""
    from adapters.http.deps import Side
    from cli.live import StandbyCommands
    from cli.queries import HomeQueries

    def writer() -> str | None:  # one connection asks the server who holds the lease
        from adapters.postgres_lease import WriterLease, describe

        assert settings.store is not None, "only a PostgreSQL store has standbys"
        try:
            holder = WriterLease(settings.store, "run").holder()
        except Exception:  # the store out of reach: the refusal still says why it refuses
            return None
        return None if holder is None else describe(holder)

    return Side(HomeQueries(settings.home, fresh=True), StandbyCommands(writer))


def take_over_api(side: Side, built: Services, service: Service, dispatcher: Dispatcher) -> None:
    """Turn a standby's side of the API into the writer's: commands go to this service, queries read its read
    models as the service keeps them."""
    from cli.live import WriterCommands
    from cli.queries import HomeQueries

    side.queries = HomeQueries(built.settings.home, fresh=False)
    side.commands = WriterCommands(service.mailbox, built, service.cycle, dispatcher)


def serve_http(
    settings: Settings, queries: Any, commands: Any, host: str, port: int, log: Log, clock: Any,
) -> HttpServer:
    """Bind the API's address (exit 2 naming it when taken) and serve the settings' hive's `queries` and
    `commands` there (the others a coordinator sharing hives serves are added to it)."""
    from adapters.http.app import create_app
    from adapters.http.auth import Access
    from adapters.http.server import HttpServer, bind

    try:
        sock = bind(host, port)
    except ListenError as error:
        raise fail(f"{error}; choose another address with --http HOST:PORT or [http] listen "
                   "(or --no-http)", EXIT_USAGE) from None
    access = Access(settings.http.token, settings.http.protect_reads)
    app = create_app(queries, commands, settings.home, access, settings.http.max_body, clock, settings.hive,
                     hosts=(host,))  # requests may name the host it was told to listen on
    server = HttpServer(app, sock)
    server.start()
    log(f"serving the HTTP API at {server.address}", event="serving", http=server.address)
    return server


def _newest_notification(built: Services) -> int:
    rows = built.ledger.notifications(limit=1)
    return int(rows[0]["id"]) if rows else 0


def _print_decisions(built: Services, after: int, err: bool = False) -> None:
    for row in reversed(built.ledger.notifications(after=after)):
        say(f"decided  {row['key']} [{row['priority']}] {row['kind']} -> {row['recipient']}: {row['message']}", err)


def _print_delivery(notification: Notification, outcome: DeliveryOutcome, err: bool = False) -> None:
    result = "ok" if outcome.error is None else f"{outcome.status}: {outcome.error}"
    say(f"delivery {notification.key} via {outcome.channel} (attempt {outcome.attempt}): {result}", err)


def _print_escalations(built: Services) -> None:
    rows = queries.tasks(built.views.db)
    if not rows:
        say("no tasks yet: no alert has named one (see `coordinator quarantine` for what was refused)")
        return
    escalated = [row for row in rows if row["level"] != "GREEN"]
    shown = escalated[:TABLE_ROWS]
    show(
        table(
            f"Escalations: {len(escalated)} of {len(rows)} task(s) above GREEN",
            ["task", "agent", "level", "status", "deadline"],
            [(r["task_id"], r["agent_id"], level_text(r["level"], r["emergency"]), r["status"], r["deadline"])
             for r in shown],
        )
    )
    if len(escalated) > len(shown):
        say(f"... and {len(escalated) - len(shown)} more: coordinator task list")

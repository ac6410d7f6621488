"""Settings: defaults < `<home>/coordinator.toml` < `COORDINATOR_*` environment variables < command-line options."""

from __future__ import annotations

import os
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from adapters import home_files, store_url
from adapters.channels import file as file_channel
from adapters.channels.kind import ChannelKind, S
from adapters.channels.registry import KINDS
from adapters.http.address import parse_listen
from adapters.input_limits import MAX_DOCUMENT_BYTES, MAX_LINE_BYTES, Limits
from adapters.mappings import MappingError, Mappings, Rule, parse_path, parse_rule
from adapters.timeparse import parse_duration

DEFAULT_ALERTS_FILE = Path("coordination_alerts.json")
CONFIG_FILE_NAME = home_files.CONFIG_FILE
DEFAULT_HOME = home_files.DEFAULT_HOME


def _duration(value: Any) -> Any:
    return value if isinstance(value, timedelta) else parse_duration(value)


Duration = Annotated[timedelta, BeforeValidator(_duration)]

SHORTEST_REPEAT = timedelta(minutes=1)
"""The shortest `repeat_interval`: a PM reminded of the same crisis more often is flooded, not informed."""
SHORTEST_RETRY = timedelta(seconds=1)
"""The shortest `retry_base_delay` and `retry_max_delay`: a failing channel is not retried in a tight loop."""


def at_least(floor: timedelta, shown: str, why: str) -> AfterValidator:
    """A check that a duration is `floor` or longer (`shown` as people write it), saying `why` when it is not."""

    def check(value: timedelta) -> timedelta:
        if value < floor:
            raise ValueError(f"must be at least {shown} ({why}), not {value.total_seconds():g}s")
        return value

    return AfterValidator(check)


RepeatInterval = Annotated[Duration, at_least(SHORTEST_REPEAT, "1 minute", "a shorter one floods the PM with "
                                                                           "reminders")]
RetryDelay = Annotated[Duration, at_least(SHORTEST_RETRY, "1s", "a shorter one retries a failing channel in a "
                                                                "tight loop")]


def _store(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    return store_url.check(value.strip())


def _listen(value: str) -> str:
    parse_listen(value)
    return value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


if TYPE_CHECKING:
    ChannelsConfig = BaseModel
else:
    ChannelsConfig = create_model(
        "ChannelsConfig",
        __base__=_Section,
        __doc__="The channels notifications can go through, one section per kind (see adapters.channels.registry).",
        **{name: ((kind.section, Field(default_factory=kind.section)) if kind.always else (kind.section | None, None))
           for name, kind in KINDS.items()},
    )


class RouteConfig(_Section):
    """Notifications to `recipient` (a glob) at one of `priority` (any when empty) go through `channel`."""

    channel: str
    recipient: str = "*"
    priority: list[str] = Field(default_factory=list)


class MappingConfig(_Section):
    """A mapping rule: a record whose fields equal `when`'s becomes an alert of `type` with `fields` (templates)."""

    name: str | None = Field(default=None, min_length=1)
    when: dict[str, Any]
    type: str
    fields: dict[str, Any] = Field(default_factory=dict)

    def rule(self, index: int) -> Rule:
        """The checked rule (MappingError saying what is wrong with it)."""
        return parse_rule(index, self.name, self.when, self.type, self.fields)


def _paths(value: list[str]) -> list[str]:
    for text in value:
        parse_path(text)
    return value


FieldPaths = Annotated[list[str], AfterValidator(_paths)]


class ObservationsConfig(_Section):
    """Which fields of an observation name the task and the agent it is about (dotted paths, the first found)."""

    task_fields: FieldPaths = Field(default_factory=lambda: ["task_id"])
    agent_fields: FieldPaths = Field(default_factory=lambda: ["agent_id"])


class MappingSection(BaseModel):
    """`[[mappings]]` and `[observations]` on their own (a file of rules to try; other keys are ignored)."""

    mappings: list[MappingConfig] = Field(default_factory=list)
    observations: ObservationsConfig = Field(default_factory=ObservationsConfig)

    @model_validator(mode="after")
    def _rules_are_usable(self) -> MappingSection:
        checked_rules(self.mappings)
        return self

    @property
    def mapping_rules(self) -> Mappings:
        """The rules and observation fields, checked, as the readers apply them."""
        return mappings_of(self.mappings, self.observations)


def checked_rules(configs: list[MappingConfig]) -> tuple[Rule, ...]:
    """Every rule, checked; ValueError naming the first bad one (`mappings[1] (its name): what is wrong`)."""
    rules: list[Rule] = []
    for index, config in enumerate(configs):
        try:
            rules.append(config.rule(index))
        except MappingError as error:
            label = f"mappings[{index}]" + (f" ({config.name})" if config.name else "")
            raise ValueError(f"{label}: {error}") from None
    return tuple(rules)


def mappings_of(configs: list[MappingConfig], observations: ObservationsConfig) -> Mappings:
    """The mappings the readers apply for these settings."""
    return Mappings(checked_rules(configs), tuple(map(parse_path, observations.task_fields)),
                    tuple(map(parse_path, observations.agent_fields)))


class HttpConfig(_Section):
    """The HTTP API the running service serves."""

    listen: Annotated[str, AfterValidator(_listen)] = "127.0.0.1:8686"
    """HOST:PORT to listen on (port 0 picks a free one)."""
    enabled: bool = True
    token: str | None = Field(default=None, min_length=16)
    """Bearer token every write (and, with `protect_reads`, every read) must carry."""
    protect_reads: bool = False
    max_body: int = Field(default=10 * 1024 * 1024, ge=1024)
    """Largest request body accepted, in bytes."""


HiveName = Annotated[str, Field(pattern=home_files.HIVE_NAME)]


class HiveConfig(_Section):
    """A hive besides the default one (`[hives.<name>]`): the alerts file its sources write."""

    alerts_file: Path


class Settings(BaseSettings):
    """Where the coordinator keeps its state, what it reads, and how it responds."""

    model_config = SettingsConfigDict(env_prefix="COORDINATOR_", extra="forbid", env_nested_delimiter="__")

    home: Path = DEFAULT_HOME
    store: Annotated[str | None, AfterValidator(_store)] = None
    """Where the events are kept: a PostgreSQL URL (`postgresql://user:password@host:port/database`), or None for
    the SQLite file in the home."""
    alerts_file: Path = DEFAULT_ALERTS_FILE
    hive: HiveName = home_files.DEFAULT_HIVE
    """The hive a command works on (`--hive`, `COORDINATOR_HIVE`): `default` is the home's own; another is one
    of `hives`, with its own alerts file, store schema and directory in the home."""
    hives: dict[HiveName, HiveConfig] = Field(default_factory=dict)
    """Hives besides the default one, shared out among the coordinators running on one PostgreSQL store."""
    max_hives_per_writer: int | None = Field(default=None, ge=1)
    """The most hives one `coordinator run` writes at once (None: every hive it can)."""
    batch_size: int = Field(default=2_000, ge=1)
    max_line_bytes: int = Field(default=MAX_LINE_BYTES, ge=1024)
    max_document_bytes: int = Field(default=MAX_DOCUMENT_BYTES, ge=1024)
    pm_agent: str = Field(default="pm-agent", min_length=1)
    repeat_interval: RepeatInterval = timedelta(minutes=15)
    """How often the PM is reminded of a crisis nobody has acknowledged (at least `SHORTEST_REPEAT`)."""
    auto_reassign: bool = True
    backup_pool: list[str] = Field(default_factory=list)
    max_attempts: int = Field(default=5, ge=1)
    retry_base_delay: RetryDelay = timedelta(seconds=2)
    retry_max_delay: RetryDelay = timedelta(minutes=5)
    """The longest wait between two attempts at a notification (both retry delays at least `SHORTEST_RETRY`)."""
    default_channel: str = "file"
    channels: ChannelsConfig = Field(default_factory=ChannelsConfig)
    routes: list[RouteConfig] = Field(default_factory=list)
    http: HttpConfig = Field(default_factory=HttpConfig)
    mappings: list[MappingConfig] = Field(default_factory=list)
    observations: ObservationsConfig = Field(default_factory=ObservationsConfig)

    @model_validator(mode="after")
    def _channels_exist(self) -> Settings:
        """`default_channel` and every route name a channel that exists (checked before anything is written)."""
        known = self.channel_names
        for key, name in [("default_channel", self.default_channel),
                          *((f"routes[{index}].channel", route.channel) for index, route in enumerate(self.routes))]:
            if name not in known:
                raise ValueError(f"{key}: {name!r} is not a configured channel (configured: {', '.join(known)}; "
                                 "add a [channels.<name>] section to use another)")
        return self

    @model_validator(mode="after")
    def _in_its_hive(self) -> Settings:
        """Hives need a PostgreSQL store; settings of a hive other than `default` are that hive's (see
        `for_hive`), whether it was named (`hive`) or the home is a hive's directory."""
        if self.hives and self.store is None:
            raise ValueError("hives: hives are shared out among coordinators on a PostgreSQL store: set `store`")
        if home_files.DEFAULT_HIVE in self.hives:
            raise ValueError("hives.default: the default hive is the home's own (its `alerts_file`); name the others")
        for name in self.hives:  # each hive's store can be named on this server
            store_url.for_hive(self.store or "", name)
        located = home_files.hive_of(self.home)
        if located is not None:
            base, name = located
            if self.hive not in (home_files.DEFAULT_HIVE, name):
                raise ValueError(f"hive: {self.home} is the directory of hive {name!r}, not {self.hive!r}")
            self.home, self.hive = base, name
        if self.hive != home_files.DEFAULT_HIVE:
            self._enter(self.hive)
        return self

    def _enter(self, hive: str) -> None:
        found = self.hives.get(hive)
        if found is None:
            known = ", ".join([home_files.DEFAULT_HIVE, *sorted(self.hives)])
            raise ValueError(f"hive: no hive {hive!r} is configured (known: {known}; add a [hives.{hive}] section)")
        assert self.store is not None, "hives have a store"
        self.hive = hive
        self.home = home_files.hive_home(self.home, hive)
        self.store = store_url.for_hive(self.store, hive)
        self.alerts_file = found.alerts_file

    @property
    def hive_names(self) -> list[str]:
        """Every hive: `default` first, then the configured ones."""
        return [home_files.DEFAULT_HIVE, *sorted(self.hives)]

    def for_hive(self, hive: str) -> Settings:
        """These settings for `hive` (one of `hive_names`), as `--hive NAME` would give them."""
        chosen = self.model_copy(deep=True)
        if hive != self.hive:
            assert self.hive == home_files.DEFAULT_HIVE, "a hive's settings are made from the home's own"
            chosen._enter(hive)
        return chosen

    @model_validator(mode="after")
    def _rules_are_usable(self) -> Settings:
        """Every mapping rule can be used (checked at start-up, naming the first that cannot)."""
        checked_rules(self.mappings)
        return self

    @property
    def mapping_rules(self) -> Mappings:
        """The mapping rules and observation fields, checked, as the readers apply them."""
        return mappings_of(self.mappings, self.observations)

    @property
    def channel_names(self) -> list[str]:
        """Every channel notifications can go through: `file` and `console`, and each configured one."""
        return sorted(self.sections())

    def sections(self) -> dict[str, Any]:
        """The section of every channel notifications can go through, by name (`file` and `console` always)."""
        found = {name: getattr(self.channels, name, None) for name in KINDS}
        return {name: section for name, section in found.items() if section is not None or KINDS[name].always}

    def channel(self, kind: ChannelKind[S]) -> S | None:
        """The `[channels.<name>]` section of `kind` (None when that channel is not configured)."""
        section = getattr(self.channels, kind.name, None)
        return None if section is None else kind.section.model_validate(section)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        home = None
        if isinstance(init_settings, InitSettingsSource):
            home = init_settings.init_kwargs.get("home")
        home = Path(home or os.environ.get("COORDINATOR_HOME") or DEFAULT_HOME)
        # a hive's directory is configured by its home's file
        toml = TomlConfigSettingsSource(settings_cls, toml_file=home_files.base_home(home) / CONFIG_FILE_NAME)
        return init_settings, env_settings, toml

    @property
    def limits(self) -> Limits:
        """How large a line (or document item) and a whole document of input may be."""
        return Limits(self.max_line_bytes, self.max_document_bytes)

    @property
    def config_path(self) -> Path:
        """The optional TOML configuration file (a hive's is its home's)."""
        return home_files.base_home(self.home) / CONFIG_FILE_NAME

    @property
    def on_postgres(self) -> bool:
        """Whether the events are kept on a PostgreSQL server (else in the home's SQLite file)."""
        return self.store is not None

    @property
    def event_store_path(self) -> Path:
        """The SQLite file holding events and the ledger."""
        return self.home / home_files.EVENTS_FILE

    @property
    def views_path(self) -> Path:
        """The SQLite file holding the read models."""
        return self.home / home_files.VIEWS_FILE

    @property
    def notifications_path(self) -> Path:
        """The file channel's JSON Lines file."""
        section = self.channel(file_channel.KIND)
        return (section or file_channel.FileSection()).resolved(self.home)


class ConfigError(ValueError):
    """The configuration is invalid; the message names the file and key."""


def load_settings(home: Path | None = None, **overrides: Any) -> Settings:
    """Settings for `home` (else `COORDINATOR_HOME` or ./.coordinator), raising `ConfigError` when invalid."""
    given: dict[str, Any] = {key: value for key, value in overrides.items() if value is not None}
    if home is not None:
        given["home"] = home
    home = Path(given.get("home") or os.environ.get("COORDINATOR_HOME") or DEFAULT_HOME)
    where = home_files.base_home(home) / CONFIG_FILE_NAME  # a hive's directory is configured by its home's file
    try:
        return Settings(**given)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{where}: not valid TOML: {error}") from None
    except ValidationError as error:
        raise ConfigError(f"invalid configuration ({where} or COORDINATOR_* variables): {problems(error)}") from None


def problems(error: ValidationError) -> str:
    """Each problem of a validation error, `key.path: what is wrong`, in one line."""
    return "; ".join(
        ": ".join(filter(None, (".".join(str(part) for part in issue["loc"]),
                                issue["msg"].removeprefix("Value error, "))))
        for issue in error.errors()
    )

"""Hives in the settings: each hive besides `default` has its alerts file, a schema of the store's server and a
directory of the home, and a command names the one it works on (`--hive`, `COORDINATOR_HIVE`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters import store_url
from cli.settings import ConfigError, load_settings
from tests.unit.settings_support import clean_environment as clean_environment  # pytest fixture, autouse
from tests.unit.settings_support import config_error, write_config

STORE = "postgresql://ops:secret@db.example/coordination"
HIVES = f"""
store = "{STORE}"
max_hives_per_writer = 2
alerts_file = "default.json"
[hives.north]
alerts_file = "north.json"
[hives.south]
alerts_file = "south.json"
"""


def test_a_home_with_hives_names_every_hive_default_first_and_works_on_the_default_one(tmp_path: Path) -> None:
    write_config(tmp_path, HIVES)
    settings = load_settings(tmp_path)

    assert settings.hive_names == ["default", "north", "south"]
    assert (settings.hive, settings.home, settings.store) == ("default", tmp_path, STORE)
    assert settings.alerts_file == Path("default.json")
    assert settings.max_hives_per_writer == 2


def test_a_hive_has_its_own_alerts_file_schema_and_directory_in_the_home(tmp_path: Path) -> None:
    write_config(tmp_path, HIVES)
    north = load_settings(tmp_path).for_hive("north")

    assert north.hive == "north"
    assert north.alerts_file == Path("north.json")
    assert north.home == tmp_path / "hives" / "north"
    assert store_url.schema_of(north.store or "") == "hive_north"
    assert store_url.connectable(north.store or "") == STORE
    assert north.config_path == tmp_path / "coordinator.toml"


def test_naming_a_hive_in_the_environment_gives_that_hives_settings_as_for_hive_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(tmp_path, HIVES)
    chosen = load_settings(tmp_path).for_hive("south")
    monkeypatch.setenv("COORDINATOR_HIVE", "south")
    named = load_settings(tmp_path)

    assert (named.hive, named.home, named.store, named.alerts_file) == (
        chosen.hive, chosen.home, chosen.store, chosen.alerts_file)


def test_a_hives_directory_given_as_the_home_is_that_hive_configured_by_its_homes_file(tmp_path: Path) -> None:
    write_config(tmp_path, HIVES)
    directory = load_settings(tmp_path).for_hive("north").home

    again = load_settings(directory)

    assert (again.hive, again.home, again.alerts_file) == ("north", directory, Path("north.json"))
    assert store_url.schema_of(again.store or "") == "hive_north"


def test_a_hive_not_configured_is_refused_naming_the_known_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(tmp_path, HIVES)
    monkeypatch.setenv("COORDINATOR_HIVE", "east")

    with pytest.raises(ConfigError) as raised:
        load_settings(tmp_path)

    assert "no hive 'east' is configured (known: default, north, south; add a [hives.east] section)" in str(
        raised.value)


def test_hives_without_a_postgresql_store_are_refused_and_so_is_a_section_for_the_default_hive(
    tmp_path: Path
) -> None:
    assert "set `store`" in config_error(tmp_path / "a", '[hives.north]\nalerts_file = "n.json"\n')
    assert "the default hive is the home's own" in config_error(
        tmp_path / "b", f'store = "{STORE}"\n[hives.default]\nalerts_file = "d.json"\n')
    assert "hives" in config_error(tmp_path / "c", f'store = "{STORE}"\n[hives.North]\nalerts_file = "n.json"\n')
    assert "max_hives_per_writer" in config_error(tmp_path / "d", f'store = "{STORE}"\nmax_hives_per_writer = 0\n')


def test_each_hives_schema_sits_beside_the_stores_own_and_a_name_too_long_for_one_is_refused(
    tmp_path: Path
) -> None:
    assert store_url.schema_of(store_url.for_hive(STORE, "north")) == "hive_north"
    assert store_url.schema_of(store_url.for_hive(f"{STORE}?schema=ops", "north")) == "ops_hive_north"
    assert store_url.for_hive(STORE, "default") == STORE
    with pytest.raises(ValueError, match="longer than PostgreSQL's 63 characters"):
        store_url.for_hive(f"{STORE}?schema={'s' * 40}", "n" * 30)
    long_name = "n" * 40
    message = config_error(tmp_path, f'store = "{STORE}?schema={"s" * 30}"\n[hives.{long_name}]\nalerts_file = "x"\n')
    assert "longer than PostgreSQL's 63 characters" in message


def test_every_hives_store_is_read_from_the_configuration_without_loading_the_settings(tmp_path: Path) -> None:
    write_config(tmp_path, HIVES)
    north = load_settings(tmp_path).for_hive("north")

    expected = {"default": STORE, "north": north.store, "south": load_settings(tmp_path).for_hive("south").store}
    assert store_url.hive_stores(tmp_path) == expected
    assert store_url.hive_stores(north.home) == expected  # from a hive's directory too
    write_config(tmp_path / "plain", f'store = "{STORE}"\n')
    assert store_url.hive_stores(tmp_path / "plain") == {}

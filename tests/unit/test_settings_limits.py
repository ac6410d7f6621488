"""Settings: how large a line and a document of input may be."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.input_limits import Limits
from cli.settings import ConfigError, load_settings
from tests.unit.settings_support import clean_environment as clean_environment  # pytest fixture, autouse
from tests.unit.settings_support import config_error, write_config


def test_by_default_a_line_may_be_1_mb_and_a_document_64_mb(tmp_path: Path) -> None:
    settings = load_settings(tmp_path)

    assert (settings.max_line_bytes, settings.max_document_bytes) == (1_048_576, 67_108_864)
    assert settings.limits == Limits()


def test_the_limits_come_from_the_config_file_and_the_environment_overrides_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(tmp_path, "max_line_bytes = 65536\nmax_document_bytes = 1_000_000\n")
    assert load_settings(tmp_path).limits == Limits(65_536, 1_000_000)

    monkeypatch.setenv("COORDINATOR_MAX_LINE_BYTES", "2048")
    assert load_settings(tmp_path).limits == Limits(2_048, 1_000_000)


@pytest.mark.parametrize("key", ["max_line_bytes", "max_document_bytes"])
@pytest.mark.parametrize("value", ["0", "1023", '"big"', "-5"])
def test_a_limit_that_is_not_a_whole_number_of_at_least_1024_bytes_is_a_config_error_naming_the_key(
    tmp_path: Path, key: str, value: str
) -> None:
    message = config_error(tmp_path, f"{key} = {value}\n")

    assert key in message


def test_a_bad_limit_in_an_environment_variable_is_a_config_error_naming_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COORDINATOR_MAX_LINE_BYTES", "a lot")

    with pytest.raises(ConfigError, match="max_line_bytes"):
        load_settings(tmp_path)

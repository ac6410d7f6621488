"""Store URLs: what names a PostgreSQL store, what libpq is handed, and what is printed."""

from __future__ import annotations

import pytest

from adapters.store_url import check, connectable, connection_settings, redacted

URL = "postgresql://hive%40ops:s%3Acret@db.example:6543/coordination?schema=north"


def test_a_url_is_read_into_its_parts_with_escapes_undone_and_the_schema_option_kept_apart() -> None:
    assert connection_settings(URL) == {
        "POSTGRES_DBNAME": "coordination", "POSTGRES_HOST": "db.example", "POSTGRES_PORT": "6543",
        "POSTGRES_USER": "hive@ops", "POSTGRES_PASSWORD": "s:cret", "POSTGRES_SCHEMA": "north",
    }
    assert connection_settings("postgres://a@h/d")["POSTGRES_PORT"] == "5432"
    assert connectable(URL) == "postgresql://hive%40ops:s%3Acret@db.example:6543/coordination"


def test_a_printed_url_never_shows_its_password() -> None:
    assert redacted(URL) == "postgresql://hive%40ops:***@db.example:6543/coordination?schema=north"
    assert "s%3Acret" not in redacted(URL)
    assert redacted("postgresql://a@h/d") == "postgresql://a@h/d"


@pytest.mark.parametrize(("url", "reason"), [
    ("mysql://a:b@h/d", "not a PostgreSQL URL"),
    ("postgresql://a:b@/d", "no host"),
    ("postgresql://a:b@h:port/d", "port is not a number"),
    ("postgresql://a:b@h:5432/", "no database name"),
    ("postgresql://a:b@h/d?sslmode=require", "unknown option 'sslmode'"),
    ("postgresql://a:b@h/d?schema=North", "schema 'North': a schema name here is lower-case"),
    ("postgresql://a:b@h/d?schema=", "schema ''"),
    ("postgresql://a:b@h/d?schema=1hive", "schema '1hive'"),
    ("postgresql://a:b@h/d?schema=" + "h" * 64, "at most 63 characters"),
    ("postgresql://a:b@h/d?schema=a%22b", "schema 'a\"b'"),
])
def test_a_url_that_names_no_usable_store_is_refused_saying_what_is_missing(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        check(url)


def test_a_schema_of_lower_case_letters_digits_and_underscores_is_taken() -> None:
    for schema in ("north", "_hive_2", "h" * 63):
        assert connection_settings(f"postgresql://a@h/d?schema={schema}")["POSTGRES_SCHEMA"] == schema

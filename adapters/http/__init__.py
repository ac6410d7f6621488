"""The coordinator's HTTP API (FastAPI): alerts in, queries, commands and the live event stream out."""

"""Delivery channels: adapters behind the `domain.notifications.Channel` port.

Each channel lives in its own module (import it from there): `command`, `tmux`, `webhook`,
`apprise_channel`, `file`, `console`. Nothing is imported here, so that using one channel never
pays for loading another's libraries.
"""

"""Follow the coordinator's event stream: print each crisis alert and each escalation as it is recorded.

Usage: python examples/follow_events.py [--follow] [--home DIR]

Without `--follow` it prints what is recorded so far and stops; with it, it waits for new events until Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.event_stream import AlertReceived, CoordinationEvent, CoordinationEventConsumer, Escalated


def on_crisis(event: CoordinationEvent) -> None:
    assert isinstance(event, AlertReceived)
    print(f"crisis on {event.subject}: {event.alert.get('description')}")


async def on_level(event: CoordinationEvent) -> None:  # coroutine handlers are awaited
    assert isinstance(event, Escalated)
    print(f"{event.subject_kind} {event.subject} -> {event.to_level}{' (EMERGENCY)' if event.emergency else ''}")


async def follow(consumer: CoordinationEventConsumer, keep_following: bool) -> None:
    position = 0  # keep it somewhere to resume after a restart
    async for event in consumer.stream_events(after=position, follow=keep_following, poll_interval=0.5):
        position = event.position


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--follow", action="store_true", help="wait for new events until Ctrl-C")
    parser.add_argument("--home", default=None,
                        help="the coordinator's home (default: COORDINATOR_HOME or ./.coordinator)")
    options = parser.parse_args()
    consumer = CoordinationEventConsumer(home=options.home)
    consumer.subscribe("COORDINATION_CRISIS", on_crisis)  # an alert type
    consumer.subscribe("Escalated", on_level)  # an event kind ("*" for everything)
    try:
        asyncio.run(follow(consumer, options.follow))
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)


if __name__ == "__main__":
    main()

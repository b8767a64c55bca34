"""The consumers: each has a name, the kinds of event it takes, and a handler. Apps register theirs
when Django starts (AppConfig.ready), so every process knows every consumer and an event gets a
handling for each one in its own transaction."""

from dataclasses import dataclass

from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Consumer:
    name: str
    handler: str  # dotted path; see work.py for what it is called with
    kinds: tuple[str, ...] = ("",)  # prefixes of the kinds it takes; "" takes every kind
    batch: bool = False  # called with every claimed event at once (True) or one at a time
    batch_size: int = 200
    max_attempts: int = 8  # then the event is set aside, with its error, until a person retries it
    lease_seconds: float = 60.0  # a claim older than this is taken again: its worker died

    def takes(self, kind: str) -> bool:
        return any(kind.startswith(prefix) for prefix in self.kinds)

    def load_handler(self):
        return import_string(self.handler)


_registry: dict[str, Consumer] = {}


def register(consumer: Consumer) -> None:
    _registry[consumer.name] = consumer


def registered() -> list[Consumer]:
    return list(_registry.values())


def get(name: str) -> Consumer:
    try:
        return _registry[name]
    except KeyError:
        raise LookupError(f'no consumer named "{name}" (known: {", ".join(sorted(_registry)) or "none"})') from None

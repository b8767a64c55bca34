import logging
import sys


class ConsoleHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time of the record, not the one at start-up (so a
    replaced or captured stderr never leaves the handler writing to a closed file)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass

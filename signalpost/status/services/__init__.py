"""The verbs of the status page. The API, the CLI, the console, the worker and the demo all call these,
so each rule is written once. Every verb checks its input, writes its change, its audit entry and its
event in one transaction (the event is what republishes the pages and, later, tells subscribers)."""

from .common import find_components, find_group, find_incident, get_page
from .components import (
    clear_override,
    create_component,
    create_group,
    remove_component,
    remove_group,
    set_override,
    update_component,
    update_group,
)
from .incidents import backfill_incident, edit_incident, edit_update, open_incident, post_update, resolve_incident
from .maintenance import (
    DEFAULT_BODIES,
    cancel_maintenance,
    complete_maintenance,
    post_maintenance_update,
    run_due_transitions,
    schedule_maintenance,
    start_maintenance,
)
from .ordering import reorder_group, reorder_top_level
from .page import update_page
from .signals import forget_source, set_signal

__all__ = [
    "DEFAULT_BODIES", "backfill_incident", "cancel_maintenance", "clear_override", "complete_maintenance", "create_component",
    "create_group", "edit_incident", "forget_source", "set_signal", "edit_update", "find_components", "find_group", "find_incident", "get_page",
    "open_incident", "post_maintenance_update", "post_update", "remove_component", "remove_group",
    "reorder_group", "reorder_top_level",
    "resolve_incident", "run_due_transitions", "schedule_maintenance", "set_override", "start_maintenance",
    "update_component", "update_group", "update_page",
]

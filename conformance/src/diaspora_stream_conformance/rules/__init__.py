"""The rule catalogue, one module per family of rules.

A reader looking for the rules about threads, names or visibility finds them by file name;
:class:`~diaspora_stream_conformance.behaviours.BehaviourTests` gathers every family.
"""

from __future__ import annotations

from .acknowledgements import AcknowledgementRules
from .batches import BatchRules
from .boundaries import BoundaryRules
from .components import ComponentRules
from .consuming import ConsumingRules
from .elsewhere import ElsewhereRules
from .end_of_stream import EndOfStreamRules
from .failures import FailureRules
from .handles import HandleRules
from .input_views import InputViewRules
from .names import NameRules
from .positions import PositionRules
from .producing import ProducingRules
from .selection import SelectionRules
from .threads import ThreadRules
from .timing import TimeRules
from .topics import TopicRules
from .visibility import VisibilityRules

#: Every rule family, in the order the suite runs them.
RULE_FAMILIES: tuple[type, ...] = (
    TopicRules,
    HandleRules,
    ProducingRules,
    BatchRules,
    VisibilityRules,
    FailureRules,
    TimeRules,
    ConsumingRules,
    SelectionRules,
    AcknowledgementRules,
    PositionRules,
    EndOfStreamRules,
    ThreadRules,
    BoundaryRules,
    InputViewRules,
    NameRules,
    ElsewhereRules,
    ComponentRules,
)

__all__ = [
    "RULE_FAMILIES",
    "AcknowledgementRules",
    "BatchRules",
    "BoundaryRules",
    "ComponentRules",
    "ConsumingRules",
    "ElsewhereRules",
    "EndOfStreamRules",
    "FailureRules",
    "HandleRules",
    "InputViewRules",
    "NameRules",
    "PositionRules",
    "ProducingRules",
    "SelectionRules",
    "ThreadRules",
    "TimeRules",
    "TopicRules",
    "VisibilityRules",
]

"""The ``binding`` driver: any implementation of the Python API, reached through its module."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from ...backend.capabilities import Capabilities
from ...backend.full import DriverInterface, TopicHandleInterface
from ...components.interfaces import (
    PartitionSelectorInterface,
    SerializerInterface,
    ValidatorInterface,
)
from ...components.public import component_metadata
from ...exceptions import ClosedError
from ...registry import partition_selectors, serializers, validators
from .calls import ErrorMap
from .settings import BindingSettings, module_version
from .topic import BindingTopic, ForeignPools

__all__ = ["BindingDriver"]


class BindingDriver(DriverInterface):
    """Runs a driver of another implementation of the API (the C++ reference's
    ``pydiaspora_stream_api`` by default) behind our full-level backend interface.

    Options: ``backend`` (the foreign driver's name, required), ``options`` (its options),
    ``module`` (default ``pydiaspora_stream_api``) and ``capabilities`` (what to declare for
    it; every capability is absent unless declared ``true``).
    """

    def __init__(self, settings: BindingSettings, module: ModuleType, foreign: Any) -> None:
        self.settings = settings
        self.capabilities: Capabilities = settings.capabilities
        self._module = module
        self._foreign: Any = foreign
        self._errors = ErrorMap(module.Exception)
        self._pools = ForeignPools(foreign, self._errors)

    @classmethod
    def create(cls, options: dict[str, Any]) -> BindingDriver:
        settings = BindingSettings.parse(options)
        module = settings.import_module()
        errors = ErrorMap(module.Exception)
        foreign = errors.call(module.Driver, backend=settings.backend, options=settings.options)
        return cls(settings, module, foreign)

    def _driver(self) -> Any:
        if self._foreign is None:
            raise ClosedError(f"binding driver for {self.settings.backend!r} is closed")
        return self._foreign

    def provenance(self) -> dict[str, Any]:
        return {
            "module": self.settings.module,
            "module_version": module_version(self._module),
            "module_file": getattr(self._module, "__file__", None),
            "backend": self.settings.backend,
            "backend_options": self.settings.options,
        }

    def _foreign_component(self, kind: Any, component: Any, registry: Any) -> Any:
        if component is None:
            return None
        return self._errors.call(kind.from_metadata, **component_metadata(component, registry))

    def create_topic(
        self,
        name: str,
        options: dict[str, Any],
        validator: ValidatorInterface | None,
        partition_selector: PartitionSelectorInterface | None,
        serializer: SerializerInterface | None,
    ) -> None:
        module = self._module
        self._errors.call(
            self._driver().create_topic,
            name,
            options=options,
            validator=self._foreign_component(module.Validator, validator, validators),
            partition_selector=self._foreign_component(
                module.PartitionSelector, partition_selector, partition_selectors
            ),
            serializer=self._foreign_component(module.Serializer, serializer, serializers),
        )

    def open_topic(self, name: str) -> TopicHandleInterface:
        driver = self._driver()
        foreign = self._errors.call(driver.open_topic, name)
        info = self._errors.call(driver.list_topics).get(name, {})
        return BindingTopic(
            self._module,
            foreign,
            info if isinstance(info, dict) else {},
            self._errors,
            self._pools,
            self.settings.backend,
            self.capabilities.acknowledgements,
        )

    def topic_exists(self, name: str) -> bool:
        return bool(self._errors.call(self._driver().topic_exists, name))

    def list_topics(self) -> dict[str, dict[str, Any]]:
        return dict(self._errors.call(self._driver().list_topics))

    def close(self) -> None:
        # The binding has no close: the foreign driver goes with its last reference.
        self._foreign = None

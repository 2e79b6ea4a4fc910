"""Built-in validators: ``default``, ``schema`` and ``eventbridge`` (reference-api.md §4.1 to §4.3).

Validators look only at an event's metadata (a JSON value); its data is ignored.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, ClassVar

from ..exceptions import Exception as DiasporaError
from ..exceptions import InvalidMetadata
from ..json_codec import dumps_compact
from .eventbridge import compile_pattern
from .interfaces import DataSegments, ValidatorInterface

if TYPE_CHECKING:
    import jsonschema
    import jsonschema.exceptions

__all__ = ["DefaultValidator", "SchemaValidator", "EventbridgeValidator"]

_SCHEMA_ERROR_PREFIX = "Metadata does not comply to required schema:\n"


def _schema_from_config(config: Any, component: str) -> Any:
    """Return the ``"schema"`` entry of a schema component's configuration (§4.2, §4.5)."""
    if not isinstance(config, dict):
        raise DiasporaError("Provided Metadata is not a JSON object")
    if "schema" not in config:
        raise DiasporaError(f'{component} is expecting a "schema" entry in its configuration')
    return config["schema"]


def _compile_schema(schema: Any, component: str) -> jsonschema.Draft7Validator:
    """Check a JSON Schema (draft-07) document and return its validator.

    Raises the built-in :class:`ValueError` (the reference's ``std::invalid_argument``) for a
    schema that is neither an object nor a boolean, or that is not a valid draft-07 schema.
    ``jsonschema`` is imported here, not with the package: ``import diaspora_stream.api`` stays
    fast for programs that use no schema.
    """
    import jsonschema
    import jsonschema.exceptions

    if not isinstance(schema, (dict, bool)):
        raise ValueError(
            f"{component}: a JSON schema must be an object or a boolean, "
            f"not {type(schema).__name__} ({schema!r})"
        )
    try:
        jsonschema.Draft7Validator.check_schema(schema)
    except jsonschema.exceptions.SchemaError as error:
        raise ValueError(f"{component}: invalid JSON schema: {error.message}") from None
    return jsonschema.Draft7Validator(schema)


def _json_pointer(path: Any) -> str:
    """Format an instance path as a JSON pointer (RFC 6901; ``""`` for the root)."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def _format_error(error: jsonschema.exceptions.ValidationError) -> str:
    try:
        instance = dumps_compact(error.instance).decode("utf-8")
    except DiasporaError:
        instance = repr(error.instance)
    return f"'{_json_pointer(error.absolute_path)}' - '{instance}': {error.message}"


class DefaultValidator(ValidatorInterface):
    """Validator that accepts every event; its metadata is ``{"type": "default"}``."""

    type_name: ClassVar[str] = "default"
    accepts_everything: ClassVar[bool] = True

    @classmethod
    def create(cls, metadata: dict[str, Any]) -> DefaultValidator:
        """Create the validator; its configuration is ignored."""
        return cls()

    def validate(self, metadata: Any, data: DataSegments) -> None:
        """Accept any metadata and any data."""


class SchemaValidator(ValidatorInterface):
    """Validator checking metadata against a JSON Schema (draft-07) document.

    Configuration: ``{"type": "schema", "schema": <JSON schema>}``. The schema is compiled
    once, at creation. Failures raise :class:`InvalidMetadata` with the message
    ``"Metadata does not comply to required schema:\\n"`` followed by every error, each
    formatted ``'<json-pointer>' - '<instance>': <message>`` (no separator between errors).
    """

    type_name: ClassVar[str] = "schema"

    def __init__(self, schema: Any) -> None:
        """Compile ``schema``; raise :class:`ValueError` if it is not a valid JSON schema."""
        import referencing.exceptions  # with jsonschema, only once a schema is used

        self._schema = copy.deepcopy(schema)
        self._validator = _compile_schema(self._schema, "SchemaValidator")
        self._unresolvable = referencing.exceptions.Unresolvable

    @classmethod
    def create(cls, metadata: dict[str, Any]) -> SchemaValidator:
        """Create the validator from ``{"type": "schema", "schema": ...}``.

        Raises :class:`~diaspora_stream.exceptions.Exception` if the configuration is not an
        object or has no ``"schema"``, :class:`ValueError` if the schema is invalid.
        """
        return cls(_schema_from_config(metadata, "SchemaValidator"))

    def metadata(self) -> dict[str, Any]:
        """Return ``{"type": "schema", "schema": <schema>}``."""
        return {"type": "schema", "schema": copy.deepcopy(self._schema)}

    def validate(self, metadata: Any, data: DataSegments) -> None:
        """Raise :class:`InvalidMetadata` listing every schema violation of ``metadata``."""
        try:
            errors = list(self._validator.iter_errors(metadata))
        except self._unresolvable as error:
            raise DiasporaError(
                f"SchemaValidator: the schema contains a reference that cannot be resolved: {error}"
            ) from None
        if errors:
            raise InvalidMetadata(_SCHEMA_ERROR_PREFIX + "".join(map(_format_error, errors)))


class EventbridgeValidator(ValidatorInterface):
    """Validator matching metadata against an EventBridge-like pattern (see ``eventbridge``).

    Configuration: ``{"type": "eventbridge", "schema": <pattern object>}``. The pattern is
    compiled at creation (malformed patterns raise
    :class:`~diaspora_stream.exceptions.Exception`).
    """

    type_name: ClassVar[str] = "eventbridge"

    def __init__(self, schema: Any) -> None:
        """Compile the pattern ``schema``; raise :class:`InvalidMetadata` if not an object."""
        if not isinstance(schema, dict):
            raise InvalidMetadata(
                '"schema" field in EventbridgeValidator configuration should be an object'
            )
        self._schema = copy.deepcopy(schema)
        self._predicate = compile_pattern(self._schema)

    @classmethod
    def create(cls, metadata: dict[str, Any]) -> EventbridgeValidator:
        """Create the validator from ``{"type": "eventbridge", "schema": {...}}``.

        Raises :class:`InvalidMetadata` if ``"schema"`` is missing or is not an object.
        """
        if not isinstance(metadata, dict) or "schema" not in metadata:
            raise InvalidMetadata(
                'Metadata object does not contain a "schema" field for EventbridgeValidator'
            )
        return cls(metadata["schema"])

    def metadata(self) -> dict[str, Any]:
        """Return ``{"type": "eventbridge", "schema": <pattern>}``."""
        return {"type": "eventbridge", "schema": copy.deepcopy(self._schema)}

    def validate(self, metadata: Any, data: DataSegments) -> None:
        """Raise :class:`InvalidMetadata` if ``metadata`` does not match the pattern."""
        if not self._predicate(metadata):
            raise InvalidMetadata("Metadata object does not satisfy eventbridge pattern")

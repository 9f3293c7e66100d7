"""Typed dataclass configs: strict nested dicts, YAML files and dotted overrides.

Every experiment config is a tree of `Config` dataclasses. The base class gives
them one behaviour:

* `from_dict` / `from_yaml` build a config from plain data and reject unknown keys
  (the error names the bad key and lists the valid ones);
* values are coerced to the annotated field types (`int`, `float`, `bool`, `str`,
  `Tuple[...]`, `Optional[...]`, `Union[...]`, nested `Config`), so YAML lists
  become tuples and `"256"` becomes `256`;
* `override(["model.backbone=resnet18", ...])` applies strict dotted overrides
  given as strings (the command-line form);
* `validate()` checks values; subclasses extend it and report bad values through
  `ConfigError`, which names the full dotted key and the allowed values. Every
  float must be finite and every int must fit in int64, whatever the field
  (checked when a value is coerced and again by `validate()`).

Example:

    @dataclasses.dataclass
    class Inner(Config):
        size: int = 3

    @dataclasses.dataclass
    class Outer(Config):
        inner: Inner = dataclasses.field(default_factory=Inner)

    cfg = Outer.from_dict({"inner": {"size": "5"}}).override(["inner.size=7"])
"""
import copy
import dataclasses
import functools
import math
import typing
from typing import Any, Dict, Iterable, Mapping, Sequence, Tuple, TypeVar, Union

import yaml

ConfigT = TypeVar("ConfigT", bound="Config")

_NONE_STRINGS = ("none", "null", "~")
_TRUE_STRINGS = ("true", "yes", "on", "1")
_FALSE_STRINGS = ("false", "no", "off", "0")
# Every int field ends up in TensorFlow as int64 (steps, sizes, seeds); larger values overflow there.
_INT_MIN, _INT_MAX = -(2 ** 63), 2 ** 63 - 1


def _check_number(value: Any, key: str) -> None:
    """Raises ConfigError for a non-finite float or an int outside int64 (bools and non-numbers pass)."""
    if isinstance(value, bool):
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(key, f"invalid value {value!r}; must be a finite number")
    if isinstance(value, int) and not _INT_MIN <= value <= _INT_MAX:
        raise ConfigError(key, f"invalid value {value!r}; must fit in a 64-bit integer "
                               f"([{_INT_MIN}, {_INT_MAX}])")


class ConfigError(ValueError):
    """A config key has a bad name or value.

    Attributes:
      key: Dotted path of the offending key, e.g. `"model.backbone"`.
    """

    def __init__(self, key: str, message: str):
        self.key = key
        self.reason = message
        super().__init__(f"{key}: {message}" if key else message)

    def with_prefix(self, prefix: str) -> "ConfigError":
        """Returns the same error with `prefix.` prepended to the key."""
        key = f"{prefix}.{self.key}" if self.key else prefix
        return ConfigError(key, self.reason)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _is_config_type(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, Config)


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _parse_sequence_string(text: str) -> list:
    """Splits `"(1, 2)"`, `"[1,2]"` or `"1,2"` into `["1", "2"]`."""
    text = text.strip()
    if text[:1] in "([" and text[-1:] in ")]":
        text = text[1:-1]
    return [part.strip() for part in text.split(",") if part.strip()]


def coerce_value(value: Any, tp: Any, key: str) -> Any:
    """Converts `value` to the annotated type `tp`, or raises `ConfigError`.

    Strings (from the command line) are parsed for every non-string type;
    ints are accepted for floats; lists for tuples; dicts for nested configs.

    Args:
      value: The raw value (from YAML, a dict or a command-line string).
      tp: The field annotation.
      key: Dotted key, used in error messages.

    Returns:
      The coerced value.
    """
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin is Union:
        args = typing.get_args(tp)
        is_none = value is None or (isinstance(value, str) and value.strip().lower() in _NONE_STRINGS)
        if is_none and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return coerce_value(value, arg, key)
            except ConfigError:
                continue
        raise ConfigError(key, f"cannot interpret {value!r} as {_type_name(tp)}")
    if _is_config_type(tp):
        if isinstance(value, tp):
            return value
        if isinstance(value, Mapping):
            return tp._from_dict(value, prefix=key)
        raise ConfigError(key, f"expected a mapping for {tp.__name__}, got {value!r}")
    if origin in (tuple, Tuple):
        return _coerce_tuple(value, typing.get_args(tp), key)
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE_STRINGS + _FALSE_STRINGS:
            return value.strip().lower() in _TRUE_STRINGS
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise ConfigError(key, f"expected a bool (true/false), got {value!r}")
    if tp is int:
        if isinstance(value, bool):
            raise ConfigError(key, f"expected an int, got {value!r}")
        result = None
        if isinstance(value, int):
            result = value
        elif isinstance(value, float) and value.is_integer():
            result = int(value)
        elif isinstance(value, str):
            try:
                result = int(value.strip())
            except ValueError:
                pass
        if result is None:
            raise ConfigError(key, f"expected an int, got {value!r}")
        _check_number(result, key)
        return result
    if tp is float:
        result = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            result = float(value) if not isinstance(value, int) or abs(value) <= 2 ** 1023 else math.inf
        elif isinstance(value, str):
            try:
                result = float(value.strip())
            except ValueError:
                pass
        if result is None:
            raise ConfigError(key, f"expected a float, got {value!r}")
        _check_number(result, key)  # NaN / inf are never a meaningful setting
        return result
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(key, f"expected a string, got {value!r}")
    raise ConfigError(key, f"unsupported field type {_type_name(tp)}")


def _coerce_tuple(value: Any, args: Tuple[Any, ...], key: str) -> tuple:
    if isinstance(value, str):
        value = _parse_sequence_string(value)
    if not isinstance(value, (list, tuple)):
        raise ConfigError(key, f"expected a sequence, got {value!r}")
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(coerce_value(v, args[0], f"{key}[{i}]") for i, v in enumerate(value))
    if not args:
        return tuple(value)
    if len(value) != len(args):
        raise ConfigError(key, f"expected {len(args)} values, got {len(value)}: {value!r}")
    return tuple(coerce_value(v, a, f"{key}[{i}]") for i, (v, a) in enumerate(zip(value, args)))


def _merge_dicts(base: Dict[str, Any], update: Mapping[str, Any]) -> Dict[str, Any]:
    """Recursively merges `update` into a copy of `base` (later values win)."""
    merged = dict(base)
    for name, value in update.items():
        if isinstance(value, Mapping) and isinstance(merged.get(name), Mapping):
            merged[name] = _merge_dicts(merged[name], value)
        else:
            merged[name] = value
    return merged


@functools.lru_cache(maxsize=None)
def _field_types(cls: type) -> Dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


@dataclasses.dataclass
class Config:
    """Base class of every config dataclass (see the module docstring)."""

    @classmethod
    def field_names(cls) -> Tuple[str, ...]:
        """The valid keys of this config, in declaration order."""
        return tuple(_field_types(cls))

    @classmethod
    def from_dict(cls: typing.Type[ConfigT], values: Mapping[str, Any]) -> ConfigT:
        """Builds and validates a config from a (nested) mapping.

        Missing keys keep their defaults.

        Raises:
          ConfigError: an unknown key (naming it and the valid keys), a value of
            the wrong type, or a value that `validate()` rejects.
        """
        config = cls._from_dict(values, prefix="")
        config.validate()
        return config

    @classmethod
    def _from_dict(cls: typing.Type[ConfigT], values: Mapping[str, Any], prefix: str) -> ConfigT:
        if not isinstance(values, Mapping):
            raise ConfigError(prefix, f"expected a mapping for {cls.__name__}, got {values!r}")
        types = _field_types(cls)
        kwargs = {}
        for name, value in values.items():
            if name not in types:
                raise ConfigError(
                    _join(prefix, str(name)),
                    f"unknown key; valid keys of {cls.__name__} are {sorted(types)}")
            kwargs[name] = coerce_value(value, types[name], _join(prefix, name))
        return cls(**kwargs)

    @classmethod
    def from_yaml(cls: typing.Type[ConfigT], *paths: str) -> ConfigT:
        """Loads YAML files (merged in order, later files win) into a config.

        Raises:
          FileNotFoundError: a path does not exist (the message names it).
          ConfigError: as for `from_dict`.
        """
        merged: Dict[str, Any] = {}
        for path in paths:
            try:
                with open(path, "r", encoding="utf-8") as f:
                    content = yaml.safe_load(f)
            except FileNotFoundError:
                raise FileNotFoundError(f"config file not found: {path}") from None
            if content is None:
                continue
            if not isinstance(content, Mapping):
                raise ConfigError("", f"{path}: top level must be a mapping, got {type(content).__name__}")
            merged = _merge_dicts(merged, content)
        return cls.from_dict(merged)

    def to_dict(self) -> Dict[str, Any]:
        """Returns plain nested data (tuples as lists) that `from_dict` accepts."""

        def plain(value):
            if isinstance(value, Config):
                return value.to_dict()
            if isinstance(value, (tuple, list)):
                return [plain(v) for v in value]
            return copy.deepcopy(value)

        return {name: plain(getattr(self, name)) for name in self.field_names()}

    def to_yaml(self) -> str:
        """Serialises the config as YAML text."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def override(self: ConfigT, overrides: Union[str, Iterable[str]]) -> ConfigT:
        """Returns a validated copy with dotted `key=value` overrides applied.

        Args:
          overrides: Strings like `"model.backbone=resnet18"` (or one such string).
            Values are parsed to the field's type; `None`/`null` clears an
            `Optional` field; tuples are written `"256,192"` or `"(256, 192)"`.

        Raises:
          ConfigError: the key does not exist (naming it and the valid keys at
            that level), the value cannot be parsed, or `validate()` fails.
        """
        if isinstance(overrides, str):
            overrides = [overrides]
        config = copy.deepcopy(self)
        for item in overrides:
            key, sep, text = item.partition("=")
            key = key.strip()
            if not sep or not key:
                raise ConfigError(item, "an override must look like 'a.b=value'")
            config._set_dotted(key, text.strip())
        config.validate()
        return config

    def _set_dotted(self, key: str, text: str) -> None:
        node: Config = self
        parts = key.split(".")
        for depth, name in enumerate(parts):
            types = _field_types(type(node))
            if name not in types:
                raise ConfigError(
                    ".".join(parts[:depth + 1]),
                    f"unknown key; valid keys of {type(node).__name__} are {sorted(types)}")
            if depth == len(parts) - 1:
                if _is_config_type(types[name]):
                    raise ConfigError(key, f"is a section; override one of its keys "
                                           f"{sorted(_field_types(types[name]))}")
                setattr(node, name, coerce_value(text, types[name], key))
            else:
                node = getattr(node, name)
                if not isinstance(node, Config):
                    raise ConfigError(".".join(parts[:depth + 1]), "is not a section")

    def validate(self) -> None:
        """Checks values; subclasses extend it and must call `super().validate()`.

        The base implementation validates nested configs and prefixes their
        errors with the field name.

        Raises:
          ConfigError: naming the dotted key and the allowed values.
        """
        for name in self.field_names():
            value = getattr(self, name)
            if isinstance(value, Config):
                try:
                    value.validate()
                except ConfigError as error:
                    raise error.with_prefix(name) from None
            else:  # also values set in code, which bypass coercion
                for item in value if isinstance(value, tuple) else (value,):
                    _check_number(item, name)

    # Helpers for subclasses' validate().

    def _check_choice(self, name: str, allowed: Sequence[Any]) -> None:
        value = getattr(self, name)
        if value not in allowed:
            raise ConfigError(name, f"invalid value {value!r}; allowed values are {list(allowed)}")

    def _check_range(self, name: str, low: Any = None, high: Any = None) -> None:
        value = getattr(self, name)
        values = value if isinstance(value, tuple) else (value,)
        for v in values:
            # Written so that NaN, which compares False with everything, is out of every range.
            if not ((low is None or v >= low) and (high is None or v <= high)) or v != v:
                bounds = f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]"
                raise ConfigError(name, f"invalid value {value!r}; allowed range is {bounds}")

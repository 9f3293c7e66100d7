"""Tests for integral_keras.configs.base: strict dicts, YAML, dotted overrides, validate()."""
import dataclasses
from typing import Optional, Tuple, Union

import pytest

from integral_keras.configs.base import Config, ConfigError, coerce_value


@dataclasses.dataclass
class Inner(Config):
    size: int = 3
    scale: float = 1.0
    flag: bool = False
    name: str = "a"
    pair: Tuple[int, int] = (1, 2)
    many: Tuple[float, ...] = ()
    path: Optional[str] = None
    size_or_hw: Union[int, Tuple[int, int]] = 8

    def validate(self):
        super().validate()
        self._check_choice("name", ("a", "b"))
        self._check_range("size", low=1, high=10)


@dataclasses.dataclass
class Outer(Config):
    inner: Inner = dataclasses.field(default_factory=Inner)
    steps: int = 10


def test_from_dict_nested_and_coerced():
    cfg = Outer.from_dict({"inner": {"size": "5", "scale": 2, "pair": [3, 4], "many": [1, "2.5"]}, "steps": 7.0})
    assert cfg.inner.size == 5 and isinstance(cfg.inner.size, int)
    assert cfg.inner.scale == 2.0 and isinstance(cfg.inner.scale, float)
    assert cfg.inner.pair == (3, 4)
    assert cfg.inner.many == (1.0, 2.5)
    assert cfg.steps == 7
    assert cfg.inner.flag is False  # default kept


def test_unknown_key_names_key_and_valid_keys():
    with pytest.raises(ConfigError) as info:
        Outer.from_dict({"inner": {"sise": 4}})
    assert info.value.key == "inner.sise"
    message = str(info.value)
    assert "inner.sise" in message
    for valid in ("size", "scale", "pair", "path"):
        assert valid in message


def test_wrong_type_names_key():
    with pytest.raises(ConfigError, match=r"inner\.size.*int"):
        Outer.from_dict({"inner": {"size": "big"}})
    with pytest.raises(ConfigError, match=r"inner\.pair.*2 values"):
        Outer.from_dict({"inner": {"pair": [1, 2, 3]}})
    with pytest.raises(ConfigError, match=r"^steps"):
        Outer.from_dict({"steps": True})  # a bool is not an int


def test_validate_names_key_and_allowed_values():
    with pytest.raises(ConfigError) as info:
        Outer.from_dict({"inner": {"name": "c"}})
    assert info.value.key == "inner.name"
    assert "'a'" in str(info.value) and "'b'" in str(info.value) and "'c'" in str(info.value)
    with pytest.raises(ConfigError, match=r"inner\.size.*\[1, 10\]"):
        Outer().override(["inner.size=11"])


@pytest.mark.parametrize("text, expected", [
    ("inner.size=7", ("size", 7)),
    ("inner.scale=0.25", ("scale", 0.25)),
    ("inner.flag=true", ("flag", True)),
    ("inner.flag=False", ("flag", False)),
    ("inner.flag=1", ("flag", True)),
    ("inner.name=b", ("name", "b")),
    ("inner.pair=(5, 6)", ("pair", (5, 6))),
    ("inner.pair=[7,8]", ("pair", (7, 8))),
    ("inner.many=1,2,3", ("many", (1.0, 2.0, 3.0))),
    ("inner.path=/tmp/w.h5", ("path", "/tmp/w.h5")),
    ("inner.path=None", ("path", None)),
    ("inner.size_or_hw=64", ("size_or_hw", 64)),
    ("inner.size_or_hw=64,48", ("size_or_hw", (64, 48))),
])
def test_override_coerces_types(text, expected):
    base = Outer.from_dict({"inner": {"path": "x"}})
    cfg = base.override([text])
    field, value = expected
    got = getattr(cfg.inner, field)
    assert got == value and type(got) is type(value)
    assert base.inner.path == "x" and base.inner.size == 3  # the original is untouched


def test_override_rejects_bad_keys_and_values():
    cfg = Outer()
    with pytest.raises(ConfigError) as info:
        cfg.override(["inner.nope=1"])
    assert info.value.key == "inner.nope" and "size" in str(info.value)
    with pytest.raises(ConfigError, match=r"^stepz.*valid keys.*inner.*steps"):
        cfg.override("stepz=3")
    with pytest.raises(ConfigError, match="is a section"):
        cfg.override("inner=3")
    with pytest.raises(ConfigError, match="a.b=value"):
        cfg.override("inner.size")
    with pytest.raises(ConfigError, match=r"inner\.flag.*bool"):
        cfg.override("inner.flag=maybe")
    with pytest.raises(ConfigError, match=r"steps.*not a section"):
        cfg.override("steps.x=1")


def test_to_dict_round_trip():
    cfg = Outer.from_dict({"inner": {"pair": [9, 9], "path": "p"}, "steps": 3})
    data = cfg.to_dict()
    assert data == {"inner": {"size": 3, "scale": 1.0, "flag": False, "name": "a", "pair": [9, 9], "many": [],
                              "path": "p", "size_or_hw": 8}, "steps": 3}
    assert Outer.from_dict(data) == cfg
    assert Outer.from_dict(__import__("yaml").safe_load(cfg.to_yaml())) == cfg


def test_from_yaml_merges_in_order(tmp_path):
    first = tmp_path / "a.yaml"
    second = tmp_path / "b.yaml"
    first.write_text("inner:\n  size: 4\n  name: b\nsteps: 2\n")
    second.write_text("inner:\n  size: 6\n")
    cfg = Outer.from_yaml(str(first), str(second))
    assert (cfg.inner.size, cfg.inner.name, cfg.steps) == (6, "b", 2)
    with pytest.raises(FileNotFoundError, match="missing.yaml"):
        Outer.from_yaml(str(tmp_path / "missing.yaml"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("inner:\n  colour: red\n")
    with pytest.raises(ConfigError, match=r"inner\.colour"):
        Outer.from_yaml(str(bad))


def test_coerce_value_union_prefers_first_matching_type():
    assert coerce_value("12", Union[int, Tuple[int, int]], "k") == 12
    assert coerce_value([1, 2], Union[int, Tuple[int, int]], "k") == (1, 2)
    with pytest.raises(ConfigError, match="^k: cannot interpret"):
        coerce_value("x,y", Union[int, Tuple[int, int]], "k")

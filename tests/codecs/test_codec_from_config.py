"""`PoseCodec.from_config`: every codec setting comes from the model config (issue 15, one codec)."""
import math
import types

import numpy as np
import pytest

from integral_keras.codecs import PoseCodec
from integral_keras.configs import ConfigError, ExperimentConfig, ModelConfig

CODEC_KEYS = ("depth_range_mm", "heatmap_sigma", "disc_radius_px")


def _model_config(**overrides):
    values = dict(backbone="resnet18", method="I1", num_joints=5, input_size=(64, 96), heatmap_size=(16, 24),
                  depth=8, depth_range_mm=1200.0, heatmap_sigma=1.5, disc_radius_px=9.0)
    values.update(overrides)
    return ModelConfig(**values)


def test_model_config_defaults_are_the_codec_defaults():
    config, codec = ModelConfig(), PoseCodec(16)
    assert (config.depth_range_mm, config.heatmap_sigma, config.disc_radius_px) == (2000.0, 1.0, 15.0)
    assert (codec.depth_range_mm, codec.sigma, codec.disc_radius_px) == (2000.0, 1.0, 15.0)


def test_from_config_reads_every_setting():
    config = _model_config()
    config.validate()
    for holder in (config, ExperimentConfig(model=config)):
        codec = PoseCodec.from_config(holder)
        assert codec.num_joints == 5 and codec.input_size == (64, 96) and codec.heatmap_size == (16, 24)
        assert codec.depth == 8 and codec.depth_range_mm == 1200.0
        assert codec.sigma == 1.5 and codec.disc_radius_px == 9.0


def test_from_config_decodes_with_the_configured_depth_range():
    codec = PoseCodec.from_config(_model_config(depth_range_mm=700.0))
    z_hm = np.linspace(-0.5, 7.5, 9, dtype=np.float32)
    joints = np.stack([np.zeros_like(z_hm), np.zeros_like(z_hm), z_hm], axis=-1)
    np.testing.assert_allclose(codec.decode(joints)["z_mm"], ((z_hm + 0.5) / 8 - 0.5) * 700.0, rtol=1e-6)


def test_from_config_without_target_settings_uses_the_codec_defaults():
    decode_only = types.SimpleNamespace(num_joints=2, input_size=32, heatmap_size=8, depth=4, depth_range_mm=900.0)
    codec = PoseCodec.from_config(decode_only)
    assert codec.depth_range_mm == 900.0 and codec.sigma == 1.0 and codec.disc_radius_px == 15.0


def test_from_config_names_a_missing_setting():
    no_range = types.SimpleNamespace(num_joints=2, input_size=32, heatmap_size=8, depth=4)
    with pytest.raises(TypeError, match="depth_range_mm"):
        PoseCodec.from_config(no_range)


@pytest.mark.parametrize("key", CODEC_KEYS)
@pytest.mark.parametrize("value", ["0", "-3", "nan", "inf"])
def test_bad_codec_settings_name_the_key(key, value):
    with pytest.raises(ConfigError) as info:
        ModelConfig().override([f"{key}={value}"])
    assert info.value.key == key and "finite" in str(info.value)


@pytest.mark.parametrize("key", CODEC_KEYS)
def test_codec_settings_are_overridable_and_validated_from_the_experiment(key):
    config = ExperimentConfig().override([f"model.{key}=7.5"])
    assert getattr(config.model, key) == 7.5
    with pytest.raises(ConfigError) as info:
        ExperimentConfig().override([f"model.{key}=-1"])
    assert info.value.key == f"model.{key}"


@pytest.mark.parametrize("kwargs", [{"depth_range_mm": math.inf}, {"sigma": math.nan}, {"disc_radius_px": math.inf}])
def test_codec_rejects_non_finite_settings(kwargs):
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=name):
        PoseCodec(2, **kwargs)

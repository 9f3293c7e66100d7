"""Build-time checks of a `ModelConfig` that need the backbone registry.

`ModelConfig.validate` checks what the config alone can tell (it imports no model code); what depends on the
registered backbone (its name, allowed stages, stride, input multiple, whether it upsamples with `num_deconv`) is
checked here, where the registry lives, by `build_pose_model` and `PoseTask` before anything is built. The errors
are the config's: a `ConfigError` naming the key and the allowed values.
"""
from integral_keras.configs.base import ConfigError
from integral_keras.modeling.backbones import factory


def check_model_config(config) -> None:
    """Validates `config` (a `ModelConfig`) against its registered backbone.

    Raises:
      ConfigError: an unknown backbone (naming the registered ones) or a setting the backbone cannot build
        (`num_stages`, `stage_depths`, `num_deconv`, `input_size`, `heatmap_size`), naming the key.
    """
    try:
        spec = factory.get_backbone_spec(config.backbone)
    except ValueError:
        raise ConfigError("backbone", f"invalid value {config.backbone!r}; allowed values are "
                                      f"{list(factory.backbone_names())}") from None
    if config.num_stages not in spec.stages:
        raise ConfigError("num_stages", f"invalid value {config.num_stages!r}; allowed values are "
                                        f"{list(spec.stages)}")
    if config.stage_depths is not None and not spec.staged:
        raise ConfigError("stage_depths", f"applies to the staged backbones (hourglass, multistage_resnet50) "
                                          f"only; backbone is {config.backbone!r} (use depth)")
    if not spec.uses_deconv and config.num_deconv != 0:
        raise ConfigError("num_deconv", f"backbone {config.backbone!r} predicts heat maps at stride {spec.stride} "
                                        f"itself; num_deconv must be 0, got {config.num_deconv}")
    for axis, (size, heatmap) in enumerate(zip(config.input_hw, config.heatmap_hw)):
        if size % spec.input_multiple:
            raise ConfigError("input_size", f"{config.input_size!r} must be a multiple of "
                                            f"{spec.input_multiple} for backbone {config.backbone!r}")
        expected = size // spec.stride * 2 ** config.num_deconv
        if heatmap != expected:
            raise ConfigError(
                "heatmap_size",
                f"{config.heatmap_size!r} does not match input_size {config.input_size!r} / stride {spec.stride} "
                f"of backbone {config.backbone!r} * 2**num_deconv ({config.num_deconv}) = {expected} "
                f"({'height' if axis == 0 else 'width'}); change heatmap_size or num_deconv")

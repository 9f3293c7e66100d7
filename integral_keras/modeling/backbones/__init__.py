"""Backbones, registered by name: resnet18/34/50/101/152, hourglass, multistage_resnet50."""
from integral_keras.modeling.backbones.factory import (BackboneSpec, backbone_names, get_backbone,
                                                       get_backbone_spec, register_backbone)
from integral_keras.modeling.backbones import hourglass, multistage, resnet  # noqa: F401  (registers)

__all__ = ["BackboneSpec", "backbone_names", "get_backbone", "get_backbone_spec", "register_backbone"]

"""Crop -> image mapping for evaluation: `integral_keras.core.crop_mapping`, re-exported under its old path."""
from integral_keras.core.crop_mapping import apply_affine  # noqa: F401
from integral_keras.core.crop_mapping import crop_to_image  # noqa: F401

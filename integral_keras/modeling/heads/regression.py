"""R1 direct-regression head: global average pooling + Dense, in heat-map units."""
from typing import Tuple

import keras


def regression_head(features, num_joints: int, heatmap_size: Tuple[int, int], depth: int = 1,
                    name: str = "regression"):
    """Adds the paper's direct regression head (R1) to a functional graph.

    The Dense layer predicts each coordinate relative to the heat-map centre in
    units of the heat-map extent, `u`; a fixed `Rescaling` maps it to heat-map
    cell units, `x = u * W + (W - 1) / 2` (likewise `H` for y and `D` for z), so
    a zero output is the map centre, the Dense output stays O(1) at any
    resolution, and R1 is decoded and evaluated by the same code as the integral
    methods.

    Args:
      features: `(N, h, w, C)` features.
      num_joints: K.
      heatmap_size: `(H, W)` of the heat-map grid whose units the joints use.
      depth: D; 1 gives 2D joints `(x, y)`, more gives `(x, y, z)`.
      name: Prefix of the layer names.

    Returns:
      `(N, K, 2)` or `(N, K, 3)` float32 joints in heat-map cell units.
    """
    height, width = heatmap_size
    extents = [float(width), float(height)] + ([float(depth)] if depth > 1 else [])
    num_coords = len(extents)
    x = keras.layers.GlobalAveragePooling2D(name=f"{name}_pool")(features)
    x = keras.layers.Dense(num_joints * num_coords, name=f"{name}_dense")(x)
    x = keras.layers.Reshape((num_joints, num_coords), name=f"{name}_reshape")(x)
    return keras.layers.Rescaling(scale=extents, offset=[(e - 1.0) / 2.0 for e in extents], dtype="float32",
                                  name=f"{name}_to_heatmap_units")(x)

"""Crop transforms: one affine matrix from a person box to the network input, and the warp that applies it.

Convention (the package's, see docs/architecture.md): pixel coordinates are 0-based with pixel `i`'s centre
at `i`, ordered `(x, y)`. A crop matrix `M` (3, 3) maps a point of the ORIGINAL image to the CROP:
`[x_crop, y_crop, 1]^T = M @ [x_img, y_img, 1]^T`. The box centre lands on the crop centre
`((W - 1) / 2, (H - 1) / 2)` and the box edges on the crop edges `-0.5` and `W - 0.5`, so a box of `w` pixels
fills exactly the `W` crop pixels.

Rotation: a positive `rotation_deg` turns the image content counter-clockwise as displayed (y points down),
about the box centre. Flip: after scaling and rotation, the crop is mirrored horizontally, `x' = W - 1 - x`.

The warp samples the source once, bilinearly, through `tf.raw_ops.ImageProjectiveTransformV3`, whose
`transforms` map OUTPUT pixel `(x, y)` to the INPUT sampling point in the same integer-centre convention (checked in
tests/ops/test_ops_affine.py), so it receives the inverse of `M`. `cv2.warpAffine` (the faster `opencv` backend)
takes `M` itself and uses the same convention.
"""
import functools
import math

import numpy as np
import tensorflow as tf


def _size_hw(output_size):
    """Returns `(height, width)` from an int (square) or an `(height, width)` pair."""
    if isinstance(output_size, int):
        return output_size, output_size
    height, width = output_size
    return int(height), int(width)


def fit_box_to_aspect(box_size, output_size):
    """Grows a box so that its aspect ratio matches the output's, keeping the person's own aspect.

    Args:
      box_size: `(..., 2)` float box `[w, h]` in pixels.
      output_size: int or `(height, width)` of the crop.

    Returns:
      `(..., 2)` float32 `[w, h]`, each side at least the input's, with `w / h == width / height`.
    """
    height, width = _size_hw(output_size)
    box_size = tf.cast(box_size, tf.float32)
    aspect = width / height
    box_w = tf.maximum(box_size[..., 0], box_size[..., 1] * aspect)
    box_h = tf.maximum(box_size[..., 1], box_size[..., 0] / aspect)
    return tf.stack([box_w, box_h], axis=-1)


def crop_transform(center, box_size, output_size, rotation_deg=0.0, flip=False):
    """Builds the matrix that maps original-image pixels to crop pixels.

    The box is first padded to the crop's aspect (`fit_box_to_aspect`), so the scale is isotropic. Leading batch
    dimensions `...` broadcast: one matrix per box.

    Args:
      center: `(..., 2)` box centre `[cx, cy]` in original-image pixels.
      box_size: `(..., 2)` box size `[w, h]` in original-image pixels.
      output_size: int or `(height, width)` of the crop.
      rotation_deg: `(...)` degrees, positive = counter-clockwise as displayed.
      flip: `(...)` bool, mirror the crop horizontally.

    Returns:
      `(..., 3, 3)` float32 matrices `M`, last row `[0, 0, 1]`.
    """
    height, width = _size_hw(output_size)
    center = tf.cast(center, tf.float32)
    box_w = fit_box_to_aspect(box_size, output_size)[..., 0]
    scale = width / box_w
    theta = tf.cast(rotation_deg, tf.float32) * (math.pi / 180.0)
    cos = tf.cos(theta) * scale
    sin = tf.sin(theta) * scale
    mirror = tf.where(tf.cast(flip, tf.bool), -1.0, 1.0)
    # Linear part: mirror @ scale @ rotation; translation sends `center` to the crop centre.
    a, b = mirror * cos, mirror * sin
    c, d = -sin, cos
    out_cx, out_cy = (width - 1) / 2.0, (height - 1) / 2.0
    tx = out_cx - (a * center[..., 0] + b * center[..., 1])
    ty = out_cy - (c * center[..., 0] + d * center[..., 1])
    a, b, c, d, tx, ty = _broadcast(a, b, c, d, tx, ty)
    zero, one = tf.zeros_like(a), tf.ones_like(a)
    rows = tf.stack([a, b, tx, c, d, ty, zero, zero, one], axis=-1)
    return tf.reshape(rows, tf.concat([tf.shape(a), [3, 3]], axis=0))


def _broadcast(*tensors):
    shape = tf.shape(tensors[0])
    for tensor in tensors[1:]:
        shape = tf.broadcast_dynamic_shape(shape, tf.shape(tensor))
    return [tf.broadcast_to(tensor, shape) for tensor in tensors]


def transform_points(matrix, points):
    """Applies affine `(3, 3)` matrices to points.

    Args:
      matrix: `(..., 3, 3)` affine matrices (last row `[0, 0, 1]`), one per leading index of `points`.
      points: `(..., P, 2)` points `(x, y)` (or a single point `(2,)` with one `(3, 3)` matrix).

    Returns:
      float32 points of the shape of `points`, transformed.
    """
    matrix = tf.cast(matrix, tf.float32)
    points = tf.cast(points, tf.float32)
    if points.shape.rank == 1:
        return transform_points(matrix, points[None])[0]
    # x' = A x + t for every point: points @ A^T, with A and t broadcast over the point axis.
    return tf.matmul(points, matrix[..., :2, :2], transpose_b=True) + matrix[..., None, :2, 2]


def invert_affine(matrix):
    """Inverts affine `(..., 3, 3)` matrices in closed form; returns float32 of the same shape."""
    matrix = tf.cast(matrix, tf.float32)
    linear_inv = tf.linalg.inv(matrix[..., :2, :2])
    translation = -tf.linalg.matvec(linear_inv, matrix[..., :2, 2])
    top = tf.concat([linear_inv, translation[..., None]], axis=-1)
    bottom = tf.broadcast_to(tf.constant([[0.0, 0.0, 1.0]]), tf.concat([tf.shape(top)[:-2], [1, 3]], axis=0))
    return tf.concat([top, bottom], axis=-2)


WARP_BACKENDS = ("tensorflow", "opencv")


WARP_DTYPES = ("float32", "uint8")


def warp_image(image, matrix, output_size, fill_value=0.0, backend="tensorflow", channel_scale=None,
               dtype="float32"):
    """Warps an image into the crop with one bilinear resampling.

    Args:
      image: `(H, W, C)` image, uint8 or float32.
      matrix: `(3, 3)` image-to-crop matrix from `crop_transform`.
      output_size: int or `(height, width)` of the crop.
      fill_value: value of crop pixels that fall outside the image.
      backend: `tensorflow` (`ImageProjectiveTransformV3`, a pure graph op) or `opencv` (`cv2.warpAffine`
        through `tf.numpy_function`: several times faster on CPU, but each call enters Python (GIL), the graph
        cannot be serialized (no tf.data service) and uint8 input is rounded to uint8).
      channel_scale: optional `(C,)` factors (colour jitter): the crop becomes
        `clip(crop * channel_scale, 0, 255)`, for `opencv` inside the same Python call as the warp.
      dtype: `float32` or `uint8` (rounded to the nearest level and clipped to `[0, 255]`). A uint8 crop is
        about a quarter of the bytes to return from `opencv` and to batch (docs/benchmarks.md).

    Returns:
      `(height, width, C)` crop of `dtype`.
    """
    scale = None if channel_scale is None else tf.convert_to_tensor(channel_scale)[None]
    crops = warp_images(tf.convert_to_tensor(image)[None], tf.convert_to_tensor(matrix)[None], output_size,
                        fill_value=fill_value, backend=backend, channel_scale=scale, dtype=dtype)
    return crops[0]


def warp_images(images, matrices, output_size, image_sizes=None, fill_value=0.0, backend="tensorflow",
                channel_scale=None, dtype="float32"):
    """Warps a batch of images, each with its own matrix, into crops: one bilinear resampling each.

    The training pipeline warps whole batches in one call (`Parser.parse_train_batch`): for `opencv` that is one
    Python call per batch instead of one per example, which costs about as much CPU time as the warp itself
    (docs/benchmarks.md).

    Args:
      images: `(N, H_max, W_max, C)` uint8 or float32 images, each in the top-left corner of its slot (as
        `Dataset.padded_batch` lays out images of different sizes).
      matrices: `(N, 3, 3)` image-to-crop matrices from `crop_transform`.
      output_size: int or `(height, width)` of the crops.
      image_sizes: `(N, 2)` int `[height, width]` of each image; pixels beyond it count as outside the image
        (they get `fill_value`, whatever the padding holds). None: every image fills its slot.
      fill_value, backend, dtype: as `warp_image`.
      channel_scale: optional `(N, C)` per-image colour factors, as `warp_image`'s.

    Returns:
      `(N, height, width, C)` crops of `dtype`.
    """
    height, width = _size_hw(output_size)
    if dtype not in WARP_DTYPES:
        raise ValueError(f"Unknown warp dtype {dtype!r}; valid: {WARP_DTYPES}.")
    images = tf.convert_to_tensor(images)
    if backend == "opencv":
        return _warp_opencv(images, matrices, image_sizes, height, width, fill_value, channel_scale, dtype)
    if backend != "tensorflow":
        raise ValueError(f"Unknown warp backend {backend!r}; valid: {WARP_BACKENDS}.")
    images = tf.cast(images, tf.float32)
    fill = tf.cast(fill_value, tf.float32)
    if image_sizes is not None:
        image_sizes = tf.cast(image_sizes, tf.int32)
        rows = tf.range(tf.shape(images)[1])[None, :, None, None] < image_sizes[:, 0, None, None, None]
        cols = tf.range(tf.shape(images)[2])[None, None, :, None] < image_sizes[:, 1, None, None, None]
        images = tf.where(rows & cols, images, fill)
    transforms = tf.reshape(invert_affine(matrices), [-1, 9])[:, :8]
    warped = tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transforms,
        output_shape=tf.constant([height, width], tf.int32),
        fill_value=fill,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )
    if channel_scale is not None:
        warped = tf.clip_by_value(warped * tf.cast(channel_scale, tf.float32)[:, None, None, :], 0.0, 255.0)
    if dtype == "uint8":
        return tf.saturate_cast(tf.round(warped), tf.uint8)
    return warped


def _scale_channels_opencv(crop, channel_scale, dtype="float32"):
    """`clip(crop * channel_scale, 0, 255)` as `dtype` (uint8: rounded), in OpenCV (numpy broadcasting is ~4x
    slower)."""
    import cv2  # pylint: disable=import-outside-toplevel

    if crop.ndim != 3 or crop.shape[-1] != len(channel_scale) or len(channel_scale) > 4:
        raise ValueError(f"channel_scale of {len(channel_scale)} factors does not fit a crop of shape {crop.shape}.")
    if dtype == "uint8" and crop.dtype == np.uint8:
        # A diagonal colour matrix: rounds and saturates to [0, 255], about 6x faster than cv2.multiply on uint8.
        return cv2.transform(crop, np.diag(np.asarray(channel_scale, np.float32))).reshape(crop.shape)
    factors = tuple(float(s) for s in channel_scale) + (0.0,) * (4 - len(channel_scale))
    if dtype == "uint8":
        return cv2.multiply(crop, factors, dtype=cv2.CV_8U).reshape(crop.shape)
    scaled = cv2.multiply(crop, factors, dtype=cv2.CV_32F)
    scaled = scaled.reshape(crop.shape)  # OpenCV drops a trailing channel axis of size 1.
    cv2.threshold(scaled, 255.0, 255.0, cv2.THRESH_TRUNC, dst=scaled)
    if min(channel_scale) < 0.0:
        np.maximum(scaled, 0.0, out=scaled)
    return scaled


@functools.lru_cache(maxsize=None)
def _single_threaded_opencv():
    """Turns OpenCV's own thread pool off, once: tf.data already warps several images in parallel, and OpenCV
    splitting each small crop over threads costs about half again the CPU time of the warp (docs/benchmarks.md).
    """
    import cv2  # pylint: disable=import-outside-toplevel

    cv2.setNumThreads(1)


# cv2.warpAffine resamples 4-channel uint8 images with SIMD but not 3-channel ones: warping RGBA is about 2.3x
# faster for a 256x256 crop. Adding the alpha channel costs about 0.5 ns per source pixel against about 6 ns per
# crop pixel saved, so it is done when the source has at most this many times the crop's pixels.
_RGBA_WARP_MAX_SOURCE_RATIO = 8


def _warp_array_opencv(array, image_to_crop, height, width, fill_value, channel_scale, dtype):
    """One numpy image `(h, w, C)` -> its crop `(height, width, C)` of `dtype` (see `warp_image`).

    An empty image or a non-finite matrix (e.g. from a NaN crop centre) gives a crop of `fill_value` instead of an
    OpenCV assertion that would end the whole input pipeline; the input reader skips such labels before they get
    here (`decoder.check_labels`), this keeps any other caller alive too.
    """
    import cv2  # pylint: disable=import-outside-toplevel

    if array.size == 0 or not np.all(np.isfinite(image_to_crop)):
        crop = np.full((height, width, array.shape[-1]), fill_value, np.float32)
        if channel_scale is not None:
            return _scale_channels_opencv(crop, channel_scale, dtype)
        return np.rint(np.clip(crop, 0.0, 255.0)).astype(np.uint8) if dtype == "uint8" else crop.astype(array.dtype)

    via_rgba = (array.dtype == np.uint8 and array.ndim == 3 and array.shape[-1] == 3
                and array.shape[0] * array.shape[1] <= _RGBA_WARP_MAX_SOURCE_RATIO * height * width)
    source = cv2.cvtColor(array, cv2.COLOR_RGB2RGBA) if via_rgba else array
    # cv2.warpAffine takes the forward (image -> crop) matrix and, like TensorFlow, integer pixel centres.
    crop = cv2.warpAffine(source, image_to_crop[:2], (width, height), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(float(fill_value),) * 4)
    crop = cv2.cvtColor(crop, cv2.COLOR_RGBA2RGB) if via_rgba else crop.reshape(height, width, array.shape[-1])
    if channel_scale is not None:
        return _scale_channels_opencv(crop, channel_scale, dtype)
    if dtype == "uint8" and crop.dtype != np.uint8:
        return np.rint(np.clip(crop, 0.0, 255.0)).astype(np.uint8)
    return crop


def _warp_opencv(images, matrices, image_sizes, height, width, fill_value, channel_scale=None, dtype="float32"):
    _single_threaded_opencv()
    channels = images.shape[-1]
    if dtype == "uint8":
        out_dtype = tf.uint8
    else:
        out_dtype = images.dtype if channel_scale is None else tf.float32

    def warp(arrays, image_to_crop, sizes, *scale):
        crops = np.empty((len(arrays), height, width, arrays.shape[-1]), out_dtype.as_numpy_dtype)
        for index, array in enumerate(arrays):
            if sizes.size:
                array = array[:sizes[index, 0], :sizes[index, 1]]
            crops[index] = _warp_array_opencv(array, image_to_crop[index], height, width, fill_value,
                                              scale[0][index] if scale else None, dtype)
        return crops

    sizes = tf.zeros([0, 2], tf.int32) if image_sizes is None else tf.cast(image_sizes, tf.int32)
    inputs = [images, tf.cast(matrices, tf.float64), sizes]
    if channel_scale is not None:
        inputs.append(tf.cast(channel_scale, tf.float32))
    warped = tf.numpy_function(warp, inputs, out_dtype, stateful=False)
    warped = tf.reshape(warped, [-1, height, width, -1 if channels is None else channels])
    return tf.cast(warped, dtype)

"""TensorFlow graph pieces of the bytes signature: decode, crop a person box, map joints back.

The crop is the evaluation crop of the data pipeline: the box centre and size
go through `integral_keras.ops.crop_transform` (aspect fitted to the model
input, no rotation, no flip), and one bilinear warp (`ops.warp_image`) produces
the model input. Joints are mapped back with the inverse matrix.

Box convention: `[x, y, w, h]` in original-image pixels spans `[x, x + w] x [y, y + h]`
in the same continuous coordinates as the joints (pixel `i`'s centre at `i`), so
its centre is `(x + w / 2, y + h / 2)`, as in the data converters (e.g. the
synthetic generator's `center` and `bbox`). The box is a tight person box; it is
grown by `box_padding` (1.25 by default) like the converters grow theirs.
"""
import tensorflow as tf

from integral_keras import ops as pose_ops

#: A box side may be at most this many times the image's longer side (a person cannot be much larger than the
#: photograph; a 1e30 box would map joints back to about 1e30).
MAX_BOX_TO_IMAGE = 10.0


def check_box_in_image(box, image):
    """`box` unchanged, after checking that it intersects `image` `(H, W, 3)` and is not absurdly large.

    Raises InvalidArgumentError (at run time) otherwise.
    """
    size = tf.cast(tf.shape(image)[:2], tf.float32)  # (height, width)
    x, y, w, h = tf.unstack(tf.cast(box, tf.float32))
    intersects = (x < size[1]) & (y < size[0]) & (x + w > 0.0) & (y + h > 0.0)
    checks = [
        tf.debugging.Assert(intersects, ["box does not intersect the image: box [x, y, w, h] =", box,
                                         "image (height, width) =", size], summarize=4),
        tf.debugging.Assert(tf.maximum(w, h) <= MAX_BOX_TO_IMAGE * tf.reduce_max(size),
                            ["box is more than", MAX_BOX_TO_IMAGE, "times the longer side of the image: box =", box,
                             "image (height, width) =", size], summarize=4),
    ]
    with tf.control_dependencies(checks):
        return tf.identity(box)


def box_to_center_size(box, padding):
    """`[x, y, w, h]` -> centre `(2,)` and padded size `(2,)` float32 (see the module docstring)."""
    box = tf.cast(box, tf.float32)
    center = box[:2] + box[2:] / 2.0
    return center, box[2:] * padding


def decode_rgb(image_bytes):
    """Decodes one JPEG / PNG / GIF / BMP string to `(H, W, 3)` float32 RGB in [0, 255].

    Raises InvalidArgumentError (at run time) for empty or undecodable bytes.
    """
    tf.debugging.assert_greater(tf.strings.length(image_bytes), 0, message="image_bytes: empty string")
    image = tf.io.decode_image(image_bytes, channels=3, dtype=tf.uint8, expand_animations=False)
    return tf.cast(image, tf.float32)


def crop_person(image, box, input_size, padding):
    """Crops the person in `box` to the model input.

    Args:
      image: `(H, W, 3)` float32 image.
      box: `(4,)` `[x, y, w, h]` in image pixels.
      input_size: `(height, width)` of the model input.
      padding: Box enlargement factor.

    Returns:
      `(crop, matrix)`: `(height, width, 3)` float32 crop and the `(3, 3)`
      image-to-crop matrix.
    """
    center, size = box_to_center_size(box, padding)
    matrix = pose_ops.crop_transform(center, size, input_size)
    return pose_ops.warp_image(image, matrix, input_size), matrix


def check_bytes_and_boxes(image_bytes, boxes):
    """Validates a bytes-signature batch; returns `(image_bytes (N,), boxes (N, 4))`.

    `image_bytes` is a string scalar or vector; `boxes` is `(4,)` or `(N, 4)`.
    Every violation raises InvalidArgumentError with a message naming the input.
    """
    checks = [
        tf.debugging.assert_less_equal(tf.rank(image_bytes), 1,
                                       message="image_bytes must be a string scalar or a 1-D batch"),
        tf.debugging.assert_greater_equal(tf.rank(boxes), 1, message="box must have shape (4,) or (N, 4)"),
        tf.debugging.assert_less_equal(tf.rank(boxes), 2, message="box must have shape (4,) or (N, 4)"),
        tf.debugging.assert_equal(tf.shape(boxes)[-1], 4, message="box must have shape (4,) or (N, 4)"),
    ]
    with tf.control_dependencies(checks):
        image_bytes = tf.reshape(image_bytes, [-1])
        boxes = tf.reshape(tf.cast(boxes, tf.float32), [-1, 4])
    checks = [
        tf.debugging.assert_equal(tf.shape(image_bytes)[0], tf.shape(boxes)[0],
                                  message="image_bytes and box must have the same batch size"),
        tf.debugging.assert_greater(tf.shape(image_bytes)[0], 0, message="image_bytes: empty batch"),
        tf.debugging.assert_all_finite(boxes, message="box must be finite"),
        tf.debugging.assert_positive(boxes[:, 2:], message="box width and height must be > 0"),
    ]
    with tf.control_dependencies(checks):
        return tf.identity(image_bytes), tf.identity(boxes)


def crop_batch(image_bytes, boxes, input_size, padding):
    """Decodes and crops a batch: `(N,)` strings, `(N, 4)` boxes -> `(N, H, W, 3)` crops, `(N, 3, 3)` matrices."""
    height, width = input_size

    def crop_one(args):
        encoded, box = args
        image = decode_rgb(encoded)
        return crop_person(image, check_box_in_image(box, image), input_size, padding)

    return tf.map_fn(
        crop_one,
        (image_bytes, boxes),
        fn_output_signature=(tf.TensorSpec((height, width, 3), tf.float32), tf.TensorSpec((3, 3), tf.float32)),
    )


def crop_to_image(joints_px, matrices):
    """Maps crop pixels back to the original image: the inverse of the crop matrices (`ops.affine`), in the graph.

    Args:
      joints_px: `(N, K, 2)` joints in crop pixels.
      matrices: `(N, 3, 3)` image-to-crop matrices.

    Returns:
      `(N, K, 2)` float32 joints in original-image pixels.
    """
    return pose_ops.transform_points(pose_ops.invert_affine(matrices), joints_px)

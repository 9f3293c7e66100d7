"""Input normalisation layers: RGB images in [0, 255] -> what a backbone was trained on."""
import keras

from integral_keras.modeling.backbones.factory import get_backbone_spec

# ImageNet statistics of RGB images in [0, 255].
IMAGENET_MEAN_RGB = (0.485 * 255.0, 0.456 * 255.0, 0.406 * 255.0)
IMAGENET_STD_RGB = (0.229 * 255.0, 0.224 * 255.0, 0.225 * 255.0)
# Per-channel means subtracted by keras.applications' "caffe" mode, in BGR order.
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package="integral_keras")
class CaffePreprocessing(keras.layers.Layer):
    """RGB `[0, 255]` -> BGR with the ImageNet channel means subtracted.

    This is `keras.applications.resnet.preprocess_input` (mode `"caffe"`) as a
    serialisable layer, so `keras.applications` ResNet weights loaded from a
    local file see the inputs they were trained on.

    Input and output shape: `(N, H, W, 3)`.
    """

    def call(self, images):
        bgr = keras.ops.flip(images, axis=-1)
        return bgr - keras.ops.convert_to_tensor(CAFFE_MEAN_BGR, dtype=bgr.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape


def input_normalization(backbone: str) -> keras.layers.Layer:
    """The normalisation layer for `backbone`'s registered preprocessing mode.

    Returns:
      A layer mapping `(N, H, W, 3)` RGB `[0, 255]` to the backbone's input,
      named `input_normalization`.
    """
    mode = get_backbone_spec(backbone).preprocessing
    if mode == "caffe":
        return CaffePreprocessing(name="input_normalization")
    return keras.layers.Normalization(mean=IMAGENET_MEAN_RGB, variance=[s * s for s in IMAGENET_STD_RGB],
                                      name="input_normalization")

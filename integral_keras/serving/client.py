"""Clients for a TF Serving instance that serves an `export_saved_model` artifact.

REST (standard library only): `POST /v1/models/<name>[/versions/<v>]:predict`
with a row-format body `{"signature_name": ..., "instances": [...]}`; binary
inputs travel as `{"b64": "<base64>"}` (TF Serving decodes inputs whose name ends
with `_bytes` or that are DT_STRING from that form).

gRPC needs the optional `tensorflow-serving-api` package
(`pip install 'integral_keras[serving]'`); it is imported only when used.
"""
import base64
import json
import urllib.error
import urllib.request

import cv2
import numpy as np

from integral_keras.errors import InputError
from integral_keras.errors import UserError
from integral_keras.errors import tf_error_cause
from integral_keras.serving.saved_model import SERVE_IMAGE_BYTES
from integral_keras.serving.saved_model import SERVING_DEFAULT


class ServingError(UserError, RuntimeError):
    """TF Serving answered with an error, or with a body this client cannot read, or could not be reached.

    The message leads with the cause (TensorFlow's "Graph execution error:" preamble and node stack removed by
    `errors.tf_error_cause`), so that `scripts/serving_client.py` prints it as one line.
    """


def whole_image_box(image_bytes):
    """The box `[-0.5, -0.5, width, height]` covering every pixel of an encoded image (the default person box).

    Pixel `i` spans `[i - 0.5, i + 0.5]` in the joints' coordinates (see `image_crop`).
    """
    image = cv2.imdecode(np.frombuffer(image_bytes, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise InputError("Could not decode the image bytes to read their size (not a JPEG / PNG?).")
    return [-0.5, -0.5, float(image.shape[1]), float(image.shape[0])]


def _boxes_for(encoded_images, boxes):
    if boxes is None:
        return [whole_image_box(data) for data in encoded_images]
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    if len(boxes) != len(encoded_images):
        raise ValueError(f"Got {len(encoded_images)} images but {len(boxes)} boxes.")
    return boxes.tolist()


def rest_url(host, port, model_name, version=None):
    """The predict URL of `model_name` (latest version unless `version` is given)."""
    versioned = f"/versions/{int(version)}" if version is not None else ""
    return f"http://{host}:{int(port)}/v1/models/{model_name}{versioned}:predict"


def rest_bytes_body(encoded_images, boxes=None):
    """Request body for `serve_image_bytes`.

    Args:
      encoded_images: List of JPEG / PNG byte strings.
      boxes: `(N, 4)` person boxes `[x, y, w, h]` in image pixels, or None for
        whole-image boxes.

    Returns:
      A JSON-serialisable dict.
    """
    instances = [
        {"image_bytes": {"b64": base64.b64encode(data).decode("ascii")}, "box": box}
        for data, box in zip(encoded_images, _boxes_for(encoded_images, boxes))
    ]
    return {"signature_name": SERVE_IMAGE_BYTES, "instances": instances}


def rest_images_body(images):
    """Request body for `serving_default`: `(N, H, W, 3)` crops, RGB in [0, 255]."""
    images = np.asarray(images, np.float32)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"images must have shape (N, H, W, 3); got {images.shape}.")
    return {"signature_name": SERVING_DEFAULT, "instances": [{"images": image.tolist()} for image in images]}


def parse_rest_response(payload):
    """Turns a TF Serving predict response into `{output name: np.ndarray (N, ...)}`.

    Accepts the row format (`{"predictions": [{name: value}, ...]}`, or a plain
    list for a single output) and the columnar format (`{"outputs": {...}}`).

    Raises:
      ServingError: The response holds `error`, or neither format.
    """
    if isinstance(payload, (bytes, str)):
        try:
            payload = json.loads(payload)
        except json.JSONDecodeError as error:
            raise ServingError(f"TF Serving response is not JSON: {error}") from None
    if not isinstance(payload, dict):
        raise ServingError(f"Unexpected TF Serving response of type {type(payload).__name__}.")
    if "error" in payload:
        raise ServingError(f"{tf_error_cause(payload['error'])} (TF Serving's error)")
    if "outputs" in payload:
        outputs = payload["outputs"]
        return {k: np.asarray(v, np.float32) for k, v in outputs.items()} if isinstance(outputs, dict) \
            else {"output": np.asarray(outputs, np.float32)}
    if "predictions" in payload:
        rows = payload["predictions"]
        if rows and isinstance(rows[0], dict):
            return {key: np.asarray([row[key] for row in rows], np.float32) for key in rows[0]}
        return {"output": np.asarray(rows, np.float32)}
    raise ServingError(f"TF Serving response has neither 'predictions' nor 'outputs': keys {sorted(payload)}.")


def rest_predict(url, body, timeout=30.0):
    """POSTs `body` to `url` and parses the answer with `parse_rest_response`."""
    request = urllib.request.Request(url, data=json.dumps(body).encode("utf-8"),
                                     headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return parse_rest_response(response.read())
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")
        try:
            parse_rest_response(detail)
        except ServingError as serving_error:
            raise ServingError(f"HTTP {error.code} from {url}: {serving_error}") from None
        raise ServingError(f"HTTP {error.code} from {url}: {detail}") from None
    except urllib.error.URLError as error:
        raise ServingError(f"Cannot reach TF Serving at {url}: {error.reason}") from None
    except TimeoutError:
        raise ServingError(f"TF Serving at {url} timed out after {timeout} s") from None


def _serving_apis():
    try:
        from tensorflow_serving.apis import predict_pb2
        from tensorflow_serving.apis import prediction_service_pb2_grpc
    except ImportError as error:
        raise ImportError("The gRPC client needs the optional package tensorflow-serving-api: "
                          "pip install 'integral_keras[serving]' (or use the REST client).") from error
    return predict_pb2, prediction_service_pb2_grpc


def grpc_bytes_request(model_name, encoded_images, boxes=None, version=None):
    """A `PredictRequest` for `serve_image_bytes` (see `rest_bytes_body` for the arguments)."""
    import tensorflow as tf

    predict_pb2, _ = _serving_apis()
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = SERVE_IMAGE_BYTES
    if version is not None:
        request.model_spec.version.value = int(version)
    request.inputs["image_bytes"].CopyFrom(tf.make_tensor_proto(list(encoded_images), dtype=tf.string))
    boxes = np.asarray(_boxes_for(encoded_images, boxes), np.float32)
    request.inputs["box"].CopyFrom(tf.make_tensor_proto(boxes))
    return request


def grpc_predict(host, port, request, timeout=30.0):
    """Sends a `PredictRequest` over gRPC; returns `{output name: np.ndarray}`."""
    import grpc
    import tensorflow as tf

    _, service = _serving_apis()
    with grpc.insecure_channel(f"{host}:{int(port)}") as channel:
        try:
            response = service.PredictionServiceStub(channel).Predict(request, timeout=timeout)
        except grpc.RpcError as error:
            cause = tf_error_cause(error.details() or "")
            raise ServingError(f"gRPC Predict on {host}:{port} failed: {error.code()} {cause}") from None
    return {key: tf.make_ndarray(proto) for key, proto in response.outputs.items()}

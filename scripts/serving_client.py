"""Sends images to a running TF Serving that serves an export of scripts/export.py.

Usage:
  python scripts/serving_client.py --model_name=<name> --image=a.jpg --image=b.png \
      [--box=10,20,100,200 --box=...] [--host=localhost --rest_port=8501] [--protocol=grpc --grpc_port=8500]

Uses the `serve_image_bytes` signature: each image is sent encoded, with its
person box (default: the whole image); prints one JSON line per image with the
joints in original-image pixels and their confidences. gRPC needs the optional
package tensorflow-serving-api (pip install 'integral_keras[serving]').
"""
import json
import pathlib
import sys

from absl import app
from absl import flags

from integral_keras.configs import cli

FLAGS = flags.FLAGS
flags.DEFINE_multi_string("image", None, "Image file(s) to send (JPEG / PNG).")
flags.DEFINE_multi_string("box", None, "Person box x,y,w,h per image, in order; default: whole images.")
flags.DEFINE_string("model_name", None, "TF Serving MODEL_NAME.")
flags.DEFINE_integer("model_version", None, "Model version; default: the latest TF Serving loaded.")
flags.DEFINE_string("host", "localhost", "TF Serving host.")
flags.DEFINE_enum("protocol", "rest", ["rest", "grpc"], "Transport.")
flags.DEFINE_integer("rest_port", 8501, "TF Serving REST port.")
flags.DEFINE_integer("grpc_port", 8500, "TF Serving gRPC port.")
flags.DEFINE_float("timeout", 30.0, "Request timeout in seconds.")
flags.mark_flags_as_required(["image", "model_name"])


def _boxes(count):
    if not FLAGS.box:
        return None
    if len(FLAGS.box) != count:
        raise app.UsageError(f"Give one --box per --image ({count}); got {len(FLAGS.box)}.")
    boxes = [[float(v) for v in text.split(",")] for text in FLAGS.box]
    if any(len(box) != 4 for box in boxes):
        raise app.UsageError(f"Each --box is x,y,w,h; got {FLAGS.box}.")
    return boxes


def main(argv):
    del argv
    from integral_keras.serving import client

    paths = [pathlib.Path(p) for p in FLAGS.image]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"Image(s) not found: {missing}")
    encoded = [p.read_bytes() for p in paths]
    boxes = _boxes(len(encoded))
    if FLAGS.protocol == "rest":
        url = client.rest_url(FLAGS.host, FLAGS.rest_port, FLAGS.model_name, FLAGS.model_version)
        outputs = client.rest_predict(url, client.rest_bytes_body(encoded, boxes), timeout=FLAGS.timeout)
    else:
        request = client.grpc_bytes_request(FLAGS.model_name, encoded, boxes, FLAGS.model_version)
        outputs = client.grpc_predict(FLAGS.host, FLAGS.grpc_port, request, timeout=FLAGS.timeout)
    for i, path in enumerate(paths):
        record = {"image": str(path), **{key: value[i].tolist() for key, value in outputs.items()}}
        sys.stdout.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    cli.run(main)  # a TF Serving error or an unreadable image: one line, its cause first

"""Predicts the pose of one person in an image: joints JSON and a skeleton overlay PNG.

Usage:
  python scripts/predict.py --saved_model=saved_models/<name>/1 --image=person.jpg \
      --box=120,40,180,360 --output_json=pose.json --output_png=pose.png
  python scripts/predict.py --model_path=model.keras --config_file=configs/x.yaml --image=person.jpg

The box is `x,y,w,h` in image pixels (default: the whole image). Joints are in
original-image pixels (0-based, pixel centres at integers); see docs/serving.md
for the confidence definition.
"""
import json
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # noqa: E402
from absl import flags  # noqa: E402
from absl import logging  # noqa: E402

from integral_keras.configs import cli

FLAGS = flags.FLAGS
flags.DEFINE_string("image", None, "Image file (JPEG / PNG).")
flags.DEFINE_list("box", None, "Person box x,y,w,h in image pixels; default: the whole image.")
flags.DEFINE_string("saved_model", None, "SavedModel version directory from scripts/export.py.")
flags.DEFINE_string("model_path", None, "A .keras model (needs --config_file).")
flags.DEFINE_multi_string("config_file", None, "Experiment YAML file(s) describing the .keras model.")
flags.DEFINE_multi_string("params_override", None, "Dotted config overrides.")
flags.DEFINE_string("skeleton", None, "Skeleton for drawing (mpii, coco, h36m); default: the model's.")
flags.DEFINE_float("min_confidence", 0.0, "Joints at or below this confidence are not drawn.")
flags.DEFINE_string("output_json", "prediction.json", "Where to write the joints.")
flags.DEFINE_string("output_png", "prediction.png", "Where to write the overlay; empty to skip.")
flags.mark_flag_as_required("image")


def _predictor():
    from integral_keras import serving

    if (FLAGS.saved_model is None) == (FLAGS.model_path is None):
        raise app.UsageError("Give exactly one of --saved_model and --model_path.")
    if FLAGS.saved_model is not None:
        return serving.PosePredictor.from_saved_model(FLAGS.saved_model)
    if not FLAGS.config_file:
        raise app.UsageError("--model_path needs --config_file to describe the model.")
    from integral_keras.configs.experiment import load_experiment

    config = load_experiment(FLAGS.config_file, FLAGS.params_override)
    return serving.PosePredictor.from_keras(serving.load_pose_model(model_path=FLAGS.model_path), config)


def main(argv):
    del argv
    import cv2
    import numpy as np

    from integral_keras import visualization
    from integral_keras.data import skeletons

    image_path = pathlib.Path(FLAGS.image)
    if not image_path.is_file():
        raise FileNotFoundError(f"Image not found: {image_path}")
    from integral_keras.errors import InputError

    box = None
    if FLAGS.box:
        try:
            box = [float(v) for v in FLAGS.box]
        except ValueError:
            box = []
        if len(box) != 4:
            raise InputError(f"--box needs 4 numbers x,y,w,h; got {','.join(FLAGS.box)}")
    encoded = image_path.read_bytes()
    if cv2.imdecode(np.frombuffer(encoded, np.uint8), cv2.IMREAD_COLOR) is None:
        raise InputError(f"Cannot decode {image_path} as an image (JPEG, PNG, BMP or GIF expected)")
    predictor = _predictor()
    result = predictor.predict(encoded, box)
    record = {"image": str(image_path), "box": box, "skeleton": FLAGS.skeleton or predictor.spec.skeleton}
    record.update({key: value.tolist() for key, value in result.items()})
    pathlib.Path(FLAGS.output_json).write_text(json.dumps(record, indent=2), encoding="utf-8")
    logging.info("Joints written to %s", FLAGS.output_json)
    if FLAGS.output_png:
        bgr = cv2.imdecode(np.frombuffer(encoded, np.uint8), cv2.IMREAD_COLOR)
        name = record["skeleton"]
        skeleton = skeletons.get_skeleton(name) if name else skeletons.Skeleton(
            name="joints", joint_names=tuple(str(k) for k in range(predictor.spec.num_joints)), flip_pairs=(),
            bones=())
        drawn = visualization.draw_skeleton(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), result["joints"], skeleton,
                                            visible=result["confidence"] > FLAGS.min_confidence)
        cv2.imwrite(FLAGS.output_png, cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR))
        logging.info("Overlay written to %s", FLAGS.output_png)


if __name__ == "__main__":
    cli.run(main)

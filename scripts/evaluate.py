"""Evaluates a trained pose model with a benchmark's protocol, or compares the PCK curves of several runs.

    python scripts/evaluate.py --config_file=configs/paper/table1_mpii_r50_I1.yaml --checkpoint=/tmp/run/checkpoints \
        --gt_valid_mat=data/mpii/gt_valid.mat --flip_test --output_dir=/tmp/run/eval
    python scripts/evaluate.py --config_file=configs/paper/table6_coco_r101_I1.yaml --model_path=model.keras \
        --coco_gt_json=data/coco/annotations/person_keypoints_val2017.json --output_dir=/tmp/coco_eval
    python scripts/evaluate.py --config_file=configs/synthetic_2d.yaml --tflite_path=model_int8.tflite \
        --output_dir=/tmp/int8_eval      # an exported SavedModel (--saved_model_dir) or .tflite, same protocol
    python scripts/evaluate.py --compare=runs/H1/metrics.json,runs/I1/metrics.json --output_dir=/tmp/fig2
    python scripts/evaluate.py --config_file=configs/paper/table7_h36m_r50_strategy2_I1.yaml --checkpoint=... \
        --h36m_protocol=2 --compare_paper --output_dir=/tmp/run/eval   # the metrics next to the paper's
    python scripts/evaluate.py --config_file=configs/paper/table5_mpii_hourglass8_I1.yaml --checkpoint=... \
        --file_pattern=data/mpii/test-*-of-*.tfrecord --mpii_test_predictions=/tmp/pred_test.mat --flip_test \
        --output_dir=/tmp/test   # MPII test set: the evaluation server's prediction file, no metrics

Writes `<output_dir>/metrics.json`, `metrics.md` and (MPII / synthetic) `pck_curve.png`; COCO also writes
`coco_results.json`. With --compare, writes `<output_dir>/pck_curves.png` (the paper's Fig. 2). With
--compare_paper, also prints and writes `paper_comparison.md`: each number the config's `paper:` block reports
(configs/paper/) next to the evaluated one. With --mpii_test_predictions, writes that `.mat` file
(`evaluation.mpii_submission`: `preds` (N, 16, 2), 1-based original-image pixels) instead of evaluating.
The records come from `data.val_file_pattern` of the config (or --file_pattern); the benchmark from --dataset or,
by default, from the records' `dataset` feature.
"""
import json
import os

from absl import app
from absl import flags
from absl import logging

from integral_keras.configs import cli
from integral_keras.configs.experiment import load_experiment
from integral_keras.evaluation import mpii_submission
from integral_keras.evaluation import paper_comparison
from integral_keras.evaluation import protocols

FLAGS = flags.FLAGS
flags.DEFINE_multi_string("config_file", [], "YAML experiment file; repeat to merge several (later files win).")
flags.DEFINE_multi_string("params_override", [], "Dotted overrides 'a.b=value', comma-separated or repeated.")
flags.DEFINE_string("checkpoint", None, "TensorFlow checkpoint (prefix or the run's checkpoints/ folder) or a "
                                        ".weights.h5 file, restored into the model built from the config.")
flags.DEFINE_string("model_path", None, "A saved .keras model (loaded with safe_mode=True) instead of building one.")
flags.DEFINE_string("saved_model_dir", None, "An exported SavedModel version folder (its serving_default signature).")
flags.DEFINE_string("tflite_path", None, "An exported .tflite model, run with LiteRT.")
flags.DEFINE_enum("dataset", None, list(protocols.DATASETS), "Benchmark; default: the records' dataset feature.")
flags.DEFINE_list("file_pattern", None, "TFRecord glob(s) to evaluate; default: data.val_file_pattern.")
flags.DEFINE_bool("flip_test", False, "Average the predictions of each crop and of its mirror image.")
flags.DEFINE_string("gt_valid_mat", None, "MPII: the official gt_valid.mat (else the records' head boxes).")
flags.DEFINE_string("coco_gt_json", None, "COCO: the person-keypoints annotation file (required for COCO).")
flags.DEFINE_multi_integer("h36m_protocol", [1, 2], "Human3.6M protocols to evaluate (1: PA-MPJPE on S11, "
                                                    "2: MPJPE on S9 and S11).")
flags.DEFINE_integer("max_batches", None, "Evaluate only this many batches (a quick check, not the benchmark).")
flags.DEFINE_string("label", None, "Run name in the table and the plot; default: the output folder's name.")
flags.DEFINE_list("compare", None, "metrics.json files of several runs: plot their PCK curves in one PNG.")
flags.DEFINE_bool("compare_paper", False, "Print the evaluated metrics next to the numbers the paper reports for "
                                          "the config's row (its paper: block) and write paper_comparison.md.")
flags.DEFINE_string("mpii_test_predictions", None, "Write the MPII evaluation server's prediction file (.mat, "
                                                   "`preds` 1-based original-image pixels) for the records instead "
                                                   "of evaluating them (the test set has no public labels).")
flags.DEFINE_string("output_dir", None, "Where the metrics, table and plots are written.")
flags.mark_flag_as_required("output_dir")


def _predict_fn(config):
    """The predictor named by the flags: an exported SavedModel / .tflite, or the Keras model with its weights."""
    from integral_keras.serving import predict_fns  # TensorFlow loads only once a model is evaluated

    exported = [name for name in ("saved_model_dir", "tflite_path") if getattr(FLAGS, name)]
    if len(exported) > 1 or (exported and (FLAGS.model_path or FLAGS.checkpoint)):
        raise app.UsageError("Pass one model: --checkpoint and/or --model_path, or --saved_model_dir, or --tflite_path")
    if FLAGS.saved_model_dir:
        return predict_fns.saved_model_predict_fn(FLAGS.saved_model_dir)
    if FLAGS.tflite_path:
        return predict_fns.tflite_predict_fn(FLAGS.tflite_path)
    if FLAGS.model_path is None and FLAGS.checkpoint is None:
        raise app.UsageError("Pass --checkpoint, --model_path, --saved_model_dir or --tflite_path: a freshly "
                             "initialised model has nothing to evaluate")
    from integral_keras.serving.predictor import load_pose_model

    model = load_pose_model(config, model_path=FLAGS.model_path, checkpoint=FLAGS.checkpoint)
    return predict_fns.model_predict_fn(model, config.model)


def main(argv):
    del argv
    if FLAGS.compare:
        path = protocols.compare_runs(FLAGS.compare, os.path.join(FLAGS.output_dir, "pck_curves.png"))
        logging.info("Wrote %s", path)
        return
    if not FLAGS.config_file:
        raise app.UsageError("--config_file is required (the model and data settings of the run)")
    config = load_experiment(FLAGS.config_file, FLAGS.params_override)
    if FLAGS.compare_paper and not config.paper.table:
        raise app.UsageError(f"--compare_paper needs a config with a paper: block (configs/paper/); "
                             f"{FLAGS.config_file} has none")
    if FLAGS.mpii_test_predictions:
        path = mpii_submission.write_test_predictions(config, _predict_fn(config), FLAGS.mpii_test_predictions,
                                                      file_pattern=FLAGS.file_pattern, flip_test=FLAGS.flip_test,
                                                      max_batches=FLAGS.max_batches)
        print(f"Wrote MPII predictions {path}")
        return
    label = FLAGS.label or os.path.basename(os.path.normpath(FLAGS.output_dir))
    metrics = protocols.run_benchmark(
        config, _predict_fn(config), file_pattern=FLAGS.file_pattern,
        dataset=FLAGS.dataset, flip_test=FLAGS.flip_test, gt_valid_mat=FLAGS.gt_valid_mat,
        coco_gt_json=FLAGS.coco_gt_json, output_dir=FLAGS.output_dir, label=label,
        max_batches=FLAGS.max_batches, h36m_protocols=FLAGS.h36m_protocol)
    with open(os.path.join(FLAGS.output_dir, "metrics.md"), encoding="utf-8") as f:
        print(f.read())
    skipped = {name: count for name, count in metrics.get("records_skipped", {}).items() if count}
    print(f"Scored {metrics.get('num_examples')} examples; skipped {metrics.get('records_skipped_total', 0)} "
          f"records ({', '.join(f'{name} {count}' for name, count in skipped.items()) or 'none'}).")
    if FLAGS.compare_paper:
        table = paper_comparison.comparison_table(config.paper, metrics, label=label)
        with open(os.path.join(FLAGS.output_dir, "paper_comparison.md"), "w", encoding="utf-8") as f:
            f.write(table)
        print(table)
    logging.info("Metrics: %s", json.dumps({k: v for k, v in metrics.items() if not isinstance(v, (list, dict))}))


if __name__ == "__main__":
    cli.run(main)

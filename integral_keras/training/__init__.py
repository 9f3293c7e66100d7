"""Training under tf.distribute: a custom loop (`Trainer`), per-phase losses, schedules, checkpoints, summaries.

    from integral_keras.configs import load_experiment
    from integral_keras.training import get_strategy, run_experiment
    config = load_experiment(["configs/synthetic_2d.yaml"], ["train.total_steps=200"])
    run_experiment(config, "/tmp/run", mode="train", strategy=get_strategy("mirrored"))
"""
from integral_keras.training.distribution import get_strategy
from integral_keras.training.distribution import is_chief
from integral_keras.training.evaluator import PoseEvaluator
from integral_keras.training.objective import PoseObjective
from integral_keras.training.runner import build_trainer
from integral_keras.training.runner import run_experiment
from integral_keras.training.schedules import LearningRateController
from integral_keras.training.trainer import Trainer
from integral_keras.training.trainer import build_optimizer

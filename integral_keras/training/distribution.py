"""`tf.distribute` strategies by name, and who is the chief."""
from typing import Optional

from absl import logging
import tensorflow as tf

STRATEGIES = ("one_device", "mirrored", "multi_worker")


def get_strategy(name: str = "one_device", num_gpus: Optional[int] = None) -> tf.distribute.Strategy:
    """Builds a strategy.

    Args:
      name: `one_device` (the first GPU, else the CPU), `mirrored` (all or `num_gpus` local GPUs, else the CPU)
        or `multi_worker` (`MultiWorkerMirroredStrategy`; the cluster comes from the `TF_CONFIG` variable).
      num_gpus: GPUs to use; None uses every visible GPU.
    """
    gpus = [device.name for device in tf.config.list_logical_devices("GPU")]
    if num_gpus is not None:
        if num_gpus > len(gpus):
            raise ValueError(f"--num_gpus={num_gpus} but only {len(gpus)} GPUs are visible: {gpus}")
        gpus = gpus[:num_gpus]
    if name == "one_device":
        return tf.distribute.OneDeviceStrategy(gpus[0] if gpus else "/cpu:0")
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(gpus or ["/cpu:0"])
    if name == "multi_worker":
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        logging.info("MultiWorkerMirroredStrategy: task %s/%s, %d replicas in sync",
                     strategy.cluster_resolver.task_type, strategy.cluster_resolver.task_id,
                     strategy.num_replicas_in_sync)
        return strategy
    raise ValueError(f"unknown strategy {name!r}; expected one of {STRATEGIES}")


def task_of(strategy: tf.distribute.Strategy):
    """`(task_type, task_id)` of this process; `(None, None)` outside a multi-worker cluster."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not strategy.extended._in_multi_worker_mode():  # pylint: disable=protected-access
        return None, None
    return resolver.task_type, resolver.task_id


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes checkpoints and summaries (the chief, or worker 0 of a chief-less cluster)."""
    task_type, task_id = task_of(strategy)
    if task_type is None:
        return True
    return task_type == "chief" or (task_type == "worker" and task_id == 0
                                    and "chief" not in strategy.cluster_resolver.cluster_spec().as_dict())

"""Synthetic posed people on clutter with exact 2D / 3D labels, so everything runs without downloads.

    from integral_keras.data.synthetic import SyntheticPoseGenerator, write_dataset
    sample = SyntheticPoseGenerator("h36m", image_size=256, seed=0).sample(0, "train")
    write_dataset("/tmp/synthetic", num_train=3000, num_val=300)   # train-*/val-* TFRecord shards

Imports numpy and OpenCV only; TensorFlow is imported when records are made.
"""
from integral_keras.data.synthetic.generator import SyntheticPoseGenerator
from integral_keras.data.synthetic.generator import SyntheticSample
from integral_keras.data.synthetic.generator import file_pattern
from integral_keras.data.synthetic.generator import write_dataset

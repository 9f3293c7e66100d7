"""Installs integral_keras: Integral Human Pose Regression (Sun et al., ECCV 2018) for Keras 3."""
import pathlib

import setuptools

ROOT = pathlib.Path(__file__).parent
CORE = ["keras>=3.3", "numpy>=1.26", "PyYAML>=6.0", "absl-py>=2.0"]
TENSORFLOW = [
    "tensorflow>=2.16",
    "opencv-python-headless>=4.8",
    "scipy>=1.11",
    "pycocotools>=2.0.7",
    "tensorboard>=2.16",
    "matplotlib>=3.7",
    "tqdm>=4.66",
]

setuptools.setup(
    name="integral_keras",
    version="0.1.0",
    description="Integral Human Pose Regression (Sun et al., ECCV 2018) for Keras 3 / TensorFlow.",
    long_description=(ROOT / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    packages=setuptools.find_packages(include=["integral_keras", "integral_keras.*"]),
    python_requires=">=3.10,<3.13",
    # The core install is the model code (layers, losses, backbones, build_pose_model, configs), which uses Keras 3
    # only and runs on the TensorFlow, JAX and PyTorch backends. The data pipeline, training loop, evaluation,
    # export and the scripts need the `tensorflow` extra (`make test` / `make demo` install it with `test`).
    install_requires=CORE,
    extras_require={
        "tensorflow": TENSORFLOW,
        "jax": ["jax[cpu]>=0.4.30"],
        "torch": ["torch>=2.1"],
        # `scripts/benchmark.py training --reference=torch` (the same network in PyTorch). Only for benchmarking, in
        # its own environment: PyPI's default torch wheel brings about 5 GB of CUDA libraries, so `make test` never
        # installs it (docs/benchmarks.md).
        "bench": ["torch>=2.1"],
        "litert": ["ai-edge-litert>=1.2"],
        "serving": ["tensorflow-serving-api>=2.16"],
        "all": TENSORFLOW + ["ai-edge-litert>=1.2"],
        "test": TENSORFLOW + ["pytest>=8.0", "pytest-xdist>=3.5", "jax[cpu]>=0.4.30", "ai-edge-litert>=1.2"],
    },
    include_package_data=True,
)

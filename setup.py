"""Installs integral_keras: Integral Human Pose Regression (Sun et al., ECCV 2018) for Keras 3."""
import pathlib

import setuptools

ROOT = pathlib.Path(__file__).parent

setuptools.setup(
    name="integral_keras",
    version="0.1.0",
    description="Integral Human Pose Regression (Sun et al., ECCV 2018) for Keras 3 / TensorFlow.",
    long_description=(ROOT / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    packages=setuptools.find_packages(include=["integral_keras", "integral_keras.*"]),
    python_requires=">=3.10,<3.13",
    install_requires=[
        "tensorflow>=2.16",
        "keras>=3.3",
        "numpy>=1.26",
        "opencv-python-headless>=4.8",
        "absl-py>=2.0",
        "PyYAML>=6.0",
        "scipy>=1.11",
        "pycocotools>=2.0.7",
        "tensorboard>=2.16",
        "matplotlib>=3.7",
        "tqdm>=4.66",
    ],
    extras_require={
        "test": ["pytest>=8.0", "pytest-xdist>=3.5", "jax[cpu]>=0.4.30", "ai-edge-litert>=1.2"],
        "litert": ["ai-edge-litert>=1.2"],
        "serving": ["tensorflow-serving-api>=2.16"],
    },
    include_package_data=True,
)

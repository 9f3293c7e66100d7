"""Data: TFRecord schema, decoder and writer, parser and input reader, synthetic data, converters.

Submodules are imported explicitly (e.g. `from integral_keras.data import schema`); importing this package loads
nothing heavy (no TensorFlow, no OpenCV).
"""

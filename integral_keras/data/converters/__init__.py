"""Converters from real data sets (COCO, MPII, Human3.6M, generic JSON lines) to the package's TFRecords.

Each `convert_*` reads its annotation files, writes `<output_prefix>-0000i-of-0000n.tfrecord` shards in the
schema of `integral_keras.data.schema` and returns a `ConversionSummary` (records written, skips per reason).
Input formats and conventions: docs/datasets.md.
"""
from integral_keras.data.converters.coco import convert_coco
from integral_keras.data.converters.common import ConversionSummary
from integral_keras.data.converters.common import Record
from integral_keras.data.converters.common import Skipped
from integral_keras.data.converters.common import convert
from integral_keras.data.converters.h36m import convert_h36m
from integral_keras.data.converters.jsonl import convert_jsonl
from integral_keras.data.converters.mpii import convert_mpii

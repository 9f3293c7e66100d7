"""Export for serving: SavedModel with TF Serving signatures, TFLite, inference and client helpers.

See docs/serving.md.
"""
from integral_keras.serving.confidence import heatmap_peak
from integral_keras.serving.confidence import joint_confidence
from integral_keras.serving.confidence import window_mass
from integral_keras.serving.pose_decoder import PoseDecoder
from integral_keras.serving.predict_fns import model_predict_fn
from integral_keras.serving.predict_fns import saved_model_predict_fn
from integral_keras.serving.predict_fns import tflite_predict_fn
from integral_keras.serving.predictor import PosePredictor
from integral_keras.serving.predictor import load_pose_model
from integral_keras.serving.predictor import restore_weights
from integral_keras.serving.saved_model import SERVE_IMAGE_BYTES
from integral_keras.serving.saved_model import SERVING_DEFAULT
from integral_keras.serving.saved_model import ServingFunctions
from integral_keras.serving.saved_model import export_saved_model
from integral_keras.serving.saved_model import load_serving_spec
from integral_keras.serving.spec import ServingSpec
from integral_keras.serving.tflite import QUANTIZATIONS
from integral_keras.serving.tflite import LiteRTPoseModel
from integral_keras.serving.tflite import export_tflite
from integral_keras.serving.tflite import export_tflite_files
from integral_keras.serving.tflite import tflite_paths

"""Evaluation: MPII PCKh, torso PCK, Human3.6M MPJPE / PA-MPJPE and protocols, COCO OKS-NMS and COCOeval,
flip test, curves and reports. Numpy / scipy / pycocotools only; no TensorFlow import."""
from integral_keras.evaluation.baseline import mean_pose_metrics
from integral_keras.evaluation.coco import coco_keypoint_eval
from integral_keras.evaluation.coco import oks
from integral_keras.evaluation.coco import oks_nms
from integral_keras.evaluation.coco import postprocess as coco_postprocess
from integral_keras.evaluation.coco import rescore
from integral_keras.evaluation.coco import results_to_coco
from integral_keras.evaluation.coco import write_results as write_coco_results
from integral_keras.evaluation.flip import flip_test
from integral_keras.evaluation.flip import flip_test_heatmaps
from integral_keras.evaluation.h36m import ACTION_NAMES
from integral_keras.evaluation.h36m import back_project
from integral_keras.evaluation.h36m import evaluate_protocol as h36m_evaluate_protocol
from integral_keras.evaluation.h36m import mpjpe
from integral_keras.evaluation.h36m import pa_mpjpe
from integral_keras.evaluation.h36m import procrustes_align
from integral_keras.evaluation.h36m import protocol_mask as h36m_protocol_mask
from integral_keras.evaluation.mpii import evaluate_gt_valid as mpii_pckh_gt_valid
from integral_keras.evaluation.mpii import load_gt_valid as load_mpii_gt_valid
from integral_keras.evaluation.mpii import mpii_pckh
from integral_keras.evaluation.pck_metrics import area_under_curve
from integral_keras.evaluation.pck_metrics import pck
from integral_keras.evaluation.pck_metrics import torso_pck
from integral_keras.evaluation.plots import plot_pck_curves
from integral_keras.evaluation.report import markdown_table
from integral_keras.evaluation.report import write_metrics_json
from integral_keras.evaluation.report import write_report
from integral_keras.core.crop_mapping import crop_to_image

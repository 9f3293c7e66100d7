"""Skeleton and heat-map drawing (OpenCV; RGB uint8 images)."""
from integral_keras.visualization.heatmap import heatmap_overlay
from integral_keras.visualization.skeleton import draw_skeleton

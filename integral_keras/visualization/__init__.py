"""Skeleton and heat-map drawing (OpenCV; RGB uint8 images), comparison figures, 3D views and training curves."""
from integral_keras.visualization.curves import loss_tags
from integral_keras.visualization.curves import plot_loss_curves
from integral_keras.visualization.curves import read_scalars
from integral_keras.visualization.heatmap import heatmap_overlay
from integral_keras.visualization.panels import crop_panel
from integral_keras.visualization.panels import pose_comparison
from integral_keras.visualization.panels import stack_images
from integral_keras.visualization.pose3d import pose_views_3d
from integral_keras.visualization.skeleton import SIDE_COLORS
from integral_keras.visualization.skeleton import bone_sides
from integral_keras.visualization.skeleton import draw_skeleton
from integral_keras.visualization.skeleton import joint_sides
from integral_keras.visualization.skeleton import side_colors

"""Independent float64 numpy references for the heat-map layers' tests.

Written from the paper's formulas on the full `(K, H, W, D)` grid, without the
layers' marginal shortcuts.
"""
import numpy as np


def joint_cells(logits, num_joints, depth):
    """`(N, H, W, K*D)` -> `(N, K, H, W, D)` float64 (channel k*D + d)."""
    n, h, w, _ = logits.shape
    cells = np.asarray(logits, np.float64).reshape(n, h, w, num_joints, depth)
    return cells.transpose(0, 3, 1, 2, 4)


def softmax(logits, num_joints, depth, beta):
    """Per-joint softmax over D*H*W cells, returned as `(N, K, H, W, D)`."""
    cells = beta * joint_cells(logits, num_joints, depth)
    cells = cells - cells.max(axis=(2, 3, 4), keepdims=True)
    e = np.exp(cells)
    return e / e.sum(axis=(2, 3, 4), keepdims=True)


def softmax_channels(logits, num_joints, depth, beta):
    """The softmax laid back out as `(N, H, W, K*D)`."""
    p = softmax(logits, num_joints, depth, beta)
    return p.transpose(0, 2, 3, 1, 4).reshape(np.shape(logits))


def _grids(h, w, d):
    hh, ww, dd = np.meshgrid(np.arange(h), np.arange(w), np.arange(d), indexing="ij")
    return ww, hh, dd


def integral(logits, num_joints, depth, beta):
    """Eq. 2-4: `(N, K, 2|3)` expectations of (x, y[, z])."""
    p = softmax(logits, num_joints, depth, beta)
    _, _, h, w, d = p.shape
    coords = [(p * g).sum(axis=(2, 3, 4)) for g in _grids(h, w, d)]
    return np.stack(coords[:2] if depth == 1 else coords, axis=-1)


def debiased_integral(logits, num_joints, depth, beta):
    """Gu et al. 2021: J = (C * J_hat - M * centre) / (C - M), no clipping."""
    j_hat = integral(logits, num_joints, depth, beta)
    cells = joint_cells(logits, num_joints, depth)
    _, _, h, w, d = cells.shape
    c = np.exp(beta * cells).sum(axis=(2, 3, 4))[..., None]
    m = h * w * d
    centre = np.array([(w - 1) / 2, (h - 1) / 2, (d - 1) / 2])[: j_hat.shape[-1]]
    return (c * j_hat - m * centre) / (c - m)


def marginals(logits, num_joints, depth, beta):
    """Eq. 5: dict of `(N, K, W)`, `(N, K, H)` and, for depth > 1, `(N, K, D)`."""
    p = softmax(logits, num_joints, depth, beta)
    result = {"marginal_x": p.sum(axis=(2, 4)), "marginal_y": p.sum(axis=(3, 4))}
    if depth > 1:
        result["marginal_z"] = p.sum(axis=(2, 3))
    return result


def argmax(logits, num_joints, depth):
    """`(N, K, 2|3)` (x, y[, z]) of each joint's first maximal cell."""
    cells = joint_cells(logits, num_joints, depth)
    n, k, h, w, d = cells.shape
    flat = cells.reshape(n, k, -1).argmax(axis=-1)
    hh, ww, dd = np.unravel_index(flat, (h, w, d))
    coords = [ww, hh, dd]
    return np.stack(coords[:2] if depth == 1 else coords, axis=-1).astype(np.float64)


def _squared_distance(height, width, centre_xy):
    yy, xx = np.mgrid[0:height, 0:width]
    return (xx - centre_xy[0]) ** 2 + (yy - centre_xy[1]) ** 2


def _as_logits(plane, num_joints):
    return np.repeat(plane[None, :, :, None], num_joints, axis=-1).astype(np.float32)


def gaussian_logits(height, width, centre_xy, sigma, amplitude, num_joints=1):
    """`(1, H, W, K)` logits `amplitude * exp(-r^2 / (2 sigma^2))` around `centre_xy`."""
    r2 = _squared_distance(height, width, centre_xy)
    return _as_logits(amplitude * np.exp(-r2 / (2.0 * sigma**2)), num_joints)


def log_gaussian_logits(height, width, centre_xy, sigma, num_joints=1):
    """`(1, H, W, K)` logits `-r^2 / (2 sigma^2)`: their softmax is a sampled Gaussian."""
    r2 = _squared_distance(height, width, centre_xy)
    return _as_logits(-r2 / (2.0 * sigma**2), num_joints)

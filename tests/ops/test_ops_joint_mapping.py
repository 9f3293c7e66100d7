"""The MPII -> Human3.6M joint mapping of Strategy 2, pinned joint by joint and compared with the official code."""
import numpy as np

from integral_keras.data import skeletons
from integral_keras.data.synthetic import body_model
from integral_keras.ops import keypoints

# H36M joint -> the MPII joint that supervises it (None: no MPII joint, weight 0). docs/architecture.md.
MPII_TO_H36M = {
    "pelvis": "pelvis", "r_hip": "r_hip", "r_knee": "r_knee", "r_ankle": "r_ankle",
    "l_hip": "l_hip", "l_knee": "l_knee", "l_ankle": "l_ankle", "spine": None,
    "thorax": "thorax", "neck": "upper_neck", "head": "head_top",
    "l_shoulder": "l_shoulder", "l_elbow": "l_elbow", "l_wrist": "l_wrist",
    "r_shoulder": "r_shoulder", "r_elbow": "r_elbow", "r_wrist": "r_wrist",
}

# The official table (JimmySuen/integral-human-pose, pytorch_projects/common_pytorch/dataset/hm36.py,
# `s_mpii_2_hm36_jt`): MPII index per joint of its 18-joint H36M skeleton (the 17 of the protocol + an appended
# shoulder-midpoint `Thorax`), -1 for none. Its first 17 joints are ours in the same order.
OFFICIAL_MPII_TO_H36M_18 = [6, 2, 1, 0, 3, 4, 5, -1, 8, -1, 9, 13, 14, 15, 12, 11, 10, 7]


def test_mapping_table_joint_by_joint():
    index = keypoints.joint_index_map("mpii", "h36m")
    assert len(index) == skeletons.H36M.num_joints == len(MPII_TO_H36M)
    for h36m_index, h36m_name in enumerate(skeletons.H36M.joint_names):
        mpii_name = MPII_TO_H36M[h36m_name]
        got = index[h36m_index]
        if mpii_name is None:
            assert got == -1, h36m_name
        else:
            assert skeletons.MPII.joint_names[got] == mpii_name, (h36m_name, skeletons.MPII.joint_names[got])


def test_every_mpii_joint_supervises_exactly_one_h36m_joint():
    index = keypoints.joint_index_map("mpii", "h36m")
    used = sorted(int(i) for i in index if i >= 0)
    assert used == list(range(skeletons.MPII.num_joints))


def test_differs_from_the_official_table_only_at_thorax_and_neck():
    ours = keypoints.joint_index_map("mpii", "h36m")
    official = np.asarray(OFFICIAL_MPII_TO_H36M_18[:skeletons.H36M.num_joints])
    differ = [skeletons.H36M.joint_names[k] for k in np.flatnonzero(ours != official)]
    assert differ == ["thorax", "neck"]
    mpii = skeletons.MPII.joint_names
    # Official: MPII upper_neck -> H36M index 8 (our thorax), nothing -> index 9 (our neck), MPII thorax -> 18th.
    assert mpii[official[skeletons.H36M.index("thorax")]] == "upper_neck"
    assert official[skeletons.H36M.index("neck")] == -1
    assert mpii[OFFICIAL_MPII_TO_H36M_18[17]] == "thorax"


def test_mapping_is_exact_on_the_synthetic_body():
    # Both synthetic skeletons are read off one body: remapped MPII joints equal the H36M joints they supervise.
    rng = np.random.default_rng(3)
    body = body_model.forward_kinematics(body_model.sample_body_shape(rng), body_model.sample_angles(rng))
    mpii = body_model.to_skeleton(body, "mpii")
    h36m = body_model.to_skeleton(body, "h36m")
    index = keypoints.joint_index_map("mpii", "h36m")
    mapped = index >= 0
    np.testing.assert_allclose(mpii[index[mapped]], h36m[mapped])

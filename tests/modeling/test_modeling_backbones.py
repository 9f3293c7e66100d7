"""Tests for the backbone registry and the ResNet / hourglass / multi-stage backbones."""
import numpy as np
import pytest

import keras

from integral_keras.modeling.backbones import factory, get_backbone, get_backbone_spec, register_backbone


def _trainable_count(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def _image(size=64, batch=2, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, size, size, 3)).astype("float32")


# Published parameter counts (torchvision ResNet-18/34 without `fc`; keras.applications ResNet-50 no-top).
@pytest.mark.parametrize("name, trainable", [("resnet18", 11_176_512), ("resnet34", 21_284_672)])
def test_basic_resnet_parameter_counts(name, trainable):
    model = get_backbone(name, input_shape=(64, 64, 3))
    assert _trainable_count(model) == trainable


def test_resnet50_parameter_count():
    model = get_backbone("resnet50", input_shape=(64, 64, 3))
    assert model.count_params() == 23_587_712


@pytest.mark.slow
@pytest.mark.parametrize("name, total", [("resnet101", 42_658_176), ("resnet152", 58_370_944)])
def test_deep_resnet_parameter_counts(name, total):
    # keras.applications' published totals (44,707,176 / 60,419,944) minus the 2048x1000 classifier.
    assert get_backbone(name, input_shape=(64, 64, 3)).count_params() == total


@pytest.mark.parametrize("name, channels", [("resnet18", (64, 128, 256, 512)), ("resnet50", (256, 512, 1024, 2048))])
def test_resnet_feature_levels(name, channels):
    model = get_backbone(name, input_shape=(64, 96, 3))
    assert sorted(model.output) == ["C2", "C3", "C4", "C5"]
    for level, c in zip((2, 3, 4, 5), channels):
        stride = 2 ** level
        assert tuple(model.output[f"C{level}"].shape) == (None, 64 // stride, 96 // stride, c)


def test_basic_resnet_convolutions_have_no_bias():
    model = get_backbone("resnet18", input_shape=(64, 64, 3))
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) == 1 + 2 * 8 + 3  # stem, two per basic block, three projection shortcuts
    assert not any(conv.use_bias for conv in convs)


def _hourglass_param_count(num_stacks, num_outputs, f=256):
    """Independent count of Newell et al.'s stacked hourglass (convs with bias, BN: 4 params/channel)."""
    def conv(k, cin, cout):
        return k * k * cin * cout + cout

    def bn(c):
        return 4 * c

    def residual(cin, cout):
        h = cout // 2
        count = bn(cin) + conv(1, cin, h) + bn(h) + conv(3, h, h) + bn(h) + conv(1, h, cout)
        return count + (conv(1, cin, cout) if cin != cout else 0)

    hourglass = 13 * residual(f, f)  # 3 per level x 4 levels + the innermost one
    stem = conv(7, 3, 64) + bn(64) + residual(64, 128) + residual(128, 128) + residual(128, f)
    stack = hourglass + residual(f, f) + conv(1, f, f) + bn(f) + conv(1, f, num_outputs)
    remap = conv(1, f, f) + conv(1, num_outputs, f)
    return stem + num_stacks * stack + (num_stacks - 1) * remap


@pytest.mark.parametrize("num_stacks", [1, 2])
def test_hourglass_structure(num_stacks):
    model = get_backbone("hourglass", input_shape=(64, 64, 3), num_outputs=5, num_stages=num_stacks)
    assert model.count_params() == _hourglass_param_count(num_stacks, 5)
    expected = {}
    for s in range(num_stacks):
        expected[f"heatmaps_stage{s}"] = (None, 16, 16, 5)
        expected[f"features_stage{s}"] = (None, 16, 16, 256)
    assert {k: tuple(v.shape) for k, v in model.output.items()} == expected
    if num_stacks == 2:
        # Intermediate supervision: stack 0's heat maps feed stack 1.
        remap = model.get_layer("stack0_remap_heatmaps")
        assert remap.input is model.get_layer("stack0_logits").output


def test_hourglass_width():
    model = get_backbone("hourglass", input_shape=(64, 64, 3), num_outputs=5, num_stages=2, num_features=64)
    assert model.count_params() == _hourglass_param_count(2, 5, f=64)
    assert tuple(model.output["features_stage1"].shape) == (None, 16, 16, 64)


def test_multistage_structure():
    model = get_backbone("multistage_resnet50", input_shape=(64, 64, 3), num_outputs=6, num_stages=2,
                         num_deconv=2, deconv_filters=32)
    assert {k: tuple(v.shape) for k, v in model.output.items()} == {
        "heatmaps_stage0": (None, 8, 8, 6), "features_stage0": (None, 2, 2, 2048),
        "heatmaps_stage1": (None, 8, 8, 6), "features_stage1": (None, 2, 2, 2048)}
    names = [layer.name for layer in model.layers]
    assert names.count("conv3_block4_out") == 1 and not any(n.startswith("conv4_") for n in names)
    # Stage 1's first block sees conv3 features (512) + stage 0's heat maps resized to 8x8.
    first = model.get_layer("stage1_conv4_block1_1_conv")
    assert first.kernel.shape == (1, 1, 512 + 6, 256)
    assert model.get_layer("stage0_conv4_block1_1_conv").kernel.shape == (1, 1, 512, 256)
    assert tuple(model.get_layer("stage1_concat").input[1].shape) == (None, 8, 8, 6)


def test_pretrained_round_trip_and_errors(tmp_path):
    source = get_backbone("resnet18", input_shape=(64, 64, 3))
    path = str(tmp_path / "resnet18.weights.h5")
    source.save_weights(path)
    loaded = get_backbone("resnet18", input_shape=(64, 64, 3), pretrained=path)
    fresh = get_backbone("resnet18", input_shape=(64, 64, 3))
    x = _image()
    expected = source(x, training=False)["C5"]
    np.testing.assert_array_equal(loaded(x, training=False)["C5"], expected)
    assert not np.allclose(fresh(x, training=False)["C5"], expected)

    missing = str(tmp_path / "nope.weights.h5")
    with pytest.raises(FileNotFoundError, match="nope.weights.h5"):
        get_backbone("resnet18", input_shape=(64, 64, 3), pretrained=missing)
    with pytest.raises(ValueError, match="does not match backbone 'resnet34'"):
        get_backbone("resnet34", input_shape=(64, 64, 3), pretrained=path)


def test_multistage_pretrained_from_resnet50_file(tmp_path):
    reference = keras.applications.ResNet50(include_top=False, weights=None, input_shape=(64, 64, 3))
    path = str(tmp_path / "resnet50_notop.weights.h5")
    reference.save_weights(path)
    model = get_backbone("multistage_resnet50", input_shape=(64, 64, 3), num_outputs=3, num_stages=2,
                         num_deconv=0, pretrained=path)
    kernel = lambda m, name: keras.ops.convert_to_numpy(m.get_layer(name).kernel)  # noqa: E731
    np.testing.assert_array_equal(kernel(model, "conv1_conv"), kernel(reference, "conv1_conv"))
    for s in range(2):
        np.testing.assert_array_equal(kernel(model, f"stage{s}_conv5_block3_3_conv"),
                                      kernel(reference, "conv5_block3_3_conv"))
    stage1 = kernel(model, "stage1_conv4_block1_0_conv")
    np.testing.assert_array_equal(stage1[:, :, :512], kernel(reference, "conv4_block1_0_conv"))
    assert np.abs(stage1[:, :, 512:]).sum() > 0  # heat-map inputs keep their own initialisation


def test_factory_errors_and_registration():
    with pytest.raises(ValueError) as info:
        get_backbone("resnet19")
    for name in ("resnet18", "resnet50", "hourglass", "multistage_resnet50"):
        assert name in str(info.value)
    with pytest.raises(ValueError, match="already registered"):
        register_backbone("resnet18", stride=32)(lambda **kwargs: None)

    @register_backbone("test_tiny_backbone", stride=8)
    def tiny(input_shape, pretrained=None):
        inputs = keras.Input(input_shape)
        return keras.Model(inputs, {"C5": keras.layers.Conv2D(4, 8, strides=8)(inputs)})

    try:
        assert get_backbone_spec("test_tiny_backbone").stride == 8
        assert tuple(get_backbone("test_tiny_backbone", input_shape=(32, 32, 3)).output["C5"].shape) == (
            None, 4, 4, 4)
    finally:
        factory._REGISTRY.pop("test_tiny_backbone")


@pytest.mark.slow
def test_resnet50_loads_keras_applications_legacy_h5(tmp_path):
    # The format of keras.applications' downloadable no-top weights (legacy Keras HDF5).
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    reference = keras.applications.ResNet50(include_top=False, weights=None, input_shape=(64, 64, 3))
    path = str(tmp_path / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5")
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, reference)
    model = get_backbone("resnet50", input_shape=(64, 64, 3), pretrained=path)
    x = _image()
    np.testing.assert_allclose(model(x, training=False)["C5"], reference(x, training=False), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="does not match backbone 'resnet101'"):
        get_backbone("resnet101", input_shape=(64, 64, 3), pretrained=path)

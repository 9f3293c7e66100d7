"""ExperimentConfig / TrainConfig: YAML merging, strict dotted overrides, errors that name the key."""
import pytest

from integral_keras.configs import ConfigError, ExperimentConfig, TrainConfig, load_experiment
from integral_keras.configs.experiment import split_overrides


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_files_merge_in_order_and_overrides_win(tmp_path):
    first = _write(tmp_path, "a.yaml", "train:\n  total_steps: 50\n  learning_rate: 0.01\ndata:\n  batch_size: 8\n")
    second = _write(tmp_path, "b.yaml", "train:\n  total_steps: 70\n")
    config = load_experiment([first, second], "data.batch_size=4,train.lr_boundaries=(10, 20),"
                                              "train.lr_values=1e-4,1e-5")
    assert config.train.total_steps == 70  # second file
    assert config.train.learning_rate == 0.01  # kept from the first file
    assert config.data.batch_size == 4  # override
    assert config.train.lr_boundaries == (10, 20)
    assert config.train.lr_values == (1e-4, 1e-5)


def test_split_overrides_keeps_commas_inside_values():
    assert split_overrides(["a.b=1,c=(2, 3)", "d.e=x"]) == ["a.b=1", "c=(2, 3)", "d.e=x"]
    assert split_overrides(None) == []


@pytest.mark.parametrize("override, key", [
    ("train.totl_steps=3", "train.totl_steps"),
    ("trian.total_steps=3", "trian"),
    ("train.total_steps=many", "train.total_steps"),
    ("train.lr_schedule=cosine", "train.lr_schedule"),
    ("train.lr_values=1e-5", "train.lr_values"),
    ("model.num_joints=17", "model.num_joints"),
    ("train.heatmap_pretrain_steps=5", "train.heatmap_pretrain_steps"),
])
def test_bad_overrides_name_the_key(override, key):
    extra = ["model.method=H1"] if "pretrain" in override else []
    with pytest.raises(ConfigError) as error:
        load_experiment([], extra + [override])
    assert error.value.key == key
    assert key in str(error.value)


def test_unknown_yaml_key_names_the_key_and_valid_ones(tmp_path):
    path = _write(tmp_path, "bad.yaml", "eval:\n  max_batchez: 3\n")
    with pytest.raises(ConfigError, match=r"eval\.max_batchez.*max_batches"):
        load_experiment([path])


def test_missing_config_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.yaml"):
        load_experiment([str(tmp_path / "nope.yaml")])


def test_to_dict_round_trip():
    config = load_experiment([], ["train.total_steps=9", "model.method=Istar"])
    assert ExperimentConfig.from_dict(config.to_dict()) == config


def test_train_config_rejects_non_increasing_boundaries():
    with pytest.raises(ConfigError, match="lr_boundaries"):
        TrainConfig.from_dict({"lr_boundaries": [20, 10], "lr_values": [1e-4, 1e-5]})


@pytest.mark.parametrize("name", ["synthetic_2d", "synthetic_3d"])
def test_shipped_synthetic_configs_load(name):
    config = load_experiment([f"configs/{name}.yaml"])
    assert config.model.input_hw[0] <= 128
    assert config.data.train_file_pattern and config.data.val_file_pattern
    assert (config.model.depth > 1) == (name == "synthetic_3d")

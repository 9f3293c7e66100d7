"""The README's "Using the layers in your own model" example runs: layers, losses and packed targets in model.fit."""
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_readme_layer_example_fits():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Using the layers in your own model"):]
    start = section.index("```python\n") + len("```python\n")
    code = section[start:section.index("```", start)]
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)  # pylint: disable=exec-used
    model, targets = namespace["model"], namespace["targets"]
    assert targets["joints"].shape == (8, 16, 4) and targets["heatmaps"].shape == (8, 16, 16, 16 + 16)
    assert tuple(model.get_layer("joints").output.shape) == (None, 16, 2)
    assert len(model.history.history["loss"]) == 1

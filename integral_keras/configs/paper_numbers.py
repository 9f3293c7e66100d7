"""The paper's reported numbers, carried by each `configs/paper/*.yaml` in a typed `paper:` block.

Every experiment of `configs/paper/` states the table row of Sun et al., *Integral Human Pose Regression*
(ECCV 2018) it reproduces and the number(s) the paper reports for that row:

    paper:
      table: "7"                 # "1".."11"; a sub-table as "10(A)"
      row: "Strategy 2, I1"
      results:
      - metric: MPJPE            # one of METRICS
        protocol: h36m_p2        # one of PROTOCOLS
        value: null              # the paper's number, or null while it is not transcribed
        status: not_transcribed  # "transcribed" / "quoted" exactly when value is set
        note: "..."              # where the value comes from, or why it is missing

A value is `transcribed` only from the paper's text. A value taken from a quotation of the paper (issue 13
quotes five numbers, issue 20 of the authors' repository one more) is `quoted`: it is used everywhere a transcribed
one is, and marked `(quoted)` wherever it is shown, until someone checks it against the paper's tables and makes
it `transcribed`. A number that could not be read stays `null` with status `not_transcribed` (never a guess).
`configs/paper/README.md` is generated from these blocks by `render_readme` (`python scripts/make_paper_readme.py`;
a test checks that the file agrees), and `scripts/evaluate.py --compare_paper` prints the evaluated metrics next to
them (`evaluation.paper_comparison.compare_with_paper`).
"""
import dataclasses
import glob
import os
import re
from typing import List, Optional, Sequence, Tuple

from integral_keras.configs.base import Config, ConfigError

#: metric name -> unit. Percentages for MPII / COCO, millimetres for Human3.6M.
METRICS = {"PCKh@0.5": "%", "PCKh@0.1": "%", "AUC": "%", "AP": "%", "MPJPE": "mm", "PA-MPJPE": "mm"}
#: evaluation protocol of a reported number.
PROTOCOLS = {
    "mpii_val": "MPII validation set (PCKh)",
    "mpii_test": "MPII test set (evaluation server)",
    "coco_val2017": "COCO val2017",
    "coco_test-dev": "COCO test-dev",
    "h36m_p1": "Human3.6M Protocol 1 (train S1 S5 S6 S7 S8 S9; PA-MPJPE on every 64th frame of S11)",
    "h36m_p2": "Human3.6M Protocol 2 (train S1 S5 S6 S7 S8; MPJPE on every 64th frame of S9 and S11)",
}
#: which protocols each metric can be reported under.
METRIC_PROTOCOLS = {
    "PCKh@0.5": ("mpii_val", "mpii_test"), "PCKh@0.1": ("mpii_val", "mpii_test"), "AUC": ("mpii_val", "mpii_test"),
    "AP": ("coco_val2017", "coco_test-dev"), "MPJPE": ("h36m_p1", "h36m_p2"), "PA-MPJPE": ("h36m_p1", "h36m_p2"),
}
STATUSES = ("transcribed", "quoted", "not_transcribed")
#: the cell marker of a `quoted` value (from a quotation of the paper, not yet checked against its tables).
QUOTED_MARK = " (quoted)"
_TABLE = re.compile(r"^(\d{1,2})(\([A-Z]\))?$")


@dataclasses.dataclass
class PaperResult(Config):
    """One number the paper reports for a row.

    Attributes:
      metric: one of `METRICS`.
      protocol: one of `PROTOCOLS` (which split / protocol the number is on).
      value: the paper's number in the metric's unit; None while not transcribed.
      status: `transcribed` (value set, read from the paper's text), `quoted` (value set, from a quotation of the
        paper that `note` names, not yet checked against its tables) or `not_transcribed` (value None).
      note: the source of the value, or why it is missing.
    """

    metric: str = ""
    protocol: str = ""
    value: Optional[float] = None
    status: str = "not_transcribed"
    note: str = ""

    @property
    def unit(self) -> str:
        return METRICS[self.metric]

    def validate(self) -> None:
        super().validate()
        self._check_choice("metric", list(METRICS))
        self._check_choice("protocol", list(METRIC_PROTOCOLS[self.metric]))
        self._check_choice("status", STATUSES)
        if (self.value is None) != (self.status == "not_transcribed"):
            raise ConfigError("value", f"{self.value!r} with status {self.status!r}: a transcribed or quoted result "
                                       f"needs its value, a not_transcribed one has value null")
        if self.value is not None:
            high = 100.0 if self.unit == "%" else 1000.0
            if not 0.0 < self.value <= high:
                raise ConfigError("value", f"invalid value {self.value!r} for {self.metric}; allowed range is "
                                           f"(0, {high:g}] {self.unit}")

    def formatted(self) -> str:
        """`"52.7 mm MPJPE (h36m_p2)"`, `"... (h36m_p2) (quoted)"`, or `"MPJPE (h36m_p2): not transcribed"`."""
        if self.value is None:
            return f"{self.metric} ({self.protocol}): not transcribed"
        unit = " mm" if self.unit == "mm" else ""
        return f"{self.value:g}{unit} {self.metric} ({self.protocol}){self.mark}"

    @property
    def mark(self) -> str:
        """`QUOTED_MARK` for a quoted value, else empty: appended wherever the value is shown."""
        return QUOTED_MARK if self.status == "quoted" else ""


@dataclasses.dataclass
class PaperReference(Config):
    """The paper's table row an experiment reproduces, with its reported numbers (empty: not a paper row).

    Attributes:
      table: table number, `"1"`..`"11"`, a sub-table as `"10(A)"`.
      row: the row (and column, where a table has several) as the paper labels it.
      results: the paper's numbers for the row, one per (metric, protocol).
    """

    table: str = ""
    row: str = ""
    results: Tuple[PaperResult, ...] = ()

    @property
    def table_number(self) -> int:
        return int(_TABLE.match(self.table).group(1))

    def validate(self) -> None:
        super().validate()
        if not self.table:
            if self.row or self.results:
                raise ConfigError("table", "is empty but row / results are set; name the paper's table")
            return
        if not _TABLE.match(self.table):
            raise ConfigError("table", f"invalid value {self.table!r}; expected a table number such as '7' or "
                                       f"'10(A)'")
        if not self.row.strip():
            raise ConfigError("row", "must name the paper's row")
        if not self.results:
            raise ConfigError("results", "needs at least one metric the paper reports for the row")
        seen = set()
        for index, result in enumerate(self.results):
            try:
                result.validate()
            except ConfigError as error:
                raise error.with_prefix(f"results[{index}]") from None
            key = (result.metric, result.protocol)
            if key in seen:
                raise ConfigError(f"results[{index}]", f"duplicate metric {key}")
            seen.add(key)

    def reported(self) -> str:
        """One line for headers and the README: every result, transcribed or not."""
        return "; ".join(result.formatted() for result in self.results)


def load_paper_experiment(path):
    """Loads one experiment YAML; a bad key or value raises `ConfigError` naming the file and the dotted key."""
    from integral_keras.configs.experiment import load_experiment

    path = os.fspath(path)
    try:
        return load_experiment([path])
    except ConfigError as error:
        raise ConfigError(error.key, f"{path}: {error.reason}") from None


def paper_config_files(paper_dir) -> List[str]:
    return sorted(glob.glob(os.path.join(os.fspath(paper_dir), "*.yaml")))


# ---------------------------------------------------------------------------------------------------------------
# configs/paper/README.md

README_INTRO = """\
# Paper experiments: one config per table row

<!-- Generated by `python scripts/make_paper_readme.py` from the `paper:` blocks of the YAML files here; do not
edit by hand (tests/configs/test_configs_paper.py checks that this file agrees with them). -->

Every YAML here is one row of Sun et al., *Integral Human Pose Regression* (ECCV 2018), set up as the paper ran
it as far as the paper (Sections 4-5) and the authors' code (`JimmySuen/integral-human-pose`, experiment YAML
files) say; the remaining differences are listed below with their reasons. Each file's header gives the evidence
for its settings and the train / evaluate commands; its `paper:` block (`integral_keras.configs.paper_numbers`)
carries the table, the row and the number(s) the paper reports for it. A number that has not been transcribed
from the paper's text is `null` with `status: not_transcribed`, never a guess; the five numbers issue 13 quotes
from the paper, and Table 10 (A)'s that the authors' repository quotes, are entered with `status: quoted` and
shown with `(quoted)` until checked against its tables.

Run them once the TFRecords exist (no downloads; set `model.pretrained` to a local ImageNet weights file):

```
python scripts/convert_mpii.py --json_file=mpii/train.json --image_root=mpii/images --output_prefix=data/mpii/train
python scripts/convert_mpii.py --json_file=mpii/valid.json --image_root=mpii/images \\
    --gt_valid=mpii/gt_valid.mat --output_prefix=data/mpii/valid
python scripts/convert_coco.py --annotation_file=coco/annotations/person_keypoints_train2017.json \\
    --image_root=coco/train2017 --output_prefix=data/coco/train2017
python scripts/convert_coco.py --annotation_file=coco/annotations/person_keypoints_val2017.json \\
    --image_root=coco/val2017 --detections_file=person_detections_val2017.json \\
    --output_prefix=data/coco/val2017_detections
python scripts/convert_h36m.py --root=h36m --split=train --protocol=2 --output_prefix=data/h36m/train_protocol2
python scripts/convert_h36m.py --root=h36m --split=test --protocol=2 --output_prefix=data/h36m/test_protocol2
python scripts/convert_h36m.py --root=h36m --split=train --protocol=1 --output_prefix=data/h36m/train_protocol1
python scripts/convert_h36m.py --root=h36m --split=test --protocol=1 --output_prefix=data/h36m/test_protocol1
python scripts/train.py --config_file=configs/paper/table1_mpii_r50_I1.yaml --model_dir=runs/table1_mpii_r50_I1
python scripts/evaluate.py --config_file=configs/paper/table1_mpii_r50_I1.yaml \\
    --checkpoint=runs/table1_mpii_r50_I1/checkpoints --gt_valid_mat=mpii/gt_valid.mat --flip_test \\
    --compare_paper --output_dir=runs/table1_mpii_r50_I1/eval   # prints the metrics next to the paper's
python scripts/evaluate.py \\
    --compare=runs/table1_mpii_r50_H1/eval/metrics.json,runs/table1_mpii_r50_I1/eval/metrics.json \\
    --output_dir=runs/fig2   # the paper's Fig. 2: PCKh curves of several runs
python scripts/evaluate.py --config_file=configs/paper/table5_mpii_hourglass8_I1.yaml \\
    --checkpoint=runs/table5_mpii_hourglass8_I1/checkpoints --file_pattern=data/mpii/test-*-of-*.tfrecord \\
    --mpii_test_predictions=runs/table5_mpii_hourglass8_I1/pred_test.mat --flip_test \\
    --output_dir=runs/table5_mpii_hourglass8_I1/test   # Table 5's test-set row: a file for the MPII server
```

**Batch size.** The paper trains with a mini-batch of 128 on four GPUs. `data.batch_size` is the global batch
(128; `tf.distribute` gives each of 4 replicas 32); on one GPU or a CPU, override it, e.g.
`--params_override=data.batch_size=32,train.total_steps=...` (scale the step counts by the same factor to keep
the number of epochs). Other paths: `--params_override=data.train_file_pattern=[...],data.val_file_pattern=[...]`.
"""

DIFFERENCES = """\
## Remaining differences from the paper, and why

1. **Reported numbers not transcribed.** The copies of the paper's text reachable when these blocks were written
   showed only its opening sections, not the tables of Section 5, so most values are `null` / `not_transcribed`,
   with a note. The numbers issue 13 quotes from the paper are entered with `status: quoted` (Table 1 H1 and
   Table 2 (b) H1: 86.8 / 17.2 / 52.9; Table 7 Strategy 2 I1: 52.7 mm; Table 10 (B) I*: 49.6 mm; Table 11
   two-stage I1: 64.1 mm), as is Table 10 (A) I*'s 40.6 mm PA-MPJPE, which issue 20 of the authors' repository
   quotes as the paper's next to the 49.6 mm; all are shown as `(quoted)`. Fill the rest in from the paper's
   tables (and make a checked quoted value `transcribed`): the README, the headers' `Reported:` lines
   (regenerate) and `--compare_paper` need no other change; a transcribed or quoted status is refused without a
   value and vice versa.
2. **Epoch counts.** The paper gives the optimiser (Adam, base learning rate 1e-3, dropped to 1e-5) but not
   every run's length. MPII / COCO runs train 140 epochs with drops at 90 and 120 (the I-methods: heat-map
   pre-training for the first 45); Human3.6M runs follow the authors' experiment files: 300 epochs with drops at
   270 and 290 (`x300-270-290`, the integral methods; used here for the heat-map baselines too) and 140 / 90 /
   120 for the direct regression R1 (`x140-90-120`). A Human3.6M "epoch" here is 80,000 samples (625 steps of
   128), a choice of this package: the authors' code defines its epochs over its own annotation cache.
3. **Strategy 2 mixing is half 2D / half 3D in expectation.** `data.mix_2d_ratio: 0.5` draws each example from
   the MPII or the Human3.6M records with probability 1/2 (`tf.data` sampling); the paper's batches are
   exactly half and half. Over a run the proportions agree; single batches vary.
4. **Heat-map pre-training of I1-I3.** The package trains I1-I3 with the heat-map loss first, then with the
   integral loss (DESIGN.md); the length of that first phase (a third of the run here) is a choice, not the
   paper's.
5. **Table 5 HourGlass** predicts at stride 4 (64x64 heat maps for a 256x256 input) by design of the stacked
   HourGlass (Newell et al.), not Table 2's setting (b); the ResNet rows of Tables 1, 3, 4 and the COCO rows
   of Table 6 use setting (b), 32x32.
6. **Table 9 depth bins and data.** A 3D heat map of side `S` uses `S` depth bins (64x64x64 ... 16x16x16), and
   the rows keep Table 7's Strategy 2 setting (half MPII, two-step integral for I2); both are choices of this
   package, not checked against the paper's text.
7. **Table 8 / 11 backbone.** The multi-stage 3D rows (one stage, two stages with d1 = d2 = 64, two stages with
   per-stage depths d1 = 1, d2 = 64) use the package's stacked HourGlass; the paper's exact network for these
   rows could not be checked against its text in this session.
8. **ImageNet initialisation.** Configs ship with `model.pretrained: null` (no downloads); the paper starts the
   ResNets from ImageNet. Set a local weights file.
9. **Test-set rows.** MPII test (Table 5) and COCO test-dev numbers come from the benchmarks' servers;
   `scripts/evaluate.py --mpii_test_predictions` writes the MPII server's file from MPII records (people in
   annotation order by `image/id`). `scripts/convert_mpii.py` still needs `joints` in every JSON entry, which the
   test annotations lack: converting the test set needs placeholder joints there (not done here).
"""


def _resolution(model) -> str:
    height, width = model.heatmap_hw
    in_h, in_w = model.input_hw
    cells = f"{height}x{width}" if model.depth == 1 else f"{height}x{width}x{model.depth}"
    text = f"{in_h}x{in_w} -> {cells}"
    if model.stage_depths is not None:
        text += " (depths " + ", ".join(f"d{i + 1}={d}" for i, d in enumerate(model.stage_depths)) + ")"
    return text


def _network(model) -> str:
    names = {"resnet18": "ResNet-18", "resnet50": "ResNet-50", "resnet101": "ResNet-101", "resnet152": "ResNet-152"}
    if model.backbone == "hourglass":
        return f"{model.num_stages}-stack HourGlass"
    if model.backbone == "multistage_resnet50":
        return f"{model.num_stages}-stage ResNet-50"
    return names.get(model.backbone, model.backbone)


def _training_data(config) -> str:
    data = config.data.skeleton.upper() if config.data.skeleton != "h36m" else "H36M"
    if config.data.mix_2d_file_pattern:
        return f"{data} + {(config.data.mix_2d_skeleton or config.data.skeleton).upper()} 2D " \
               f"({config.data.mix_2d_ratio:.0%})"
    return data


def readme_rows(paper_dir) -> List[Tuple[str, object]]:
    """`(name, ExperimentConfig)` of every config, ordered by table number then file name."""
    rows = []
    for path in paper_config_files(paper_dir):
        config = load_paper_experiment(path)
        if not config.paper.table:
            raise ConfigError("paper.table", f"{path}: every config in {paper_dir} needs a paper block")
        rows.append((os.path.basename(path)[:-len(".yaml")], config))
    return sorted(rows, key=lambda item: (item[1].paper.table_number, item[1].paper.table, item[0]))


def render_readme(paper_dir) -> str:
    """The text of `configs/paper/README.md`, generated from the configs' `paper:` blocks."""
    lines = [README_INTRO, "## Configs and the paper's numbers", "",
             "| Config | Table | Row | Train data | Network | Method | Integral | Input -> heat map | Batch | "
             "Paper reports |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, config in readme_rows(paper_dir):
        model, paper = config.model, config.paper
        integral = model.integral if model.is_integral else "-"
        lines.append(f"| [{name}]({name}.yaml) | {paper.table} | {paper.row} | {_training_data(config)} | "
                     f"{_network(model)} | {model.method} | {integral} | {_resolution(model)} | "
                     f"{config.data.batch_size} | {paper.reported()} |")
    lines += ["", DIFFERENCES]
    return "\n".join(lines)


def check_readme(paper_dir, readme_path: Optional[str] = None) -> Sequence[str]:
    """Lines where `README.md` differs from `render_readme` (empty when they agree)."""
    import difflib

    readme_path = readme_path or os.path.join(os.fspath(paper_dir), "README.md")
    with open(readme_path, encoding="utf-8") as f:
        current = f.read()
    return list(difflib.unified_diff(current.splitlines(), render_readme(paper_dir).splitlines(),
                                     readme_path, "generated", lineterm="", n=0))


REPORTED_PREFIX = "# Reported: "


def reported_line(reference: PaperReference) -> str:
    """The header line of a config that repeats its `paper:` block's numbers."""
    return f"{REPORTED_PREFIX}{reference.reported()} (see the paper: block below)."


def refresh_reported_lines(paper_dir, write: bool = True) -> List[str]:
    """Makes each config's `# Reported:` header line say what its `paper:` block says.

    Returns:
      the paths whose line was (write=True) or would be (write=False) changed.
    """
    changed = []
    for path in paper_config_files(paper_dir):
        reference = load_paper_experiment(path).paper
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        index = next((i for i, line in enumerate(lines) if line.startswith(REPORTED_PREFIX)), None)
        if index is None:
            raise ValueError(f"{path}: the header has no '{REPORTED_PREFIX.strip()}' line")
        if lines[index] != reported_line(reference):
            changed.append(path)
            if write:
                lines[index] = reported_line(reference)
                with open(path, "w", encoding="utf-8") as f:
                    f.write("\n".join(lines))
    return changed

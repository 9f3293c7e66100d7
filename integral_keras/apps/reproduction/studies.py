"""The reproduction studies: scaled-down tables of Sun et al. (ECCV 2018) on the bundled synthetic data.

Each `Study` is a list of `RunSpec`s (one trained model each: a base YAML of `configs/reproduction/` plus the
run's dotted overrides), grouped in `Part`s (one results table each, with the mean-pose floor of its data), the
paper's claims it tests (`claims`), and its plot (`Panel`s). `study_runs` resolves a study at a `Budget`.

Studies (every run of a study has the same backbone, schedule and data unless the study varies them):
- `methods` (Table 1): R1, H1, H2, H3, I1, I2, I3, Istar; ResNet-18 + 3 deconvolutions (64 channels), 64x64 crops,
  16x16 heat maps, 2D (MPII skeleton).
- `resolution` (Tables 2 and 9): H1 vs I1 (2D) and H2 vs I2 (3D, Strategy 2 with the two-step integral for I2, as
  the Table 9 configs) at the paper's four settings scaled 4x down: (a) 64 -> 16, (b) 64 -> 8, (c) 32 -> 8,
  (d) 32 -> 4 (the paper's 256 -> 64, 256 -> 32, 128 -> 32, 128 -> 16); 3D volumes have as many depth bins as
  heat-map rows (16, 8, 8, 4). ResNet-18 with 3 (stride 4) or 2 (stride 8) deconvolutions.
- `strategy` (Table 7): R1, H1, H2, Istar, I1, I2, 3D (H36M skeleton, 64x64 -> 16x16x16), Strategy 1 (3D data
  only) vs Strategy 2 (half of the samples 2D-only MPII-skeleton records; the integral methods use the two-step
  integral, as `configs/paper/table7_*strategy2*`).
- `backbones` (Table 3): H1 vs I1 on ResNet-18, ResNet-50 (both + 3 deconvolutions of 64 channels) and a 1-stack
  HourGlass, 64x64 -> 16x16, 2D.
I1-I3 train with their heat-map loss alone for the first third of the steps, then with the integral loss alone
(`train.heatmap_pretrain_steps`, `losses_after_pretrain: joints`), as the paper's configs.

Data (written once per output directory, shared by the studies that use it; `DATA_SETS`): `mpii`, 2D-only
MPII-skeleton records (`with_3d=False`, seed 1; train and held-out splits), for the 2D studies and as the 2D half
of Strategy 2; `h36m`, H36M-skeleton records with 3D labels (seed 0), for the 3D runs. Images are 96 px.

Budgets (float32, batch 32; `--budget=small` must finish each study in 60 min on 2 idle CPU cores, data and
evaluation included). Speeds (`SPEEDS`) come from the process CPU time per training image, measured on this 2-core
machine over 27 steps after the warm-up (CPU time, unlike wall time, hardly depends on the other jobs running), as
the img/s of both cores fully busy: HourGlass 2D 64 px 30.6 ms -> 65 img/s (the demo's float32 run: 61 img/s with
its evaluations), ResNet-18 (+ 3 deconvolutions of 64 channels) 2D 64 px 16.6 ms -> 121 img/s, 3D 16 bins 18.0 ms
-> 111, 2D 32 px (2 deconvolutions) 9.2 ms -> 219, 3D 32 px 8 bins 10.0 ms -> 201, ResNet-50 2D 64 px 39.0 ms ->
51. Each run adds `RUN_OVERHEAD_S` (model build, tracing, the final evaluation of 400 held-out images, checkpoints:
20-50 CPU s measured); data writing runs at ~500 img/s (2 x 4400 images: ~20 s), each floor ~10 s. Small (4000
training / 400 held-out images per set):
- methods: 8 runs x 1100 steps: 8 x (35 + 35200 / 121) s = 8 x 326 s = 43.5 min (+ ~0.5 min data, floor) = 44 min
  (R1 has no deconvolution head: a little less);
- resolution: 16 runs x 600 steps: 16 x 35 s + 19200 x 4 x (1/121 + 1/219 + 1/111 + 1/201) s = 560 + 2062 s
  = 43.7 min (+ ~0.7 min data, floors) = 44.4 min (the stride-8 settings have one deconvolution less: a little
  less);
- strategy: 12 runs x 600 steps: 12 x (35 + 19200 / 111) s = 12 x 208 s = 41.6 min (+ ~0.7 min) = 42.3 min;
- backbones: 6 runs x 850 steps: 2 x (35 + 45 + 45) s + 2 x 27200 x (1/121 + 1/51 + 1/65) s = 250 + 2353 s
  = 43.4 min (+ ~0.5 min) = 44 min.
These speeds assume both cores fully busy (the demo's HourGlass reached 94 % of its bound): expect 45-48 min per
study on an idle machine, 12-15 min of the hour left for a slower one. `full` trains 4x the steps on 3x the data (about
3 h per study); `quick` is a smoke test (16 images, 4 steps of 4 per run: 0.5-3 min per run, tracing dominated).
"""
import dataclasses
import pathlib
from typing import Dict, Optional, Sequence, Tuple

from integral_keras.apps.reproduction import claims as claims_lib
from integral_keras.core import methods as method_table
from integral_keras.core.methods import H1, H2, I1, I2, I3, ISTAR, R1

#: `configs/reproduction/` and `configs/paper/` of this checkout.
CONFIG_DIR = pathlib.Path(__file__).resolve().parents[3] / "configs" / "reproduction"
PAPER_DIR = pathlib.Path(__file__).resolve().parents[3] / "configs" / "paper"
BUDGETS = ("quick", "small", "full")
METRICS_2D = ("PCK@0.5", "PCK@0.1", "AUC")
METRICS_3D = ("MPJPE", "PA-MPJPE")
INTEGRAL_WITH_PRETRAIN = (I1, I2, I3)  # the methods that train with the heat-map loss first
# The first third of the steps: the paper configs' 45 of 140 epochs.
PRETRAIN_FRACTION = 1.0 / 3.0
# The step learning-rate schedule of every run: 1e-3, then these values from these fractions of the run.
LR_DROPS = ((0.75, 3e-4), (0.9, 1e-4))
#: idle img/s of a run's network for the ETA (see the module docstring): (backbone, input size, 3D) -> img/s.
SPEEDS = {("resnet18", 64, False): 121.0, ("resnet18", 32, False): 219.0, ("resnet18", 64, True): 111.0,
          ("resnet18", 32, True): 201.0, ("resnet50", 64, False): 51.0, ("hourglass", 64, False): 65.0}
#: seconds a run adds to its training steps, by backbone (others: `RUN_OVERHEAD_S`).
RUN_OVERHEADS_S = {"resnet18": 35.0, "resnet50": 45.0, "hourglass": 45.0}
RUN_OVERHEAD_S = 40.0
CHECKPOINTS_FROM_STEPS = 100  # shorter runs (--quick) save one checkpoint, at the end
# Overrides of every run at the `quick` budget (after the base config and before the run's own overrides).
QUICK_OVERRIDES = ("data.batch_size=4", "data.eval_batch_size=8", "data.shuffle_buffer=8", "train.log_every_steps=2")


@dataclasses.dataclass(frozen=True)
class Budget:
    """Sizes of one budget.

    Attributes:
      name: `quick`, `small` or `full`.
      num_train: training records of each data set.
      num_val: held-out records of each data set.
      image_size: side of the synthetic images, pixels.
      step_scale: multiplier of each study's `small` step count.
      min_steps: lower bound of the steps of a run.
      max_steps: upper bound of the steps of a run (None: no bound).
    """

    name: str
    num_train: int
    num_val: int
    image_size: int = 96
    step_scale: float = 1.0
    min_steps: int = 1
    max_steps: Optional[int] = None

    def steps(self, small_steps: int) -> int:
        steps = max(self.min_steps, int(round(small_steps * self.step_scale)))
        return steps if self.max_steps is None else min(steps, self.max_steps)


BUDGET_SIZES = {
    "quick": Budget("quick", num_train=16, num_val=8, image_size=64, step_scale=0.0, min_steps=4, max_steps=4),
    "small": Budget("small", num_train=4000, num_val=400),
    "full": Budget("full", num_train=12000, num_val=1000, step_scale=4.0),
}


@dataclasses.dataclass(frozen=True)
class DataSpec:
    """One synthetic data set (`write_dataset` arguments other than the sizes, which the budget gives)."""

    name: str
    skeleton: str
    with_3d: bool
    seed: int


DATA_SETS = {
    "mpii": DataSpec("mpii", skeleton="mpii", with_3d=False, seed=1),
    "h36m": DataSpec("h36m", skeleton="h36m", with_3d=True, seed=0),
}


@dataclasses.dataclass(frozen=True)
class Part:
    """Runs of a study that share a base config and data, reported in one table with one floor.

    Attributes:
      key: `2d` or `3d` (run names of a study are unique across its parts).
      title: the table's heading.
      base_config: YAML under `configs/reproduction/`.
      data: key of `DATA_SETS` (training and held-out records; the floor's data).
      metrics: the table's metric columns.
      mix_2d_data: key of `DATA_SETS` whose training records Strategy 2 runs mix in (None: no such run).
    """

    key: str
    title: str
    base_config: str
    data: str
    metrics: Tuple[str, ...]
    mix_2d_data: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One trained model of a study.

    Attributes:
      name: unique in its study; the run's folder name.
      part: key of its `Part`.
      method: `model.method`.
      labels: what distinguishes the run in tables and plots (e.g. `{"setting": "(a) 64->16"}`).
      overrides: dotted overrides on the part's base config (what the study varies).
      paper_config: stem of the `configs/paper/` file of the same row of the paper (its `paper:` numbers).
      mix_2d: Strategy 2: mix in the part's `mix_2d_data` (half of the samples).
    """

    name: str
    part: str
    method: str
    labels: Dict[str, str]
    overrides: Tuple[str, ...]
    paper_config: Optional[str] = None
    mix_2d: bool = False


@dataclasses.dataclass(frozen=True)
class Panel:
    """One plot of a study: `metric` of a part's runs against the label `x`, a line or bar group per `series`."""

    part: str
    metric: str
    x: str
    series: Optional[str] = None
    kind: str = "bar"  # or "line"


@dataclasses.dataclass(frozen=True)
class Study:
    """A scaled-down table of the paper.

    Attributes:
      name: the `--study` value.
      tables: the paper's table(s) it scales down, e.g. "2 and 9".
      description: one paragraph for the results file.
      parts: its results tables.
      runs: its runs, in training order.
      claims: the paper's claims it tests (`claims` module objects).
      panels: its plot.
      small_steps: training steps of each run at the `small` budget.
      varies: the config keys its runs differ in (checked by the tests).
    """

    name: str
    tables: str
    description: str
    parts: Tuple[Part, ...]
    runs: Tuple[RunSpec, ...]
    claims: Tuple[object, ...]
    panels: Tuple[Panel, ...]
    small_steps: int
    varies: Tuple[str, ...]

    @property
    def paper_tables(self) -> str:
        """`"Table 1"`, `"Tables 2 and 9"`."""
        return f"Table{'s' if ' and ' in self.tables else ''} {self.tables}"

    def part(self, key: str) -> Part:
        return next(part for part in self.parts if part.key == key)

    def data_sets(self) -> Tuple[str, ...]:
        """Keys of `DATA_SETS` the study needs, in writing order."""
        keys = [part.data for part in self.parts]
        keys += [part.mix_2d_data for part in self.parts
                 if part.mix_2d_data and any(r.mix_2d and r.part == part.key for r in self.runs)]
        return tuple(dict.fromkeys(keys))


def _strategy2_overrides(method: str) -> Tuple[str, ...]:
    """Strategy 2's model change: the integral methods use the two-step integral (Sec. 5.3)."""
    return ("model.integral=two_step",) if method_table.is_integral(method) else ()


def _methods_study() -> Study:
    methods = method_table.METHODS  # R1, H1, H2, H3, I1, I2, I3, Istar
    runs = tuple(RunSpec(m, "2d", m, {"method": m}, (f"model.method={m}",), f"table1_mpii_r50_{m}")
                 for m in methods)
    key = ("PCK@0.1", "AUC")
    claims = tuple(claims_lib.Beats(f"I{i}", f"H{i}", key) for i in (1, 2, 3))
    claims += (claims_lib.Weakest(R1, tuple(m for m in methods if m != R1), key),)
    return Study(
        name="methods", tables="1",
        description="Table 1: every method with the same network (ResNet-18 + 3 deconvolutions, 64x64 crops, "
                    "16x16 heat maps) and the same budget, 2D.",
        parts=(Part("2d", "2D, MPII skeleton, ResNet-18, 64x64 -> 16x16", "methods.yaml", "mpii", METRICS_2D),),
        runs=runs, claims=claims,
        panels=(Panel("2d", "PCK@0.1", "method"), Panel("2d", "AUC", "method")),
        small_steps=1100, varies=("model.method", "train.heatmap_pretrain_steps"))


# (label, input size, heat-map size, deconvolutions, paper's input, paper's heat map) of Tables 2 and 9.
RESOLUTIONS = (("(a)", 64, 16, 3, 256, 64), ("(b)", 64, 8, 2, 256, 32), ("(c)", 32, 8, 3, 128, 32),
               ("(d)", 32, 4, 2, 128, 16))


def _resolution_study() -> Study:
    runs = []
    for part, methods, table in (("2d", (H1, I1), "table2_mpii_r50"), ("3d", (H2, I2), "table9_h36m_r50")):
        for label, size, hm, deconv, paper_in, paper_hm in RESOLUTIONS:
            setting = f"{label} {size}->{hm}"
            for method in methods:
                overrides = [f"model.method={method}", f"model.input_size={size}", f"model.heatmap_size={hm}",
                             f"model.num_deconv={deconv}"]
                if part == "3d":
                    overrides += [f"model.depth={hm}", *_strategy2_overrides(method)]
                suffix = "_3d" if part == "3d" else ""
                runs.append(RunSpec(f"{method}_in{size}_hm{hm}{suffix}", part, method,
                                    {"method": method, "setting": setting}, tuple(overrides),
                                    f"{table}_in{paper_in}_hm{paper_hm}_{method}", mix_2d=part == "3d"))
    names = {(r.method, r.labels["setting"][:3]): r.name for r in runs}
    claims = (
        claims_lib.GapGrows(names[I1, "(a)"], names[H1, "(a)"], names[I1, "(d)"], names[H1, "(d)"],
                            "PCK@0.1", text="2D: I1's margin over H1 grows as the resolution drops from (a) to (d)"),
        claims_lib.GapGrows(names[I2, "(a)"], names[H2, "(a)"], names[I2, "(d)"], names[H2, "(d)"],
                            "MPJPE", text="3D: I2's margin over H2 grows as the resolution drops from (a) to (d)"),
    )
    for label, *_ in RESOLUTIONS:
        claims += (claims_lib.Beats(names[I1, label], names[H1, label], ("PCK@0.1",),
                                    text=f"2D {label}: I1 beats H1 on PCK@0.1"),)
    for label, *_ in RESOLUTIONS:
        claims += (claims_lib.Beats(names[I2, label], names[H2, label], ("MPJPE",),
                                    text=f"3D {label}: I2 beats H2 on MPJPE"),)
    return Study(
        name="resolution", tables="2 and 9",
        description="Tables 2 and 9: heat-map baseline vs integral regression as the input and heat-map "
                    "resolution drop (the paper's four settings, scaled 4x down), 2D (H1 vs I1) and 3D (H2 vs I2, "
                    "Strategy 2).",
        parts=(Part("2d", "2D, MPII skeleton, ResNet-18, H1 vs I1", "resolution_2d.yaml", "mpii", METRICS_2D),
               Part("3d", "3D, H36M skeleton + half 2D-only MPII (Strategy 2), ResNet-18, H2 vs I2",
                    "resolution_3d.yaml", "h36m", METRICS_3D, mix_2d_data="mpii")),
        runs=tuple(runs), claims=claims,
        panels=(Panel("2d", "PCK@0.1", "setting", "method", "line"), Panel("3d", "MPJPE", "setting", "method",
                                                                            "line")),
        small_steps=600,
        varies=("model.method", "model.input_size", "model.heatmap_size", "model.num_deconv", "model.depth",
                "model.integral", "train.heatmap_pretrain_steps"))


def _strategy_study() -> Study:
    methods = (R1, H1, H2, ISTAR, I1, I2)
    runs = []
    for strategy in (1, 2):
        for method in methods:
            overrides = (f"model.method={method}",) + (_strategy2_overrides(method) if strategy == 2 else ())
            runs.append(RunSpec(f"s{strategy}_{method}", "3d", method,
                                {"method": method, "strategy": f"Strategy {strategy}"}, overrides,
                                f"table7_h36m_r50_strategy{strategy}_{method}", mix_2d=strategy == 2))
    claims = tuple(claims_lib.Beats(f"s2_{m}", f"s1_{m}", ("MPJPE",), text=f"{m}: Strategy 2 beats Strategy 1 on "
                                                                          "MPJPE") for m in methods)
    for strategy in (1, 2):
        for i in (1, 2):
            claims += (claims_lib.Beats(f"s{strategy}_I{i}", f"s{strategy}_H{i}", ("MPJPE",),
                                        text=f"Strategy {strategy}: I{i} beats H{i} on MPJPE"),)
    return Study(
        name="strategy", tables="7",
        description="Table 7: 3D with Strategy 1 (3D data only) against Strategy 2 (half of the samples 2D-only "
                    "MPII-skeleton records, two-step integral for the integral methods), ResNet-18, 64x64 -> "
                    "16x16x16.",
        parts=(Part("3d", "3D, H36M skeleton, ResNet-18, 64x64 -> 16x16x16", "strategy.yaml", "h36m", METRICS_3D,
                    mix_2d_data="mpii"),),
        runs=tuple(runs), claims=claims, panels=(Panel("3d", "MPJPE", "method", "strategy"),),
        small_steps=600, varies=("model.method", "model.integral", "data.mix_2d_file_pattern",
                                 "data.mix_2d_skeleton", "train.heatmap_pretrain_steps"))


BACKBONES = (("resnet18", ("model.backbone=resnet18",), "table3_mpii_r18"),
             ("resnet50", ("model.backbone=resnet50",), "table3_mpii_r50"),
             ("hourglass", ("model.backbone=hourglass", "model.num_deconv=0"), "table5_mpii_hourglass1"))


def _backbones_study() -> Study:
    runs = tuple(RunSpec(f"{name}_{m}", "2d", m, {"backbone": name, "method": m}, (*overrides, f"model.method={m}"),
                         f"{paper}_{m}")
                 for name, overrides, paper in BACKBONES for m in (H1, I1))
    claims = tuple(claims_lib.Beats(f"{name}_I1", f"{name}_H1", ("PCK@0.1", "AUC"),
                                    text=f"{name}: I1 beats H1 on PCK@0.1 and AUC") for name, *_ in BACKBONES)
    return Study(
        name="backbones", tables="3",
        description="Table 3: H1 against I1 on three networks (ResNet-18 and ResNet-50 + 3 deconvolutions, a "
                    "1-stack HourGlass), 64x64 -> 16x16, 2D. The HourGlass row stands for Table 3's deepest "
                    "network; its paper numbers are those of Table 5 (one stack).",
        parts=(Part("2d", "2D, MPII skeleton, 64x64 -> 16x16", "backbones.yaml", "mpii", METRICS_2D),),
        runs=runs, claims=claims,
        panels=(Panel("2d", "PCK@0.1", "backbone", "method"), Panel("2d", "AUC", "backbone", "method")),
        small_steps=850, varies=("model.backbone", "model.num_deconv", "model.method",
                                 "train.heatmap_pretrain_steps"))


STUDIES = {study.name: study for study in (_methods_study(), _resolution_study(), _strategy_study(),
                                           _backbones_study())}


def _lookup(table: Dict, name: str, what: str, plural: str, extra: str = ""):
    if name not in table:
        raise ValueError(f"unknown {what} {name!r}; valid {plural}: {', '.join(table)}{extra}")
    return table[name]


def get_study(name: str) -> Study:
    """The study called `name`.

    Raises:
      ValueError: an unknown name; the message lists the studies.
    """
    return _lookup(STUDIES, name, "study", "studies", " (or 'all')")


def get_budget(name: str) -> Budget:
    """The budget called `name` (`quick`, `small`, `full`).

    Raises:
      ValueError: an unknown name; the message lists the budgets.
    """
    return _lookup(BUDGET_SIZES, name, "budget", "budgets")


def schedule_overrides(steps: int, method: str) -> Tuple[str, ...]:
    """The schedule of a run of `steps` steps: one evaluation at the end, 4 checkpoints (one for runs shorter than
    `CHECKPOINTS_FROM_STEPS`), `LR_DROPS`, and the heat-map pre-training of I1-I3 (`PRETRAIN_FRACTION` of the
    steps)."""
    boundaries = sorted({min(steps - 1, max(1, int(steps * fraction))) for fraction, _ in LR_DROPS}) if steps > 2 \
        else []
    values = [value for _, value in LR_DROPS][:len(boundaries)]
    pretrain = int(steps * PRETRAIN_FRACTION) if method in INTEGRAL_WITH_PRETRAIN else 0
    return (f"train.total_steps={steps}", f"train.steps_per_epoch={steps}",
            f"train.checkpoint_every_steps={steps // 4 if steps >= CHECKPOINTS_FROM_STEPS else steps}",
            f"train.lr_boundaries=[{', '.join(str(b) for b in boundaries)}]",
            f"train.lr_values=[{', '.join(str(v) for v in values)}]",
            f"train.heatmap_pretrain_steps={pretrain}")


def planned_seconds(config, speeds: Dict = None) -> float:
    """Rough idle seconds of one run on 2 CPU cores (for the ETA and the budgets; `SPEEDS`, `RUN_OVERHEADS_S`)."""
    speeds = SPEEDS if speeds is None else speeds
    size = config.model.input_hw[0]
    key = (config.model.backbone, 32 if size <= 32 else 64, config.model.depth > 1)
    rate = speeds.get(key, 60.0) * (64.0 / max(size, 64)) ** 2
    overhead = RUN_OVERHEADS_S.get(config.model.backbone, RUN_OVERHEAD_S)
    return overhead + config.train.total_steps * config.data.batch_size / rate


def study_names(selection: str) -> Sequence[str]:
    """`all` -> every study; a name -> that study (checked by `get_study`)."""
    if selection == "all":
        return tuple(STUDIES)
    get_study(selection)
    return (selection,)

"""The layer rule of docs/architecture.md, read from the imports of every module (function-local ones included).

A package may import only packages of a lower layer (and itself). Nothing is hidden behind a function-local
import: the test reads every `import` / `from ... import` statement of the module's syntax tree.
"""
import ast
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "integral_keras")

# Lower number = lower layer (docs/architecture.md, "Layers"). A module may import a package of a strictly lower
# layer, or its own package.
LAYERS = {
    "core": 0, "errors": 0, "console": 0,
    "configs": 10,
    "ops": 20, "layers": 20, "visualization": 20,
    "codecs": 30,
    "losses": 35,
    "modeling": 40,
    "models": 41,
    "data": 45,
    "evaluation": 50,
    "serving": 60,
    "training": 70,
    "apps": 80,
}


def _modules():
    """`(dotted module name, path)` of every module of the package but its top-level `__init__`."""
    for directory, _, files in os.walk(PACKAGE):
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
            if relative == "integral_keras.__init__":
                continue
            yield relative, path


def _imported_packages(path, module):
    """`(top-level subpackage of integral_keras, line)` for every import of the module at `path`."""
    tree = ast.parse(open(path, encoding="utf-8").read(), filename=path)
    is_package = path.endswith("__init__.py")
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import: resolve against the module's package
                parts = module.split(".")[:len(module.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join(parts + ([base] if base else []))
            names = [f"{base}.{alias.name}" for alias in node.names] if base == "integral_keras" else [base]
        for name in names:
            parts = name.split(".")
            if parts[0] == "integral_keras" and len(parts) > 1:
                yield parts[1], node.lineno


def _layer_of(module):
    return module.split(".")[1]


def test_every_package_has_a_layer():
    packages = {_layer_of(module) for module, _ in _modules()}
    assert packages <= set(LAYERS), f"give these packages a layer: {sorted(packages - set(LAYERS))}"


@pytest.mark.parametrize("module,path", sorted(_modules()), ids=lambda value: str(value).rsplit("/", 1)[-1])
def test_imports_point_down(module, path):
    own = _layer_of(module)
    wrong = [f"{module}:{line} imports integral_keras.{target} (layer {LAYERS.get(target)} >= {own}'s "
             f"{LAYERS.get(own)})"
             for target, line in _imported_packages(path, module)
             if target != own and LAYERS.get(target, 999) >= LAYERS.get(own, -1)]
    assert not wrong, "\n".join(wrong)


def test_core_imports_nothing_of_the_package():
    for module, path in _modules():
        if _layer_of(module) == "core":
            assert not list(_imported_packages(path, module)) or \
                {target for target, _ in _imported_packages(path, module)} == {"core"}, module


def test_the_rule_sees_function_local_imports(tmp_path):
    path = tmp_path / "probe.py"
    path.write_text("def f():\n    from integral_keras.training import runner\n    import integral_keras.apps.demo\n")
    assert list(_imported_packages(str(path), "integral_keras.configs.probe")) == [("training", 2), ("apps", 3)]


def test_importing_the_library_defines_no_command_line_flags():
    """Flags live in `scripts/` (and `configs.cli.run`, which a binary calls): importing every module of the package
    registers none with absl."""
    probe = ("import importlib, pkgutil, integral_keras\n"
             "from absl import flags\n"
             "for info in pkgutil.walk_packages(integral_keras.__path__, 'integral_keras.'):\n"
             "    importlib.import_module(info.name)\n"
             "print(sorted(m for m in flags.FLAGS.flags_by_module_dict() if m.startswith('integral_keras')))\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=600,
                            cwd=str(ROOT))
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"

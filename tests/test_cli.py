"""`python -m alexnet summary|validate`: the contract of DESIGN.md, and analysis without torch."""

import json
import subprocess
import sys

from tests.conftest import ROOT, run_python


def test_summary_json_contract():
    result = run_python("-m", "alexnet", "summary", "spec/alexnet.yaml", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["name"] == "alexnet" and data["input"] == [3, 224, 224]
    assert data["total"]["params"] == 62_378_344 and data["total"]["macs"] == 1_135_256_096
    conv1 = data["layers"][0]
    assert {"name", "kind", "output", "weights", "biases", "params", "macs"} <= set(conv1)
    assert (conv1["name"], conv1["kind"], conv1["output"], conv1["params"]) == ("conv1", "conv", [96, 55, 55], 34_944)


def test_summary_table():
    result = run_python("-m", "alexnet", "summary", "spec/alexnet.yaml")
    assert result.returncode == 0
    assert "Total params: 62,378,344" in result.stdout and "fc3 (classifier)" in result.stdout


def test_validate_ok_and_bad(tmp_path):
    bad = tmp_path / "bad.yaml"
    text = (ROOT / "spec/alexnet.yaml").read_text().replace("kernel_size: 11", "kernal: 11").replace(
        "name: alexnet\n", "name: bad\n")
    bad.write_text(text)
    ok = run_python("-m", "alexnet", "validate", "spec/alexnet.yaml")
    assert ok.returncode == 0 and "ok" in ok.stdout
    result = run_python("-m", "alexnet", "validate", str(bad))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    row = next(i for i, line in enumerate(text.splitlines(), 1) if "kernal: 11" in line)
    assert f"{bad}:{row}:" in lines[0] and "layer 'conv1' (features[0])" in lines[0]
    assert any("unknown key 'kernal' (did you mean 'kernel_size'?)" in line for line in lines)


def test_analysis_does_not_import_torch():
    code = ("import sys, alexnet, alexnet.cli, tools.generate; "
            "from alexnet.spec import load_spec; from alexnet.analysis import analyse; "
            "analyse(load_spec('spec/alexnet.yaml')); tools.generate.plan(); "
            "bad = [m for m in sys.modules if m == 'torch' or m.startswith('torch.')]; print(bad); "
            "sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr

"""The generator: committed files are current, --check catches a spec edit, output is deterministic."""

from tests.conftest import ROOT, run_python


def test_check_passes_on_committed_tree():
    result = run_python("-m", "tools.generate", "--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_fails_after_spec_edit_then_regenerates(repo_copy):
    spec = repo_copy / "spec/alexnet.yaml"
    spec.write_text(spec.read_text().replace("out_channels: 96,", "out_channels: 64,", 1))
    model = repo_copy / "alexnet/models/alexnet.py"
    before = model.read_text()

    check = run_python("-m", "tools.generate", "--check", cwd=repo_copy)
    assert check.returncode == 1
    assert "stale: alexnet/models/alexnet.py" in check.stdout
    assert "stale: docs/generated/alexnet/parameters.md" in check.stdout
    assert model.read_text() == before  # --check writes nothing

    write = run_python("-m", "tools.generate", cwd=repo_copy)
    assert write.returncode == 0 and "wrote alexnet/models/alexnet.py" in write.stdout
    assert "nn.Conv2d(3, 64, kernel_size=11" in model.read_text()
    assert run_python("-m", "tools.generate", "--check", cwd=repo_copy).returncode == 0
    again = run_python("-m", "tools.generate", cwd=repo_copy)
    assert again.stdout.strip() == "nothing changed"


def test_deterministic_output():
    from tools.generate import plan

    first, second = plan(ROOT).files, plan(ROOT).files
    assert first == second
    assert all("do not edit" in content.split("\n", 2)[0] or content.startswith("{\n  \"$comment\"")
               for content in first.values())


def test_orphans_are_reported_and_removed(repo_copy):
    (repo_copy / "spec/alexnet.yaml").rename(repo_copy / "spec/alexnet.yaml.off")
    check = run_python("-m", "tools.generate", "--check", cwd=repo_copy)
    assert check.returncode == 1 and "orphaned (its spec is gone): alexnet/models/alexnet.py" in check.stdout
    assert run_python("-m", "tools.generate", cwd=repo_copy).returncode == 0
    assert not (repo_copy / "alexnet/models/alexnet.py").exists()


def test_spec_name_must_match_file(repo_copy):
    spec = repo_copy / "spec/alexnet.yaml"
    (repo_copy / "spec/other.yaml").write_text(spec.read_text())
    result = run_python("-m", "tools.generate", cwd=repo_copy)
    assert result.returncode == 2
    assert "spec/other.yaml:4:7: name 'alexnet' must equal the file name 'other'" in result.stderr
    assert not (repo_copy / "alexnet/models/other.py").exists()

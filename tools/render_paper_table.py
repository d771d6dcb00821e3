"""A paper's own per-layer table beside our figures: spec/tables/<name>.yaml -> docs/generated/<name>/paper-table.md.

The paper's figures are written once, as printed ("159K", "128M"), in the table file; ours come from the
analysis. A figure agrees when ours is within one unit of the printed figure's last digit (the paper rounds,
and not always the same way). The table file names the columns where a row disagrees (`differs`), so a spec
edit that breaks an agreeing row, or mends a disagreeing one, is caught (tests/test_googlenet_paper.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alexnet.analysis import Analysis
from alexnet.formatting import fmt_hwc
from alexnet.source import Problem, SpecError

from .templating import environment, header

TABLES = "spec/tables"
PRINTED = re.compile(r"^(\d+(?:\.\d+)?)([KM])$")  # 2.7K, 1388K, 34M
OUTPUT = re.compile(r"^\d+x\d+x\d+$")
Column = Literal["params", "ops"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PaperRow(_Strict):
    row: str = Field(min_length=1)
    sections: list[str]
    output: str = Field(pattern=OUTPUT.pattern)
    params: str | None = Field(None, pattern=PRINTED.pattern)
    ops: str | None = Field(None, pattern=PRINTED.pattern)
    differs: list[Column] = []
    note: str = ""


class PaperTable(_Strict):
    spec: str
    source: str
    explained: str | None = Field(None, pattern=r"^[\w/-]+\.md(#[\w-]+)?$",
                                  description="A page of docs/ (with its anchor) that explains the table.")
    params_unit: int = Field(gt=0, description="What K means in the params column (1000 or 1024).")
    ops_unit: int = Field(gt=0, description="What M means in the ops column.")
    rows: list[PaperRow] = Field(min_length=1)


def table_path(root: Path, name: str) -> Path:
    return root / TABLES / f"{name}.yaml"


def load_table(root: Path, name: str) -> PaperTable | None:
    """The paper's table for spec ``name``, or None when there is none. A malformed file is bad input."""
    path = table_path(root, name)
    if not path.is_file():
        return None
    shown = f"{TABLES}/{name}.yaml"
    try:
        table = PaperTable.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except yaml.YAMLError as exc:
        raise SpecError([Problem(shown, 1, 1, f"not valid YAML: {exc}")]) from None
    except ValidationError as exc:
        raise SpecError([Problem(shown, 1, 1, f"{'.'.join(map(str, e['loc']))}: {e['msg']}")
                         for e in exc.errors()]) from None
    if table.spec != name:
        raise SpecError([Problem(shown, 1, 1, f"spec: must be {name!r} (the file's name), got {table.spec!r}")])
    return table


@dataclass(frozen=True)
class Printed:
    """A figure as the paper prints it: its value in units and the size of its last digit."""

    value: Decimal
    step: Decimal

    @classmethod
    def parse(cls, text: str) -> Printed:
        number = PRINTED.match(text).group(1)
        return cls(Decimal(number), Decimal(1).scaleb(Decimal(number).as_tuple().exponent))

    def agrees(self, ours_in_units: float) -> bool:
        return abs(Decimal(repr(ours_in_units)) - self.value) <= self.step


@dataclass(frozen=True)
class Compared:
    """One line of the paper's table with ours beside it (our figures are None where the spec lacks it)."""

    paper: PaperRow
    output: str | None
    weights: int | None
    biases: int | None
    macs: int | None
    params_units: float | None   # our weights in the paper's K
    ops_units: float | None      # our MACs in the paper's M

    def agrees(self, column: Column) -> bool | None:
        printed, ours = (self.paper.params, self.params_units) if column == "params" else (self.paper.ops, self.ops_units)
        if printed is None or ours is None:
            return None
        return Printed.parse(printed).agrees(ours)

    @property
    def output_agrees(self) -> bool | None:
        return None if self.output is None else self.output == self.paper.output

    def found_differences(self) -> list[str]:
        return [c for c in ("params", "ops") if self.agrees(c) is False]


def compare(analysis: Analysis, table: PaperTable) -> list[Compared]:
    out = []
    for paper in table.rows:
        rows = [r for r in analysis.rows if r.section in paper.sections]
        if not rows:
            out.append(Compared(paper, None, None, None, None, None, None))
            continue
        shape = rows[-1].output
        output = fmt_hwc(shape if len(shape) == 3 else (shape[0], 1, 1))  # a flat vector is 1x1xC in the paper
        weights, macs = sum(r.weights for r in rows), sum(r.macs for r in rows)
        out.append(Compared(paper, output, weights, sum(r.biases for r in rows), macs,
                            weights / table.params_unit, macs / table.ops_unit))
    return out


def _units(value: float | None, suffix: str) -> str:
    return "-" if value is None else f"{value:,.1f}{suffix}"


def _difference(value: float | None, printed: str | None, suffix: str) -> str:
    if value is None or printed is None:
        return "-"
    diff = value - float(Printed.parse(printed).value)
    return f"{diff:+,.1f}{suffix}" if round(diff, 1) else f"0{suffix}"


def table_context(analysis: Analysis, table: PaperTable) -> dict:
    compared = compare(analysis, table)
    lines = []
    for c in compared:
        p = c.paper
        lines.append({
            "row": p.row, "paper_output": p.output, "output": c.output or "-", "output_agrees": c.output_agrees,
            "paper_params": p.params or "", "params": _units(c.params_units, "K") if p.params else "",
            "params_diff": _difference(c.params_units, p.params, "K"), "params_agrees": c.agrees("params"),
            "paper_ops": p.ops or "", "ops": _units(c.ops_units, "M") if p.ops else "",
            "ops_diff": _difference(c.ops_units, p.ops, "M"), "ops_agrees": c.agrees("ops"), "note": p.note,
        })
    printed_params = [Printed.parse(c.paper.params) for c in compared if c.paper.params]
    counted = [c for c in compared if c.paper.params and c.weights is not None]
    return {
        "source": table.source, "lines": lines,
        "params_unit": table.params_unit, "ops_unit": table.ops_unit,
        "paper_sum": sum(p.value for p in printed_params),
        "ours_sum": sum(c.weights for c in counted) / table.params_unit,
        "total": {"weights": analysis.total_weights, "biases": analysis.total_biases, "params": analysis.total_params},
        "agree": {col: sum(c.agrees(col) is True for c in compared) for col in ("params", "ops")},
        "given": {col: sum(c.agrees(col) is not None for c in compared) for col in ("params", "ops")},
        "outputs_agree": sum(c.output_agrees is True for c in compared),
        "outputs_given": sum(c.output_agrees is not None for c in compared),
    }


def render_paper_table(analysis: Analysis, table: PaperTable) -> str:
    return environment().get_template("paper_table.md.j2").render(
        header=header(analysis.spec, "<!--", f"spec/{analysis.spec.name}.yaml and {TABLES}/{analysis.spec.name}.yaml"),
        **table_context(analysis, table))

"""The Experiments page's generated parts, from spec/experiments/*.yaml and the committed results
(docs/generated/experiments/<name>.json, written by `make experiments`): per experiment a Markdown partial
(setting, variant diffs, tables, verdicts) and an SVG (training curves and effect sizes), plus the LRN
activation figure and a summary of every claim. Nothing here trains; every number comes from those files.

The SVGs are inlined in the page: their text and axes are drawn in ``currentColor`` (the page's text colour in
both palettes), the data in two mid-tone colours readable on white and on Material's dark slate.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
import tempfile
from importlib.metadata import version
from pathlib import Path

from alexnet.analysis import analyse
from alexnet.experiment import (
    CURVES,
    RESULTS_FORMAT,
    Loaded,
    load_experiment,
    schema,
    stale_reasons,
    summarize,
    variant_diff,
)

from .templating import header, markdown_text

ROOT = Path(__file__).resolve().parent.parent
OUT = "docs/generated/experiments"
INK = "#010203"  # replaced by currentColor in the SVG text
COLOURS = ("#3b82d6", "#d2602a", "#21907a", "#c05fb0")  # contrast >= 3.8 on white and on slate
VERDICT = {"held": "held", "did not hold": "did not hold (the opposite was measured)", "within noise": "within noise"}


def experiment_artifacts(root: Path = ROOT) -> dict[str, str]:
    items = []
    for path in sorted((root / "spec" / "experiments").glob("*.yaml")):
        name = path.stem
        loaded = load_experiment(path, f"spec/experiments/{name}.yaml")
        results_file = root / OUT / f"{name}.json"
        text = results_file.read_text() if results_file.exists() else None
        items.append((loaded, text))
    files: dict[str, str] = {"spec/experiments/schema.json": json.dumps(
        {"$comment": header(None, "", "alexnet/experiment.py").strip(), **schema()}, indent=2, ensure_ascii=False) + "\n"}
    for loaded, text in items:
        results = json.loads(text) if text else None
        if results is not None and results.get("format") != RESULTS_FORMAT:
            results = None
        name = loaded.experiment.name
        files[f"{OUT}/{name}.md"] = render_experiment(loaded, results)
        if results is not None:
            files[f"{OUT}/{name}.svg"] = _svg_cached(root, loaded_path(root, name), "curves", text)
            if results.get("activations"):
                files[f"{OUT}/{name}-activations.svg"] = _svg_cached(root, loaded_path(root, name), "activations", text)
                files[f"{OUT}/{name}-activations.md"] = render_activations(loaded, results)
    files[f"{OUT}/summary.md"] = render_summary(items)
    first = next(((loaded, json.loads(text)) for loaded, text in items if text), None)
    if first is not None:
        files[f"{OUT}/setting.md"] = render_setting(*first)
    return files


def loaded_path(root: Path, name: str) -> Path:
    return root / "spec" / "experiments" / f"{name}.yaml"


# --- Markdown -----------------------------------------------------------------------------------------------

def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _num(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.0f} s"
    if unit == "epochs":
        return f"{value:.2f}"
    return f"{value:.2f}"


def _signed(value: float, unit: str) -> str:
    text = _num(abs(value), unit)
    return ("+" if value >= 0 else "\u2212") + text


def render_experiment(loaded: Loaded, results: dict | None) -> str:
    e = loaded.experiment
    lines = [header(None, "<!--", f"spec/experiments/{e.name}.yaml and {OUT}/{e.name}.json"), ""]
    lines += [f"**Question.** {markdown_text(e.question)}", ""]
    lines += ["**Variants** (edits of `spec/" + loaded.base.name + ".yaml`, trained with the recipe `"
              + loaded.recipe.name + "`):", ""]
    for variant in e.variants:
        if not variant.edits:
            lines += [f"- `{variant.name}`: {markdown_text(variant.title)}: the base spec unchanged."]
        else:
            lines += [f"- `{variant.name}`: {markdown_text(variant.title)}:", "", "    ```diff"]
            lines += [f"    {line}" if line else "" for line in variant_diff(loaded, variant.name).splitlines()]
            lines += ["    ```", ""]
    lines.append("")
    stale = stale_reasons(loaded, results)
    if results is None:
        lines += ["!!! warning \"Not run yet\"", "", "    No results are committed for this experiment: run "
                  "`make experiments`.", ""]
        return "\n".join(lines)
    if stale:
        lines += ["!!! warning \"These results are out of date\"", "",
                  *(f"    - {markdown_text(reason)}" for reason in stale), "", "    Run `make experiments`.", ""]
    seeds = results["variants"][0]["seeds"]
    lines += ["<div class=\"experiment-figure\">", f"--8<-- \"{OUT}/{e.name}.svg\"", "</div>", ""]
    lines += [f"Lines: the mean over the {len(seeds)} seeds ({', '.join(map(str, seeds))}); bands: the lowest and "
              "highest seed. Right: each claim's difference per seed (dots), its mean and 95% confidence interval "
              "(bar)" + (", and the paper's value (diamond)" if any(c.paper_effect is not None for c in e.claims)
                         else "") + ".", ""]
    summaries = [summarize(e, results, claim) for claim in e.claims]
    extra = not any(c.measure == "final_val_top1_error" for c in e.claims)
    header_cells = ["variant", "parameters"] + [f"{markdown_text(s.label)}" for s in summaries] \
        + (["validation top-1 error after the last epoch"] if extra else [])
    lines += ["| " + " | ".join(header_cells) + " |", "|" + "---|" * len(header_cells)]
    for variant in results["variants"]:
        cells = [f"`{variant['name']}`", f"{variant['params']:,}"]
        for s in summaries:
            if variant["name"] in s.mean:
                more = f" ({s.censored[variant['name']]} never reached it)" if s.censored[variant["name"]] else ""
                cells.append(f"{_num(s.mean[variant['name']], s.unit)} \u00b1 {_num(s.sd[variant['name']], s.unit)}"
                             + more)
            else:
                cells.append("")
        if extra:
            finals = [run["epochs"][-1]["val_top1_error"] for run in variant["runs"]]
            mean = sum(finals) / len(finals)
            sd = math.sqrt(sum((f - mean) ** 2 for f in finals) / max(len(finals) - 1, 1))
            cells.append(f"{100 * mean:.2f} \u00b1 {100 * sd:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"Mean \u00b1 standard deviation over {len(seeds)} seeds; error rates in percent, differences in "
              "percentage points.", ""]
    failed = diverged(loaded, results)
    if failed:
        listed = "; ".join(f"`{name}` seed{'s' if len(bad) > 1 else ''} {', '.join(map(str, bad))}"
                           for name, bad in failed.items())
        lines += ["!!! warning \"Runs that did not learn\"", "",
                  f"    {listed}: the validation error ended at chance level (at least "
                  f"{100 * chance_level(loaded):.0f}% for {loaded.base.num_classes} classes): training diverged at "
                  "this learning rate. These runs are kept in the statistics, so the claims that involve them "
                  "compare a network that learned with one that did not.", ""]
    lines += ["| claim | the paper | measured here: " + "difference (95% CI) | ratio | verdict |",
              "|---|---|---|---|---|"]
    for s in summaries:
        c = s.claim
        what = f"{markdown_text(s.label)}: `{c.variant}` {'lower' if c.better == 'lower' else 'higher'} than " \
               f"`{c.against}`"
        diff = f"{_signed(s.diff_mean, s.unit)} ({_signed(s.diff_low, s.unit)} to {_signed(s.diff_high, s.unit)})"
        if s.unit == "points":
            diff += " points"
        ratio = f"{s.ratio:.2f}x" if s.ratio is not None and s.unit in ("epochs", "s") else ""
        verdict = f"**{VERDICT[s.verdict]}**"
        if any(s.censored.values()):
            verdict += " (censored: some seeds never reached the threshold, their value is a lower bound)"
        lines.append(f"| {what} | {markdown_text(c.paper)} | {diff} | {ratio} | {verdict} |")
    lines += ["", "Difference: the alternative's value minus the paper's choice's, seed by seed, so a positive "
              "difference means the paper's choice had the lower value; ratio: the alternative's mean over the paper's "
              "choice's.", ""]
    return "\n".join(lines)


def chance_level(loaded: Loaded) -> float:
    """A final validation error this high means the network learned (almost) nothing: chance minus 5 points."""
    return 1 - 1 / loaded.base.num_classes - 0.05


def diverged(loaded: Loaded, results: dict) -> dict[str, list[int]]:
    """Variant name -> the seeds whose run ended at chance level (or with a loss that is not a number)."""
    out = {}
    for variant in results["variants"]:
        bad = [run["seed"] for run in variant["runs"]
               if not run["epochs"][-1]["val_top1_error"] < chance_level(loaded)
               or not math.isfinite(run["epochs"][-1]["train_loss"])]
        if bad:
            out[variant["name"]] = bad
    return out


def render_activations(loaded: Loaded, results: dict) -> str:
    act = results["activations"]
    e = loaded.experiment
    lines = [header(None, "<!--", f"{OUT}/{e.name}.json"), ""]
    lines += ["<div class=\"experiment-figure\">", f"--8<-- \"{OUT}/{e.name}-activations.svg\"", "</div>", ""]
    lines += ["| layer | channels | positive activations | mean in | mean out | multiplied by (median of the "
              "channels' medians) | k<sup>-beta</sup> | departure from k<sup>-beta</sup>: median, largest |",
              "|---|---|---|---|---|---|---|---|"]
    for layer in act["layers"]:
        ch = layer["channels"]
        med = sorted(c["scale_median"] for c in ch)
        mean_in = sum(c["in_mean"] for c in ch) / len(ch)
        mean_out = sum(c["out_mean"] for c in ch) / len(ch)
        lines.append(f"| `{layer['layer']}` (size {layer['size']}, alpha {layer['alpha']:g}, beta {layer['beta']:g}, "
                     f"k {layer['k']:g}) | {len(ch)} | {layer['positions']:,} | {mean_in:.3f} | {mean_out:.3f} | "
                     f"{med[len(med) // 2]:.6f} | {layer['k_factor']:.6f} | {layer['departure_median']:.2g}, "
                     f"{layer['departure_max']:.2g} |")
    largest = max(layer["departure_max"] for layer in act["layers"])
    factors = ", ".join(f"{layer['k_factor']:.4f}" for layer in act["layers"])
    if largest < 0.01:
        lines += ["", f"**In this network LRN is a constant scale:** every positive activation left the LRN layers "
                  f"multiplied by k<sup>-beta</sup> ({factors}) to within a fraction {largest:.1g} of that factor, "
                  "so the sums of squares over neighbouring channels never mattered."]
    else:
        lines += ["", f"**LRN does more than scale here:** some activations were multiplied by a factor up to a "
                  f"fraction {largest:.2g} below k<sup>-beta</sup> ({factors}), where their neighbours were strong."]
    variant = e.activations.variant if e.activations else ""
    lines += ["", f"From the `{variant}` network trained with seed {results['variants'][0]['seeds'][0]}, on "
              f"{act['images']:,} validation images.", ""]
    return "\n".join(lines)


def render_summary(items: list[tuple[Loaded, str | None]]) -> str:
    lines = [header(None, "<!--", "spec/experiments/*.yaml and docs/generated/experiments/*.json"), ""]
    lines += ["| experiment | claim | measured difference (95% CI) | verdict |", "|---|---|---|---|"]
    walls, prov = [], None
    for loaded, text in items:
        e = loaded.experiment
        results = json.loads(text) if text else None
        if results is None or results.get("format") != RESULTS_FORMAT:
            lines.append(f"| {markdown_text(e.title)} | | | not run yet |")
            continue
        prov = results["provenance"]
        walls.append((prov["wall_s"], prov["date"], tuple(prov["experiments_in_this_invocation"]),
                      prov["distinct_runs_in_this_invocation"], prov["jobs"], prov["machine"].get("cpu", ""),
                      prov["torch"], prov["threads_per_job"]))
        for claim in e.claims:
            s = summarize(e, results, claim)
            diff = f"{_signed(s.diff_mean, s.unit)} ({_signed(s.diff_low, s.unit)} to {_signed(s.diff_high, s.unit)})"
            unit = {"points": " points", "epochs": " epochs", "s": ""}[s.unit]
            failed = diverged(loaded, results)
            note = sum(len(failed.get(name, [])) for name in (claim.variant, claim.against))
            flag = f" ({note} run(s) that did not learn included)" if note else ""
            lines.append(f"| {markdown_text(e.title)} | `{claim.variant}` vs `{claim.against}`: "
                         f"{markdown_text(s.label)} | {diff}{unit} | **{VERDICT[s.verdict]}**{flag} |")
    lines.append("")
    cpu_seconds: dict[tuple, float] = {}
    for _loaded, text in items:
        results = json.loads(text) if text else None
        if results is None or results.get("format") != RESULTS_FORMAT:
            continue
        hashes = results["provenance"]["hashes"]
        for variant in results["variants"]:
            for run in variant["runs"]:
                key = (results["provenance"]["date"], hashes["spec"], hashes["recipe"],
                       hashes["variants"][variant["name"]], run["seed"])
                cpu_seconds[key] = run["epochs"][-1]["seconds"]
    for wall, date, names, runs, jobs, cpu, torch_version, threads in sorted(set(walls)):
        lines += [f"`make experiments` on {date[:10]} trained {runs} distinct runs for {len(names)} experiment(s) "
                  f"in **{wall / 60:.1f} minutes** ({jobs} process(es) of {threads} thread(s) each; CPU: {cpu}, "
                  f"{_cores(items)} cores; PyTorch {torch_version}). The training steps of those runs took "
                  f"{_minutes(cpu_seconds, date):.1f} processor-minutes in all (evaluation and start-up not "
                  "counted); the rest of the wall-clock time is evaluation, start-up and, on a shared machine, other "
                  "programs.", ""]
    return "\n".join(lines)


def _minutes(cpu_seconds: dict[tuple, float], date: str) -> float:
    return sum(v for k, v in cpu_seconds.items() if k[0] == date) / 60


def _cores(items) -> str:
    for _, text in items:
        if text:
            return str(json.loads(text)["provenance"]["machine"].get("cores", "?"))
    return "?"


def render_setting(loaded: Loaded, results: dict) -> str:
    """The paper's setting beside ours: data, image size, network size, training length, seeds."""
    from alexnet import spec_path
    from alexnet.recipe import load_recipe
    from alexnet.spec import load_spec

    ours = analyse(loaded.base).as_dict()
    paper = analyse(load_spec(spec_path("alexnet_paper"))).as_dict()
    paper_recipe = load_recipe("paper")
    s = results["setting"]
    seeds = results["variants"][0]["seeds"]
    rows = [
        ("data", "ImageNet (ILSVRC-2010/2012): about 1.2 million training images, 1,000 classes, colour photographs",
         f"Fashion-MNIST: {s['train_images']:,} of the 60,000 training images and {s['val_images']:,} of the "
         "10,000 test images (for validation), each a random choice fixed by seed 0, the same in every run; "
         f"{loaded.base.num_classes} classes, "
         "grey clothing photographs"),
        ("input", "x".join(map(str, paper["input"])), "x".join(map(str, ours["input"]))),
        ("network", f"`alexnet_paper`: {paper['total']['params']:,} parameters, {paper['total']['macs']:,} "
         "multiply-accumulates per image",
         f"`{ours['name']}`: {ours['total']['params']:,} parameters, {ours['total']['macs']:,} multiply-accumulates "
         "per image"),
        ("training", f"recipe `paper`: {paper_recipe.epochs} epochs, batch {paper_recipe.batch_size}, two GPUs, "
         "five to six days", f"recipe `{s['recipe']}`: {s['epochs']} epochs, batch {s['batch_size']}, one thread "
         "of a CPU per run"),
        ("repeats", "one network per configuration", f"{len(seeds)} seeds per variant ({', '.join(map(str, seeds))}),"
         " the same for every variant"),
    ]
    lines = [header(None, "<!--", "spec/experiments/*.yaml, spec/recipes/*.yaml, spec/*.yaml"), "",
             "| | the paper | here |", "|---|---|---|"]
    lines += [f"| {what} | {paper_text} | {ours_text} |" for what, paper_text, ours_text in rows]
    return "\n".join(lines) + "\n"


# --- figures ------------------------------------------------------------------------------------------------

FIGURE_CACHE = Path(".cache") / "experiment-figures"  # relative to the repository root; git ignores it


def _svg_cached(root: Path, path: Path, what: str, text: str) -> str:
    """The figure, drawn by matplotlib only when its inputs changed: drawing takes seconds, and the generator
    runs on every save under `make serve`. The key covers everything the drawing reads (results, experiment,
    this module's code, matplotlib's version); the committed file is still compared in full by --check."""
    source = path.read_text()
    key = hashlib.sha256("\0".join([what, source, text, Path(__file__).read_text(), version("matplotlib")])
                         .encode()).hexdigest()
    cached = root / FIGURE_CACHE / f"{key}.svg"
    try:
        return cached.read_text()
    except OSError:
        pass
    loaded = load_experiment(path)
    name = loaded.experiment.name
    results = json.loads(text)
    first = header(None, "<!--", f"{OUT}/{name}.json") + "\n"
    if what == "activations":
        svg = first + _figure(name + "-activations", lambda fig: _plot_activations(fig, results))
    else:
        svg = first + _figure(name, lambda fig: _plot_experiment(fig, loaded, results))
    _store(cached, svg)
    return svg


def _store(path: Path, text: str) -> None:
    """Best effort (a read-only checkout still generates), and atomic: two generators may run at once."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as out:
            out.write(text)
        os.replace(out.name, path)
    except OSError:
        pass


def _figure(salt: str, draw) -> str:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    style = {"svg.hashsalt": f"experiments-{salt}", "svg.fonttype": "none", "font.size": 9,
             "font.family": "sans-serif", "text.color": INK, "axes.labelcolor": INK, "axes.edgecolor": INK,
             "xtick.color": INK, "ytick.color": INK, "axes.facecolor": "none", "figure.facecolor": "none",
             "savefig.facecolor": "none", "savefig.transparent": True, "legend.frameon": False,
             "axes.spines.top": False, "axes.spines.right": False}
    with plt.rc_context(style):
        fig = draw(plt)
        out = io.StringIO()
        fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
                    bbox_inches="tight")
        plt.close(fig)
    return _inline_svg(out.getvalue(), salt)


def _inline_svg(svg: str, salt: str) -> str:
    """An SVG ready to sit inside a page: no XML prolog, ink in currentColor, only ids that are referenced
    (prefixed, so two figures on a page never share one), scaled to the column's width."""
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = svg.replace(INK, "currentColor")
    svg = svg.replace("*{stroke-linejoin", ".experiment-svg *{stroke-linejoin")  # an inline <style> is page-wide
    svg = re.sub(r"[ \t]*\n\s*", "\n", svg)  # no indentation, no blank line: Markdown keeps it one HTML block
    referenced = set(re.findall(r"#([A-Za-z_][\w.-]*)\)?\"?", svg))
    referenced = {r for r in referenced if re.search(rf'id="{re.escape(r)}"', svg)}

    def keep(match: re.Match) -> str:
        value = match.group(1)
        return f' id="{salt}-{value}"' if value in referenced else ""
    svg = re.sub(r' id="([^"]+)"', keep, svg)
    for ref in referenced:
        svg = svg.replace(f"#{ref})", f"#{salt}-{ref})").replace(f'"#{ref}"', f'"#{salt}-{ref}"')
    svg = re.sub(r'<svg ([^>]*?)width="([\d.]+)pt" height="([\d.]+)pt"',
                 lambda m: f'<svg {m.group(1)}class="experiment-svg" role="img" aria-label="{salt}" '
                           f'style="max-width: {m.group(2)}pt"', svg, count=1)
    return svg if svg.endswith("\n") else svg + "\n"


def _band(ax, xs, runs, colour, style="-", label=None):
    mean = [sum(r[i] for r in runs) / len(runs) for i in range(len(xs))]
    low = [min(r[i] for r in runs) for i in range(len(xs))]
    high = [max(r[i] for r in runs) for i in range(len(xs))]
    ax.fill_between(xs, low, high, color=colour, alpha=0.18, linewidth=0)
    ax.plot(xs, mean, style, color=colour, linewidth=1.6, label=label)


def _plot_experiment(plt, loaded: Loaded | None, results: dict):
    e = loaded.experiment
    claims = e.claims
    fig = plt.figure(figsize=(3.6 + 1.9 * len(claims), 3.1))
    grid = fig.add_gridspec(1, 1 + len(claims), width_ratios=[2.4] + [1] * len(claims), wspace=0.55)
    ax = fig.add_subplot(grid[0, 0])
    styles = {0: "-", 1: "--"}
    for i, variant in enumerate(results["variants"]):
        colour = COLOURS[i % len(COLOURS)]
        for j, key in enumerate(e.curves):
            if key == "train_running_error":
                xs = [p["epoch"] for p in variant["runs"][0]["steps"]]
                ys = [[100 * p[key] for p in run["steps"]] for run in variant["runs"]]
            else:
                xs = [p["epoch"] for p in variant["runs"][0]["epochs"]]
                ys = [[100 * p[key] for p in run["epochs"]] for run in variant["runs"]]
            label = variant["name"] + (f": {CURVES[key].split(' (')[0]}" if len(e.curves) > 1 else "")
            _band(ax, xs, ys, colour, styles.get(j, ":"), label)
    for claim in claims:
        if claim.threshold is not None:
            ax.axhline(100 * claim.threshold, color=INK, linewidth=0.8, linestyle=":")
            break
    ax.set_xlabel("epoch")
    ax.set_ylabel(CURVES[e.curves[0]].split(" (")[0] + " (%)" if len(e.curves) == 1 else "error (%)")
    ax.grid(alpha=0.25, color="#888888")
    ax.legend(fontsize=8)
    for k, claim in enumerate(claims):
        s = summarize(e, results, claim)
        axc = fig.add_subplot(grid[0, 1 + k])
        diffs = [b - a for a, b in zip(s.values[claim.variant], s.values[claim.against], strict=True)]
        axc.axhline(0, color=INK, linewidth=0.8)
        axc.scatter([0] * len(diffs), diffs, s=14, color=COLOURS[1], alpha=0.8, zorder=3)
        axc.errorbar([0.35], [s.diff_mean], yerr=[[s.diff_mean - s.diff_low], [s.diff_high - s.diff_mean]],
                     fmt="o", color=COLOURS[0], capsize=4, markersize=5, zorder=4)
        if claim.paper_effect is not None:
            axc.scatter([0.7], [claim.paper_effect], marker="D", s=28, color=COLOURS[2], zorder=4)
        axc.set_xlim(-0.4, 1.1)
        axc.set_xticks([0, 0.35] + ([0.7] if claim.paper_effect is not None else []))
        axc.set_xticklabels(["seeds", "mean"] + (["paper"] if claim.paper_effect is not None else []), fontsize=6.5,
                            rotation=45)
        unit = {"points": "points", "epochs": "epochs", "s": "seconds"}[s.unit]
        axc.set_ylabel(f"{claim.against} \u2212 {claim.variant} ({unit})", fontsize=7.5)
        title = {"epochs_to_train_error": "epochs to {t}", "seconds_to_train_error": "seconds to {t}",
                 "final_val_top1_error": "val top-1", "final_val_top5_error": "val top-5",
                 "final_train_top1_error": "train error", "final_gap": "val \u2212 train"}[claim.measure]
        axc.set_title(title.format(t=f"{claim.threshold:.0%}" if claim.threshold else ""), fontsize=8.5)
        axc.grid(axis="y", alpha=0.25, color="#888888")
    return fig


def _plot_activations(plt, results: dict):
    layers = results["activations"]["layers"]
    fig, axes = plt.subplots(len(layers), 2, figsize=(8.4, 2.6 * len(layers)), squeeze=False,
                             gridspec_kw={"width_ratios": [1.6, 1], "hspace": 0.6, "wspace": 0.3})
    for row, layer in zip(axes, layers, strict=True):
        ch = layer["channels"]
        xs = list(range(len(ch)))
        ax = row[0]
        ax.bar([x - 0.2 for x in xs], [c["in_p99"] for c in ch], width=0.4, color=COLOURS[0], label="before (99th pct)")
        ax.bar([x + 0.2 for x in xs], [c["out_p99"] for c in ch], width=0.4, color=COLOURS[1], label="after (99th pct)")
        ax.plot(xs, [c["in_mean"] for c in ch], "o", markersize=2.5, color=COLOURS[0], label="before (mean)")
        ax.plot(xs, [c["out_mean"] for c in ch], "o", markersize=2.5, color=COLOURS[1], label="after (mean)")
        ax.set_xlabel(f"{layer['layer']}: channel")
        ax.set_ylabel("activation")
        ax.legend(fontsize=7, ncols=4, loc="lower left", bbox_to_anchor=(0, 1.0), handlelength=1.2,
                  columnspacing=1.0)
        ax.grid(axis="y", alpha=0.25, color="#888888")
        h = layer["departure_log10_histogram"]
        counts = h["counts"]
        width = (h["high"] - h["low"]) / len(counts)
        lefts = [h["low"] + i * width for i in range(len(counts))]
        ax2 = row[1]
        ax2.bar(lefts, counts, width=width, align="edge", color=COLOURS[2])
        ax2.set_xlabel(f"{layer['layer']}: log10(1 \u2212 factor / k^\u2212beta)")
        ax2.set_ylabel("positive activations")
        ax2.grid(axis="y", alpha=0.25, color="#888888")
    return fig

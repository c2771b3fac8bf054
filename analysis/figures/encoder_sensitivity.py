"""The paper's encoder-sensitivity check: FID of the same trained generators under two encoders, and how well the
two rank them (Spearman ρ; the paper: ≈ 0.9 for Inception pool3 vs VGG-16 FC7)."""
from __future__ import annotations

from matplotlib.figure import Figure
from scipy.stats import spearmanr

from gan_study.analysis.figures.registry import FigureSkipped, given_table, register_figure
from gan_study.analysis.inputs import ReportInputs
from gan_study.analysis.style import panel_grid

CAPTION = ("Encoder sensitivity (gan-fid-experiments encoder-sensitivity; by default each run's generator of its best "
           "FID evaluation): FID of the same generators under two encoders, one point per generator. The title gives "
           "the number of generators and the Spearman rank correlation of the two FIDs; the paper reports ρ ≈ 0.9 "
           "between Inception and VGG FC7.")


@register_figure("encoder_sensitivity", title="FID under two encoders", caption=CAPTION)
def encoder_sensitivity_figure(inputs: ReportInputs) -> Figure:
    table = given_table(inputs.encoder_sensitivity, "encoder-sensitivity", "sanity.encoder_sensitivity",
                        "gan-fid-experiments encoder-sensitivity")
    first, second = [c for c in table.columns if c.startswith("fid_")][:2]
    if len(table) < 3:
        raise FigureSkipped(f"{len(table)} generator(s) in the encoder-sensitivity table: a rank correlation needs 3")
    rho = float(spearmanr(table[first], table[second]).statistic)
    fig, (ax,) = panel_grid(1, panel_size=(4.4, 3.8))
    ax.scatter(table[first], table[second], s=22, color="#1f4e79", gid="generators")
    for name, x, y in zip(table["generator"], table[first], table[second]):
        ax.annotate(str(name), (x, y), fontsize=6, color="grey", xytext=(3, 3), textcoords="offset points")
    ax.set(xlabel=f"FID ({first.removeprefix('fid_')})", ylabel=f"FID ({second.removeprefix('fid_')})",
           title=f"{len(table)} generators, Spearman ρ = {rho:.3f}")
    fig.suptitle("FID under two encoders")
    return fig

"""The sleep hyperparameter table of the methods part, rendered from ``presets.yaml``."""

from __future__ import annotations

from ..sleep.presets import preset, preset_names


def _length_rule(lengths: dict) -> str:
    rule, value = next(iter(lengths.items()))
    if rule == "growing":
        first, step = value
        return f"{first} + {step}·(i − 1)"
    if rule == "fixed":
        return str(value)
    return ", ".join(map(str, value))


def presets_markdown() -> str:
    """A Markdown table: one row per named preset, every searched value and the sleep length."""
    header = ("| preset | $r_{\\max}$ | inc | dec | $\\beta_1, \\beta_2, \\beta_3$ | alpha_scale "
              "| window | sleep length $T$ after task $i$ | from the original code |")
    lines = [header, "|" + "---|" * 9]
    for name in preset_names():
        p = preset(name)
        betas = ", ".join(f"{b:g}" for b in p.beta)
        window = f"{p.window}×{p.window}" if p.window else "whole input"
        source = p.source.replace("|", "/")
        lines.append(f"| `{name}` | {p.r_max:g} | {p.inc:g} | {p.dec:g} | {betas} | "
                     f"{p.alpha_scale:g} | {window} | {_length_rule(p.lengths)} | {source} |")
    return "\n".join(lines) + "\n"

"""The report's charts as PNG images with Thai labels (matplotlib, a Thai font from fonts-thai-tlwg)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from ..rules.config import Settings
from ..rules.targets import BASIS_TEXT, KIND_TEXT, applicable_target, line_kind
from ..xlsx.layout import CHART_COLORS, TARGET_LINE
from .figures import ReportContent

# Thai fonts in order of preference: TH Sarabun New, then its metric stand-in Laksaman, then other TLWG faces.
THAI_FONTS = ("TH Sarabun New", "TH SarabunPSK", "Laksaman", "Garuda", "Loma", "Norasi", "Tahoma")
DISBURSED, TOTAL, NOT_YET, ACHIEVED, PENDING = CHART_COLORS


class NoThaiFontError(RuntimeError):
    """No Thai font matplotlib can use: the charts would show boxes instead of Thai."""


@dataclass(frozen=True)
class Chart:
    """One chart image and its caption."""

    key: str
    caption: str
    path: Path


def thai_font() -> str:
    """The family name of an installed Thai font, or :class:`NoThaiFontError` saying how to install one."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in THAI_FONTS:
        if name in installed:
            return name
    raise NoThaiFontError("ไม่พบฟอนต์ภาษาไทยสำหรับกราฟ ติดตั้ง fonts-thai-tlwg / no Thai font for the charts:"
                          " install one (Debian/Ubuntu: apt-get install fonts-thai-tlwg)")


def _f(value: Decimal | None) -> float:
    return float(value) if value is not None else 0.0


def make_charts(content: ReportContent, settings: Settings, out_dir: Path) -> list[Chart]:
    """The four charts of the report written as PNGs into ``out_dir`` (only those with data)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    font = thai_font()
    plt.rcParams.update({"font.family": font, "font.size": 15, "axes.titlesize": 17, "figure.dpi": 150,
                         "axes.spines.top": False, "axes.spines.right": False})
    out_dir.mkdir(parents=True, exist_ok=True)
    charts: list[Chart] = []
    period = content.period

    def save(fig: Figure, key: str, caption: str) -> None:
        path = out_dir / f"{key}.png"
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)
        charts.append(Chart(key, caption, path))

    current = [p for p in content.disbursement_points if p.fiscal_year == period.fiscal_year]
    if current:
        point = current[0]
        quarters = [1, 2, 3, 4]
        cfg = settings.disbursement
        kind = line_kind(point.row.get("budget_category"), point.fiscal_year, period.fiscal_year)
        judged, target = applicable_target(cfg, kind, period.fiscal_year, point.row.get("budget_source"))
        # Only the quarters the target's source states: an unstated quarter is no point on the line.
        stated = [(n, t) for n, t in zip(quarters, target.quarters, strict=True) if t is not None] \
            if judged and target is not None else []
        fig, ax = plt.subplots(figsize=(8, 4.5))
        if stated:
            ax.plot([n for n, _ in stated], [float(t) for _, t in stated], marker="o", color=TARGET_LINE,
                    linewidth=2, zorder=3, label=f"เป้าหมายการเบิกจ่ายของรัฐบาล ({KIND_TEXT[kind][0]})\n"
                                                 f"วัดด้วย{BASIS_TEXT[cfg.basis][0]}")  # two lines: clear of the bars
            for q, t in stated:  # left of the point, clear of the bars
                ax.annotate(f"{float(t):g}", (q, float(t)), textcoords="offset points",
                            xytext=(8, -14) if q == 1 else (-8, 4), ha="left" if q == 1 else "right",
                            color=TARGET_LINE, fontsize=13, fontweight="bold")
        q = period.quarter
        ax.bar([q - 0.18], [_f(point.pct_disbursed)], width=0.34, color=DISBURSED, label="เบิกจ่าย")
        ax.bar([q + 0.18], [_f(point.pct_total)], width=0.34, color=TOTAL, label="เบิกจ่ายรวมผูกพัน")
        for x, shown in ((q - 0.18, point.pct_disbursed), (q + 0.18, point.pct_total)):
            ax.annotate(f"{_f(shown):.2f}", (x, _f(shown)), textcoords="offset points", xytext=(0, 3),
                        ha="center", fontsize=13)
        ax.set_xticks(quarters, [f"ไตรมาส {n}" for n in quarters])
        ax.set_ylim(0, 110)
        ax.set_ylabel("ร้อยละของงบประมาณ")
        ax.set_title(f"ผลการเบิกจ่ายสะสม ณ {period.short} เทียบเป้าหมาย")
        ax.legend(loc="upper left", fontsize=12, frameon=False)
        save(fig, "chart_disbursement",
             f"ผลการเบิกจ่ายเทียบเป้าหมายรายไตรมาส {point.label} / disbursement against the quarterly targets")
    if content.strategy_budgets:
        fig, ax = plt.subplots(figsize=(8, 4))
        labels = [f"ยุทธศาสตร์ที่ {code}" for code, _ in content.strategy_budgets]
        values = [float(b) / 1e6 for _, b in content.strategy_budgets]
        ax.barh(labels[::-1], values[::-1], color=TOTAL)
        for y, value in enumerate(values[::-1]):
            ax.annotate(f"{value:,.2f}", (value, y), textcoords="offset points", xytext=(4, 0), va="center",
                        fontsize=13)
        ax.set_xlabel("ล้านบาท")
        ax.set_xlim(0, max(values) * 1.2 if values else 1)
        ax.set_title("งบประมาณจำแนกตามยุทธศาสตร์")
        save(fig, "chart_strategies", "งบประมาณจำแนกตามยุทธศาสตร์ / budget by strategy")
    if content.kpi_status:
        fig, ax = plt.subplots(figsize=(8, 3.6))
        names = list(content.kpi_status)
        counts = [content.kpi_status[n] for n in names]
        ax.bar(names, counts, color=[ACHIEVED, NOT_YET, PENDING][:len(names)])
        for x, c in enumerate(counts):
            ax.annotate(str(c), (x, c), textcoords="offset points", xytext=(0, 3), ha="center", fontsize=14)
        ax.set_ylabel("จำนวนตัวชี้วัด")
        ax.set_ylim(0, max(counts) + 1.5 if counts else 1)
        ax.set_title(f"สถานะตัวชี้วัด ณ {period.short}")
        save(fig, "chart_kpi", "สถานะตัวชี้วัด / KPI status")
    if content.beneficiaries:
        # Per cent of target, not raw counts: approaches differ a hundredfold, and the executive question is
        # "how far along is each approach"; the counts are written beside each bar.
        fig, ax = plt.subplots(figsize=(8, 4.5))
        rows = [(f"แนวทางที่ {code}", t, r) for code, t, r in content.beneficiaries if t]
        labels = [label for label, _, _ in rows]
        pcts = [_f(r) / _f(t) * 100 for _, t, r in rows]
        ax.barh(labels, pcts, color=[TOTAL if p >= 100 else DISBURSED for p in pcts])
        ax.axvline(100, color=TARGET_LINE, linewidth=2, label="เป้าหมาย (ร้อยละ 100)")
        for y, ((_, t, r), p) in enumerate(zip(rows, pcts, strict=True)):
            ax.annotate(f"{p:.2f}%  ({_f(r):,.0f} / {_f(t):,.0f} ราย)", (p, y), textcoords="offset points",
                        xytext=(4, 0), va="center", fontsize=12,
                        bbox={"facecolor": "white", "edgecolor": "none", "pad": 1, "alpha": 0.85})
        ax.invert_yaxis()
        ax.set_xlim(0, max([*pcts, 100]) * 1.55)
        ax.set_xlabel("ร้อยละของเป้าหมาย (ราย)")
        ax.set_title(f"ผู้ได้รับประโยชน์เทียบเป้าหมาย ณ {period.short}")
        ax.legend(loc="upper right", fontsize=12, frameon=False)
        save(fig, "chart_beneficiaries", "แผนงานบูรณาการ: ผู้ได้รับประโยชน์เทียบเป้าหมาย / beneficiaries vs targets")
    return charts

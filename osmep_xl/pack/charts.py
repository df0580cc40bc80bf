"""The report's charts as PNG images with Thai labels (matplotlib, a Thai font from fonts-thai-tlwg)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from ..rules.config import Settings
from .figures import ReportContent

# Thai fonts in order of preference: TH Sarabun New, then its metric stand-in Laksaman, then other TLWG faces.
THAI_FONTS = ("TH Sarabun New", "TH SarabunPSK", "Laksaman", "Garuda", "Loma", "Norasi", "Tahoma")
DISBURSED = "#9DC3E6"
TOTAL = "#1F4E79"
TARGET = "#C00000"


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

    font = thai_font()
    plt.rcParams.update({"font.family": font, "font.size": 15, "axes.titlesize": 17, "figure.dpi": 150,
                         "axes.spines.top": False, "axes.spines.right": False})
    out_dir.mkdir(parents=True, exist_ok=True)
    charts: list[Chart] = []
    period = content.period

    def save(fig: plt.Figure, key: str, caption: str) -> None:
        path = out_dir / f"{key}.png"
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)
        charts.append(Chart(key, caption, path))

    current = [p for p in content.disbursement_points if p.fiscal_year == period.fiscal_year]
    if current:
        point = current[0]
        quarters = [1, 2, 3, 4]
        targets = [settings.disbursement.targets.get(period.fiscal_year, {}).get(settings.disbursement.kind)]
        fig, ax = plt.subplots(figsize=(8, 4.5))
        if targets[0]:
            ax.plot(quarters, [float(t) for t in targets[0]], marker="o", color=TARGET, linewidth=2,
                    label=f"เป้าหมายการเบิกจ่ายของรัฐบาล ({settings.disbursement.kind})")
            for q, t in zip(quarters, targets[0], strict=True):
                ax.annotate(f"{t}", (q, float(t)), textcoords="offset points", xytext=(0, 8), ha="center",
                            color=TARGET, fontsize=13)
        q = period.quarter
        ax.bar([q - 0.18], [_f(point.pct_disbursed)], width=0.34, color=DISBURSED, label="เบิกจ่าย")
        ax.bar([q + 0.18], [_f(point.pct_total)], width=0.34, color=TOTAL, label="เบิกจ่ายรวมผูกพัน")
        for x, value in ((q - 0.18, point.pct_disbursed), (q + 0.18, point.pct_total)):
            ax.annotate(f"{_f(value):.2f}", (x, _f(value)), textcoords="offset points", xytext=(0, 3),
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
        ax.bar(names, counts, color=["#548235", "#C55A11", "#7F7F7F"][:len(names)])
        for x, c in enumerate(counts):
            ax.annotate(str(c), (x, c), textcoords="offset points", xytext=(0, 3), ha="center", fontsize=14)
        ax.set_ylabel("จำนวนตัวชี้วัด")
        ax.set_ylim(0, max(counts) + 1.5 if counts else 1)
        ax.set_title(f"สถานะตัวชี้วัด ณ {period.short}")
        save(fig, "chart_kpi", "สถานะตัวชี้วัด / KPI status")
    if content.beneficiaries:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        labels = [f"แนวทางที่ {code}" for code, _, _ in content.beneficiaries]
        ys = range(len(labels))
        ax.barh([y + 0.2 for y in ys], [_f(t) for _, t, _ in content.beneficiaries], height=0.4, color=DISBURSED,
                label="เป้าหมาย (ราย)")
        ax.barh([y - 0.2 for y in ys], [_f(r) for _, _, r in content.beneficiaries], height=0.4, color=TOTAL,
                label="ผล (ราย)")
        ax.set_yticks(list(ys), labels)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_xlabel("ราย (มาตราส่วนลอการิทึม)")
        ax.set_title(f"ผู้ได้รับประโยชน์เทียบเป้าหมาย ณ {period.short}")
        ax.legend(loc="lower right", fontsize=12, frameon=False)
        save(fig, "chart_beneficiaries", "แผนงานบูรณาการ: ผู้ได้รับประโยชน์เทียบเป้าหมาย / beneficiaries vs targets")
    return charts

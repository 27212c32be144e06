/** The report's style sheet (inline in the page). */
export const CSS = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", "DejaVu Sans", sans-serif; color: #1d1d1f; background: #f4f5f7; margin: 0; }
header, section.model, footer { max-width: 1480px; margin: 0 auto; padding: 12px 24px; }
header { padding-top: 20px; }
h1 { font-size: 24px; margin: 0 0 2px; }
h2 { font-size: 20px; margin: 8px 0 0; }
h3 { font-size: 16px; margin: 22px 0 8px; border-bottom: 1px solid #d8dbe0; padding-bottom: 4px; }
h4 { font-size: 14px; margin: 14px 0 6px; }
.meta { color: #555; margin: 2px 0 10px; }
.tag { font-size: 12px; font-weight: normal; color: #fff; background: #607d8b; border-radius: 3px; padding: 1px 6px; vertical-align: middle; }
.tiles { display: flex; flex-wrap: wrap; gap: 8px; }
.tile { background: #fff; border: 1px solid #d8dbe0; border-radius: 6px; padding: 6px 12px; min-width: 92px; }
.tile b { display: block; font-size: 18px; }
.tile span { color: #555; font-size: 12px; }
.tile.warn { border-color: #c62828; }
.tile.warn b { color: #c62828; }
nav { margin: 12px 0 0; }
nav a { margin-right: 16px; color: #1a3a8f; }
section.model { background: #fff; border: 1px solid #d8dbe0; border-radius: 8px; margin-top: 18px; margin-bottom: 18px; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 10px 18px; }
figure { margin: 0; }
figcaption { font-weight: 600; font-size: 13px; margin: 4px 0 0 8px; }
svg.chart, svg.timeline, svg.xy { width: 100%; height: auto; display: block; font-size: 11px; }
svg .plot { fill: #fff; stroke: #c9cdd3; }
svg .grid { stroke: #eceef1; }
svg .grid.major { stroke: #d5d9de; }
svg .tick { fill: #555; }
svg .tick.major { fill: #222; font-weight: 600; }
svg .axis { fill: #444; }
svg .empty { fill: #888; font-size: 14px; }
svg .row-label { fill: #333; }
svg path.series { fill: none; stroke-width: 1.3; stroke-linejoin: round; stroke-linecap: round; opacity: 0.6; }
svg path.series.steps { stroke-width: 3.5; opacity: 1; stroke-linecap: butt; }
svg path.series.estimate { stroke-dasharray: 5 4; stroke-linecap: butt; opacity: 0.85; }
svg path.series.steps.estimate { stroke-width: 2.5; }
svg path.series.estimate.untrusted { opacity: 0.3; }
svg rect.immature { fill: #fff3cd; opacity: 0.75; }
svg .immature-note { fill: #8a6d00; font-size: 11px; font-style: italic; }
svg g.marker line { stroke-width: 1.6; stroke-dasharray: 5 3; }
svg g.marker text { font-size: 11px; font-weight: 600; }
svg line.marker { stroke-width: 1.6; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 4px 0 8px; font-size: 13px; }
.legend .item { display: inline-flex; align-items: center; gap: 6px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
.legend .swatch { margin-right: 0; }
.legend .line { display: inline-block; width: 22px; border-top: 1.5px solid #555; opacity: 0.7; }
.legend .line.bold { border-top: 4px solid #555; opacity: 1; }
.legend .line.estimate { border-top: 2px dashed #555; opacity: 0.85; }
.legend .line.estimate.untrusted { opacity: 0.3; }
.legend .shade { display: inline-block; width: 22px; height: 12px; background: #fff3cd; border: 1px solid #e6d28a; }
.legend .vline { display: inline-block; height: 14px; border-left: 2px dashed; }
.legend .tick { display: inline-block; width: 2px; height: 10px; }
table { border-collapse: collapse; margin: 4px 0 8px; font-size: 13px; }
th, td { padding: 3px 10px; border-bottom: 1px solid #e6e8eb; text-align: left; }
thead th { background: #f0f2f5; font-weight: 600; vertical-align: bottom; }
tbody th { font-weight: normal; white-space: nowrap; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
table.gaps th.n { max-width: 190px; }
.reason { display: inline-block; max-width: 720px; text-align: left; white-space: normal; }
.decision { font-weight: 600; }
.decision.promote { color: #7b1fa2; }
.decision.rollback { color: #c62828; }
.none { color: #666; font-style: italic; }
.charts.small { grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); max-width: 1080px; }
svg path.curve { fill: none; stroke-width: 1.6; stroke-linejoin: round; }
svg path.curve.dashed { stroke-dasharray: 4 3; }
svg line.diagonal { stroke: #9e9e9e; stroke-dasharray: 3 3; }
.matrices { display: flex; flex-wrap: wrap; gap: 6px 28px; }
table.confusion td small { display: block; color: #666; font-size: 11px; }
table.confusion td.diag { background: #eef3fb; }
table.features td { vertical-align: top; }
table.features td small { display: block; color: #666; font-size: 11px; }
table.features td.alarm { color: #c62828; font-weight: 600; }
table.features small.alarms { color: #ef6c00; }
table.features tr.alarm th { color: #c62828; font-weight: 600; }
.hist { display: inline-block; margin-right: 10px; }
.hist small { display: block; }
svg.bars { width: 240px; height: 90px; display: block; font-size: 10px; }
svg.spark { width: 120px; height: 24px; display: block; }
svg.spark path.curve { stroke: #1a3a8f; stroke-width: 1.3; }
footer { color: #666; font-size: 12px; padding-bottom: 28px; }
`;

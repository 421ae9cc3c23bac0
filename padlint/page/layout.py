"""``padlint report``'s HTML: one self-contained page built from a :class:`~padlint.page.gather.Visual`.

Styles are inline and every picture is a PNG data URI, so the file needs no network and
names no external URL (a Content-Security-Policy forbids any load that is not a data URI).
Sections, each with a stable id: summary, layers, overview, kernels, coverage, blindspots,
sizes, findings.
"""
from __future__ import annotations

import datetime

from padlint import __version__
from padlint.geometry.axis import AXIS_NAMES
from padlint.geometry.coverage import MAX_LENGTH
from padlint.ir.severity import WORST_FIRST
from padlint.ir.shapes import shape_str
from padlint.output.blindspots import caption, figures
from padlint.output.files import write_atomic
from padlint.output.text import verification_text
from padlint.output.verification import summary
from padlint.page.figures import (
    colour_bar,
    data_uri,
    lopsided_tiles,
    png_size,
    require_matplotlib,
    response_figure,
    share_tile,
    tile,
    tiles,
)
from padlint.page.style import CSS, SCHEME, aspect, badge, counts_html, counts_text, esc, img

SECTIONS = (("summary", "Summary"), ("layers", "Layers"), ("overview", "Feature maps"),
            ("kernels", "Kernels and patches"), ("coverage", "Coverage"), ("blindspots", "Blind spots"),
            ("sizes", "Input sizes"),
            ("findings", "Findings"))


BASELINE_NAMES = {"probe": "symmetric-kernel probe", "constant": "constant input", "random": "random input", "zeros": "zero input",
                  "simplified": "simplified input",
                  "images": "your data"}


class Page:
    """Builds the HTML of one :class:`~padlint.page.gather.Visual`."""

    def __init__(self, visual):
        self.v = visual
        self.result = visual.result
        self.findings = list(self.result.findings)
        self.layer_index = {layer.name: i for i, layer in enumerate(self.result.layers)}
        self.by_layer: dict[str, list[int]] = {}
        for i, f in enumerate(self.findings):
            self.by_layer.setdefault(f.layer, []).append(i)

    # -- pieces -----------------------------------------------------------------------
    def finding_badges(self, layer: str) -> str:
        """One badge per rule that fires on ``layer`` ('PAD101 H,W'), linked to its first finding."""
        rules: dict[str, list[int]] = {}
        for i in self.by_layer.get(layer, []):
            rules.setdefault(self.findings[i].rule, []).append(i)
        out = []
        for code, found in rules.items():
            axes = ",".join(dict.fromkeys(self.findings[i].axis for i in found if self.findings[i].axis))
            first = self.findings[found[0]]
            out.append(badge(first.severity, f"{code} {axes}".strip(), f"#finding-{found[0]}",
                              first.message))
        return " ".join(out)

    def worst(self, layer: str) -> str | None:
        found = {self.findings[i].severity for i in self.by_layer.get(layer, [])}
        return next((s for s in WORST_FIRST if s in found), None)

    # -- the maps of one run ---------------------------------------------------------
    @staticmethod
    def baselines(result) -> list[str]:
        """'probe' (the symmetric-kernel probe's maps) first, then the real-weights runs."""
        ver = result.verification
        return (["probe"] if ver.probe.maps else []) + list(ver.maps)

    @staticmethod
    def maps(result, baseline: str) -> dict:
        ver = result.verification
        if baseline == "probe":
            return {ver.node_name(n): ver.probe.maps[n.name] for n in ver.probe.nodes
                    if n.name in ver.probe.maps}
        return ver.maps.get(baseline, {})

    @staticmethod
    def asymmetry(result, baseline: str, name: str) -> dict:
        """Flip asymmetry per axis of one map (over channels, as the verify stage measures it)."""
        ver = result.verification
        if baseline == "probe":
            node = next((n for n in ver.probe.nodes if ver.node_name(n) == name), None)
            return dict(node.asym) if node is not None else {}
        m = ver.measures.get(baseline, {}).get(name)
        return dict(m.asymmetry) if m is not None else {}

    # -- sections ---------------------------------------------------------------------
    def summary(self) -> str:
        r, v = self.result, self.v
        ver = r.verification
        rows = [("model", f"<code>{esc(r.target)}</code>"),
                ("input", f"{esc(shape_str(r.input_shape))} (N×C×{'×'.join(AXIS_NAMES[len(r.input_shape) - 2])})"),
                ("findings", counts_html(self.findings))]
        if r.suggested is not None:
            rows.append(("clean sizes", esc(r.suggested.text())))
        else:
            rows.append(("clean sizes", "not known (the fast sweep cannot be trusted for this model)"))
        rows.append(("windowed layers", str(len(r.layers))))
        if ver is not None:
            rows.append(("verification", esc(summary(ver))))
        rows.append(("weights", esc(v.weights) if v.weights else "the model's initial weights"))
        if v.data:
            rows.append(("data", f"{esc(v.data)} ({v.samples} samples)"))
        if r.suppressed:
            rows.append(("suppressed", f"{len(r.suppressed)} finding(s) silenced by # noqa or "
                                       "per-file-ignores"))
        when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
        rows.append(("made", f"padlint {esc(__version__)}, {when}, in {v.seconds:.1f} s"
                             + (f" on {esc(ver.device)}" if ver is not None else "")))
        body = "".join(f"<dt>{k}</dt><dd>{val}</dd>" for k, val in rows)
        return f'<section id="summary"><h2>Summary</h2><dl class="facts">{body}</dl></section>'

    def layers(self) -> str:
        r = self.result
        head = ("<tr><th>#</th><th>layer</th><th>op</th><th>axis</th><th>in → out</th><th>k</th>"
                "<th>s</th><th>p (begin, end)</th><th>d</th><th>unused end padding</th>"
                "<th>dropped input</th><th>findings</th></tr>")
        rows = []
        for j, layer in enumerate(r.layers):
            worst = self.worst(layer.name)
            cls = f"flagged {worst}" if worst else ""
            groups: dict[tuple, list] = {}       # axes with the same facts share one row
            for f in layer.axes:
                key = (f.n, f.out, f.kernel, f.stride, f.pad_begin, f.pad_end, f.dilation,
                       f.unused_pad_end, f.ignored_input_end)
                groups.setdefault(key, []).append(f)
            rows_of = [(",".join(f.axis for f in fs), fs[0]) for fs in groups.values()]
            n = len(rows_of)
            where = f'<br><span class="note mono">{esc(layer.source)}</span>' if layer.source else ""
            for a, (axis, f) in enumerate(rows_of):
                cells = []
                if a == 0:
                    cells += [f'<td rowspan="{n}" class="num">{j}</td>',
                              f'<td rowspan="{n}"><code>{esc(layer.name)}</code>{where}</td>',
                              f'<td rowspan="{n}">{esc(layer.op)}</td>']
                pad = f"{f.pad_begin}" if f.pad_begin == f.pad_end else f"({f.pad_begin}, {f.pad_end})"
                cells += [f"<td>{axis}</td>", f'<td class="num">{f.n} → {f.out}</td>',
                          f'<td class="num">{f.kernel}</td>', f'<td class="num">{f.stride}</td>',
                          f'<td class="num">{pad}</td>', f'<td class="num">{f.dilation}</td>',
                          f'<td class="num">{f.unused_pad_end or ""}</td>',
                          f'<td class="num">{f.ignored_input_end or ""}</td>']
                if a == 0:
                    cells.append(f'<td rowspan="{n}">{self.finding_badges(layer.name)}</td>')
                ident = f' id="layer-{j}"' if a == 0 else ""
                rows.append(f'<tr{ident} class="{cls}{" axis-first" if a == 0 else ""}">'
                            + "".join(cells) + "</tr>")
        note = ('<p class="note">Every convolution, transposed convolution and pooling call in '
                "execution order, per spatial axis. <b>unused end padding</b>: end padding no "
                "window reads; <b>dropped input</b>: trailing input rows no window reads. "
                "Highlighted rows have findings; their badges link to them.</p>")
        return (f'<section id="layers"><h2>Layers</h2>{note}<table>{head}'
                + "".join(rows) + "</table></section>")

    def _shown_nodes(self, result, baseline: str) -> list[str]:
        """The nodes a grid shows: every windowed layer, and every origin of asymmetry."""
        ver = result.verification
        names = {layer.name for layer in result.layers}
        origins = {ver.node_name(n) for n in ver.probe.origins()}
        return [n for n in self.maps(result, baseline) if n in names or n in origins]

    @staticmethod
    def origins(result) -> dict:
        ver = result.verification
        return {ver.node_name(n): n.origin for n in ver.probe.origins()}

    def _asym_text(self, result, baseline: str, name: str) -> str:
        tol = result.verification.probe.tolerance
        asym = self.asymmetry(result, baseline, name)
        shown = " ".join(f"{a} {v:.2g}" if v > tol else f"{a} 0" for a, v in asym.items())
        return f"asymmetry {shown}" if shown else ""

    def _tile(self, result, baseline: str, name: str, uri: str, note: str | None, m,
              full: bool = True, what: str = "", extra: str | None = None) -> str:
        """One map as a figure; ``full`` adds the layer name, badges and origin mark."""
        origin = self.origins(result).get(name)
        flagged = full and result is self.result and name in self.by_layer
        cls = "tile" + (" origin" if origin else "") + (" flagged" if flagged else "")
        label = (f"{name}{', ' + what if what else ''}: {BASELINE_NAMES.get(baseline, baseline)} at "
                 f"{shape_str(result.input_shape[2:])}")
        size = esc(shape_str(m.shape)) + (f", {esc(note)}" if note else "")
        parts = [f"<b>{esc(name)}</b> <span class='note'>{size}</span>" if full
                 else f"<span class='note'>{size}</span>"]
        if not what:
            parts.append(f"<span class='note'>{self._asym_text(result, baseline, name)}</span>")
        if extra:
            parts.append(f"<span class='note'>{esc(extra)}</span>")
        if origin and (full or not what):
            parts.append(badge("origin", "origin " + ",".join(origin),
                                title="the symmetric-kernel probe sees asymmetry enter here"))
        if flagged:
            parts.append(self.finding_badges(name))
        return (f'<figure class="{cls}">{img(uri, label, aspect(m))}'
                f"<figcaption>{'<br>'.join(p for p in parts if p)}</figcaption></figure>")

    def comparison(self) -> str:
        v, r, o = self.v, self.result, self.v.other
        if o is None:
            return ('<h3>Side by side</h3><p class="note">No second input size to compare with: '
                    f'{esc(v.other_note or "")}.</p>')
        here = "uneven" if v.uneven else "clean"
        sizes = [(r, shape_str(r.input_shape[2:]), here), (o, shape_str(o.input_shape[2:]), v.other_kind)]
        views = [("probe", False), ("probe", True)] if "probe" in self.baselines(o) else []
        views += [(b, False) for b in ("constant", "images") if b in self.baselines(r)
                  and b in self.baselines(o)][:1]
        titles = {False: "{b} at {size}", True: "its lopsided part at {size}"}
        head = "<tr><th>layer</th>" + "".join(
            f"<th>{esc(titles[part].format(b=BASELINE_NAMES.get(b, b), size=size))} {badge(kind, kind)}</th>"
            for b, part in views for _, size, kind in sizes) + "</tr>"
        shown = [self._shown_nodes(res, views[0][0]) for res, _, _ in sizes] if views else [[], []]
        rows = []
        for name in shown[0] + [n for n in shown[1] if n not in shown[0]]:
            cells = [f'<td class="name"><code>{esc(name)}</code><br>{self.finding_badges(name)}</td>']
            for b, part in views:
                pair = [self.maps(res, b).get(name) if name in names else None
                        for (res, _, _), names in zip(sizes, shown)]
                present = [m for m in pair if m is not None]
                if part:
                    tol = r.verification.probe.tolerance
                    uris = iter([(uri, note, f"up to {share:.0%} of the map's range" if share else
                                  "none: mirror-symmetric") for uri, note, share in lopsided_tiles(present, tol)])
                else:
                    uris = iter([(uri, note, None) for uri, note in tiles(present)])  # type: ignore[misc]  # no share to show: the third item is None
                for (res, _, _), m in zip(sizes, pair):
                    if m is None:
                        cells.append("<td></td>")
                        continue
                    uri, note, extra = next(uris)
                    cells.append("<td>" + self._tile(res, b, name, uri, note, m, full=False,
                                                     what="lopsided part" if part else "",
                                                     extra=extra) + "</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        what = ("the nearest clean size" if v.other_kind == "clean" else
                "the nearest size at which the padding is uneven")
        extra = f'<p class="note">Note: {esc(v.other_note)}.</p>' if v.other_note else ""
        return (f"<h3>Side by side: {sizes[0][1]} and {what}, {sizes[1][1]}</h3>{extra}"
                '<p class="note">The <b>symmetric-kernel probe</b> runs the model with every kernel '
                "replaced by the average of its mirror images, on a constant input: each map is then "
                "mirror-symmetric unless the padding arithmetic is uneven. Its <b>lopsided part</b>, "
                "(M − M mirrored on every axis) / 2, each drawn at full contrast, is white at a "
                "clean size and coloured at the borders where the padding is uneven. Each pair of "
                "map tiles shares one scale. The <b>constant input</b> column runs the real weights, "
                "whose own asymmetry shows at both sizes.</p>"
                f'<div style="overflow-x:auto"><table class="pairs">{head}{"".join(rows)}</table></div>')

    def overview(self) -> str:
        r = self.result
        bar = colour_bar("deviation from the map's median, ÷ the largest deviation")
        out = ['<section id="overview"><h2>Aggregated feature maps</h2>',
               '<p class="note">Each tile is one layer\'s output averaged over the batch and the '
               "channels, in execution order. Every tile uses the scale below: white is the "
               "map's median, red above it, blue below. "
               "<span class='badge origin'>origin</span> and a dashed purple frame mark a layer where "
               "the symmetric-kernel probe sees asymmetry enter; an orange frame marks a layer with "
               "findings. Asymmetry is ‖M − flip M‖ / ‖M − mean M‖ per axis, over channels.</p>",
               f'<div class="bar"><img src="{bar}" alt="colour scale from -1 to +1" width="520" height="90"></div>',
               self.comparison()]
        for b in self.baselines(r):
            maps = self.maps(r, b)
            label = BASELINE_NAMES.get(b, b)
            if b == "images" and self.v.samples:
                label += f" ({self.v.samples} samples)"
            figs = []
            for name in self._shown_nodes(r, b):
                uri, note = tile(maps[name])
                figs.append(self._tile(r, b, name, uri, note, maps[name]))
            out.append(f'<h3 id="maps-{b}">Every layer, {esc(label)}, at {shape_str(r.input_shape[2:])}</h3>'
                       f'<div class="grid">{"".join(figs)}</div>')
        out.append("</section>")
        return "".join(out)

    def kernels(self) -> str:
        stats = self.result.stats
        head = '<section id="kernels"><h2>Mean kernels and mean input patches</h2>'
        if stats is None or not stats.layers:
            why = ("Pass <code>--weights CKPT</code> (trained weights) or <code>--data SPEC</code> "
                   "(your inputs) to see them: the initial weights of an untrained model are noise."
                   if stats is None else "The model has no convolution wider than 1×1.")
            return head + f'<p class="note">{why}</p></section>'
        cards = []
        for s in stats.layers:
            pics = []
            for title, m in (("mean kernel", s.mean_kernel), ("mean |kernel|", s.mean_abs_kernel),
                             ("mean input patch", s.mean_patch)):
                if m is None:
                    continue
                uri, _ = tile(m)
                values = "\n".join(" ".join(f"{x:.3g}" for x in row) for row in (m if m.ndim == 2 else [m.ravel()]))
                pics.append(f'<figure class="tile"><img src="{uri}" alt="{esc(s.name)} {title}" width="72" '
                            f'height="{max(6, round(72 * aspect(m)))}" title="{esc(values)}">'
                            f'<figcaption>{title}</figcaption></figure>')
            facts = []
            for axis in s.axes:
                bits = []
                if s.asymmetry.get(axis) is not None and s.mean_kernel is not None:
                    bits.append(f"kernel asymmetry {s.asymmetry[axis]:.2f}")
                    if s.heavier.get(axis):
                        bits.append(f"heavier {s.heavier[axis]}")
                    if s.significance.get(axis) is not None:
                        bits.append(f"{s.significance[axis]:.1f}× noise")
                if s.mean_patch is not None:
                    bits.append(f"patch asymmetry {s.patch_asymmetry.get(axis, 0):.2f}")
                if axis in s.uneven:
                    bits.append(badge("uneven", "uneven " + ",".join(s.uneven[axis])))
                facts.append(f"<b>{axis}</b>: " + ", ".join(bits))
            cls = "card uneven" if s.uneven else "card"
            cards.append(f'<div class="{cls}"><div><code>{esc(s.name)}</code> <span class="note">'
                         f'{esc(s.describe())}</span> {self.finding_badges(s.name)}</div>'
                         f'<div class="pics">{"".join(pics)}</div><div class="note">'
                         + "<br>".join(facts) + "</div></div>")
        source = [f"weights: {esc(stats.weights) if stats.weights else 'initial'}"]
        if stats.data:
            source.append(f"data: {esc(stats.data)} ({stats.samples} samples)")
        note = ('<p class="note">Per convolution wider than 1×1 (' + str(stats.skipped_1x1) +
                " 1×1 ones passed over): the weights averaged over output and input channels, the "
                "mean of their absolute values, and the mean k×k window of its input. Each matrix "
                "has its own scale around its median; hover for the values. Asymmetry is "
                "‖K − flip K‖ / ‖K − mean K‖ per axis. " + "; ".join(source) + ".</p>")
        return head + note + f'<div class="grid kernels">{"".join(cards)}</div></section>'

    def coverage(self) -> str:
        """The deepest map's padding share per cell and the input's use (PAD108's facts)."""
        head = '<section id="coverage"><h2>How much of the deepest map is padding</h2>'
        trace = self.result.trace
        alignment = getattr(trace, "alignment", None)
        deep = alignment.deepest_map if alignment is not None else None
        if deep is None:
            return head + ('<p class="note">No coverage facts: the model has no map of more '
                           f"than one cell per axis, or its input is longer than {MAX_LENGTH} on an "
                           "axis.</p></section>")
        layer = trace.layers[deep.layer]
        share, usage = deep.padding_share(), deep.usage()
        top = float(usage.max()) or 1.0
        rule = self.v.rules.get("PAD108")
        cell_share = float(rule.params.get("cell_share", 0.5)) if rule is not None else 0.5
        above = "one half" if cell_share == 0.5 else f"{cell_share:.0%}"
        cards = []
        for title, values, note in (
                (f"padding share of each of its {'x'.join(map(str, share.shape))} cells", share,
                 f"{int((share > cell_share).sum())} of {share.size} cells above {above}; "
                 f"mean {float(share.mean()):.0%}"),
                (f"use of each input pixel ({'x'.join(map(str, usage.shape))})", usage / top,
                 f"corner pixel {deep.corner_ratio():.2g}x the centre")):
            uri, shown_note = share_tile(values)
            extra = f"; {shown_note}" if shown_note else ""
            cards.append(f'<div class="card"><div>{esc(title)}</div>'
                         f"{img(uri, title, aspect(values))}"
                         f'<div class="note">{esc(note + extra)}</div></div>')
        fired = next((i for i, f in enumerate(self.findings) if f.rule == "PAD108"), None)
        link = (f' {badge("info", "PAD108", f"#finding-{fired}")} fires on it.' if fired is not None else "")
        note = (f'<p class="note">The deepest map is the output of <code>{esc(layer.name)}</code> '
                f"({esc(layer.describe())}). Every path from a cell down to the input counts, "
                "each kernel tap once; a path that lands on padding ends there. Left: the share "
                "of each cell's paths that end on padding. Right: how much the map's cells use "
                f"each input pixel (the foveation map), relative to the most-used one.{link}</p>")
        bar = (f'<div class="bar"><img src="{colour_bar("share (0 to 1)", share=True)}" '
               'alt="colour scale from 0 to 1" width="520" height="90"></div>')
        return head + note + bar + f'<div class="grid kernels">{"".join(cards)}</div></section>'

    def blindspots(self) -> str:
        """The shifted-stimulus maps (padlint blindspots): as built beside the nearest clean
        size, then under each padding mode, with their figures and PAD203's badges."""
        head = '<section id="blindspots"><h2>Where a small object stops being seen</h2>'
        b = self.result.blindspots
        if b is None:
            why = self.v.blindspots_note or "left out (--no-blindspots)"
            return head + f'<p class="note">No blind-spot maps: {esc(why)}.</p></section>'
        grid = " x ".join(str(len(p)) for p in b.main.positions.values())
        fired = [i for i, f in enumerate(self.findings) if f.rule == "PAD203"]
        badges = " ".join(badge(self.findings[i].severity, "PAD203", f"#finding-{i}", self.findings[i].message)
                          for i in fired)
        kernels = ("the symmetric-kernel probe's flip-averaged weights, so the map shows the "
                   "arithmetic alone" if b.kernels == "symmetric" else
                   f"the real weights ({esc(b.weights or 'as built')})")
        note = (f'<p class="note">A {esc(b.stimulus.spec)} stimulus of value {b.value:g} on a '
                f"{b.background:g} background, placed at each of {grid} positions (first and last "
                "rows and columns included, mirror-symmetric); the response at a position is how "
                f"much <code>{esc(b.watched)}</code> changes from the background-only run. Kernels: "
                f"{kernels}; {esc(b.dtype)}. Dark is blind: below {100 * b.main.threshold:.0f} % of "
                f"the map's median, PAD203 fires.{' ' + badges if badges else ''}</p>")
        pairs = [b.main] + ([b.clean] if b.clean is not None else [])
        out = [head, note, self._response_card(pairs, "as built beside the nearest clean size")]
        if b.clean is None:
            out.append(f'<p class="note">No clean-size map: {esc(b.clean_why)}.</p>')
        if b.remedies:
            out.append("<h3>The paper's remedies on this model: every convolution's padding mode "
                       "swapped, the weights unchanged</h3>")
            out.append(self._response_card(list(b.remedies.values()), "under each padding mode"))
        return "".join(out) + "</section>"

    @staticmethod
    def _response_card(maps, alt: str) -> str:
        shown = [m for m in maps if not m.error and m.response.size]
        pic = ""
        if shown:
            png = response_figure([(f"{m.label} ({shape_str(m.input_shape[2:])})", m.response,
                                    caption(m)) for m in shown])
            w, h = png_size(png)
            pic = (f'<img class="figure" src="{data_uri(png)}" alt="blind-spot maps {esc(alt)}" '
                   f'width="{w}" height="{h}">')
        lines = "".join(f"<li><b>{esc(m.label)}</b> ({esc(shape_str(m.input_shape[2:]))}): "
                        f"{esc(figures(m))}</li>" for m in maps)
        return f'<div class="card">{pic}<ul class="note">{lines}</ul></div>'

    def sizes(self) -> str:
        v, r = self.v, self.result
        head = '<section id="sizes"><h2>Input sizes around the analysed one</h2>'
        if v.sweep is None:
            return head + f'<p class="note">No size sweep: {esc(v.sweep_note or "")}.</p></section>'
        names = AXIS_NAMES[len(r.input_shape) - 2]
        here = dict(zip(names, r.input_shape[2:]))
        other = dict(zip(names, v.other.input_shape[2:])) if v.other is not None else {}
        strips = []
        for ax in v.sweep.axis_results:
            cells = []
            for n in ax.sizes:
                if n in ax.invalid:
                    kind, why = "invalid", f"{n}: cannot run ({ax.invalid[n]})"
                elif ax.is_clean(n):
                    kind, why = "clean", f"{n}: clean"
                else:
                    kind = "uneven"
                    why = f"{n}: uneven" + (f", first at {ax.first_uneven[n]}" if n in ax.first_uneven else "")
                cls = f"s {kind}" + (" here" if n == here.get(ax.axis) else "") + (
                    " other" if n == other.get(ax.axis) and n != here.get(ax.axis) else "")
                label = str(n) if n % 8 == 0 or n == here.get(ax.axis) else ""
                cells.append(f'<span class="{cls}" title="{esc(why)}"><i></i>{label}</span>')
            n = here.get(ax.axis, 0)
            below, above = ax.nearest(n)
            near = " and ".join(str(x) for x in (below, above) if x is not None) or "none in range"
            at = (f"{n} is clean; the nearest other clean sizes: {near}" if ax.is_clean(n) else
                  f"nearest clean to {n}: {near}")
            strips.append(f"<h3>{ax.axis}: {len(ax.clean)} of {len(ax.sizes)} sizes clean"
                          + (f", {len(ax.invalid)} cannot run" if ax.invalid else "") + f"; {at}</h3>"
                          f'<div class="strip" data-axis="{ax.axis}">{"".join(cells)}</div>')
        legend = ('<p class="legend note"><span><i style="background:#43a047"></i>clean</span>'
                  '<span><i style="background:#f0a030"></i>uneven (a PAD101/PAD102 finding)</span>'
                  '<span><i style="background:#c5cad3"></i>cannot run</span>'
                  '<span><i style="outline:3px solid #1d2330"></i>analysed</span>'
                  + ('<span><i style="outline:3px dashed #7b1fa2"></i>compared</span>' if other else "")
                  + "</p>")
        note = (f'<p class="note">Each axis swept on its own ({esc(v.sweep.method)} path), the '
                "others held at the analysed size; hover a mark for the first layer that breaks it.</p>")
        return head + note + legend + "".join(strips) + "</section>"

    def findings_section(self) -> str:
        head = '<section id="findings"><h2>Findings</h2>'
        if not self.findings:
            return head + '<p class="note">No findings at this input size.</p></section>'
        groups: dict[str, list[int]] = {}
        for i, f in enumerate(self.findings):
            groups.setdefault(f.rule, []).append(i)
        order = sorted(groups, key=lambda c: (WORST_FIRST.index(self.findings[groups[c][0]].severity), c))
        out = [head]
        for code in order:
            first = self.findings[groups[code][0]]
            rule = self.v.rules.get(code)
            docs = rule.docs if rule is not None else {}
            dl = "".join(f"<dt>{title}</dt><dd>{esc(' '.join(str(docs[key]).split()))}</dd>"
                         for key, title in (("what", "What"), ("why", "Why it matters"),
                                            ("use_instead", "Use instead"), ("example", "Example"))
                         if docs.get(key))
            refs = [ref for ref in docs.get("references") or [] if not SCHEME.search(str(ref))]
            if refs:
                dl += f"<dt>References</dt><dd>{'; '.join(esc(ref) for ref in refs)}</dd>"
            items = []
            for i in groups[code]:
                f = self.findings[i]
                j = self.layer_index.get(f.layer)
                layer = (f'<a href="#layer-{j}"><code>{esc(f.layer)}</code></a>' if j is not None
                         else f"<code>{esc(f.layer or '<model>')}</code>")
                where = f' <span class="note mono">{esc(f.source)}</span>' if f.source else ""
                extra = ""
                if f.verification is not None:
                    extra = f'<div class="note">verification: {esc(verification_text(f.verification))}</div>'
                items.append(f'<div class="finding {f.severity}" id="finding-{i}">{layer}'
                             f'{f" ({esc(f.op)})" if f.op else ""}{where}'
                             f"<div>{esc(f.message)}.</div>"
                             f'<div class="fix">Fix: {esc(f.fix)}</div>{extra}</div>')
            out.append(f'<div class="rule" id="rule-{code}"><h3>{badge(first.severity, code)} '
                       f"{esc(first.name)} <span class='note'>({len(groups[code])})</span></h3>"
                       f"<dl>{dl}</dl>{''.join(items)}</div>")
        out.append("</section>")
        return "".join(out)

    def render(self) -> str:
        r = self.result
        title = f"padlint report: {r.target} at {shape_str(r.input_shape[2:])}"
        nav = "".join(f'<a href="#{ident}">{name}</a>' for ident, name in SECTIONS)
        body = [self.summary(), self.layers(), self.overview(), self.kernels(), self.coverage(),
                self.blindspots(), self.sizes(), self.findings_section()]
        return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
                "img-src data:; style-src 'unsafe-inline'\">"
                '<meta name="viewport" content="width=device-width, initial-scale=1">'
                f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
                f'<header class="top"><h1>{esc(title)}</h1><div class="sub">{counts_text(self.findings)}'
                f"</div></header><nav>{nav}</nav><main>" + "".join(body) + "</main></body></html>\n")


def render_html(visual) -> str:
    return Page(visual).render()


def write_page(text: str, path: str) -> None:
    """Write the page to ``path`` all at once (never half a page)."""
    write_atomic(path, text, suffix=".html")


def html_report(model_or_target, path: str | None = None, **options) -> str:
    """``padlint report`` as a function: the page for the one model ``model_or_target``
    names (an ``nn.Module``, a class or factory, or a target string), written to ``path``
    when given. ``options`` are those of :func:`padlint.page.gather.gather` (``input_size``,
    ``weights``, ``data``, ``limit``, ``device``, ``baselines``, ``sweep_range`` …).
    Raises PadlintError; needs matplotlib (``pip install 'padlint[report]'``)."""
    from padlint.page.gather import gather  # lazy: imports torch, which this module must not
    require_matplotlib()
    text = render_html(gather(model_or_target, **options))
    if path is not None:
        write_page(text, path)
    return text

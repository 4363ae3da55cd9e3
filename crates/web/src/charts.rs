//! Server-rendered SVG charts: no script, readable by assistive technologies through their caption
//! and always published next to the same data as a table.

/// Escapes text for HTML and SVG.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// Horizontal bars, one per (label, value), largest first as given.
pub fn bars(label: &str, rows: &[(String, u64)]) -> String {
    let max = rows.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let row_h = 26;
    let label_w = 260;
    let bar_w = 420;
    let height = row_h * rows.len().max(1) + 8;
    let mut svg = format!(
        "<svg class=\"si-chart\" viewBox=\"0 0 {} {height}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        label_w + bar_w + 70,
        escape(label)
    );
    for (i, (name, value)) in rows.iter().enumerate() {
        let y = i * row_h + 4;
        let w = (*value as f64 / max as f64 * bar_w as f64).round() as u64;
        svg.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"si-chart__label\">{}</text>\
             <rect x=\"{}\" y=\"{}\" width=\"{w}\" height=\"{}\" class=\"si-chart__bar\"/>\
             <text x=\"{}\" y=\"{}\" class=\"si-chart__value\">{value}</text>",
            label_w - 8,
            y + 17,
            escape(name),
            label_w,
            y + 3,
            row_h - 8,
            label_w + w as usize + 6,
            y + 17
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// Lines over days before the deadline (x from `-days` to 0), one per series. A day without a value
/// (`None`: still to come) is not drawn: a line stops at today rather than falling to zero.
pub fn lines(label: &str, days: i64, series: &[(String, Vec<Option<u64>>)]) -> String {
    let (w, h, left, bottom) = (720.0, 260.0, 50.0, 30.0);
    let max = series.iter().flat_map(|(_, v)| v.iter().flatten().copied()).max().unwrap_or(0).max(1) as f64;
    let x = |i: usize| left + (i as f64) / (days.max(1) as f64) * (w - left - 10.0);
    let y = |v: u64| (h - bottom) - (v as f64 / max) * (h - bottom - 10.0);
    let mut svg = format!(
        "<svg class=\"si-chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        escape(label)
    );
    svg.push_str(&format!(
        "<line x1=\"{left}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" class=\"si-chart__axis\"/>\
         <text x=\"{left}\" y=\"{2}\" class=\"si-chart__label-start\">J-{days}</text>\
         <text x=\"{1}\" y=\"{2}\" text-anchor=\"end\" class=\"si-chart__label\">date limite</text>\
         <text x=\"{3}\" y=\"16\" text-anchor=\"end\" class=\"si-chart__label\">{4}</text>",
        h - bottom,
        w - 10.0,
        h - 8.0,
        left - 6.0,
        max as u64
    ));
    for (k, (name, values)) in series.iter().enumerate() {
        let points: Vec<String> =
            values.iter().enumerate().filter_map(|(i, v)| v.map(|v| format!("{:.1},{:.1}", x(i), y(v)))).collect();
        svg.push_str(&format!(
            "<polyline points=\"{}\" class=\"si-chart__line si-chart__line--{k}\"><title>{}</title></polyline>",
            points.join(" "),
            escape(name)
        ));
    }
    svg.push_str("</svg>");
    svg
}

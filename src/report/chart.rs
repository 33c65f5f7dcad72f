//! Line charts as inline SVG, for the report's history section: one x position per snapshot, one line per series,
//! a `<title>` on every point so a reader can hover for the exact value.

use std::fmt::Write as _;

use super::html::escape;

/// One line of a chart.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    pub name: &'a str,
    /// The CSS class that colours it.
    pub class: &'a str,
    pub values: &'a [u64],
}

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 46.0;

/// The smallest of 1, 2, 5 × 10ⁿ at or above `v`, so the axis ends on a round number.
fn round_up(v: u64) -> u64 {
    let mut step = 1u64;
    loop {
        for m in [1, 2, 5] {
            if step.saturating_mul(m) >= v {
                return step.saturating_mul(m);
            }
        }
        step = step.saturating_mul(10);
    }
}

/// A chart of `lines` over `labels` (one per x position; long series show every few). `title` names it for
/// screen readers.
pub fn lines(title: &str, labels: &[String], lines: &[Line<'_>]) -> String {
    // Four steps of a round size: 0, 10, 20, 30, 40 rather than 0, 12, 25, 37, 50.
    let top = lines.iter().flat_map(|l| l.values.iter().copied()).max().unwrap_or(0).max(1);
    let max = round_up(top.div_ceil(4)) * 4;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let n = labels.len().max(1);
    let x = |i: usize| if n == 1 { LEFT + plot_w / 2.0 } else { LEFT + plot_w * i as f64 / (n - 1) as f64 };
    let y = |v: u64| TOP + plot_h - plot_h * v as f64 / max as f64;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"{WIDTH:.0}\" height=\"{HEIGHT:.0}\" \
         viewBox=\"0 0 {WIDTH:.0} {HEIGHT:.0}\" role=\"img\" aria-label=\"{}\">\n",
        escape(title)
    );
    for t in 0..=4u64 {
        let v = max * t / 4;
        let _ = writeln!(
            out,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{:.0}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/><text class=\"tick\" \
             x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\">{v}</text>",
            WIDTH - RIGHT,
            LEFT - 6.0,
            y(v) + 4.0,
            y = y(v),
        );
    }
    let every = n.div_ceil(8).max(1);
    for (i, label) in labels.iter().enumerate().filter(|(i, _)| i % every == 0 || *i == n - 1) {
        let _ = writeln!(
            out,
            "<text class=\"tick\" x=\"{:.1}\" y=\"{:.0}\" text-anchor=\"{}\">{}</text>",
            x(i),
            HEIGHT - BOTTOM + 18.0,
            match i {
                0 if n > 1 => "start",
                i if i == n - 1 && n > 1 => "end",
                _ => "middle",
            },
            escape(label)
        );
    }
    for line in lines {
        let points: Vec<String> =
            line.values.iter().enumerate().map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v))).collect();
        let _ =
            writeln!(out, "<polyline class=\"line {}\" fill=\"none\" points=\"{}\"/>", line.class, points.join(" "));
        for (i, v) in line.values.iter().enumerate() {
            let label = labels.get(i).map(String::as_str).unwrap_or_default();
            let _ = writeln!(
                out,
                "<circle class=\"dot {}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\"><title>{}: {} {v}</title></circle>",
                line.class,
                x(i),
                y(*v),
                escape(label),
                escape(line.name)
            );
        }
    }
    for (k, line) in lines.iter().enumerate() {
        let lx = LEFT + k as f64 * 240.0;
        let ly = HEIGHT - 10.0;
        let _ = writeln!(
            out,
            "<rect class=\"key {}\" x=\"{lx:.0}\" y=\"{:.0}\" width=\"14\" height=\"4\"/><text class=\"tick\" \
             x=\"{:.0}\" y=\"{ly:.0}\">{}</text>",
            line.class,
            ly - 6.0,
            lx + 20.0,
            escape(line.name)
        );
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!([0, 1, 3, 7, 10, 11, 180, 2001].map(round_up), [1, 1, 5, 10, 10, 20, 200, 5000]);
        let top = |v: u64| {
            let svg = lines("t", &["d".to_owned()], &[Line { name: "n", class: "a", values: &[v] }]);
            let ticks: Vec<String> = svg
                .split("text-anchor=\"end\">")
                .skip(1)
                .map(|p| p.split('<').next().unwrap_or_default().to_owned())
                .collect();
            ticks
        };
        assert_eq!(top(29), ["0", "10", "20", "30", "40"]);
        assert_eq!(top(67), ["0", "20", "40", "60", "80"]);
    }

    #[test]
    fn every_value_is_a_point_with_its_number_and_labels_are_escaped() {
        let labels = vec!["<d1>".to_owned(), "d2".to_owned(), "d3".to_owned()];
        let svg = lines("t", &labels, &[Line { name: "holders", class: "a", values: &[3, 0, 7] }]);
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("<title>&lt;d1&gt;: holders 3</title>"), "{svg}");
        assert!(svg.contains("<title>d3: holders 7</title>"), "{svg}");
        assert!(!svg.contains("<d1>"));
        // 7 is the top of a 0–10 axis: its point sits above the 3.
        let cy = |v: &str| -> f64 {
            let at = svg.find(&format!("holders {v}</title>")).unwrap_or(0);
            let start = svg[..at].rfind("cy=\"").unwrap_or(0) + 4;
            svg[start..].split('"').next().and_then(|s| s.parse().ok()).unwrap_or(f64::NAN)
        };
        assert!(cy("7") < cy("3"));
    }
}

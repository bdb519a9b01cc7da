//! The learning-curve figure: accuracy against the number of labelled examples (log scale),
//! one line per model with ±1 std error bars, as SVG and PNG.

use std::fmt::Write;
use std::path::Path;

use resvg::{tiny_skia, usvg};
use transfer_nlp::pipeline::{TransferError, write_atomic};

/// One line of the figure.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    /// (n, mean accuracy, std) sorted by n.
    pub points: Vec<(usize, f64, f64)>,
    /// Reference curves are drawn dashed.
    pub dashed: bool,
}

const COLORS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
];
const W: f64 = 900.0;
const H: f64 = 560.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 230.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;

/// The figure as SVG text.
pub fn svg(title: &str, series: &[Series]) -> String {
    let axes = Axes::fit(series);
    // Wider than W where a legend entry needs it (about 8 px a character), so none is cut.
    let longest = series.iter().map(|s| s.name.chars().count()).max();
    let width = W.max(W - RIGHT + 60.0 + 8.0 * longest.unwrap_or(0) as f64);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{H}" viewBox="0 0 {width} {H}" font-family="DejaVu Sans, sans-serif" font-size="13">
<rect width="100%" height="100%" fill="white"/>
<text x="{}" y="24" font-size="16" text-anchor="middle">{}</text>
"#,
        (LEFT + W - RIGHT) / 2.0,
        escape(title)
    );
    axes.draw(&mut s);
    for (i, series) in series.iter().enumerate() {
        axes.draw_series(&mut s, i, series);
    }
    s.push_str("</svg>\n");
    s
}

/// The plotted ranges: decades of n (log scale) and accuracies.
struct Axes {
    x_min: f64,
    x_max: f64,
    y_min: f64,
    y_max: f64,
}

impl Axes {
    /// Whole decades around every n; accuracies from the lowest (rounded down to 5 %, at most
    /// 50 %) to 100 %.
    fn fit(series: &[Series]) -> Self {
        let ns: Vec<usize> = series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .collect();
        let (lo, hi) = (
            ns.iter().copied().min().unwrap_or(10).max(1) as f64,
            ns.iter().copied().max().unwrap_or(10000).max(2) as f64,
        );
        let accs: Vec<f64> = series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .collect();
        let y_min = (accs.iter().copied().fold(1.0, f64::min) * 20.0).floor() / 20.0;
        Self {
            x_min: lo.log10().floor(),
            x_max: hi.log10().ceil().max(lo.log10().floor() + 1.0),
            y_min: y_min.clamp(0.0, 0.5),
            y_max: 1.0,
        }
    }

    fn x(&self, n: f64) -> f64 {
        LEFT + (n.log10() - self.x_min) / (self.x_max - self.x_min) * (W - LEFT - RIGHT)
    }

    fn y(&self, a: f64) -> f64 {
        TOP + (self.y_max - a) / (self.y_max - self.y_min) * (H - TOP - BOTTOM)
    }

    /// Grid, ticks, frame and axis labels.
    fn draw(&self, s: &mut String) {
        let mut tick = self.y_min;
        while tick <= self.y_max + 1e-9 {
            let _ = writeln!(
                s,
                r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{:.0}%</text>"##,
                W - RIGHT,
                LEFT - 8.0,
                self.y(tick) + 4.0,
                100.0 * tick,
                y = self.y(tick)
            );
            tick += 0.05;
        }
        let mut decade = self.x_min;
        while decade <= self.x_max + 1e-9 {
            let n = 10f64.powf(decade);
            let _ = writeln!(
                s,
                r##"<line x1="{x:.1}" x2="{x:.1}" y1="{TOP}" y2="{}" stroke="#ddd"/><text x="{x:.1}" y="{}" text-anchor="middle">{}</text>"##,
                H - BOTTOM,
                H - BOTTOM + 20.0,
                n.round() as u64,
                x = self.x(n)
            );
            decade += 1.0;
        }
        let _ = writeln!(
            s,
            r##"<rect x="{LEFT}" y="{TOP}" width="{}" height="{}" fill="none" stroke="#333"/>
<text x="{}" y="{}" text-anchor="middle">labelled training examples (log scale)</text>
<text transform="translate(18 {}) rotate(-90)" text-anchor="middle">test accuracy</text>"##,
            W - LEFT - RIGHT,
            H - TOP - BOTTOM,
            (LEFT + W - RIGHT) / 2.0,
            H - 18.0,
            (TOP + H - BOTTOM) / 2.0
        );
    }

    /// The `i`th series: its line, points, error bars and legend entry.
    fn draw_series(&self, s: &mut String, i: usize, series: &Series) {
        let color = COLORS[i % COLORS.len()];
        let dash = if series.dashed {
            r#" stroke-dasharray="6 4""#
        } else {
            ""
        };
        let path: Vec<String> = series
            .points
            .iter()
            .map(|&(n, a, _)| format!("{:.1},{:.1}", self.x(n as f64), self.y(a)))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"{dash}/>"#,
            path.join(" ")
        );
        for &(n, a, sd) in &series.points {
            let (px, py) = (self.x(n as f64), self.y(a));
            if sd > 0.0 {
                self.draw_error_bar(s, color, px, a, sd);
            }
            let _ = writeln!(
                s,
                r#"<circle cx="{px:.1}" cy="{py:.1}" r="3.5" fill="{color}"/>"#
            );
        }
        let ly = TOP + 14.0 + 22.0 * i as f64;
        let lx = W - RIGHT + 16.0;
        let _ = writeln!(
            s,
            r#"<line x1="{lx}" x2="{}" y1="{ly}" y2="{ly}" stroke="{color}" stroke-width="2"{dash}/><text x="{}" y="{}">{}</text>"#,
            lx + 28.0,
            lx + 34.0,
            ly + 4.0,
            escape(&series.name)
        );
    }

    /// ±`sd` around accuracy `a` at `px`, clipped to the plot.
    fn draw_error_bar(&self, s: &mut String, color: &str, px: f64, a: f64, sd: f64) {
        let (low, high) = (
            self.y((a - sd).max(self.y_min)),
            self.y((a + sd).min(self.y_max)),
        );
        let _ = writeln!(
            s,
            r#"<line x1="{px:.1}" x2="{px:.1}" y1="{low:.1}" y2="{high:.1}" stroke="{color}"/><line x1="{:.1}" x2="{:.1}" y1="{low:.1}" y2="{low:.1}" stroke="{color}"/><line x1="{:.1}" x2="{:.1}" y1="{high:.1}" y2="{high:.1}" stroke="{color}"/>"#,
            px - 4.0,
            px + 4.0,
            px - 4.0,
            px + 4.0,
        );
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Writes `stem.svg` and `stem.png` (rendered with the system's fonts).
pub fn write(dir: &Path, stem: &str, svg: &str) -> Result<(), TransferError> {
    write_atomic(&dir.join(format!("{stem}.svg")), svg.as_bytes())?;
    let png_path = dir.join(format!("{stem}.png"));
    let fail = |message: String| TransferError::Format {
        path: png_path.clone(),
        message,
    };
    let mut options = usvg::Options::default();
    options.fontdb_mut().load_system_fonts();
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| fail(e.to_string()))?;
    let size = tree.size().to_int_size();
    let scale = 2.0;
    let mut pixmap = tiny_skia::Pixmap::new(
        (size.width() as f32 * scale) as u32,
        (size.height() as f32 * scale) as u32,
    )
    .ok_or_else(|| fail("empty image".into()))?;
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    let png = pixmap.encode_png().map_err(|e| fail(e.to_string()))?;
    write_atomic(&png_path, &png)
}

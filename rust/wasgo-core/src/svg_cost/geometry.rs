//! Numbers, transforms and shapes' outlines, in SVG's syntax (see the parent module's docs).

use super::markup::Element;

/// The linear part of a transform (`[a, b, c, d]` of SVG's `matrix(a b c d e f)`: x' = a x +
/// c y, y' = b x + d y); translations move nothing's size. `None`: a scale WasGo cannot know.
pub(super) type Linear = Option<[f64; 4]>;

pub(super) fn mul(m: [f64; 4], n: [f64; 4]) -> [f64; 4] {
    [
        m[0] * n[0] + m[2] * n[1],
        m[1] * n[0] + m[3] * n[1],
        m[0] * n[2] + m[2] * n[3],
        m[1] * n[2] + m[3] * n[3],
    ]
}

pub(super) fn finite(m: [f64; 4]) -> Linear {
    m.iter().all(|v| v.is_finite()).then_some(m)
}

/// The numbers in a list (`1,2 3e1 -4.5.5`), in SVG's compact syntax.
pub(super) fn numbers(s: &str) -> Vec<f64> {
    let mut out = Vec::new();
    let mut scan = Numbers {
        s: s.as_bytes(),
        i: 0,
    };
    while let Some(n) = scan.next_number() {
        out.push(n);
    }
    out
}

struct Numbers<'a> {
    s: &'a [u8],
    i: usize,
}

impl Numbers<'_> {
    fn skip_separators(&mut self) {
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_whitespace() || self.s[self.i] == b',')
        {
            self.i += 1;
        }
    }

    /// The next number, or `None` at the end or before something that is not a number.
    fn next_number(&mut self) -> Option<f64> {
        self.skip_separators();
        let start = self.i;
        let s = self.s;
        let mut i = self.i;
        if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
            i += 1;
        }
        let mut digits = false;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
            digits = true;
        }
        if i < s.len() && s[i] == b'.' {
            i += 1;
            while i < s.len() && s[i].is_ascii_digit() {
                i += 1;
                digits = true;
            }
        }
        if !digits {
            return None;
        }
        if i < s.len() && (s[i] == b'e' || s[i] == b'E') {
            let mut j = i + 1;
            if j < s.len() && (s[j] == b'+' || s[j] == b'-') {
                j += 1;
            }
            if j < s.len() && s[j].is_ascii_digit() {
                while j < s.len() && s[j].is_ascii_digit() {
                    j += 1;
                }
                i = j;
            }
        }
        self.i = i;
        std::str::from_utf8(&s[start..i]).ok()?.parse().ok()
    }

    /// An arc's flag (`0` or `1`, possibly with no separator after it).
    fn next_flag(&mut self) -> Option<f64> {
        self.skip_separators();
        match self.s.get(self.i) {
            Some(&c @ (b'0' | b'1')) => {
                self.i += 1;
                Some((c - b'0') as f64)
            }
            _ => None,
        }
    }
}

/// A plain length (`12`, `12px`); `None` for a percentage or another unit.
pub(super) fn length(v: &str) -> Option<f64> {
    let v = v.trim();
    let v = v.strip_suffix("px").unwrap_or(v).trim();
    v.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// A transform list, as its linear part; `None` for one WasGo cannot read.
pub(super) fn transform(list: &str) -> Linear {
    let mut m = [1.0, 0.0, 0.0, 1.0];
    let mut rest = list.trim();
    while !rest.is_empty() {
        let open = rest.find('(')?;
        let close = rest.find(')')?;
        if close < open {
            return None;
        }
        let name = rest[..open].trim().trim_start_matches(',').trim();
        let n = numbers(&rest[open + 1..close]);
        let t = match (name, n.as_slice()) {
            ("matrix", [a, b, c, d, _, _]) => [*a, *b, *c, *d],
            ("translate", [_] | [_, _]) => [1.0, 0.0, 0.0, 1.0],
            ("scale", [s]) => [*s, 0.0, 0.0, *s],
            ("scale", [sx, sy]) => [*sx, 0.0, 0.0, *sy],
            ("rotate", [a] | [a, _, _]) => {
                let (sin, cos) = a.to_radians().sin_cos();
                [cos, sin, -sin, cos]
            }
            ("skewX", [a]) => [1.0, 0.0, a.to_radians().tan(), 1.0],
            ("skewY", [a]) => [1.0, a.to_radians().tan(), 0.0, 1.0],
            _ => return None,
        };
        m = mul(m, t);
        rest = rest[close + 1..].trim_start();
    }
    finite(m)
}

/// A shape's outline in its own user units: every edge of its control polygon (a curve's
/// control polygon crosses any row at least as often as the curve does), each closed subpath.
pub(super) struct Geometry {
    pub(super) edges: Vec<[f32; 4]>,
    /// Curves (cubic, quadratic, arc; a circle or a rounded corner counts one each).
    pub(super) curves: f64,
    /// Bounding box width and height.
    pub(super) w: f64,
    pub(super) h: f64,
    /// The outline's length (an upper bound).
    pub(super) len: f64,
    /// Whether it has an inside to fill (a line has not).
    pub(super) fillable: bool,
}

pub(super) struct Outline {
    edges: Vec<[f32; 4]>,
    curves: f64,
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
    len: f64,
}

impl Outline {
    pub(super) fn new() -> Self {
        Outline {
            edges: Vec::new(),
            curves: 0.0,
            x0: f64::INFINITY,
            y0: f64::INFINITY,
            x1: f64::NEG_INFINITY,
            y1: f64::NEG_INFINITY,
            len: 0.0,
        }
    }

    fn edge(&mut self, a: (f64, f64), b: (f64, f64)) {
        self.edges
            .push([a.0 as f32, a.1 as f32, b.0 as f32, b.1 as f32]);
        for p in [a, b] {
            self.x0 = self.x0.min(p.0);
            self.y0 = self.y0.min(p.1);
            self.x1 = self.x1.max(p.0);
            self.y1 = self.y1.max(p.1);
        }
        self.len += ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
    }

    pub(super) fn done(self, fillable: bool) -> Option<Geometry> {
        let (w, h) = if self.edges.is_empty() {
            (0.0, 0.0)
        } else {
            (self.x1 - self.x0, self.y1 - self.y0)
        };
        (w.is_finite() && h.is_finite() && self.len.is_finite()).then_some(Geometry {
            edges: self.edges,
            curves: self.curves,
            w,
            h,
            len: self.len,
            fillable,
        })
    }

    pub(super) fn polygon(&mut self, points: &[(f64, f64)], closed: bool) {
        for pair in points.windows(2) {
            self.edge(pair[0], pair[1]);
        }
        if closed && points.len() > 2 {
            self.edge(points[points.len() - 1], points[0]);
        }
    }
}

/// A point in user units.
type Point = (f64, f64);

/// The outline of a path's `d`.
pub(super) fn path(d: &str) -> Option<Geometry> {
    let mut scan = Numbers {
        s: d.as_bytes(),
        i: 0,
    };
    let mut o = Outline::new();
    let (mut cur, mut start) = ((0.0, 0.0), (0.0, 0.0));
    // The last control point of a cubic (for S) and of a quadratic (for T).
    let (mut cubic, mut quad): (Option<Point>, Option<Point>) = (None, None);
    let mut command = b'M';
    loop {
        scan.skip_separators();
        let Some(&c) = scan.s.get(scan.i) else { break };
        if c.is_ascii_alphabetic() {
            command = c;
            scan.i += 1;
            if matches!(c, b'Z' | b'z') {
                o.edge(cur, start);
                cur = start;
                (cubic, quad) = (None, None);
                continue;
            }
        } else if matches!(command, b'Z' | b'z') {
            break;
        }
        let upper = command.to_ascii_uppercase();
        let relative = command.is_ascii_lowercase();
        let arity = match upper {
            b'M' | b'L' | b'T' => 2,
            b'H' | b'V' => 1,
            b'C' => 6,
            b'S' | b'Q' => 4,
            b'A' => 7,
            _ => break,
        };
        let mut n = [0.0; 7];
        let mut complete = true;
        for (k, slot) in n.iter_mut().enumerate().take(arity) {
            let v = if upper == b'A' && (k == 3 || k == 4) {
                scan.next_flag()
            } else {
                scan.next_number()
            };
            match v {
                Some(v) => *slot = v,
                None => complete = false,
            }
        }
        if !complete {
            break; // where ThorVG stops reading the path too
        }
        let at = |x: f64, y: f64| {
            if relative {
                (cur.0 + x, cur.1 + y)
            } else {
                (x, y)
            }
        };
        let reflect =
            |p: Option<(f64, f64)>| p.map_or(cur, |p| (2.0 * cur.0 - p.0, 2.0 * cur.1 - p.1));
        let previous = cur;
        let (mut next_cubic, mut next_quad) = (None, None);
        match upper {
            b'M' => {
                if o.edges.last().is_some() && previous != start {
                    o.edge(previous, start); // the subpath closes for its fill
                }
                cur = at(n[0], n[1]);
                start = cur;
                command = if relative { b'l' } else { b'L' };
            }
            b'L' => {
                cur = at(n[0], n[1]);
                o.edge(previous, cur);
            }
            b'H' => {
                cur = (if relative { cur.0 + n[0] } else { n[0] }, cur.1);
                o.edge(previous, cur);
            }
            b'V' => {
                cur = (cur.0, if relative { cur.1 + n[0] } else { n[0] });
                o.edge(previous, cur);
            }
            b'C' | b'S' => {
                let (c1, c2, end) = if upper == b'C' {
                    (at(n[0], n[1]), at(n[2], n[3]), at(n[4], n[5]))
                } else {
                    (reflect(cubic), at(n[0], n[1]), at(n[2], n[3]))
                };
                o.edge(previous, c1);
                o.edge(c1, c2);
                o.edge(c2, end);
                o.curves += 1.0;
                cur = end;
                next_cubic = Some(c2);
            }
            b'Q' | b'T' => {
                let (c, end) = if upper == b'Q' {
                    (at(n[0], n[1]), at(n[2], n[3]))
                } else {
                    (reflect(quad), at(n[0], n[1]))
                };
                o.edge(previous, c);
                o.edge(c, end);
                o.curves += 1.0;
                cur = end;
                next_quad = Some(c);
            }
            _ => {
                // A minor arc stays within half its chord of the chord (its sagitta is at
                // most that); a major one within twice its radius of its start (a radius too
                // small for the chord is scaled up to half of it). Both diagonals of that box:
                // one of them spans its rows under any transform, and an arc crosses a row at
                // most twice.
                cur = at(n[5], n[6]);
                let chord = ((cur.0 - previous.0).powi(2) + (cur.1 - previous.1).powi(2)).sqrt();
                let (x0, y0, x1, y1) = if n[3] == 0.0 {
                    let grow = chord / 2.0;
                    (
                        previous.0.min(cur.0) - grow,
                        previous.1.min(cur.1) - grow,
                        previous.0.max(cur.0) + grow,
                        previous.1.max(cur.1) + grow,
                    )
                } else {
                    let r = n[0].abs().max(n[1].abs()).max(chord / 2.0) * 2.0;
                    (
                        previous.0 - r,
                        previous.1 - r,
                        previous.0 + r,
                        previous.1 + r,
                    )
                };
                let len_before = o.len;
                o.edge((x0, y0), (x1, y1));
                o.edge((x0, y1), (x1, y0));
                o.curves += 4.0;
                // Its length: at most half the box's perimeter for a minor arc, the whole
                // circle for a major one.
                o.len = len_before + std::f64::consts::PI * (x1 - x0).max(y1 - y0);
            }
        }
        (cubic, quad) = (next_cubic, next_quad);
    }
    if cur != start && !o.edges.is_empty() {
        o.edge(cur, start);
    }
    o.done(true)
}

pub(super) fn geometry(el: &Element<'_>) -> Option<Geometry> {
    let num = |k: &str| el.prop(k).map_or(Some(0.0), length);
    let mut o = Outline::new();
    match el.name {
        "rect" | "circle" | "ellipse" => {
            // Convex: its bounding box's sides cross every row as often as it does (twice).
            let (w, h) = match el.name {
                "rect" => (num("width")?, num("height")?),
                "circle" => (2.0 * num("r")?, 2.0 * num("r")?),
                _ => (2.0 * num("rx")?, 2.0 * num("ry")?),
            };
            let (w, h) = (w.abs(), h.abs());
            o.polygon(&[(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)], true);
            let rounded = el.prop("rx").is_some() || el.prop("ry").is_some();
            o.curves = if el.name != "rect" || rounded {
                4.0
            } else {
                0.0
            };
            o.len = if el.name == "rect" {
                2.0 * (w + h)
            } else {
                std::f64::consts::PI * (w + h)
            };
            o.done(true)
        }
        "line" => {
            o.edge((num("x1")?, num("y1")?), (num("x2")?, num("y2")?));
            o.done(false)
        }
        "polyline" | "polygon" => {
            let n = numbers(el.prop("points").unwrap_or(""));
            let points: Vec<(f64, f64)> = n.chunks_exact(2).map(|p| (p[0], p[1])).collect();
            o.polygon(&points, true);
            o.done(true)
        }
        "path" => path(el.prop("d").unwrap_or("")),
        _ => None,
    }
}

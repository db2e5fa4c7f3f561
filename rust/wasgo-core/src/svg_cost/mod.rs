//! What an SVG will cost to draw, estimated before Godot's rasteriser (ThorVG) sees it, and the
//! document WasGo hands Godot instead of the mod's bytes.
//!
//! An SVG's declared size says nothing about its drawing cost: 700 bytes of nested `<use>`
//! references double a full-canvas rectangle at every level (2^n rectangles of 4096 x 4096, 48 s
//! for eight levels), a filled polygon of 1000 random points takes ThorVG 10 s (its scanline
//! rasteriser sorts every row's crossings, so a row crossed n times costs n² steps), a stroke
//! along the same points 149 s, a dash pattern of 0.001 cuts a line into millions of pieces. The
//! drawing runs on the main thread inside one host call, where no callback budget can stop it,
//! so WasGo bounds it before it starts.
//!
//! [`prepare`] does three things:
//! 1. **Reads the markup strictly** (well-formed nesting, at most [`MAX_DEPTH`] deep and
//!    [`MAX_ELEMENTS`] elements, no entity declarations, no `<image>`: a picture inside the SVG
//!    would bypass the PNG/JPEG header checks).
//! 2. **Writes it again in a form ThorVG reads the same way in every version**: graphics
//!    elements closed in their own tag, only `<g>`, `<defs>`, `<mask>` and `<clipPath>` holding
//!    children in place, symbols, gradients and CSS moved after everything drawn (they are
//!    found by id), `style` attributes turned into plain attributes, duplicate ids dropped,
//!    elements ThorVG does not know unwrapped (their children drawn in place, as ThorVG does),
//!    text, filters and metadata left out. ThorVG's own reader matches closing tags by prefix and
//!    changes which tags open a level between versions; handing it this form means the tree it
//!    draws is the tree WasGo estimated.
//! 3. **Estimates the drawing** by walking that tree the way the rasteriser draws it —
//!    `<use>` references, masks and clip paths expanded where they are drawn, each element with
//!    its transform — and adding up, in units of about one pixel filled:
//!    - the canvas itself ([`PER_CANVAS_PIXEL`] per pixel: cleared, written, converted);
//!    - every element drawn ([`PER_ELEMENT`]) and every curve of a fill or stroke
//!      ([`PER_CURVE`]);
//!    - a shape's fill and stroke: the pixels of its bounding box on the canvas (a gradient
//!      [`PER_GRADIENT_PIXEL`] each), and, from a histogram of the cells its outline makes in
//!      each canvas row (a stroke's outline is both sides of every edge and its joins, a
//!      dash's ends on top), [`PER_CELL`] per cell and [`PER_CELL_PAIR`] per pair of cells in
//!      the same row — the rasteriser inserts each cell into its row's sorted list — less
//!      ([`PER_CELL_PAIR_CACHED`]) while the shape's cells fit in the cache; every dash
//!      [`PER_DASH`];
//!    - a mask or a group drawn with `opacity`: offscreen layers of the canvas's size
//!      ([`PER_LAYER`] canvases each, [`FIRST_LAYER`] more for the first);
//!    - the loader's own passes: each mask or clip path reference searches every element
//!      ([`PER_LOOKUP`]), each gradient reference copies its stops ([`PER_STOP_COPY`]).
//!
//! Sizes WasGo cannot read (a percentage, a unit, a scale inside a symbol it cannot know) count
//! the whole canvas and every row. The weights were measured against Godot 4.6's ThorVG on
//! the attack families above (nested `<use>`, self-crossing fills and strokes, dashes, layers,
//! masks, reference and gradient floods, tens of thousands of small shapes) and on real files:
//! the slowest drawing per unit was about 0.4 ns on the 2-core test machine, so the default
//! budget (`wasgo/limits/svg_draw_mpx`, 512 Mi units) holds one SVG to about a fifth of a
//! second there. The walk stops as soon as the sum passes the budget, so a document that would
//! expand to billions of elements costs it no more than the budget's worth of steps.
//!
//! Godot-free and pure: `assets::sniff` refuses what [`prepare`] refuses; the glue decodes the
//! document [`prepare`] returns.

mod geometry;
mod markup;

use geometry::geometry as outline_of;
use geometry::{finite, length, mul, numbers, transform, Geometry, Linear, Outline};
use markup::{is_gradient, is_group, is_left_out, is_shape, parse, write, Doc, Element};
use std::collections::HashMap;
use std::rc::Rc;

/// Units for each element drawn (ThorVG's fixed work per shape or group, about a microsecond).
pub const PER_ELEMENT: f64 = 4096.0;
/// Units for each curve of an outline, per fill or stroke (ThorVG parses it, converts an arc
/// to cubics and cuts each cubic into line segments: about a microsecond).
pub const PER_CURVE: f64 = 3072.0;
/// Units for one cell of an outline (the rasteriser's unit of coverage: a pixel an edge passes
/// through; an edge makes about `1 + |dx| / |dy|` in each row it crosses).
pub const PER_CELL: f64 = 16.0;
/// Units for each pair of cells in the same row (every cell is inserted into its row's sorted
/// list) while the shape's cells fit in the processor's cache...
pub const PER_CELL_PAIR_CACHED: f64 = 4.0;
/// ...and once they do not (each step of the list walk is then a cache miss).
pub const PER_CELL_PAIR: f64 = 44.0;
/// Cells of one shape that fit in the cache (24 bytes each: 1.5 MiB).
pub const CACHED_CELLS: f64 = 65_536.0;
/// Units per pixel of a gradient fill (radial gradients run ~20x a flat fill).
pub const PER_GRADIENT_PIXEL: f64 = 20.0;
/// Offscreen layers (group opacity, each of a mask's two buffers), in canvases filled.
pub const PER_LAYER: f64 = 8.0;
/// Units per dash of a dashed stroke (each is an outline of its own, built and stroked).
pub const PER_DASH: f64 = 2000.0;
/// Units per gradient stop copied for each element that uses the gradient.
pub const PER_STOP_COPY: f64 = 150.0;
/// Units per element searched when a mask or clip path reference is resolved.
pub const PER_LOOKUP: f64 = 3.0;
/// Units per canvas pixel for the document itself (the canvas cleared, converted to an image).
pub const PER_CANVAS_PIXEL: f64 = 18.0;
/// The first offscreen layer's allocation, in canvases filled.
pub const FIRST_LAYER: f64 = 16.0;
/// Most elements a document may have, drawn or not.
pub const MAX_ELEMENTS: usize = 200_000;
/// Deepest nesting of elements.
pub const MAX_DEPTH: usize = 256;
/// Longest `style` attribute or `<style>` text (ThorVG copies a style attribute onto the stack).
pub const MAX_STYLE_BYTES: usize = 64 * 1024;
/// Most attributes (and style declarations) on one element.
pub const MAX_ATTRIBUTES: usize = 256;

/// Why an SVG is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SvgRefusal {
    /// A feature WasGo does not let through (what it is).
    Feature(String),
    /// Drawing it would take more than the budget (where the walk was when it passed it).
    TooCostly(String),
    /// The markup is broken (what is wrong).
    Malformed(String),
}

/// An SVG that may be drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedSvg {
    /// The document to hand the rasteriser (see the module docs).
    pub document: String,
    /// Estimated cost, in units of one pixel filled.
    pub cost: u64,
    /// Elements drawn, `<use>` references expanded.
    pub elements: u64,
}

/// Reads `doc`, estimates drawing it on a canvas of `canvas` pixels (its declared size) and
/// returns the document to draw, or refuses it past `budget` units.
///
/// # Errors
/// See [`SvgRefusal`].
pub fn prepare(doc: &str, canvas: (u32, u32), budget: u64) -> Result<PreparedSvg, SvgRefusal> {
    read(doc)?.prepare(canvas, budget)
}

/// An SVG read strictly (see the module docs): its root and everything [`Svg::prepare`] needs.
pub struct Svg<'a>(Doc<'a>);

/// Reads `doc` strictly.
///
/// # Errors
/// Broken markup, a feature WasGo does not let through, or more elements than
/// [`MAX_ELEMENTS`].
pub fn read(doc: &str) -> Result<Svg<'_>, SvgRefusal> {
    parse(doc).map(Svg)
}

impl<'a> Svg<'a> {
    /// An attribute of the root `<svg>` (a `style` declaration of the same name wins, as in the
    /// document [`Svg::prepare`] writes): the canvas size comes from here, never from a
    /// `<svg` that only looks like the root (inside a comment, say).
    pub fn root_attribute(&self, name: &str) -> Option<&'a str> {
        self.0.elements[self.0.root as usize].prop(name)
    }

    /// Estimates drawing the document on a canvas of `canvas` pixels and returns the document
    /// to draw, or refuses it past `budget` units.
    ///
    /// # Errors
    /// See [`SvgRefusal`].
    pub fn prepare(&self, canvas: (u32, u32), budget: u64) -> Result<PreparedSvg, SvgRefusal> {
        check_miters(&self.0)?;
        check_use_copies(&self.0)?;
        let (cost, elements) = Walk::new(&self.0, canvas, budget).run()?;
        Ok(PreparedSvg {
            document: write(&self.0),
            cost,
            elements,
        })
    }
}

/// Refuses a document whose `<use>` elements, all of them, drawn or not, copy more than
/// [`MAX_ELEMENTS`] elements: ThorVG copies every `<use>`'s target when it reads the document
/// (the walk counts only the ones drawn), so forty levels of `<defs>` each using the one before
/// twice asked it for 2^40 nodes, out of memory, from a few kilobytes, even with only the second
/// level drawn. Each element's size with its references expanded is found once (an explicit
/// stack: a chain of references as long as the document never deepens the host's); a reference
/// loop is refused too.
fn check_use_copies(doc: &Doc<'_>) -> Result<(), SvgRefusal> {
    const NEW: u8 = 0;
    const OPEN: u8 = 1;
    const DONE: u8 = 2;
    let n = doc.elements.len();
    let mut state = vec![NEW; n];
    let mut size = vec![0u64; n];
    let too_many = || {
        SvgRefusal::TooCostly(format!(
            "its `<use>` references (the renderer copies each one's target, drawn or not: more than {MAX_ELEMENTS} elements, or references that loop)"
        ))
    };
    // What element `e` holds: its children, and a `<use>`'s target.
    let target_of = |e: usize| -> Option<usize> {
        let el = &doc.elements[e];
        if el.name != "use" {
            return None;
        }
        let (t, _) = el.href().and_then(|id| doc.target(id))?;
        (t as usize != e).then_some(t as usize)
    };
    let mut stack: Vec<(usize, bool)> = Vec::new();
    for start in 0..n {
        if state[start] == DONE {
            continue;
        }
        stack.push((start, false));
        while let Some((e, children_done)) = stack.pop() {
            if children_done {
                let el = &doc.elements[e];
                let mut total: u64 = 1;
                for &c in &el.children {
                    total = total.saturating_add(size[c as usize]);
                }
                if let Some(t) = target_of(e) {
                    total = total.saturating_add(size[t]);
                }
                size[e] = total;
                state[e] = DONE;
                continue;
            }
            match state[e] {
                DONE => continue,
                OPEN => return Err(too_many()),
                _ => {}
            }
            state[e] = OPEN;
            stack.push((e, true));
            for &c in &doc.elements[e].children {
                if state[c as usize] != DONE {
                    stack.push((c as usize, false));
                }
            }
            if let Some(t) = target_of(e) {
                match state[t] {
                    OPEN => return Err(too_many()),
                    NEW => stack.push((t, false)),
                    _ => {}
                }
            }
        }
    }
    let copied = (0..n)
        .filter_map(target_of)
        .fold(0u64, |sum, t| sum.saturating_add(size[t]));
    if copied > MAX_ELEMENTS as u64 {
        return Err(too_many());
    }
    Ok(())
}

/// What the loader searches for in the whole markup, drawn or not: the references that make it
/// walk the tree (`clip-path`, `mask`, a `<use>`'s target), the paints that name a gradient, and
/// the gradients they are looked for among.
fn markup_references(doc: &Doc<'_>) -> (f64, f64, f64) {
    let (mut references, mut paint_urls, mut gradients) = (0.0, 0.0, 0.0);
    for el in &doc.elements {
        if is_gradient(el.name) {
            gradients += 1.0;
        }
        if el.name == "use" && el.href().is_some() {
            references += 1.0;
        }
        for name in ["clip-path", "mask"] {
            if el.prop(name).and_then(url).is_some() {
                references += 1.0;
            }
        }
        for name in ["fill", "stroke"] {
            if el.prop(name).and_then(url).is_some() {
                paint_urls += 1.0;
            }
        }
    }
    (references, paint_urls, gradients)
}

/// The largest `stroke-miterlimit` let through: SVG's default. The estimate counts a join's
/// miter as reaching at most 4 half-widths of its stroke, as it does under that limit; ThorVG
/// honours any limit, and a limit of a million on 2 px strokes turning back on themselves drew
/// spikes across the canvas (26 s for a 39 KB file estimated within the budget).
pub const MAX_MITER_LIMIT: f64 = 4.0;

fn check_miters(doc: &Doc<'_>) -> Result<(), SvgRefusal> {
    let too_long = |v: &str| {
        !v.trim()
            .parse::<f64>()
            .is_ok_and(|m| m.is_finite() && m <= MAX_MITER_LIMIT)
    };
    let set = doc
        .elements
        .iter()
        .filter_map(|el| el.prop("stroke-miterlimit"))
        .chain(css_values(&doc.style, "stroke-miterlimit"))
        .find(|v| too_long(v));
    match set {
        Some(v) => Err(SvgRefusal::Feature(format!(
            "a `stroke-miterlimit` of `{}` (at most {MAX_MITER_LIMIT}, SVG's default)",
            v.trim()
        ))),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// The walk.

/// What an element draws with, from its ancestors (as ThorVG inherits styles).
#[derive(Clone, Copy)]
struct Context<'a> {
    m: Linear,
    /// Stroke width (user units; infinite: unknown).
    stroke_width: f64,
    stroked: bool,
    filled: bool,
    fill_url: Option<&'a str>,
    stroke_url: Option<&'a str>,
    /// The dash pattern's period (user units), if dashed.
    dash: Option<f64>,
}

/// Elements still to draw, each with the context it draws in (the walk's own stack: nesting
/// and `<use>` chains never recurse on the thread's stack).
type Stack<'a> = Vec<(u32, Context<'a>)>;

fn url(value: &str) -> Option<&str> {
    let inner = value.trim().strip_prefix("url(")?;
    let inner = &inner[..inner.find(')')?];
    inner
        .trim()
        .trim_matches(|c| c == '"' || c == '\'')
        .strip_prefix('#')
}

/// The `#id`s in `url(#id)` references of a CSS text.
fn urls(value: &str) -> impl Iterator<Item = &str> {
    value.split("url(").skip(1).filter_map(|s| {
        let inner = &s[..s.find(')')?];
        inner
            .trim()
            .trim_matches(|c| c == '"' || c == '\'')
            .strip_prefix('#')
    })
}

/// The period of a `stroke-dasharray` (`None`: not dashed; ThorVG ignores a pattern whose
/// first value is not positive).
fn dash_period(value: &str) -> Option<f64> {
    let n = numbers(value);
    if n.first().is_none_or(|&v| v <= 0.0) {
        return None;
    }
    let values: Vec<f64> = n.into_iter().take_while(|&v| v > 0.0).collect();
    // One value is a dash and a gap of that length; a percentage is of the viewport.
    let period = values.iter().sum::<f64>() * if values.len() == 1 { 2.0 } else { 1.0 };
    Some(if value.contains('%') { 0.0 } else { period })
}

/// The values a CSS text gives a property (`name: value`, in any rule).
fn css_values<'s>(style: &'s str, name: &'s str) -> impl Iterator<Item = &'s str> + 's {
    style.match_indices(name).filter_map(move |(i, _)| {
        if style[..i].ends_with(|c: char| c.is_alphanumeric() || c == '-') {
            return None;
        }
        let value = style[i + name.len()..].trim_start().strip_prefix(':')?;
        Some(value.split([';', '}']).next().unwrap_or("").trim())
    })
}

struct Walk<'d, 'a> {
    doc: &'d Doc<'a>,
    w: f64,
    h: f64,
    budget: f64,
    cost: f64,
    elements: u64,
    /// Mask and clip-path references resolved (each searches every element).
    lookups: f64,
    /// Whether an offscreen layer was counted yet (the first one is allocated).
    layered: bool,
    geometry: Vec<Option<Option<Rc<Geometry>>>>,
    /// Crossing units already computed: (element, matrix, stroke, dash).
    rows: HashMap<(u32, [u64; 6]), f64>,
    /// What `<style>` rules may give any element (WasGo does not match selectors).
    css_stroke_width: Option<f64>,
    css_stroked: bool,
    css_dash: Option<f64>,
    css_composite: Vec<u32>,
    css_opacity: bool,
    css_gradient: Option<u32>,
    css_rules: f64,
}

impl<'d, 'a> Walk<'d, 'a> {
    fn new(doc: &'d Doc<'a>, canvas: (u32, u32), budget: u64) -> Self {
        let style = doc.style.as_str();
        let widest = css_values(style, "stroke-width")
            .map(|v| length(v).map_or(f64::INFINITY, f64::abs))
            .fold(None, |a: Option<f64>, v| Some(a.map_or(v, |a| a.max(v))));
        let dash = css_values(style, "stroke-dasharray")
            .filter_map(dash_period)
            .fold(None, |a: Option<f64>, v| Some(a.map_or(v, |a| a.min(v))));
        let targets = |kinds: &[&str]| -> Vec<u32> {
            urls(style)
                .filter_map(|id| doc.target(id))
                .filter(|(_, el)| kinds.contains(&el.name))
                .map(|(t, _)| t)
                .collect()
        };
        let gradients = targets(&["linearGradient", "radialGradient"]);
        Walk {
            doc,
            w: canvas.0 as f64,
            h: canvas.1 as f64,
            budget: budget as f64,
            cost: 0.0,
            elements: 0,
            lookups: 0.0,
            layered: false,
            geometry: (0..doc.elements.len()).map(|_| None).collect(),
            rows: HashMap::new(),
            css_stroke_width: widest,
            css_stroked: css_values(style, "stroke").next().is_some(),
            css_dash: dash,
            css_composite: targets(&["mask", "clipPath"]),
            css_opacity: css_values(style, "opacity").next().is_some(),
            // The gradient with the most stops stands for all of them.
            css_gradient: gradients
                .into_iter()
                .max_by_key(|&g| doc.elements[g as usize].children.len()),
            css_rules: style.matches('{').count() as f64,
        }
    }

    fn canvas(&self) -> f64 {
        self.w * self.h
    }

    /// Adds `units`; past the budget, the refusal naming `what`.
    fn charge(&mut self, units: f64, what: &str) -> Result<(), SvgRefusal> {
        self.cost += if units.is_nan() {
            f64::INFINITY
        } else {
            units.max(0.0)
        };
        if self.cost > self.budget {
            return Err(SvgRefusal::TooCostly(format!(
                "{what} after {} elements drawn (`<use>` references expanded)",
                self.elements
            )));
        }
        Ok(())
    }

    fn run(mut self) -> Result<(u64, u64), SvgRefusal> {
        let doc = self.doc;
        let root = &doc.elements[doc.root as usize];
        if css_values(&doc.style, "transform").next().is_some() {
            return Err(SvgRefusal::Feature(
                "a `transform` in a `<style>` rule".to_string(),
            ));
        }
        // The root viewBox scales user units to the canvas.
        let m = match root.prop("viewBox").map(numbers).as_deref() {
            Some([_, _, vw, vh]) if *vw > 0.0 && *vh > 0.0 => {
                finite([self.w / vw, 0.0, 0.0, self.h / vh])
            }
            Some(_) => None,
            None => Some([1.0, 0.0, 0.0, 1.0]),
        };
        let top = Context {
            m,
            stroke_width: 1.0,
            stroked: false,
            filled: true,
            fill_url: None,
            stroke_url: None,
            dash: None,
        };
        self.charge(PER_CANVAS_PIXEL * self.canvas(), "its canvas")?;
        let mut stack: Stack<'a> = Vec::new();
        let inner = self.inherit(doc.root, top);
        self.layers(doc.root, inner, &mut stack)?;
        for &c in root.children.iter().rev() {
            stack.push((c, inner));
        }
        while let Some((e, context)) = stack.pop() {
            self.draw(e, context, &mut stack)?;
        }
        // The loader's passes over every element: one search of the whole tree per mask or clip
        // path reference and per `<use>` it copies after reading (drawn or not, found or not:
        // 150,000 clip paths in an unused `<clipPath>` were estimated at nothing), one search of
        // the gradients per paint that names one, one match per element and CSS rule.
        let everything = self.elements as f64 + doc.elements.len() as f64;
        let (references, paint_urls, gradients) = markup_references(doc);
        self.charge(
            PER_LOOKUP * self.lookups.max(references) * everything,
            "its mask, clip-path and `<use>` references",
        )?;
        self.charge(
            PER_LOOKUP * paint_urls * gradients,
            "its gradient references",
        )?;
        self.charge(
            PER_LOOKUP * self.css_rules * everything,
            "its `<style>` rules",
        )?;
        Ok((self.cost.min(u64::MAX as f64) as u64, self.elements))
    }

    /// The context `e`'s content draws in: its transform and inherited style.
    fn inherit(&self, e: u32, parent: Context<'a>) -> Context<'a> {
        let el = &self.doc.elements[e as usize];
        let mut c = parent;
        if let Some(t) = el.prop("transform") {
            c.m = c.m.zip(transform(t)).and_then(|(m, t)| finite(mul(m, t)));
        }
        if let Some(v) = el.prop("stroke-width") {
            c.stroke_width = length(v).map_or(f64::INFINITY, f64::abs);
        }
        if let Some(v) = el.prop("stroke") {
            c.stroked = v != "none";
            c.stroke_url = url(v);
        }
        if let Some(v) = el.prop("fill") {
            c.filled = v != "none";
            c.fill_url = url(v);
        }
        if let Some(v) = el.prop("stroke-dasharray") {
            c.dash = dash_period(v);
        }
        // What a `<style>` rule may add.
        if let Some(w) = self.css_stroke_width {
            c.stroke_width = c.stroke_width.max(w);
        }
        c.stroked |= self.css_stroked;
        c.dash = match (c.dash, self.css_dash) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        c
    }

    /// Counts `n` offscreen layers of the canvas's size.
    fn layer(&mut self, n: f64, what: &str) -> Result<(), SvgRefusal> {
        let first = if self.layered { 0.0 } else { FIRST_LAYER };
        self.layered = true;
        self.charge((first + n * PER_LAYER) * self.canvas(), what)
    }

    /// The offscreen layers `e` asks for (a mask, group opacity) and the content of the masks
    /// and clip paths it names, pushed to be drawn in `context`.
    fn layers(
        &mut self,
        e: u32,
        context: Context<'a>,
        stack: &mut Stack<'a>,
    ) -> Result<(), SvgRefusal> {
        let doc = self.doc;
        let el = &doc.elements[e as usize];
        let mut composites: Vec<u32> = Vec::new();
        for key in ["mask", "clip-path"] {
            if let Some((t, target)) = el.prop(key).and_then(url).and_then(|id| doc.target(id)) {
                if matches!(target.name, "mask" | "clipPath") {
                    composites.push(t);
                }
            }
        }
        composites.extend(self.css_composite.iter().copied());
        let group = is_group(el.name) || el.name == "use" || el.name == "svg";
        let opacity = el
            .prop("opacity")
            .and_then(|v| v.parse::<f64>().ok())
            .is_some_and(|o| o < 1.0);
        if group && (opacity || self.css_opacity) {
            self.layer(1.0, "a group drawn with `opacity`")?;
        }
        for t in composites {
            self.lookups += 1.0;
            let target = &doc.elements[t as usize];
            if target.name == "mask" {
                self.layer(2.0, "a `mask`")?;
            }
            let relative = ["maskContentUnits", "clipPathUnits"]
                .iter()
                .any(|k| target.prop(k) == Some("objectBoundingBox"));
            let mut inner = self.inherit(t, context);
            if relative {
                inner.m = None;
            }
            for &c in target.children.iter().rev() {
                stack.push((c, inner));
            }
        }
        Ok(())
    }

    fn draw(
        &mut self,
        e: u32,
        context: Context<'a>,
        stack: &mut Stack<'a>,
    ) -> Result<(), SvgRefusal> {
        let doc = self.doc;
        let el = &doc.elements[e as usize];
        let name = el.name;
        // Drawn only where something names them, or not at all.
        if matches!(name, "defs" | "mask" | "clipPath" | "symbol")
            || is_gradient(name)
            || is_left_out(name)
        {
            return Ok(());
        }
        self.elements += 1;
        self.charge(PER_ELEMENT, "its element count")?;
        if name == "g" {
            let inner = self.inherit(e, context);
            self.layers(e, inner, stack)?;
            for &c in el.children.iter().rev() {
                stack.push((c, inner));
            }
            return Ok(());
        }
        if name == "use" {
            let inner = self.inherit(e, context);
            self.layers(e, inner, stack)?;
            let Some((t, target)) = el.href().and_then(|id| doc.target(id)) else {
                return Ok(());
            };
            if target.name == "symbol" {
                let inner = self.viewport(target, el, self.inherit(t, inner));
                for &c in target.children.iter().rev() {
                    stack.push((c, inner));
                }
            } else if t != e {
                stack.push((t, inner));
            }
            return Ok(());
        }
        if !is_shape(name) {
            // Unknown to ThorVG: its children draw in place, with the parent's style.
            for &c in el.children.iter().rev() {
                stack.push((c, context));
            }
            return Ok(());
        }
        let inner = self.inherit(e, context);
        self.shape(e, inner)?;
        self.layers(e, inner, stack)
    }

    /// The context inside a `<symbol>` drawn by `use_el`: its viewBox scaled to the use's size.
    fn viewport(
        &self,
        symbol: &Element<'_>,
        use_el: &Element<'_>,
        context: Context<'a>,
    ) -> Context<'a> {
        let Some(view) = symbol.prop("viewBox") else {
            return context;
        };
        let size = |k: &str| use_el.prop(k).or_else(|| symbol.prop(k)).and_then(length);
        let m = match (
            numbers(view).as_slice(),
            size("width"),
            size("height"),
            context.m,
        ) {
            ([_, _, vw, vh], Some(w), Some(h), Some(m)) if *vw > 0.0 && *vh > 0.0 => {
                finite(mul(m, [w.abs() / vw, 0.0, 0.0, h.abs() / vh]))
            }
            _ => None,
        };
        Context { m, ..context }
    }

    fn geometry(&mut self, e: u32) -> Option<Rc<Geometry>> {
        if let Some(g) = &self.geometry[e as usize] {
            return g.clone();
        }
        let g = outline_of(&self.doc.elements[e as usize]).map(Rc::new);
        self.geometry[e as usize] = Some(g.clone());
        g
    }

    /// The stops a gradient carries (with those of the gradient it names: one step, as ThorVG).
    fn stops(&self, gradient: u32) -> f64 {
        let g = &self.doc.elements[gradient as usize];
        let inherited = g
            .href()
            .and_then(|id| self.doc.target(id))
            .map_or(0, |(_, r)| r.children.len());
        (g.children.len() + inherited) as f64
    }

    /// The stops of the gradient a fill or stroke paints with, `None` for a plain colour.
    fn paint_stops(&self, url: Option<&str>) -> Option<f64> {
        let own = url
            .and_then(|u| self.doc.target(u))
            .filter(|(_, g)| is_gradient(g.name))
            .map(|(t, _)| self.stops(t));
        let css = self.css_gradient.map(|t| self.stops(t));
        match (own, css) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    fn shape(&mut self, e: u32, c: Context<'a>) -> Result<(), SvgRefusal> {
        let what = format!("a `<{}>`", self.doc.elements[e as usize].name);
        // Sizes WasGo cannot read (a percentage, a unit): the whole canvas, every row.
        let (g, m) = match self.geometry(e) {
            Some(g) => (g, c.m),
            None => {
                let mut o = Outline::new();
                let (w, h) = (self.w, self.h);
                o.polygon(&[(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)], true);
                (Rc::new(o.done(true).expect("a finite box")), None)
            }
        };
        let stroke = if c.stroked {
            c.stroke_width.max(1.0)
        } else {
            0.0
        };
        // Pixels covered: the bounding box (widened by the stroke) on the canvas.
        let area = match m {
            Some([a, b, cc, d]) => {
                let (w, h) = (g.w + stroke, g.h + stroke);
                let dw = a.abs() * w + cc.abs() * h;
                let dh = b.abs() * w + d.abs() * h;
                dw.min(self.w) * dh.min(self.h)
            }
            None => self.canvas(),
        };
        let paint = |stops: Option<f64>| match stops {
            Some(n) => area * PER_GRADIENT_PIXEL + n * PER_STOP_COPY,
            None => area,
        };
        let mut units = 0.0;
        if c.filled && g.fillable {
            units += g.curves * PER_CURVE;
            units += paint(self.paint_stops(c.fill_url));
            units += self.crossings(e, &g, m, 0.0, None);
        }
        if c.stroked {
            units += g.curves * PER_CURVE;
            units += paint(self.paint_stops(c.stroke_url));
            units += self.crossings(e, &g, m, stroke, c.dash);
            if let Some(period) = c.dash {
                units += PER_DASH
                    * if period > 0.0 {
                        g.len / period
                    } else {
                        f64::INFINITY
                    };
            }
        }
        self.charge(units, &what)
    }

    /// The crossing units of a shape's outline: the fill's (`stroke` 0) or the stroke's (both
    /// sides of every edge and its join, over the edge's rows widened by half the stroke; a
    /// dash's own sides and caps on top).
    fn crossings(
        &mut self,
        e: u32,
        g: &Geometry,
        m: Linear,
        stroke: f64,
        dash: Option<f64>,
    ) -> f64 {
        let Some([a, b, c, d]) = m else {
            // Every edge may cross every row, and each makes as many cells in a row as the
            // canvas is wide over its height.
            let n = g.edges.len() as f64
                * if stroke > 0.0 { 4.0 } else { 1.0 }
                * (1.0 + self.w / self.h.max(1.0));
            return self.h * (PER_CELL * n + PER_CELL_PAIR * n * n);
        };
        let key = (
            e,
            [a, b, c, d, stroke, dash.unwrap_or(-1.0)].map(f64::to_bits),
        );
        if let Some(&units) = self.rows.get(&key) {
            return units;
        }
        let scale = (b * b + d * d).sqrt();
        // A stroke wider than the canvas covers it whatever its width.
        let pad = (stroke * scale / 2.0).min(self.w + self.h);
        let y = |x: f32, y: f32| b * x as f64 + d * y as f64;
        // Cells an edge makes in each row it crosses: one per pixel it passes through (a
        // level edge makes none but its end).
        let cells = |edge: &[f32; 4]| {
            let (dx, dy) = ((edge[2] - edge[0]) as f64, (edge[3] - edge[1]) as f64);
            let (dx, dy) = ((a * dx + c * dy).abs(), (b * dx + d * dy).abs());
            if dy == 0.0 {
                1.0
            } else {
                1.0 + dx / dy.max(1.0)
            }
        };
        // A side of the stroke is the edge moved by up to `pad` (both ends alike: it crosses
        // as many rows); the join at each vertex, as tall as the stroke is wide, covers the
        // rows it moved into. A thin stroke's joins stay within its sides' rows.
        let span = |edge: &[f32; 4]| {
            let (y0, y1) = (y(edge[0], edge[1]), y(edge[2], edge[3]));
            (y0.min(y1), y0.max(y1))
        };
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for edge in &g.edges {
            let (a, z) = span(edge);
            lo = lo.min(a - 2.0 * pad);
            hi = hi.max(z + 2.0 * pad);
        }
        if !(lo.is_finite() && hi.is_finite()) {
            return if g.edges.is_empty() {
                0.0
            } else {
                f64::INFINITY
            };
        }
        // One bucket per row, or per group of rows when the outline is taller than the canvas.
        let rows = (hi - lo).ceil().max(1.0);
        let buckets = rows.min(self.h.max(1.0)) as usize;
        let per_bucket = rows / buckets as f64;
        let mut diff = vec![0.0f64; buckets + 1];
        let bucket = |y: f64| (((y - lo) / per_bucket) as usize).min(buckets - 1);
        let mut add = |from: f64, to: f64, w: f64| {
            diff[bucket(from)] += w;
            diff[bucket(to) + 1] -= w;
        };
        for (i, edge) in g.edges.iter().enumerate() {
            let (from, to) = span(edge);
            let per_row = cells(edge);
            if stroke <= 0.0 {
                add(from, to, per_row);
                continue;
            }
            // Both sides of the stroke along the edge.
            add(from, to, 2.0 * per_row);
            if pad > 1.0 {
                // The join at its end: as tall as the stroke is wide where the outline turns
                // sharply (a miter up to twice that), little where it hardly turns; a cap
                // where the subpath ends.
                let next = g
                    .edges
                    .get(i + 1)
                    .filter(|n| n[0] == edge[2] && n[1] == edge[3]);
                let reach = match next {
                    Some(n) => {
                        let (dx0, dy0) = ((edge[2] - edge[0]) as f64, (edge[3] - edge[1]) as f64);
                        let (dx1, dy1) = ((n[2] - n[0]) as f64, (n[3] - n[1]) as f64);
                        let turn = (dx0 * dy1 - dy0 * dx1).atan2(dx0 * dx1 + dy0 * dy1).abs();
                        pad * (2.0 * turn).min(4.0)
                    }
                    None => 2.0 * pad,
                };
                let end = y(edge[2], edge[3]);
                add(end - reach, end + reach, 4.0);
            }
            if let Some(period) = dash {
                // Each dash is a piece of outline of its own: its sides are the stroke's, its
                // two ends add a cell in each row they cross (as tall as a dash and the
                // stroke's width).
                let len = ((edge[2] - edge[0]) as f64).hypot((edge[3] - edge[1]) as f64);
                let dashes = if period > 0.0 {
                    len / period
                } else {
                    f64::INFINITY
                };
                let tall = period * scale + 2.0 * pad + 1.0;
                add(
                    from,
                    to,
                    2.0 * dashes * (tall / (to - from).max(1.0)).min(1.0),
                );
            }
        }
        let mut counts = Vec::with_capacity(buckets);
        let mut running = 0.0;
        for d in &diff[..buckets] {
            running += d;
            counts.push(running.max(0.0));
        }
        // Only the canvas's rows are drawn: with groups of rows, the fullest groups that fit.
        if per_bucket > 1.0 {
            let visible = ((self.h / per_bucket).ceil() as usize + 1).min(counts.len());
            counts.select_nth_unstable_by(visible - 1, |x, y| y.total_cmp(x));
            counts.truncate(visible);
        }
        let rows_each = per_bucket.max(1.0);
        let cells: f64 = counts.iter().sum::<f64>() * rows_each;
        let pairs: f64 = counts.iter().map(|c| c * c).sum::<f64>() * rows_each;
        let pair = PER_CELL_PAIR_CACHED
            + (PER_CELL_PAIR - PER_CELL_PAIR_CACHED) * (cells / CACHED_CELLS).min(1.0);
        let units = PER_CELL * cells + pair * pairs;
        self.rows.insert(key, units);
        units
    }
}

#[cfg(test)]
mod tests;

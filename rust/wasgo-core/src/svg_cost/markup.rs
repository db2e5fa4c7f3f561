//! Reading an SVG strictly, and writing it again in the form ThorVG reads the same way in every
//! version (see the parent module's docs).

use super::SvgRefusal;
use super::{MAX_ATTRIBUTES, MAX_DEPTH, MAX_ELEMENTS, MAX_STYLE_BYTES};
use std::collections::HashMap;

pub(super) struct Element<'a> {
    pub(super) name: &'a str,
    /// Attributes, then the declarations of the `style` attribute (which win, as in CSS).
    pub(super) attrs: Vec<(&'a str, &'a str)>,
    pub(super) children: Vec<u32>,
}

impl<'a> Element<'a> {
    /// A property: the last of its attribute and its `style` declaration.
    pub(super) fn prop(&self, name: &str) -> Option<&'a str> {
        self.attrs
            .iter()
            .rev()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.trim())
    }

    /// The element a `href`/`xlink:href` names (`#id`).
    pub(super) fn href(&self) -> Option<&'a str> {
        self.prop("href")
            .or_else(|| self.prop("xlink:href"))
            .and_then(|h| h.strip_prefix('#'))
    }
}

pub(super) struct Doc<'a> {
    pub(super) elements: Vec<Element<'a>>,
    pub(super) root: u32,
    /// The first element with each id (later ones lose their id in the written document).
    pub(super) ids: HashMap<&'a str, u32>,
    /// The text of every `<style>` element.
    pub(super) style: String,
}

impl<'a> Doc<'a> {
    pub(super) fn target(&self, id: &str) -> Option<(u32, &Element<'a>)> {
        let &t = self.ids.get(id)?;
        Some((t, &self.elements[t as usize]))
    }
}

fn malformed(why: impl Into<String>) -> SvgRefusal {
    SvgRefusal::Malformed(why.into())
}

pub(super) fn parse(text: &str) -> Result<Doc<'_>, SvgRefusal> {
    let mut elements: Vec<Element<'_>> = Vec::new();
    let mut style = String::new();
    let mut root: Option<u32> = None;
    let mut open: Vec<u32> = Vec::new();
    let mut at = 0;
    while let Some(off) = text[at..].find('<') {
        let start = at + off;
        let in_style = open
            .last()
            .is_some_and(|&e| elements[e as usize].name == "style");
        if in_style {
            style.push_str(&text[at..start]);
        }
        let rest = &text[start..];
        let skip_to = |end: &str, what: &str| -> Result<usize, SvgRefusal> {
            rest.find(end)
                .map(|i| start + i + end.len())
                .ok_or_else(|| malformed(format!("a {what} is never closed")))
        };
        if rest.starts_with("<!--") {
            at = skip_to("-->", "comment")?;
            continue;
        }
        if let Some(body) = rest.strip_prefix("<![CDATA[") {
            let end = body
                .find("]]>")
                .ok_or_else(|| malformed("a CDATA section is never closed"))?;
            if in_style {
                style.push_str(&body[..end]);
            }
            at = start + 9 + end + 3;
            continue;
        }
        if rest.starts_with("<!") {
            if rest.starts_with("<!ENTITY")
                || rest[..rest.find('>').unwrap_or(rest.len())].contains('[')
            {
                return Err(SvgRefusal::Feature(
                    "an entity declaration (`<!ENTITY`)".to_string(),
                ));
            }
            at = skip_to(">", "DOCTYPE")?;
            continue;
        }
        if rest.starts_with("<?") {
            at = skip_to("?>", "processing instruction")?;
            continue;
        }
        if let Some(body) = rest.strip_prefix("</") {
            let end = body
                .find('>')
                .ok_or_else(|| malformed("a closing tag is never closed"))?;
            let name = body[..end].trim();
            match open.pop() {
                Some(e) if elements[e as usize].name == name => {}
                Some(e) => {
                    return Err(malformed(format!(
                        "`</{name}>` closes `<{}>`",
                        elements[e as usize].name
                    )))
                }
                None => return Err(malformed(format!("`</{name}>` closes nothing"))),
            }
            at = start + 2 + end + 1;
            continue;
        }
        let (element, closed, end) = tag(&text[start + 1..])?;
        at = start + 1 + end;
        if elements.len() >= MAX_ELEMENTS {
            return Err(SvgRefusal::TooCostly(format!(
                "its element number {MAX_ELEMENTS}, in the markup"
            )));
        }
        let index = elements.len() as u32;
        match open.last() {
            Some(&parent) => elements[parent as usize].children.push(index),
            None if root.is_none() && element.name == "svg" => root = Some(index),
            None if root.is_none() => {
                return Err(malformed(format!(
                    "it starts with `<{}>`, not `<svg>`",
                    element.name
                )))
            }
            None => return Err(malformed("it has elements after its closing `</svg>`")),
        }
        elements.push(element);
        if !closed {
            open.push(index);
            if open.len() > MAX_DEPTH {
                return Err(SvgRefusal::Feature(format!(
                    "elements nested more than {MAX_DEPTH} deep"
                )));
            }
        }
    }
    if let Some(&e) = open.last() {
        return Err(malformed(format!(
            "`<{}>` is never closed",
            elements[e as usize].name
        )));
    }
    if style.len() > MAX_STYLE_BYTES {
        return Err(SvgRefusal::Feature(format!(
            "{} bytes of `<style>` (WasGo takes up to {MAX_STYLE_BYTES})",
            style.len()
        )));
    }
    let root = root.ok_or_else(|| malformed("it has no `<svg>` element"))?;
    if elements.iter().any(|e| e.name == "image") {
        return Err(SvgRefusal::Feature(
            "an `<image>` element (a picture inside the SVG)".to_string(),
        ));
    }
    let mut ids = HashMap::new();
    for (i, e) in elements.iter().enumerate() {
        if let Some(id) = e.prop("id") {
            ids.entry(id).or_insert(i as u32);
        }
    }
    Ok(Doc {
        elements,
        root,
        ids,
        style,
    })
}

/// One start tag after its `<`: the element, whether it closes itself, and the offset just past
/// its `>`.
fn tag(s: &str) -> Result<(Element<'_>, bool, usize), SvgRefusal> {
    let unclosed = || malformed("a tag is never closed");
    let b = s.as_bytes();
    let name_end = s
        .find(|c: char| c.is_whitespace() || c == '/' || c == '>')
        .ok_or_else(unclosed)?;
    let mut element = Element {
        name: &s[..name_end],
        attrs: Vec::new(),
        children: Vec::new(),
    };
    if element.name.is_empty() {
        return Err(malformed("a `<` is not followed by a tag name"));
    }
    let mut style: Option<&str> = None;
    let mut i = name_end;
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let closed = match b.get(i) {
            None => return Err(unclosed()),
            Some(b'>') => Some((false, i + 1)),
            Some(b'/') if b.get(i + 1) == Some(&b'>') => Some((true, i + 2)),
            Some(b'/') => return Err(malformed("a `/` inside a tag is not followed by `>`")),
            _ => None,
        };
        if let Some((closed, end)) = closed {
            if let Some(style) = style {
                if style.len() > MAX_STYLE_BYTES {
                    return Err(SvgRefusal::Feature(format!(
                        "a `style` attribute of {} bytes (WasGo takes up to {MAX_STYLE_BYTES})",
                        style.len()
                    )));
                }
                for decl in style.split(';') {
                    if let Some((k, v)) = decl.split_once(':') {
                        element.attrs.push((k.trim(), v.trim()));
                    }
                }
            }
            if element.attrs.len() > MAX_ATTRIBUTES {
                return Err(SvgRefusal::Feature(format!(
                    "a `<{}>` with more than {MAX_ATTRIBUTES} attributes",
                    element.name
                )));
            }
            return Ok((element, closed, end));
        }
        let key_start = i;
        while i < b.len() && !matches!(b[i], b'=' | b'>' | b'/') && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let key = &s[key_start..i];
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if b.get(i) != Some(&b'=') {
            return Err(malformed(format!("the attribute `{key}` has no value")));
        }
        i += 1;
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let value = match b.get(i) {
            Some(&q) if q == b'"' || q == b'\'' => {
                let len = s[i + 1..].find(q as char).ok_or_else(unclosed)?;
                let v = &s[i + 1..i + 1 + len];
                i += len + 2;
                v
            }
            _ => return Err(malformed(format!("the value of `{key}` is not quoted"))),
        };
        if key == "style" {
            style = Some(value);
        } else {
            element.attrs.push((key, value));
        }
    }
}

/// Elements that hold children in place (ThorVG opens and closes a level for them everywhere).
pub(super) fn is_group(name: &str) -> bool {
    matches!(name, "g" | "defs" | "mask" | "clipPath")
}

pub(super) fn is_shape(name: &str) -> bool {
    matches!(
        name,
        "rect" | "circle" | "ellipse" | "line" | "polyline" | "polygon" | "path"
    )
}

pub(super) fn is_gradient(name: &str) -> bool {
    matches!(name, "linearGradient" | "radialGradient")
}

/// Elements left out with everything inside them: text (Godot's ThorVG has no font loader),
/// descriptions, scripts, `<style>` (written once, at the end), stops outside a gradient.
pub(super) fn is_left_out(name: &str) -> bool {
    matches!(
        name,
        "text" | "title" | "desc" | "metadata" | "script" | "style" | "stop" | "foreignObject"
    )
}

pub(super) fn write(doc: &Doc<'_>) -> String {
    let mut out = String::with_capacity(1024);
    let mut symbols: Vec<u32> = Vec::new();
    let mut gradients: Vec<u32> = Vec::new();
    let root = &doc.elements[doc.root as usize];
    open_tag(doc, doc.root, "svg", &mut out);
    out.push('>');
    for &c in &root.children {
        write_element(doc, c, &mut out, &mut symbols, &mut gradients);
    }
    // Symbols (found by id from `<use>`), then gradients (found by id), then CSS: nothing drawn
    // in place comes after them, so however a version of ThorVG closes them, no drawn element
    // changes parent.
    if !symbols.is_empty() {
        out.push_str("<defs>");
        let mut next = 0;
        while next < symbols.len() {
            let s = symbols[next];
            next += 1;
            open_tag(doc, s, "symbol", &mut out);
            out.push('>');
            for &c in &doc.elements[s as usize].children {
                write_element(doc, c, &mut out, &mut symbols, &mut gradients);
            }
            out.push_str("</symbol>");
        }
        out.push_str("</defs>");
    }
    for &g in &gradients {
        let el = &doc.elements[g as usize];
        open_tag(doc, g, el.name, &mut out);
        out.push('>');
        for &c in &el.children {
            if doc.elements[c as usize].name == "stop" {
                open_tag(doc, c, "stop", &mut out);
                out.push_str("/>");
            }
        }
        out.push_str("</");
        out.push_str(el.name);
        out.push('>');
    }
    if !doc.style.trim().is_empty() {
        out.push_str("<style>");
        out.extend(doc.style.chars().filter(|&c| c != '<' && c != '>'));
        out.push_str("</style>");
    }
    out.push_str("</svg>");
    out
}

fn write_element(
    doc: &Doc<'_>,
    e: u32,
    out: &mut String,
    symbols: &mut Vec<u32>,
    gradients: &mut Vec<u32>,
) {
    let el = &doc.elements[e as usize];
    match el.name {
        name if is_group(name) => {
            open_tag(doc, e, name, out);
            out.push('>');
            for &c in &el.children {
                write_element(doc, c, out, symbols, gradients);
            }
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
        name if is_shape(name) || name == "use" => {
            open_tag(doc, e, name, out);
            out.push_str("/>");
        }
        "symbol" => symbols.push(e),
        name if is_gradient(name) => gradients.push(e),
        name if is_left_out(name) => {}
        _ => {
            // Unknown to ThorVG (`<a>`, `<switch>`, a nested `<svg>`, `<pattern>`, `<marker>`,
            // `<filter>`...): it draws their children in place.
            for &c in &el.children {
                write_element(doc, c, out, symbols, gradients);
            }
        }
    }
}

/// `<name attr="value" ...` (no closing `>`): valid names only, the first element with an id
/// keeps it, values without quotes or angle brackets.
fn open_tag(doc: &Doc<'_>, e: u32, name: &str, out: &mut String) {
    let el = &doc.elements[e as usize];
    out.push('<');
    out.push_str(name);
    // The last value of each attribute wins (a `style` declaration over the attribute).
    let mut seen: Vec<&str> = Vec::with_capacity(el.attrs.len());
    let mut keep = vec![false; el.attrs.len()];
    for (i, (k, _)) in el.attrs.iter().enumerate().rev() {
        if !seen.contains(k) {
            seen.push(k);
            keep[i] = true;
        }
    }
    for ((k, v), keep) in el.attrs.iter().zip(keep) {
        let valid = !k.is_empty()
            && k.bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b':' | b'.'));
        if !keep || !valid || (*k == "id" && doc.ids.get(v.trim()) != Some(&e)) {
            continue;
        }
        out.push(' ');
        out.push_str(k);
        out.push_str("=\"");
        out.extend(v.chars().filter(|&c| !matches!(c, '"' | '<' | '>')));
        out.push('"');
    }
}

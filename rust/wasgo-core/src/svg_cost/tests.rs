//! Tests of `svg_cost`: what is refused, what passes, and the document handed to ThorVG.

use super::geometry::path;
use super::*;

const BUDGET: u64 = 512 << 20;

fn svg(size: u32, body: &str) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="{size}" height="{size}">{body}</svg>"#
    )
}

fn cost(doc: &str, size: u32) -> Result<PreparedSvg, SvgRefusal> {
    prepare(doc, (size, size), BUDGET)
}

fn too_costly(doc: &str, size: u32) -> bool {
    matches!(cost(doc, size), Err(SvgRefusal::TooCostly(_)))
}

/// A pseudo-random walk of `n` points over a `size` canvas.
fn scribble(n: usize, size: u64) -> String {
    let mut d = String::from("M0 0");
    let mut x: u64 = 12345;
    for _ in 0..n {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        d += &format!(" L{} {}", (x >> 33) % size, (x >> 13) % size);
    }
    d
}

#[test]
fn an_icon_costs_little_and_keeps_what_it_draws() {
    let icon = svg(
        64,
        r##"<defs><linearGradient id="g"><stop offset="0"/><stop offset="1"/></linearGradient></defs>
        <g transform="translate(2 2) scale(0.5)" style="opacity: 1; fill: #f00"><rect width="100" height="100" rx="8" fill="url(#g)"/>
        <path d="M10 10 L50 10 Q60 30 50 50 T10 50 C40 60 20 60 10 50 S 5 5 10 10 Z" stroke="black" stroke-width="2"></path>
        <circle cx="32" cy="32" r="10"/></g><title>An icon</title>"##,
    );
    let p = cost(&icon, 64).unwrap();
    assert_eq!(p.elements, 4);
    assert!(p.cost < 2_000_000, "{p:?}");
    // Written again: graphics closed in their own tag, the style attribute as attributes,
    // the gradient after what is drawn, the title left out.
    assert!(p.document.starts_with("<svg "), "{}", p.document);
    assert!(
        p.document
            .contains(r##"<rect width="100" height="100" rx="8" fill="url(#g)"/>"##),
        "{}",
        p.document
    );
    assert!(
        p.document
            .contains(r##"<g transform="translate(2 2) scale(0.5)" opacity="1" fill="#f00">"##),
        "{}",
        p.document
    );
    assert!(p.document.ends_with(r##"</g><linearGradient id="g"><stop offset="0"/><stop offset="1"/></linearGradient></svg>"##), "{}", p.document);
    assert!(!p.document.contains("title"));
    // The written document reads back the same way and costs the same.
    let again = cost(&p.document, 64).unwrap();
    assert_eq!((again.document, again.cost), (p.document.clone(), p.cost));
}

#[test]
fn nested_use_that_doubles_per_level_is_refused_within_the_budget_s_steps() {
    let mut body = String::from(
        r#"<defs><g id="l0"><rect width="4096" height="4096" fill-opacity="0.5"/><rect width="4096" height="4096"/></g>"#,
    );
    for i in 1..40 {
        body += &format!(
            r##"<g id="l{i}"><use xlink:href="#l{p}"/><use href="#l{p}"/></g>"##,
            p = i - 1
        );
    }
    body += r##"</defs><use xlink:href="#l39"/>"##;
    assert!(too_costly(&svg(4096, &body), 4096));
    // The renderer copies every `<use>`, drawn or not: with the forty levels in `<defs>`, even a
    // document drawing only the second is refused (2^40 copies ran it out of memory).
    let second_only = body.replace("#l39\"/>", "#l1\"/>");
    assert!(too_costly(&svg(4096, &second_only), 4096));
    // Levels that are there only as far as they are drawn: two (4 rectangles) pass; five (32,
    // 600 ms in ThorVG) do not.
    let levels = |n: usize| {
        let mut body = String::from(
            r#"<defs><g id="l0"><rect width="4096" height="4096" fill-opacity="0.5"/><rect width="4096" height="4096"/></g>"#,
        );
        for i in 1..=n {
            body += &format!(
                r##"<g id="l{i}"><use xlink:href="#l{p}"/><use href="#l{p}"/></g>"##,
                p = i - 1
            );
        }
        body + &format!(r##"</defs><use xlink:href="#l{n}"/>"##)
    };
    assert!(cost(&svg(4096, &levels(1)), 4096).is_ok());
    assert!(too_costly(&svg(4096, &levels(4)), 4096));
}

/// Nothing drawn at all, yet the renderer copies every `<use>` in `<defs>` when it reads them.
#[test]
fn use_copies_in_defs_count_though_nothing_draws_them() {
    let mut body = String::from(r#"<defs><g id="l0"><rect width="1" height="1"/></g>"#);
    for i in 1..30 {
        body += &format!(
            r##"<g id="l{i}"><use href="#l{p}"/><use href="#l{p}"/></g>"##,
            p = i - 1
        );
    }
    body += "</defs>";
    assert!(too_costly(&svg(16, &body), 16));
}

#[test]
fn a_use_cycle_is_refused_not_walked_forever() {
    let doc = svg(
        16,
        r##"<g id="a"><use href="#b"/></g><g id="b"><use href="#a"/><rect width="1" height="1"/></g>"##,
    );
    assert!(too_costly(&doc, 16));
    let doc = svg(16, r##"<use id="u" href="#u"/>"##);
    assert!(cost(&doc, 16).is_ok());
}

#[test]
fn full_canvas_rects_pass_on_small_canvases_and_not_on_large_ones() {
    let rects = r#"<rect width="4096" height="4096" fill-opacity="0.5"/>"#.repeat(50);
    assert!(too_costly(&svg(4096, &rects), 4096));
    let rects = r#"<rect width="256" height="256"/>"#.repeat(50);
    assert!(cost(&svg(256, &rects), 256).is_ok());
}

#[test]
fn self_crossing_outlines_count_every_row_s_crossings() {
    // 1000 random points: every row is crossed hundreds of times (10 s in ThorVG filled).
    let filled = svg(
        4096,
        &format!(r#"<path fill="red" d="{}Z"/>"#, scribble(1000, 4096)),
    );
    assert!(too_costly(&filled, 4096));
    let wide = svg(
        4096,
        &format!(
            r#"<path stroke="black" stroke-width="4000" fill="none" d="{}"/>"#,
            scribble(200, 4096)
        ),
    );
    assert!(too_costly(&wide, 4096));
    // The same number of points in a small, simple shape (a circle's outline) is cheap.
    let mut d = String::from("M 100 0");
    for i in 1..1000 {
        let a = i as f64 * std::f64::consts::TAU / 1000.0;
        d += &format!(" L {:.2} {:.2}", 100.0 * a.cos(), 100.0 * a.sin());
    }
    let round = svg(
        512,
        &format!(r#"<path fill="red" stroke="black" d="{d} Z"/>"#),
    );
    assert!(cost(&round, 512).is_ok());
}

#[test]
fn tiny_dashes_count_every_dash() {
    let line = |dash: &str| {
        svg(
            1024,
            &format!(
                r#"<line x1="0" y1="0" x2="1000" y2="1000" stroke="red" stroke-dasharray="{dash}"/>"#
            ),
        )
    };
    assert!(cost(&line("5 5"), 1024).is_ok());
    assert!(too_costly(&line("0.0001"), 1024));
    // ThorVG ignores a pattern that starts with 0.
    assert!(cost(&line("0 0"), 1024).is_ok());
    // Through CSS too.
    let css = svg(
        1024,
        r#"<style>.d { stroke-dasharray: 0.0001 }</style><line class="d" x1="0" y1="0" x2="1000" y2="1000" stroke="red"/>"#,
    );
    assert!(too_costly(&css, 1024));
}

#[test]
fn masks_count_their_layers_and_content_for_every_element_that_uses_them() {
    let mut mask = String::from(r#"<defs><mask id="m">"#);
    mask += &r#"<rect width="4096" height="4096"/>"#.repeat(3);
    mask += "</mask></defs>";
    mask += &r#"<rect width="10" height="10" mask="url(#m)"/>"#.repeat(4);
    assert!(too_costly(&svg(4096, &mask), 4096));
    assert!(cost(&svg(256, &mask.replace("4096", "256")), 256).is_ok());
    // Group opacity is a layer per group.
    let groups =
        r#"<g opacity="0.5"><rect width="4096" height="4096"/><rect width="1" height="1"/></g>"#
            .repeat(8);
    assert!(too_costly(&svg(4096, &groups), 4096));
}

#[test]
fn the_loader_s_own_passes_are_counted() {
    // 20,000 clip-path references each search every element (1.5 s in ThorVG).
    let clips =
        String::from(r#"<defs><clipPath id="c"><rect width="64" height="64"/></clipPath></defs>"#)
            + &r#"<rect width="2" height="2" clip-path="url(#c)"/>"#.repeat(20_000);
    assert!(too_costly(&svg(64, &clips), 64));
    // 5000 elements each copying a gradient of 5000 stops (1.3 s).
    let stops = String::from(r#"<defs><linearGradient id="g">"#)
        + &r#"<stop offset="0.5"/>"#.repeat(5000)
        + "</linearGradient></defs>"
        + &r#"<rect width="2" height="2" fill="url(#g)"/>"#.repeat(5000);
    assert!(too_costly(&svg(64, &stops), 64));
}

#[test]
fn a_scale_makes_a_small_shape_large() {
    let doc = svg(
        4096,
        &r#"<g transform="scale(1000)"><rect width="5" height="5"/></g>"#.repeat(40),
    );
    assert!(too_costly(&doc, 4096));
    let doc = svg(4096, &r#"<rect width="5" height="5"/>"#.repeat(40));
    assert!(cost(&doc, 4096).is_ok());
    // A viewBox scales the same way, and a style attribute's transform counts.
    let doc = format!(
        r#"<svg width="4096" height="4096" viewBox="0 0 5 5">{}</svg>"#,
        r#"<rect width="5" height="5"/>"#.repeat(40)
    );
    assert!(too_costly(&doc, 4096));
    let doc = svg(
        4096,
        &r#"<g style="transform: scale(1000)"><rect width="5" height="5"/></g>"#.repeat(40),
    );
    assert!(too_costly(&doc, 4096));
}

#[test]
fn structure_the_rasteriser_reads_differently_is_written_plainly() {
    // ThorVG closes a level at any closing tag starting with `g`, and opens levels for some
    // tags in some versions only: the written document has only plain, matched levels.
    let doc = svg(
        64,
        r##"<g transform="scale(0.25)"><a><rect width="8" height="8"/></a><symbol id="s"><rect width="1" height="1"/></symbol><glyph></glyph><rect width="9" height="9"></rect></g><use href="#s"/>"##,
    );
    let p = cost(&doc, 64).unwrap();
    assert!(
        p.document.contains(r##"<g transform="scale(0.25)"><rect width="8" height="8"/><rect width="9" height="9"/></g><use href="#s"/><defs><symbol id="s"><rect width="1" height="1"/></symbol></defs>"##),
        "{}",
        p.document
    );
    // A second element with the same id loses it: `<use>` finds the first, as the estimate did.
    let doc = svg(
        64,
        r##"<rect id="a" width="1" height="1"/><defs><path id="a" d="M0 0L9 9"/></defs><use href="#a"/>"##,
    );
    let p = cost(&doc, 64).unwrap();
    assert!(
        p.document.contains(r#"<path d="M0 0L9 9"/>"#),
        "{}",
        p.document
    );
}

#[test]
fn pictures_entities_deep_nesting_and_long_styles_are_refused() {
    let feature = |doc: &str, what: &str| match cost(doc, 16) {
        Err(SvgRefusal::Feature(f)) => assert!(f.contains(what), "{f}"),
        other => panic!("{other:?}"),
    };
    feature(
        &svg(
            16,
            r#"<image href="data:image/png;base64,AAAA" width="16" height="16"/>"#,
        ),
        "<image>",
    );
    feature(
        &format!(
            "<?xml version=\"1.0\"?><!DOCTYPE svg [<!ENTITY a \"aaaa\">]>{}",
            svg(16, "<text>&a;</text>")
        ),
        "ENTITY",
    );
    feature(
        &svg(16, &("<g>".repeat(300) + &"</g>".repeat(300))),
        "nested more than 256 deep",
    );
    feature(
        &svg(
            16,
            &format!(r#"<rect style="fill:red;{}"/>"#, " ".repeat(70_000)),
        ),
        "`style` attribute",
    );
    feature(
        &svg(16, "<style>rect { transform: scale(100) }</style>"),
        "`transform` in a `<style>` rule",
    );
    feature(
        &svg(
            16,
            &format!(
                "<rect {}/>",
                (0..300).map(|i| format!("a{i}=\"1\" ")).collect::<String>()
            ),
        ),
        "more than 256 attributes",
    );
}

#[test]
fn broken_markup_is_malformed() {
    for doc in [
        "<svg width=\"1\" height=\"1\"><rect",
        "<svg width='1' height='1'><!-- open",
        "<rect/>",
        "<svg><g></svg>",
        "<svg><g></g></svg><rect/>",
        "<svg><rect width=1/></svg>",
        "<svg>",
    ] {
        assert!(
            matches!(cost(doc, 1), Err(SvgRefusal::Malformed(_))),
            "{doc}"
        );
    }
}

#[test]
fn path_numbers_in_compact_syntax() {
    assert_eq!(numbers("1.5.5-2e1,3"), vec![1.5, 0.5, -20.0, 3.0]);
    let g = path("M0 0l10-10h5v20a5 5 0 1010 0z").unwrap();
    assert!(g.w >= 15.0 && g.h >= 20.0, "{} x {}", g.w, g.h);
    assert!(g.edges.len() >= 5);
    // A path that stops making sense is read up to there, as ThorVG does.
    assert_eq!(path("M0 0 L10 10 L 5").unwrap().edges.len(), 2);
}

#[test]
fn transforms_compose() {
    let m = transform("translate(5) scale(2, 3) rotate(90)").unwrap();
    assert!((m[0]).abs() < 1e-9 && (m[1] - 3.0).abs() < 1e-9);
    assert!((m[2] + 2.0).abs() < 1e-9 && m[3].abs() < 1e-9);
    assert_eq!(transform("perspective(3)"), None);
}

#[test]
fn a_miter_limit_past_svgs_default_is_refused_wherever_it_is_set() {
    let path = r#"<path d="M10 10 l0.01 30 l0.01 -30" fill="none" stroke="red" stroke-width="2""#;
    assert!(cost(&svg(64, &format!("{path} stroke-miterlimit=\"4\"/>")), 64).is_ok());
    assert!(cost(&svg(64, &format!("{path}/>")), 64).is_ok());
    for doc in [
        svg(64, &format!("{path} stroke-miterlimit=\"1000000\"/>")),
        svg(64, &format!("{path} style=\"stroke-miterlimit: 50\"/>")),
        svg(64, &format!("<g stroke-miterlimit=\"nan\">{path}/></g>")),
        svg(
            64,
            &format!("<style>path {{ stroke-miterlimit: 9 }}</style>{path}/>"),
        ),
    ] {
        match cost(&doc, 64) {
            Err(SvgRefusal::Feature(m)) => assert!(m.contains("stroke-miterlimit"), "{m}"),
            other => panic!("{doc}: {other:?}"),
        }
    }
}

/// ThorVG searches the whole tree for every clip path, mask and `<use>` reference after it reads
/// the document, drawn or not, found or not; and the gradients for every paint naming one. Such
/// references in an unused `<clipPath>`, to ids that exist nowhere, were estimated at nothing.
#[test]
fn references_the_loader_searches_for_count_though_nothing_draws_them() {
    let unused_clips = format!(
        r#"<defs><clipPath id="c">{}</clipPath></defs>"#,
        r##"<rect width="1" height="1" clip-path="url(#x)"/>"##.repeat(60_000)
    );
    assert!(too_costly(&svg(16, &unused_clips), 16));
    let dangling_uses = r##"<use href="#nope"/>"##.repeat(60_000);
    assert!(too_costly(&svg(16, &dangling_uses), 16));
    let paints = format!(
        "<defs>{}</defs>{}",
        "<linearGradient/>".repeat(50_000),
        r##"<rect width="1" height="1" fill="url(#zz)"/>"##.repeat(50_000)
    );
    assert!(too_costly(&svg(16, &paints), 16));
    // A few of each stay cheap.
    let few = format!(
        r##"<defs><linearGradient id="g"/><clipPath id="c"><rect width="4" height="4"/></clipPath></defs>{}"##,
        r##"<rect width="8" height="8" fill="url(#g)" clip-path="url(#c)"/><use href="#c"/>"##
            .repeat(20)
    );
    assert!(
        cost(&svg(64, &few), 64).is_ok(),
        "{:?}",
        cost(&svg(64, &few), 64).err()
    );
}

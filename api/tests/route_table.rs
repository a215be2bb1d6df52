//! The route table in `api/src/lib.rs`'s header is the one human-readable list
//! of routes: it must name exactly the routes the OpenAPI document describes
//! (plus the page's `/`, `/web/*` and `/embed/*`, which are not API), with the same methods.

use slicecast_api::ApiDoc;
use std::collections::BTreeSet;
use utoipa::OpenApi;

/// `/status/{video_id}` and `/status/<id or file name>` both become `/status/*`.
fn shape(path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    path.split('/')
        .map(|seg| {
            if seg.starts_with('{') || seg.starts_with('<') {
                "*"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// `METHOD shape` for every route in the first column of the header's table.
fn documented() -> BTreeSet<String> {
    let header = include_str!("../src/lib.rs");
    let mut out = BTreeSet::new();
    for line in header.lines().filter_map(|l| l.strip_prefix("//! | `")) {
        let first = line.split(" | ").next().unwrap_or_default();
        for route in first.split(", ") {
            let route = route.trim_matches('`');
            if let Some((method, path)) = route.split_once(' ')
                && method.chars().all(|c| c.is_ascii_uppercase())
            {
                out.insert(format!("{method} {}", shape(path)));
            }
        }
    }
    out
}

#[test]
fn the_header_route_table_matches_the_openapi_document() {
    let doc = serde_json::to_value(ApiDoc::openapi()).expect("openapi as json");
    let mut described = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            described.insert(format!("{} {}", method.to_ascii_uppercase(), shape(path)));
        }
    }
    let mut table = documented();
    // The web page is served by the API but is not part of it.
    assert!(table.remove("GET /"), "the table lists the page");
    // `/web/*` keeps its star through `shape`.
    assert!(
        table.remove("GET /web/*"),
        "the table lists the page's files"
    );
    assert!(
        table.remove("GET /embed/*"),
        "the table lists the embed page"
    );
    assert_eq!(
        table, described,
        "api/src/lib.rs's route table and the OpenAPI document disagree"
    );
}

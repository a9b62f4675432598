//! The clients list's bulk work in the console (issue 15, screen 1) over real HTTP: ticked
//! clients put in a group at once, the list filtered by group, and the filtered list exported as
//! CSV; a read-only user gets neither the boxes nor the assignment.

use reqwest::StatusCode;
use serde_json::json;

use crate::both_dbs;
use crate::common::TestApp;
use crate::console::{company, csrf, get, location, signed_in};
use crate::customers::{customer, customer_admin};

both_dbs!(ticked_clients_go_in_a_group_and_the_filtered_list_exports);

// issue 15: CAT-07 (several clients put in a group at once), SRC-08 (the group filter), EXP-01
// (the filtered list exported)
async fn ticked_clients_go_in_a_group_and_the_filtered_list_exports(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let org = customer(&app, &acme, "Boulangerie Martin", "ada@martin.test", 3).await;
    let admin = customer_admin(&app, &org).await;
    let hotel = company(&app, &admin, "Hôtel Bellecour").await;
    let cafe = company(&app, &admin, "Café des Arts").await;
    company(&app, &admin, "Garage Vidal").await;
    let q = "mutation { createGroup(input: {name: \"Tournée du mardi\"}) { group { id } userErrors { message } } }";
    let body = app.gql_ok(Some(&admin.token), q, json!({})).await;
    let group = body["data"]["createGroup"]["group"]["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned();

    let http = signed_in(&app, "ada@martin.test").await;
    let (status, page) = get(&http, format!("{}/clients?sort=name", app.url)).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"bulk-group\"") && page.contains(&format!("value=\"{hotel}\"")), "{page}");
    assert!(page.contains("id=\"group\"") && page.contains("Tournée du mardi"), "the group filter: {page}");
    let form = [
        ("_csrf", csrf(&page)),
        ("back", "sort=name".to_owned()),
        ("ids", hotel.clone()),
        ("ids", cafe.clone()),
        ("group", group.clone()),
    ];
    let res = http.post(format!("{}/clients/group", app.url)).form(&form).send().await.unwrap();
    assert_eq!((res.status(), location(&res)), (StatusCode::SEE_OTHER, "/clients?sort=name"));

    let (_, page) = get(&http, format!("{}/clients?group={group}", app.url)).await;
    assert!(
        page.contains("Hôtel Bellecour") && page.contains("Café des Arts") && !page.contains("Garage Vidal"),
        "{page}"
    );
    assert!(
        page.contains(&format!("href=\"/clients/export.csv?group={group}\"")),
        "the export keeps the filter: {page}"
    );
    let res = http.get(format!("{}/clients/export.csv?group={group}", app.url)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains("clients.csv"));
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "a header and the group's two clients: {csv}");
    assert!(csv.contains("Hôtel Bellecour") && csv.contains("Café des Arts") && !csv.contains("Garage Vidal"), "{csv}");
    // The same list as a workbook, read back with a real .xlsx reader.
    assert!(page.contains(&format!("href=\"/clients/export.xlsx?group={group}\"")), "{page}");
    let res = http.get(format!("{}/clients/export.xlsx?group={group}", app.url)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains("clients.xlsx"));
    let bytes = res.bytes().await.unwrap().to_vec();
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("a workbook");
    let sheet = calamine::Reader::worksheet_range_at(&mut book, 0).expect("a sheet").expect("readable");
    assert_eq!(sheet.height(), 3, "a header and the group's two clients");
    let cells: Vec<String> = sheet.rows().flatten().map(ToString::to_string).collect();
    assert!(cells.iter().any(|c| c == "Hôtel Bellecour") && !cells.iter().any(|c| c == "Garage Vidal"), "{cells:?}");
    // Asked for gzip (browsers do), pages, assets and the CSV come compressed; a workbook is a
    // zip already and comes as it is.
    let gzip = |url: String| http.get(url).header("accept-encoding", "gzip").send();
    for path in [format!("/clients?group={group}"), format!("/clients/export.csv?group={group}")] {
        let res = gzip(format!("{}{path}", app.url)).await.unwrap();
        assert_eq!(res.headers().get("content-encoding").map(|v| v.to_str().unwrap()), Some("gzip"), "{path}");
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&res.bytes().await.unwrap()[..]), &mut text)
            .unwrap();
        assert!(text.contains("Hôtel Bellecour"), "{path}: {text}");
    }
    let res = gzip(format!("{}/clients/export.xlsx?group={group}", app.url)).await.unwrap();
    assert!(res.headers().get("content-encoding").is_none(), "a workbook is not compressed twice");
    let (_, searched) = get(&http, format!("{}/clients?q=caf", app.url)).await;
    assert!(!searched.contains("id=\"export-csv\""), "a search's hits are not what the export would write");

    // Out of any group again.
    let (_, page) = get(&http, format!("{}/clients", app.url)).await;
    let form = [("_csrf", csrf(&page)), ("ids", cafe.clone()), ("group", String::new())];
    let res = http.post(format!("{}/clients/group", app.url)).form(&form).send().await.unwrap();
    assert_eq!((res.status(), location(&res)), (StatusCode::SEE_OTHER, "/clients?"));
    let (_, page) = get(&http, format!("{}/clients?group={group}", app.url)).await;
    assert!(page.contains("Hôtel Bellecour") && !page.contains("Café des Arts"), "{page}");

    // A reader: no boxes, and a forged assignment is refused.
    app.user(&admin, "rita@martin.test", "READ_ONLY").await;
    let rita = signed_in(&app, "rita@martin.test").await;
    let (_, page) = get(&rita, format!("{}/clients", app.url)).await;
    assert!(!page.contains("bulk-group") && page.contains("Garage Vidal"), "{page}");
    let form = [("_csrf", csrf(&page)), ("ids", cafe.clone()), ("group", group.clone())];
    let res = rita.post(format!("{}/clients/group", app.url)).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let (_, page) = get(&http, format!("{}/clients?group={group}", app.url)).await;
    assert!(!page.contains("Café des Arts"), "{page}");
}

//! Hardening, from outside as an attacker would try it, on both databases: sign-in redirects
//! that stay on the site, and more as the defects of issue 14 are fixed.

mod common;

use common::{Backend, TestApp, PASSWORD};
use reqwest::StatusCode;

on_both_backends!(sign_in_only_ever_returns_to_a_page_of_this_site);

async fn sign_in_only_ever_returns_to_a_page_of_this_site(backend: Backend) {
    let app = TestApp::start(backend).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (next, expected) in [
        ("/cases/1?view=mine", "/cases/1?view=mine"),
        ("/\t/evil.example/", "/cases"),
        ("//evil.example/", "/cases"),
        ("/\\evil.example/", "/cases"),
        ("https://evil.example/", "/cases"),
        ("/cases\r\nSet-Cookie: planted=1", "/cases"),
        ("/x\u{0}", "/cases"),
    ] {
        let reply = client
            .post(format!("{}/login", app.base))
            .form(&[
                ("email", "agent@vendor.example"),
                ("password", PASSWORD),
                ("next", next),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(reply.headers()["location"], expected, "{next:?}");
        let cookies: Vec<_> = reply.headers().get_all("set-cookie").iter().collect();
        assert_eq!(cookies.len(), 1, "only the session cookie: {cookies:?}");
    }
    // The sign-in page never carries a foreign address into its form either.
    let page = client
        .get(format!("{}/login?next=/%09/evil.example/", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"name="next" value="/cases""#), "{page}");
}

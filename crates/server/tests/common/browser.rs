//! A signed-in browser for page tests: sign in with the form, read the CSRF token from a page,
//! post forms as a browser sends them.

use super::{TestApp, PASSWORD};
use reqwest::StatusCode;

/// A signed-in browser: the session cookie and the CSRF token its forms carry.
pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
    pub cookie: String,
    pub csrf: String,
}

pub struct Page {
    pub status: StatusCode,
    pub content_type: String,
    pub html: String,
}

impl Browser {
    pub async fn sign_in(app: &TestApp, email: &str) -> Browser {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let response = client
            .post(format!("{}/login", app.base))
            .form(&[("email", email), ("password", PASSWORD), ("next", "/cases")])
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "sign-in of {email}"
        );
        let cookie = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let mut browser = Browser {
            client,
            base: app.base.clone(),
            cookie,
            csrf: String::new(),
        };
        let page = browser.get("/cases/new").await;
        browser.csrf = csrf_of(&page.html);
        browser
    }

    pub async fn get(&self, path: &str) -> Page {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        Page::read(response).await
    }

    /// Posts a form; the session's CSRF token is added unless `fields` names `csrf`.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        if !fields.iter().any(|(k, _)| *k == "csrf") {
            form.push(("csrf", &self.csrf));
        }
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .form(&form)
            .send()
            .await
            .unwrap();
        Page::read(response).await
    }
}

impl Browser {
    /// Posts a `multipart/form-data` form (as a form with a file input is sent), with files
    /// as (field, file name, bytes); the CSRF token is added unless `fields` names it.
    pub async fn post_multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, Vec<u8>)],
    ) -> Page {
        let mut form = reqwest::multipart::Form::new();
        if !fields.iter().any(|(k, _)| *k == "csrf") {
            form = form.text("csrf", self.csrf.clone());
        }
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        for (field, name, bytes) in files {
            let part = reqwest::multipart::Part::bytes(bytes.clone()).file_name(name.to_string());
            form = form.part(field.to_string(), part);
        }
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .multipart(form)
            .send()
            .await
            .unwrap();
        Page::read(response).await
    }
}

impl Page {
    pub async fn read(response: reqwest::Response) -> Page {
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        Page {
            status,
            content_type,
            html: response.text().await.unwrap(),
        }
    }
}

pub fn csrf_of(html: &str) -> String {
    let start = html
        .find(r#"name="csrf" value=""#)
        .expect("a form with a CSRF token")
        + 19;
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

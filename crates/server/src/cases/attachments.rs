//! Files on cases: stored through the store's `BlobStore` (content first, by its hash), shown
//! only to those who may see the comment they belong to, and served as downloads so a file
//! can never run as a page of ours. Images are previewed inline.

use super::service::visible_case;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::session::WebUser;
use crate::web::{OrPage, PageResult};
use crate::AppState;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use backline_domain::mail::safe_file_name;
use backline_domain::CaseId;
use backline_store::mail::{AttachmentRecord, BlobStore, NewAttachment};
use backline_store::{StoreError, User};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// Types shown inline when asked: raster images only. SVG can carry script, so it is always
/// a download.
const INLINE_TYPES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];

/// Stores a file's content and describes it for an attachment row.
pub async fn store_file(
    blobs: &dyn BlobStore,
    given_name: &str,
    content_type: &str,
    bytes: &[u8],
) -> ApiResult<NewAttachment> {
    let sha256 = hex::encode(Sha256::digest(bytes));
    blobs.put(&sha256, bytes).await?;
    Ok(NewAttachment {
        file_name: safe_file_name(Some(given_name), 1, content_type),
        content_type: clean_content_type(content_type),
        size: bytes.len() as i64,
        sha256,
    })
}

/// `type/subtype` in lower case, or `application/octet-stream` for anything else.
fn clean_content_type(given: &str) -> String {
    let essence = given
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let valid = essence.split_once('/').is_some_and(|(t, s)| {
        !t.is_empty()
            && !s.is_empty()
            && essence
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '+' | '-'))
    });
    if valid {
        essence
    } else {
        "application/octet-stream".into()
    }
}

/// Checks a file against the size limit before anything is stored.
pub fn check_size(state: &AppState, name: &str, size: usize) -> ApiResult<()> {
    if size > state.mail.max_attachment_bytes {
        return Err(ApiError::validation(
            "attachments",
            format!(
                "{name} is {}; each file may be at most {}. Compress or split it, or share a link to it in your reply.",
                crate::views::human_size(size as i64),
                crate::views::human_size(state.mail.max_attachment_bytes as i64)
            ),
        ));
    }
    Ok(())
}

/// The attachment if the caller may see it: its case must be visible to them, and an
/// internal note's file is for staff only; a pending upload is its uploader's alone.
/// Anything else is the same 404 as a file that does not exist.
pub async fn visible_attachment(
    state: &AppState,
    caller: &User,
    id: i64,
) -> ApiResult<AttachmentRecord> {
    let record = state.store.attachment(id).await.map_err(|e| match e {
        StoreError::NotFound => ApiError::NotFound("attachment"),
        other => other.into(),
    })?;
    visible_case(&state.store, caller, record.case_id)
        .await
        .map_err(|_| ApiError::NotFound("attachment"))?;
    let allowed = if record.pending {
        record.uploader == Some(caller.id)
    } else {
        record.public || caller.role.is_staff()
    };
    if !allowed {
        return Err(ApiError::NotFound("attachment"));
    }
    Ok(record)
}

/// The file as a download (or inline, for an image when asked).
async fn file_response(
    state: &AppState,
    record: &AttachmentRecord,
    inline: bool,
) -> ApiResult<Response> {
    let bytes = BlobStore::get(&state.store, &record.sha256).await?;
    let inline = inline && INLINE_TYPES.contains(&record.content_type.as_str());
    let disposition = format!(
        "{}; filename=\"{}\"; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        ascii_fallback(&record.file_name),
        percent_encode(&record.file_name)
    );
    let content_type = if inline {
        record.content_type.clone()
    } else {
        // A download is a download: never let the browser take it for a page.
        "application/octet-stream".to_string()
    };
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    let value =
        |s: &str| HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static("attachment"));
    headers.insert(header::CONTENT_TYPE, value(&content_type));
    headers.insert(header::CONTENT_DISPOSITION, value(&disposition));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; img-src 'self'; sandbox"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    Ok(response)
}

fn ascii_fallback(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn percent_encode(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A file on a case, as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentView {
    pub id: i64,
    pub case_id: i64,
    /// `null` for a file that came with the case itself, or an upload not yet used.
    pub comment_id: Option<i64>,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    /// `true` until a comment references it.
    pub pending: bool,
    /// Where to download it (with the same credentials).
    pub url: String,
    pub created_at: backline_domain::Timestamp,
}

impl From<&AttachmentRecord> for AttachmentView {
    fn from(a: &AttachmentRecord) -> Self {
        AttachmentView {
            id: a.id,
            case_id: a.case_id.0,
            comment_id: a.comment_id.map(|c| c.0),
            file_name: a.file_name.clone(),
            content_type: a.content_type.clone(),
            size: a.size,
            pending: a.pending,
            url: format!("/api/v1/attachments/{}", a.id),
            created_at: a.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentList {
    pub attachments: Vec<AttachmentView>,
}

/// Upload form: one or more `file` parts.
#[derive(ToSchema)]
#[allow(dead_code)] // describes the request body in the OpenAPI document
pub struct UploadForm {
    #[schema(value_type = Vec<String>, format = Binary)]
    file: Vec<u8>,
}

#[utoipa::path(post, path = "/api/v1/cases/{id}/attachments", tag = "cases", params(("id" = i64, Path)),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    description = "Uploads files to reference from a comment (`attachments` in its body). Each file at most the configured limit (25 MB by default).",
    responses((status = 201, body = AttachmentList), (status = 404, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
    mut multipart: Multipart,
) -> ApiResult<(StatusCode, axum::Json<AttachmentList>)> {
    let case = visible_case(&state.store, &caller, CaseId(id)).await?;
    let mut stored = Vec::new();
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        ApiError::bad_request(
            "unreadable_body",
            format!("the upload could not be read: {}", e.body_text()),
        )
    };
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        let Some(name) = field.file_name().map(str::to_string) else {
            continue;
        };
        let content_type = field
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_string();
        let bytes = field.bytes().await.map_err(unreadable)?;
        check_size(&state, &name, bytes.len())?;
        let file = store_file(&state.store, &name, &content_type, &bytes).await?;
        stored.push(
            state
                .store
                .upload_attachment(case.id, caller.id, &file)
                .await?,
        );
    }
    if stored.is_empty() {
        return Err(ApiError::validation(
            "file",
            "send at least one file, as a multipart part named file",
        ));
    }
    Ok((
        StatusCode::CREATED,
        axum::Json(AttachmentList {
            attachments: stored.iter().map(AttachmentView::from).collect(),
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/cases/{id}/attachments", tag = "cases", params(("id" = i64, Path)),
    responses((status = 200, body = AttachmentList), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<AttachmentList>> {
    let case = visible_case(&state.store, &caller, CaseId(id)).await?;
    let files = state
        .store
        .case_attachments(case.id, caller.role.is_staff())
        .await?;
    Ok(axum::Json(AttachmentList {
        attachments: files.iter().map(AttachmentView::from).collect(),
    }))
}

#[derive(Deserialize)]
pub struct DownloadQuery {
    #[serde(default)]
    inline: bool,
}

#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "cases", params(("id" = i64, Path)),
    responses((status = 200, description = "The file, as a download", content_type = "application/octet-stream", body = Vec<u8>),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn download(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let record = visible_attachment(&state, &caller, id).await?;
    file_response(&state, &record, false).await
}

/// The same for the web pages, by session; `?inline=true` previews an image.
pub async fn download_page(
    State(state): State<AppState>,
    who: WebUser,
    Path(id): Path<i64>,
    Query(query): Query<DownloadQuery>,
) -> PageResult {
    let record = visible_attachment(&state, &who.user, id)
        .await
        .or_page(&who)?;
    file_response(&state, &record, query.inline)
        .await
        .or_page(&who)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_are_kept_only_when_well_formed() {
        assert_eq!(clean_content_type("Image/PNG; name=x"), "image/png");
        assert_eq!(
            clean_content_type("text/html\r\nX: y"),
            "application/octet-stream"
        );
        assert_eq!(clean_content_type(""), "application/octet-stream");
    }

    #[test]
    fn download_names_survive_any_characters() {
        assert_eq!(ascii_fallback("rapport \"été\".log"), "rapport __t__.log");
        assert_eq!(percent_encode("a b.log"), "a%20b.log");
    }
}

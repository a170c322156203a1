//! A JSON body encoded once and served many times: the list routes answer the same page to
//! every request until a watch event changes the caches, so serializing and gzipping it per
//! request was most of their cost (docs/benchmarks.md).

use std::io::Write;
use std::sync::OnceLock;

use axum::http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, VARY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;

/// Bodies shorter than this go out uncompressed, as tower-http's default predicate does.
const MIN_GZIP_LEN: usize = 32;

/// One JSON body with its gzip form, compressed on first demand.
#[derive(Debug)]
pub(crate) struct EncodedJson {
    json: Bytes,
    gzip: OnceLock<Option<Bytes>>,
}

impl EncodedJson {
    /// Serializes `body` (an error only when a value cannot be JSON, which the handlers' types
    /// rule out; the caller turns it into a 500).
    pub fn new<T: serde::Serialize>(body: &T) -> Result<Self, serde_json::Error> {
        Ok(Self {
            json: Bytes::from(serde_json::to_vec(body)?),
            gzip: OnceLock::new(),
        })
    }

    /// The response for a request with these headers: gzip when the client accepts it (the
    /// compression layer leaves bodies that already have a `Content-Encoding` alone).
    pub fn response(&self, status: StatusCode, request: &HeaderMap) -> Response {
        let gzip = if self.json.len() >= MIN_GZIP_LEN && accepts_gzip(request) {
            self.gzip.get_or_init(|| gzip(&self.json)).clone()
        } else {
            None
        };
        let mut response = match gzip {
            Some(body) => {
                let mut r = (status, body).into_response();
                r.headers_mut()
                    .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                r
            }
            None => (status, self.json.clone()).into_response(),
        };
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
        response
    }
}

/// The fastest level: these bodies are compressed once per cache generation, which on a busy
/// cluster is often, and the size gained by higher levels is small for JSON this repetitive.
fn gzip(json: &[u8]) -> Option<Bytes> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(json.len() / 8), Compression::fast());
    encoder.write_all(json).ok()?;
    encoder.finish().ok().map(Bytes::from)
}

/// Whether `Accept-Encoding` allows gzip (RFC 9110 §12.5.3): an explicit `gzip` entry decides by
/// its weight, else a `*` entry does; `q=0` refuses.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut gzip = None;
    let mut any = None;
    for value in headers.get_all(ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for entry in value.split(',') {
            let mut parts = entry.split(';');
            let coding = parts.next().unwrap_or_default().trim();
            let weight = parts
                .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
                .next_back()
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok());
            // An unreadable weight counts as a refusal of that coding.
            let allowed = weight.is_some_and(|q| q > 0.0);
            if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                gzip = Some(allowed);
            } else if coding == "*" {
                any = Some(allowed);
            }
        }
    }
    gzip.or(any).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn with(accept: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for a in accept {
            h.append(ACCEPT_ENCODING, HeaderValue::from_str(a).expect("header"));
        }
        h
    }

    #[test]
    fn accept_encoding_is_read_with_its_weights() {
        assert!(accepts_gzip(&with(&["gzip"])));
        assert!(accepts_gzip(&with(&["gzip, deflate, br"])));
        assert!(accepts_gzip(&with(&["br;q=1.0, GZIP;q=0.5"])));
        assert!(accepts_gzip(&with(&["*"])));
        assert!(accepts_gzip(&with(&["br", "gzip"])));
        assert!(!accepts_gzip(&with(&[])));
        assert!(!accepts_gzip(&with(&["identity"])));
        assert!(!accepts_gzip(&with(&["br, deflate"])));
        assert!(!accepts_gzip(&with(&["gzip;q=0"])));
        assert!(!accepts_gzip(&with(&["gzip;q=0, *"])));
        assert!(!accepts_gzip(&with(&["*;q=0"])));
        assert!(!accepts_gzip(&with(&["gzip;q=zero"])));
        assert!(accepts_gzip(&with(&["*;q=0.1, br"])));
    }

    async fn body_of(r: Response) -> Vec<u8> {
        axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .expect("body")
            .to_vec()
    }

    #[tokio::test]
    async fn the_gzip_form_decodes_to_the_json_and_is_chosen_by_the_request() {
        let value =
            serde_json::json!({"items": (0..200).map(|i| format!("item-{i}")).collect::<Vec<_>>()});
        let encoded = EncodedJson::new(&value).expect("encodes");

        let plain = encoded.response(StatusCode::OK, &with(&[]));
        assert!(plain.headers().get(CONTENT_ENCODING).is_none());
        assert_eq!(plain.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(plain.headers()[VARY], "accept-encoding");
        let plain = body_of(plain).await;
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&plain).ok(),
            Some(value.clone())
        );

        let zipped = encoded.response(StatusCode::OK, &with(&["gzip"]));
        assert_eq!(zipped.headers()[CONTENT_ENCODING], "gzip");
        let zipped = body_of(zipped).await;
        assert!(
            zipped.len() < plain.len() / 4,
            "{} vs {}",
            zipped.len(),
            plain.len()
        );
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(zipped.as_slice())
            .read_to_end(&mut decoded)
            .expect("valid gzip");
        assert_eq!(decoded, plain);
    }

    #[tokio::test]
    async fn tiny_bodies_stay_uncompressed() {
        let encoded = EncodedJson::new(&serde_json::json!({"a": 1})).expect("encodes");
        let r = encoded.response(StatusCode::OK, &with(&["gzip"]));
        assert!(r.headers().get(CONTENT_ENCODING).is_none());
        assert_eq!(body_of(r).await, br#"{"a":1}"#);
    }
}

//! The base of the OpenAPI 3.1 document; the paths come from the handlers' annotations.

use utoipa::OpenApi;
use utoipa::openapi::RefOr;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "KubeAIRunway API",
        description = "Deploy and run large language models on Kubernetes. Errors use one envelope: `{\"error\": {\"message\", \"statusCode\"}}`.",
        license(name = "Apache-2.0")
    ),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A Kubernetes bearer token (when AUTH_ENABLED is set)"))
                    .build(),
            ),
        );
    }
}

/// The document before routes are added.
pub(crate) fn base() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc
}

/// What every route shares, added to each operation after the handlers' annotations are
/// collected, so that the document lists every status and body a client can see (schemathesis
/// checks each response against it): which routes are public (the guard's own rule), 401 and
/// 503 and 504 on every other route (no valid token while auth is on; no cluster to check a
/// caller, or one too slow to answer), the body extractor's 400/413/415 on every route that
/// takes a JSON body, and Server-Sent Events described as events rather than as their data.
pub(crate) fn complete(doc: &mut utoipa::openapi::OpenApi) {
    use axum::http::Method;
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, op) in [
            (Method::GET, &mut item.get),
            (Method::PUT, &mut item.put),
            (Method::POST, &mut item.post),
            (Method::DELETE, &mut item.delete),
            (Method::PATCH, &mut item.patch),
        ] {
            let Some(op) = op else { continue };
            // The guard's rule decides, so the document cannot drift from what is enforced.
            if crate::auth::is_public(&method, path) {
                op.security = Some(vec![
                    utoipa::openapi::security::SecurityRequirement::default(),
                ]);
            } else {
                op.security = None;
                add_error(op, "401", "No valid bearer token (while auth is on)");
                // Checking a caller (TokenReview, SubjectAccessReview) needs the cluster.
                add_error(op, "503", "The cluster is unreachable");
                add_error(
                    op,
                    "504",
                    "The Kubernetes API server did not answer in time",
                );
            }
            if op.request_body.is_some() {
                add_error(
                    op,
                    "400",
                    "Malformed JSON or a body that does not fit the schema",
                );
                add_error(op, "413", "The body is larger than the server accepts");
                add_error(op, "415", "The body is not sent as application/json");
            }
            for response in op.responses.responses.values_mut() {
                if let RefOr::T(response) = response
                    && let Some(RefOr::T(content)) = response.content.get_mut(EVENT_STREAM)
                {
                    content.schema = Some(event_message(content.schema.take()).into());
                }
            }
        }
    }
}

const EVENT_STREAM: &str = "text/event-stream";

/// One Server-Sent Event as a client parses it (`event`, `data`, `id`, `retry`): the handlers
/// annotate a stream with the schema of its `data`, which is JSON text unless it is a plain
/// string, and clients (schemathesis among them) check each event against the stream's schema.
fn event_message(data: Option<RefOr<Schema>>) -> Schema {
    let plain = match &data {
        None => true,
        Some(RefOr::T(Schema::Object(o))) => o.schema_type == SchemaType::Type(Type::String),
        Some(_) => false,
    };
    let mut data_schema = ObjectBuilder::new().schema_type(Type::String);
    if let (false, Some(schema)) = (plain, data) {
        let payload = serde_json::to_value(schema).unwrap_or_default();
        data_schema = data_schema
            .content_media_type("application/json")
            .extensions(Some(Extensions::from_iter([("contentSchema", payload)])));
    }
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("event", ObjectBuilder::new().schema_type(Type::String))
        .property("data", data_schema)
        .property("id", ObjectBuilder::new().schema_type(Type::String))
        .property("retry", ObjectBuilder::new().schema_type(Type::Integer))
        .required("data")
        .into()
}

fn add_error(op: &mut utoipa::openapi::path::Operation, status: &str, description: &str) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    op.responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
                .into()
        });
}

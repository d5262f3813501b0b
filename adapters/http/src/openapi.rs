//! The service's OpenAPI 3.1 document, generated from the code, and the offline Swagger UI.
//!
//! `PatchedIAMUserDetail` is derived from `IAMUserDetail` (same properties, none required), as
//! DRF's schema generator does, so the two cannot drift apart.

use std::sync::LazyLock;

use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    Content, ContentBuilder, Header, OpenApi, OpenApiBuilder, Ref, RefOr, Required,
    ResponseBuilder, Schema,
};
use utoipa::PartialSchema;

use crate::dto::{DeveloperSkill, IamUserDetail, InvestmentInterest, Tag};

/// The path of the caller's details.
pub const ME: &str = "/api/v1/iam/iamuserdetails/me/";
/// The path that creates the caller's details.
pub const CREATE: &str = "/api/v1/iam/iamuserdetails/";

fn any_body(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Schema::default()))
            .build(),
    )
}

fn detail_response(description: &str) -> ResponseBuilder {
    ResponseBuilder::new()
        .description(description)
        .header("ETag", Header::new(String::schema()))
        .content(
            "application/json",
            Content::new(Some(Ref::from_schema_name("IAMUserDetail"))),
        )
}

fn write_body(required: bool) -> utoipa::openapi::request_body::RequestBody {
    let schema = if required {
        "IAMUserDetail"
    } else {
        "PatchedIAMUserDetail"
    };
    let content = || Content::new(Some(Ref::from_schema_name(schema)));
    RequestBodyBuilder::new()
        .content("application/json", content())
        .content("application/merge-patch+json", content())
        .required(Some(if required {
            Required::True
        } else {
            Required::False
        }))
        .build()
}

fn header_param(name: &str, description: &str) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(String::schema()))
        .build()
}

fn operation(id: &str, summary: &str) -> OperationBuilder {
    OperationBuilder::new()
        .operation_id(Some(id))
        .summary(Some(summary))
        .tag("iam")
        .security(SecurityRequirement::new("bearer", Vec::<String>::new()))
        .response("401", any_body("Unauthorized"))
        .response(
            "503",
            any_body("Storage unavailable; retry after Retry-After seconds"),
        )
}

fn if_match() -> utoipa::openapi::path::Parameter {
    header_param(
        "If-Match",
        "Write only if the details are at this ETag (412 otherwise).",
    )
}

/// PUT (`full`) or PATCH of the caller's details.
fn update_operation(id: &str, summary: &str, full: bool) -> Operation {
    operation(id, summary)
        .parameter(header_param(
            "If-Match",
            "Write only if the details are at this ETag (412 otherwise).",
        ))
        .parameter(header_param(
            "Prefer",
            "handling=strict: unknown and read-only keys are a 400.",
        ))
        .request_body(Some(write_body(full)))
        .response("200", detail_response("User details"))
        .response("400", any_body("Invalid fields"))
        .response("404", any_body("User details not found"))
        .response("412", any_body("Stale If-Match"))
        .response("413", any_body("Body too large"))
        .response("415", any_body("Unsupported media type"))
        .build()
}

fn me_operations() -> Vec<(HttpMethod, Operation)> {
    vec![
        (
            HttpMethod::Get,
            operation("iamuserdetails-me-retrieve", "Read the caller's details")
                .parameter(header_param(
                    "If-None-Match",
                    "304 when the ETag still matches.",
                ))
                .response("200", detail_response("User details"))
                .response("304", ResponseBuilder::new().description("Not modified"))
                .response("404", any_body("User details not found"))
                .build(),
        ),
        (
            HttpMethod::Put,
            update_operation(
                "iamuserdetails-me-update",
                "Replace the caller's details (user_type required)",
                true,
            ),
        ),
        (
            HttpMethod::Patch,
            update_operation(
                "iamuserdetails-me-partial-update",
                "Update some of the caller's details",
                false,
            ),
        ),
        (
            HttpMethod::Delete,
            operation("iamuserdetails-me-destroy", "Delete the caller's details")
                .parameter(if_match())
                .response("204", ResponseBuilder::new().description("Deleted"))
                .response("404", any_body("User details not found"))
                .response("412", any_body("Stale If-Match"))
                .build(),
        ),
    ]
}

fn plain(id: &str, summary: &str, description: &str, media: &str) -> PathItem {
    let op = OperationBuilder::new()
        .operation_id(Some(id))
        .summary(Some(summary))
        .tag("service")
        .response(
            "200",
            ResponseBuilder::new().description(description).content(
                media,
                ContentBuilder::new()
                    .schema(Some(Schema::default()))
                    .build(),
            ),
        )
        .build();
    PathItem::new(HttpMethod::Get, op)
}

fn build() -> OpenApi {
    let mut me = PathItem::default();
    for (method, op) in me_operations() {
        match method {
            HttpMethod::Get => me.get = Some(op),
            HttpMethod::Put => me.put = Some(op),
            HttpMethod::Patch => me.patch = Some(op),
            HttpMethod::Delete => me.delete = Some(op),
            _ => {}
        }
    }
    let create = PathItem::new(
        HttpMethod::Post,
        operation(
            "iamuserdetails-create",
            "Create the caller's details (user_type required)",
        )
        .parameter(header_param(
            "Prefer",
            "handling=strict: unknown and read-only keys are a 400.",
        ))
        .request_body(Some(write_body(true)))
        .response("201", detail_response("User details created"))
        .response("400", any_body("Invalid fields"))
        .response("409", any_body("User details already exist"))
        .response("413", any_body("Body too large"))
        .response("415", any_body("Unsupported media type"))
        .build(),
    );
    let mut doc = OpenApiBuilder::new()
        .info(
            utoipa::openapi::InfoBuilder::new()
                .title("AISquare Studio API: user details")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Read, update and delete the signed-in user's profile details.",
                ))
                .build(),
        )
        .paths(
            utoipa::openapi::PathsBuilder::new()
                .path(ME, me)
                .path(CREATE, create)
                .path(
                    "/api/schema/",
                    plain(
                        "schema",
                        "This OpenAPI document",
                        "OpenAPI 3.1",
                        "application/json",
                    ),
                )
                .path(
                    "/healthz",
                    plain(
                        "healthz",
                        "Liveness",
                        "The process answers",
                        "application/json",
                    ),
                )
                .path(
                    "/readyz",
                    plain(
                        "readyz",
                        "Readiness: storage answers",
                        "Ready",
                        "application/json",
                    ),
                )
                .path(
                    "/metrics",
                    plain("metrics", "Prometheus metrics", "Metrics", "text/plain"),
                ),
        )
        .build();
    let mut components = utoipa::openapi::ComponentsBuilder::new()
        .schema("DeveloperSkill", DeveloperSkill::schema())
        .schema("InvestmentInterest", InvestmentInterest::schema())
        .schema("Tag", Tag::schema())
        .schema("IAMUserDetail", IamUserDetail::schema())
        .security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        )
        .build();
    if let Some(RefOr::T(Schema::Object(full))) = components.schemas.get("IAMUserDetail").cloned() {
        let mut patched = full;
        patched.required.clear();
        patched.title = Some("PatchedIAMUserDetail".into());
        components.schemas.insert(
            "PatchedIAMUserDetail".into(),
            RefOr::T(Schema::Object(patched)),
        );
    }
    doc.components = Some(components);
    doc
}

/// The document, built once.
pub static OPENAPI: LazyLock<OpenApi> = LazyLock::new(build);

/// The document as JSON, serialised once.
pub static OPENAPI_JSON: LazyLock<String> =
    LazyLock::new(|| OPENAPI.to_json().unwrap_or_else(|_| "{}".to_owned()));

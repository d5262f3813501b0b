//! The service's OpenAPI 3.1 document, generated from the code, and the offline Swagger UI.
//!
//! `PatchedIAMUserDetail` is derived from `IAMUserDetail` (same properties, none required), as
//! DRF's schema generator does, so the two cannot drift apart. The properties the domain keeps
//! read-only ([`crate::drf::READ_ONLY`]) are marked `readOnly`, so Swagger UI leaves them out of the
//! bodies it sends; each write has an example body that passes validation; each error status has
//! the schema of the body it really has (`Detail` or `FieldErrors`). `PublicIAMUserDetail` is
//! derived the same way, without the properties the domain keeps private
//! ([`iam_domain::Field::PRIVATE`]). The internal API's routes are described with their own
//! security scheme (`serviceToken`).

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

/// A response whose body is `{"detail": …}`.
fn detail_body(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/json",
        Content::new(Some(Ref::from_schema_name("Detail"))),
    )
}

/// A 400: field errors in DRF's shape, or `{"detail": …}` for a body that is not JSON.
fn invalid_body() -> ResponseBuilder {
    let either: Schema = utoipa::openapi::schema::OneOfBuilder::new()
        .item(Ref::from_schema_name("FieldErrors"))
        .item(Ref::from_schema_name("Detail"))
        .into();
    ResponseBuilder::new()
        .description("Invalid fields (DRF's shape), or a body that is not JSON")
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(either)).build(),
        )
}

/// A 503 with `Retry-After`.
fn unavailable_body() -> ResponseBuilder {
    detail_body(
        "Storage unavailable, or the request ran out of time; retry after Retry-After seconds",
    )
    .header("Retry-After", Header::new(i64::schema()))
}

/// `{"detail": string, "code"?: string}`: every error that is not about fields.
fn detail_schema() -> Schema {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .title(Some("Detail"))
        .property("detail", ObjectBuilder::new().schema_type(Type::String))
        .required("detail")
        .property(
            "code",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("`token_not_valid` for a refused token")),
        )
        .into()
}

/// `{"field": ["message", …]}`, list items by index: `{"skills": {"1": ["Not a valid string."]}}`.
fn field_errors_schema() -> Schema {
    use utoipa::openapi::schema::{
        AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, Type,
    };
    let messages = || ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String));
    let by_index = ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::RefOr(RefOr::T(
            messages().into(),
        ))));
    ObjectBuilder::new()
        .title(Some("FieldErrors"))
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::RefOr(RefOr::T(
            OneOfBuilder::new().item(messages()).item(by_index).into(),
        ))))
        .into()
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

/// Example bodies that pass validation, for Swagger UI's "Try it out".
fn write_example(required: bool) -> serde_json::Value {
    if required {
        serde_json::json!({
            "user_type": "developer",
            "bio": "Building ML tools.",
            "country": "Pakistan",
            "github_url": "https://github.com/ada",
            "skills": ["Rust", "Python"],
            "focus_area": ["AI"],
            "communication_preferences_email": true,
            "additional_data": {"theme": "dark"}
        })
    } else {
        serde_json::json!({"bio": "Building ML tools.", "country": "Pakistan"})
    }
}

fn write_body(required: bool) -> utoipa::openapi::request_body::RequestBody {
    let schema = if required {
        "IAMUserDetail"
    } else {
        "PatchedIAMUserDetail"
    };
    let content = || {
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(schema)))
            .example(Some(write_example(required)))
            .build()
    };
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
        .response("401", detail_body("No credentials, or a token not valid"))
        .response("503", unavailable_body())
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
        .response("400", invalid_body())
        .response("404", detail_body("User details not found"))
        .response("408", detail_body("The body was not received in time"))
        .response("412", detail_body("Stale If-Match"))
        .response("413", detail_body("Body too large"))
        .response("415", detail_body("Unsupported media type"))
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
                .response("404", detail_body("User details not found"))
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
                .response("404", detail_body("User details not found"))
                .response("412", detail_body("Stale If-Match"))
                .build(),
        ),
    ]
}

/// A service route's GET: its 200 (body described by `schema` in `media`), and the `extra`
/// responses it can give.
fn plain(
    id: &str,
    summary: &str,
    description: &str,
    (media, schema): (&str, Schema),
    extra: Vec<(&str, ResponseBuilder)>,
) -> PathItem {
    let mut op = OperationBuilder::new()
        .operation_id(Some(id))
        .summary(Some(summary))
        .tag("service")
        .response(
            "200",
            ResponseBuilder::new()
                .description(description)
                .content(media, ContentBuilder::new().schema(Some(schema)).build()),
        );
    for (status, response) in extra {
        op = op.response(status, response);
    }
    PathItem::new(HttpMethod::Get, op.build())
}

/// `{"status": "<value>"}`.
fn status_schema(value: &str) -> Schema {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .property(
            "status",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([value])),
        )
        .required("status")
        .into()
}

fn path_param(name: &str, description: &str) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(String::schema()))
        .build()
}

fn no_content(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description)
}

/// Another user's public view, and following them.
fn social_paths() -> [(&'static str, PathItem); 2] {
    let user_id = || path_param("user_id", "The other user's id (`me`: the caller).");
    let public = PathItem::new(
        HttpMethod::Get,
        operation("iamuserdetails-retrieve", "Read another user's public view")
            .description(Some(
                "The user's details as `PublicIAMUserDetail`: `IAMUserDetail` without the fields \
                 the owner keeps private (`address`, `phone`, `dob`, the four preference \
                 booleans, `additional_data`), with `is_following` (the caller follows them) and \
                 `is_followed_back` (they follow the caller).",
            ))
            .parameter(user_id())
            .parameter(header_param(
                "If-None-Match",
                "304 when the ETag still matches.",
            ))
            .response(
                "200",
                ResponseBuilder::new()
                    .description("The public view")
                    .header("ETag", Header::new(String::schema()))
                    .content(
                        "application/json",
                        Content::new(Some(Ref::from_schema_name("PublicIAMUserDetail"))),
                    ),
            )
            .response("304", ResponseBuilder::new().description("Not modified"))
            .response("404", detail_body("The user has no details"))
            .build(),
    );
    let mut follow = PathItem::new(
        HttpMethod::Post,
        operation("iamuserdetails-follow", "Follow a user")
            .description(Some("Idempotent: following twice is one follow."))
            .parameter(user_id())
            .response("204", no_content("Following"))
            .response("400", detail_body("The caller named themselves"))
            .response("404", detail_body("The user has no details"))
            .build(),
    );
    follow.delete = Some(
        operation("iamuserdetails-unfollow", "Stop following a user")
            .description(Some(
                "Idempotent: unfollowing a user not followed (or without details) is a 204.",
            ))
            .parameter(user_id())
            .response("204", no_content("Not following"))
            .response("400", detail_body("The caller named themselves"))
            .build(),
    );
    [
        ("/api/v1/iam/iamuserdetails/{user_id}/", public),
        ("/api/v1/iam/iamuserdetails/{user_id}/follow/", follow),
    ]
}

/// An internal-API operation: the service token, and the errors every such route has.
fn internal_operation(id: &str, summary: &str) -> OperationBuilder {
    OperationBuilder::new()
        .operation_id(Some(id))
        .summary(Some(summary))
        .tag("internal")
        .security(SecurityRequirement::new(
            "serviceToken",
            Vec::<String>::new(),
        ))
        .parameter(path_param(
            "user_id",
            "The user the fact is about (with or without details).",
        ))
        .response("400", invalid_body())
        .response(
            "401",
            detail_body(
                "No service token, or not one of IAM_SERVICE_TOKENS (a user's token included)",
            ),
        )
        .response(
            "404",
            detail_body("The internal API is not mounted (no IAM_SERVICE_TOKENS)"),
        )
        .response("503", unavailable_body())
}

/// A fact's `PUT` (with an optional request body) and `DELETE`.
fn fact_path(
    name: &str,
    param: (&str, &str),
    (put_summary, delete_summary): (&str, &str),
    body: Option<(Schema, bool)>,
) -> PathItem {
    let mut put = internal_operation(&format!("internal-{name}-put"), put_summary)
        .parameter(path_param(param.0, param.1))
        .response("204", no_content("Recorded (idempotent)"));
    if let Some((schema, required)) = body {
        put = put
            .request_body(Some(
                RequestBodyBuilder::new()
                    .content(
                        "application/json",
                        ContentBuilder::new().schema(Some(schema)).build(),
                    )
                    .required(Some(if required {
                        Required::True
                    } else {
                        Required::False
                    }))
                    .build(),
            ))
            .response("413", detail_body("Body too large"))
            .response("415", detail_body("Unsupported media type"));
    }
    let mut item = PathItem::new(HttpMethod::Put, put.build());
    item.delete = Some(
        internal_operation(&format!("internal-{name}-delete"), delete_summary)
            .parameter(path_param(param.0, param.1))
            .response("204", no_content("Removed, or was not there"))
            .build(),
    );
    item
}

/// The internal API of the platform's other services (`crate::internal`).
fn internal_paths() -> [(&'static str, PathItem); 5] {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let rating = ObjectBuilder::new()
        .property("rating", ObjectBuilder::new().schema_type(Type::Number))
        .required("rating")
        .into();
    let unlocked_at = ObjectBuilder::new()
        .property(
            "unlocked_at",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::DateTime,
                )))
                .description(Some("When the title was unlocked; now when absent")),
        )
        .into();
    let day = ("day", "YYYY-MM-DD, at most tomorrow (UTC)");
    let figures = PathItem::new(
        HttpMethod::Get,
        internal_operation(
            "internal-figures",
            "A user's figures, as they see them on /me/",
        )
        .response(
            "200",
            ResponseBuilder::new().description("The figures").content(
                "application/json",
                Content::new(Some(Ref::from_schema_name("UserFigures"))),
            ),
        )
        .build(),
    );
    [
        (
            crate::internal::RATING,
            fact_path(
                "rating",
                ("domain", "The domain (1 to 64 characters)"),
                (
                    "Set the user's rating in a domain",
                    "Remove the user's rating in a domain",
                ),
                Some((rating, true)),
            ),
        ),
        (
            crate::internal::ACTIVITY_DAY,
            fact_path(
                "activity-day",
                day,
                ("Record a day the user was active", "Remove an activity day"),
                None,
            ),
        ),
        (
            crate::internal::FREEZE_DAY,
            fact_path(
                "freeze-day",
                day,
                (
                    "Grant the user a streak freeze on a day",
                    "Remove a freeze day",
                ),
                None,
            ),
        ),
        (
            crate::internal::TITLE,
            fact_path(
                "title",
                ("title", "The title (1 to 100 characters, no comma)"),
                ("Unlock a title for the user", "Remove an unlocked title"),
                Some((unlocked_at, false)),
            ),
        ),
        (crate::internal::FIGURES, figures),
    ]
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
        .response("400", invalid_body())
        .response("408", detail_body("The body was not received in time"))
        .response("409", detail_body("User details already exist"))
        .response("413", detail_body("Body too large"))
        .response("415", detail_body("Unsupported media type"))
        .build(),
    );
    let mut paths = utoipa::openapi::PathsBuilder::new()
        .path(ME, me)
        .path(CREATE, create);
    for (path, item) in social_paths().into_iter().chain(internal_paths()) {
        paths = paths.path(path, item);
    }
    let mut doc = OpenApiBuilder::new()
        .info(
            utoipa::openapi::InfoBuilder::new()
                .title("AISquare Studio API: user details")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Read, update and delete the signed-in user's profile details; read other \
                     users' public views and follow them. The `internal` routes are the \
                     platform's other services' (a service token, never a user's).",
                ))
                .build(),
        )
        .paths(
            paths
                .path(
                    "/api/schema/",
                    plain(
                        "schema",
                        "This OpenAPI document",
                        "OpenAPI 3.1",
                        ("application/json", Schema::default()),
                        vec![],
                    ),
                )
                .path(
                    "/healthz",
                    plain(
                        "healthz",
                        "Liveness",
                        "The process answers",
                        ("application/json", status_schema("ok")),
                        vec![],
                    ),
                )
                .path(
                    "/readyz",
                    plain(
                        "readyz",
                        "Readiness: storage answers",
                        "Ready",
                        ("application/json", status_schema("ready")),
                        vec![("503", unavailable_body())],
                    ),
                )
                .path(
                    "/metrics",
                    plain(
                        "metrics",
                        "Prometheus metrics",
                        "Prometheus text exposition format 0.0.4",
                        ("text/plain; version=0.0.4", String::schema().into()),
                        vec![],
                    ),
                ),
        )
        .build();
    let mut components = utoipa::openapi::ComponentsBuilder::new()
        .schema("DeveloperSkill", DeveloperSkill::schema())
        .schema("InvestmentInterest", InvestmentInterest::schema())
        .schema("Tag", Tag::schema())
        .schema("IAMUserDetail", IamUserDetail::schema())
        .schema("UserFigures", crate::dto::UserFigures::schema())
        .schema("Detail", detail_schema())
        .schema("FieldErrors", field_errors_schema())
        .security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        )
        .security_scheme(
            "serviceToken",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("One of IAM_SERVICE_TOKENS (an opaque secret)"))
                    .build(),
            ),
        )
        .build();
    if let Some(RefOr::T(Schema::Object(full))) = components.schemas.get_mut("IAMUserDetail") {
        for name in crate::drf::READ_ONLY {
            if let Some(property) = full.properties.get_mut(name) {
                mark_read_only(property);
            }
        }
    }
    if let Some(RefOr::T(Schema::Object(full))) = components.schemas.get("IAMUserDetail").cloned() {
        let mut public = full.clone();
        for field in iam_domain::Field::PRIVATE {
            public.properties.shift_remove(field.name());
            public.required.retain(|name| name != field.name());
        }
        public.title = Some("PublicIAMUserDetail".into());
        public.description = Some(
            "Another user's view of IAMUserDetail: without the fields the owner keeps private."
                .into(),
        );
        components.schemas.insert(
            "PublicIAMUserDetail".into(),
            RefOr::T(Schema::Object(public)),
        );
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

/// Marks a property `readOnly`. utoipa models the keyword on objects only; on an array (the
/// `*_data` lists) it goes in as a keyword beside the others, which JSON Schema allows anywhere.
fn mark_read_only(property: &mut RefOr<Schema>) {
    match property {
        RefOr::T(Schema::Object(object)) => object.read_only = Some(true),
        RefOr::T(Schema::Array(array)) => {
            array
                .extensions
                .get_or_insert_with(Default::default)
                .insert("readOnly".into(), true.into());
        }
        // The read-only properties are scalars and arrays.
        _ => {}
    }
}

/// The document, built once.
pub static OPENAPI: LazyLock<OpenApi> = LazyLock::new(build);

/// The document as JSON, serialised once.
pub static OPENAPI_JSON: LazyLock<String> =
    LazyLock::new(|| OPENAPI.to_json().unwrap_or_else(|_| "{}".to_owned()));

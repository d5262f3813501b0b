//! Any bytes as a write's body: parsed as JSON, read with DRF's rules in every write mode, and
//! when valid applied to a new row and to a full one in both JSON modes. Nothing may panic, and
//! what is accepted keeps the domain's rules: the details round-trip through their columns, and
//! applying the same patch again changes nothing.

#![no_main]

use chrono::NaiveDate;
use iam_domain::stored::RestoreError;
use iam_domain::values::UserType;
use iam_domain::{JsonMode, UserDetail, UserId, Version};
use iam_http::drf::{parse_patch, ParseOptions, WriteMode};
use libfuzzer_sys::fuzz_target;

fn check(detail: &UserDetail) {
    let restored = UserDetail::restore(detail.user_id.clone(), detail.version, |f| {
        Ok::<_, RestoreError>(detail.column(f).into())
    })
    .expect("user_type is always readable");
    assert!(restored.unreadable.is_empty(), "{:?}", restored.unreadable);
    assert_eq!(&restored.detail, detail);
}

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let user = UserId::parse("fuzz").unwrap();
    let fresh = UserDetail::new(user, Version::new(1), UserType::parse("developer").unwrap());
    for mode in [WriteMode::Create, WriteMode::Replace, WriteMode::Partial] {
        for strict in [false, true] {
            let options = ParseOptions {
                today,
                strict,
                mode,
            };
            let patch = match parse_patch(&body, options) {
                Ok(patch) => patch,
                Err(errors) => {
                    assert!(!errors.is_empty());
                    continue;
                }
            };
            for json_mode in [JsonMode::Replace, JsonMode::MergePatch] {
                let Ok(applied) = fresh.apply(&patch, json_mode) else {
                    continue;
                };
                check(&applied.detail);
                let again = applied.detail.apply(&patch, json_mode).unwrap();
                assert!(again.is_unchanged(), "{:?}", again.changed);
            }
        }
    }
});

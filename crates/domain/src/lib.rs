//! Pure rules of the Semaine de l'industrie platform: editions, the four conditions, identifiers,
//! territory, code lists and French text folding. No IO here, so every rule is unit-testable.

pub mod booking;
pub mod calendar;
pub mod codes;
pub mod dates;
pub mod edition;
pub mod eligibility;
pub mod event;
pub mod identifiers;
pub mod input;
pub mod lifecycle;
pub mod review;
pub mod territory;
pub mod text;

pub use codes::*;
pub use edition::{Edition, RegionDates};
pub use eligibility::{Condition, ConditionCode, EligibilityInput, EligibilityReport};
pub use event::{EventData, FieldError, Session};

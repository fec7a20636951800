//! Who may call a handler, said in its signature: `Admin(user): Admin` admits the commission
//! administrator only, and anyone else is refused (403) before the handler runs.
//!
//! Each extractor reads the session through [`CurrentUser`] (looked up once per request), so
//! it combines with `CsrfForm` or any other body extractor:
//!
//! ```ignore
//! async fn create_village(
//!     State(state): State<AppState>,
//!     Admin(user): Admin,
//!     CsrfForm(_, form): CsrfForm<VillageForm>,
//! ) -> Result<Response, AppError>
//! ```
//!
//! A new role gets its extractor here (see docs/architecture.md, "Add a role").

use super::AppState;
use super::auth::CurrentUser;
use super::error::AppError;
use crate::domain::Role;
use crate::ids::VillageId;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// The logged-in user if their role is one of `roles`; otherwise `Forbidden`.
async fn user_in(
    parts: &mut Parts,
    state: &AppState,
    roles: &[Role],
) -> Result<CurrentUser, AppError> {
    let user = CurrentUser::from_request_parts(parts, state).await?;
    if roles.contains(&user.role) {
        Ok(user)
    } else {
        Err(AppError::Forbidden)
    }
}

/// Declares a one-field extractor admitting `roles`.
macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident: $($role:ident)|+) => {
        $(#[$doc])*
        // Some routes only need the role, not the user.
        #[allow(dead_code)]
        pub struct $name(pub CurrentUser);

        impl FromRequestParts<AppState> for $name {
            type Rejection = AppError;

            async fn from_request_parts(
                parts: &mut Parts,
                state: &AppState,
            ) -> Result<Self, AppError> {
                user_in(parts, state, &[$(Role::$role),+]).await.map($name)
            }
        }
    };
}

role_extractor!(
    /// 镇纪委: the commission administrator.
    Admin: Admin
);
role_extractor!(
    /// 第三方: the survey organisation.
    Surveyor: Surveyor
);
role_extractor!(
    /// 两代表一委员: a panel member with an account.
    Panel: Panel
);
role_extractor!(
    /// The two parties to the draw: the administrator, and the surveyor who brings half
    /// of the seed and checks the record.
    AdminOrSurveyor: Admin | Surveyor
);
role_extractor!(
    /// Everyone who works on campaigns: the administrator, village operators and the
    /// surveyor (panel members rate through their personal links).
    Staff: Admin | Village | Surveyor
);

/// 村(社区)操作员: a village operator, with the one village they act for.
pub struct Operator {
    pub user: CurrentUser,
    pub village: VillageId,
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let user = user_in(parts, state, &[Role::Village]).await?;
        // An operator account always names its village; one that does not may see nothing.
        let village = user.village_id.ok_or(AppError::Forbidden)?;
        Ok(Operator { user, village })
    }
}

/// Whoever may see or replace a village's roster: the administrator for any village, an
/// operator for their own.
pub enum RosterKeeper {
    Admin(CurrentUser),
    Operator(Operator),
}

impl RosterKeeper {
    pub fn user(&self) -> &CurrentUser {
        match self {
            RosterKeeper::Admin(user) | RosterKeeper::Operator(Operator { user, .. }) => user,
        }
    }
}

impl FromRequestParts<AppState> for RosterKeeper {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        match user.role {
            Role::Admin => Ok(RosterKeeper::Admin(user)),
            Role::Village => Operator::from_request_parts(parts, state)
                .await
                .map(RosterKeeper::Operator),
            _ => Err(AppError::Forbidden),
        }
    }
}

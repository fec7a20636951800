//! Typed row ids: one type per table whose rows the code passes around, so a village id
//! handed where a campaign id belongs fails to compile. Each is the stored integer
//! unchanged: it binds and decodes as `i64` on SQLite and PostgreSQL, serialises as the bare
//! number (templates, JSON, URLs) and prints as the bare number.

/// Defines one id type: a transparent `i64` for serde and sqlx, shown as the bare number.
macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone,
            Copy,
            Debug,
            PartialEq,
            Eq,
            Hash,
            PartialOrd,
            Ord,
            serde::Serialize,
            serde::Deserialize,
            sqlx::Type,
        )]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        /// Templates see the bare number, as they did before ids were typed.
        impl From<$name> for minijinja::Value {
            fn from(id: $name) -> Self {
                minijinja::Value::from(id.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    };
}

id!(
    /// A row of `campaigns`.
    CampaignId
);
id!(
    /// A row of `villages`.
    VillageId
);
id!(
    /// A row of `accounts`.
    AccountId
);
id!(
    /// A row of `cases`: one sampled phone in fieldwork.
    CaseId
);
id!(
    /// A row of `rosters`: one village's uploaded roster in a campaign.
    RosterId
);
id!(
    /// A row of `invitations`: a case's survey link.
    InvitationId
);
id!(
    /// A row of `panel_members`.
    PanelMemberId
);
id!(
    /// A row of `attempts`: one call attempt on a case.
    AttemptId
);
id!(
    /// A row of `objections`.
    ObjectionId
);
id!(
    /// A row of `item16_overrides`.
    OverrideId
);
id!(
    /// A row of `attachments`: a file handed in (report, archive document).
    AttachmentId
);
id!(
    /// A row of `titles`: a village's 廉洁村(社区) title.
    TitleId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_shows_and_serialises_as_the_bare_number() {
        let id = CampaignId(42);
        assert_eq!(id.to_string(), "42");
        assert_eq!(format!("/campaigns/{id}"), "/campaigns/42");
        assert_eq!(serde_json::to_string(&id).unwrap(), "42");
        assert_eq!(
            serde_json::from_str::<VillageId>("7").unwrap(),
            VillageId(7)
        );
        assert_eq!("13".parse::<CaseId>(), Ok(CaseId(13)));
        assert!("x".parse::<CaseId>().is_err());
    }

    #[tokio::test]
    async fn an_id_binds_and_decodes_as_the_stored_integer_on_sqlite() {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, village_id INTEGER)")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("INSERT INTO t (id, village_id) VALUES ($1, $2)")
            .bind(CampaignId(5))
            .bind(Some(VillageId(9)))
            .execute(&mut conn)
            .await
            .unwrap();
        let raw: (i64, i64) = sqlx::query_as("SELECT id, village_id FROM t")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(raw, (5, 9));

        #[derive(sqlx::FromRow)]
        struct Row {
            id: CampaignId,
            village_id: Option<VillageId>,
        }
        let row: Row = sqlx::query_as("SELECT id, village_id FROM t WHERE id = $1")
            .bind(CampaignId(5))
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(
            (row.id, row.village_id),
            (CampaignId(5), Some(VillageId(9)))
        );
        let scalar: CampaignId = sqlx::query_scalar("SELECT id FROM t")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(scalar, CampaignId(5));
    }

    /// PostgreSQL decodes only when `MINYI_TEST_PG` names a database (as the tests/ suite
    /// does); without it, the check is that the types exist for both drivers.
    #[tokio::test]
    async fn an_id_binds_and_decodes_as_the_stored_integer_on_postgres() {
        fn both<T>()
        where
            T: for<'q> sqlx::Encode<'q, sqlx::Postgres>
                + for<'r> sqlx::Decode<'r, sqlx::Postgres>
                + sqlx::Type<sqlx::Postgres>
                + sqlx::postgres::PgHasArrayType,
        {
        }
        both::<CampaignId>();
        both::<VillageId>();
        let Ok(url) = std::env::var("MINYI_TEST_PG") else {
            return;
        };
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        let (id, village, list): (CampaignId, Option<VillageId>, Vec<CaseId>) =
            sqlx::query_as("SELECT $1::BIGINT, $2::BIGINT, $3::BIGINT[]")
                .bind(CampaignId(5))
                .bind(Some(VillageId(9)))
                .bind(vec![CaseId(1), CaseId(2)])
                .fetch_one(&mut conn)
                .await
                .unwrap();
        assert_eq!(id, CampaignId(5));
        assert_eq!(village, Some(VillageId(9)));
        assert_eq!(list, vec![CaseId(1), CaseId(2)]);
        let raw: i64 = sqlx::query_scalar("SELECT $1::BIGINT")
            .bind(AccountId(77))
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(raw, 77);
    }
}

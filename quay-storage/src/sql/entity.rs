//! SeaORM entities: one module per table. The schema itself is defined by the migrations in
//! [`super::migration`]; these mirror it for queries.

#![allow(missing_docs, unreachable_pub)]

pub mod namespace {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "namespace")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub created_ms: i64,
        /// `user` or `org`.
        pub kind: String,
        pub enabled: bool,
        pub email: Option<String>,
        /// The time-machine window, seconds.
        pub tag_expiration_s: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod repository {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "repository")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub namespace_id: i64,
        pub name: String,
        pub visibility: String,
        pub created_ms: i64,
        pub description: Option<String>,
        pub state: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::namespace::Entity",
            from = "Column::NamespaceId",
            to = "super::namespace::Column::Id"
        )]
        Namespace,
    }

    impl Related<super::namespace::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Namespace.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod blob {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "blob")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub digest: String,
        pub size: i64,
        pub created_ms: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod blob_link {
    use sea_orm::entity::prelude::*;

    /// A repository's link to a blob it uploaded or mounted, until `expires_ms`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "blob_link")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub repository_id: i64,
        pub blob_id: i64,
        pub created_ms: i64,
        pub expires_ms: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod blob_upload {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "blob_upload")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub repository_id: i64,
        pub size: i64,
        pub hash_state: Vec<u8>,
        /// JSON array of part names, in order.
        pub parts: String,
        pub created_ms: i64,
        pub updated_ms: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod manifest {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "manifest")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub repository_id: i64,
        pub digest: String,
        pub media_type: String,
        pub bytes: Vec<u8>,
        pub config_media_type: Option<String>,
        pub artifact_type: Option<String>,
        pub subject: Option<String>,
        pub layers_size: i64,
        pub created_ms: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod manifest_child {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "manifest_child")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub repository_id: i64,
        pub manifest_id: i64,
        pub child_manifest_id: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod manifest_label {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "manifest_label")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub manifest_id: i64,
        pub key: String,
        pub value: String,
        /// `manifest` (read from the image config), `api` or `internal`, as in Quay.
        pub source: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod tag {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tag")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub repository_id: i64,
        pub name: String,
        pub manifest_id: i64,
        pub lifetime_start_ms: i64,
        pub lifetime_end_ms: Option<i64>,
        pub hidden: bool,
        pub reversion: bool,
        pub immutable: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Declares an entity without relations: `entity!(module, "table", { fields })`.
macro_rules! entity {
    ($module:ident, $table:literal, { $($field:tt)* }) => {
        pub mod $module {
            use sea_orm::entity::prelude::*;

            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = $table)]
            pub struct Model {
                #[sea_orm(primary_key)]
                pub id: i64,
                $($field)*
            }

            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}
        }
    };
}

entity!(account, "account", {
    /// `user` or `robot`.
    pub kind: String,
    pub name: String,
    pub namespace_id: i64,
    pub email: Option<String>,
    /// Password hash (users) or token hash (robots).
    pub secret_hash: String,
    pub enabled: bool,
    /// Made a superuser in the database (besides `SUPER_USERS`).
    pub superuser: bool,
    pub description: Option<String>,
    pub metadata: Option<String>,
    pub created_ms: i64,
});

entity!(team, "team", {
    pub namespace_id: i64,
    pub name: String,
    pub role: String,
    pub description: String,
    pub created_ms: i64,
});

entity!(team_member, "team_member", {
    pub team_id: i64,
    pub account_id: i64,
});

entity!(repository_permission, "repository_permission", {
    pub repository_id: i64,
    pub account_id: Option<i64>,
    pub team_id: Option<i64>,
    pub role: String,
});

entity!(permission_prototype, "permission_prototype", {
    pub namespace_id: i64,
    pub uuid: String,
    pub activating_account_id: Option<i64>,
    pub delegate_account_id: Option<i64>,
    pub delegate_team_id: Option<i64>,
    pub role: String,
});

entity!(oauth_application, "oauth_application", {
    pub namespace_id: i64,
    pub client_id: String,
    pub client_secret_hash: String,
    pub name: String,
    pub redirect_uri: String,
    pub application_uri: String,
    pub description: String,
});

entity!(credential_token, "credential_token", {
    pub kind: String,
    pub uuid: String,
    pub account_id: i64,
    pub lookup: String,
    pub secret_hash: String,
    pub detail: String,
    pub application: Option<String>,
    pub created_ms: i64,
    pub expires_ms: Option<i64>,
    pub last_used_ms: Option<i64>,
});

entity!(signing_key, "signing_key", {
    pub purpose: String,
    pub kid: String,
    pub pkcs8: Vec<u8>,
    pub created_ms: i64,
});

pub mod blob_deletion {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "blob_deletion")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub digest: String,
        pub started_ms: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

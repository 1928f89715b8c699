//! Who is asking, and whether they may.
//!
//! A frontend resolves each request's credentials to an [`Identity`]; whether that identity
//! may do something is answered by [`decide`] alone, from facts the stores gather (through
//! an [`Authorizer`] on the registry's hot path, or by the use cases themselves). Use cases
//! take the [`Caller`] and ask before they act.

mod allow_all;
mod authorizer;
mod decision;
mod identity;

pub use self::allow_all::AllowAll;
pub use self::authorizer::Authorizer;
pub use self::decision::{
    Action, Decision, Facts, ListingReach, RepositoryStanding, decide, listed_role, listing_reach,
};
pub use self::identity::{
    Caller, Grant, GrantedActions, Identity, Principal, PrincipalKind, Scopes,
};

#[cfg(test)]
mod tests;

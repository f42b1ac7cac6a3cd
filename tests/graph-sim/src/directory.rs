//! The seeded directory: two tenants, their users and what kind of mailbox each user has.
//! Fixed GUIDs so tests and the README can name them.

/// Tenant id of `contoso.example` (user consent allowed).
pub const CONTOSO_TENANT_ID: &str = "6f4d2c1a-3b5e-4c7d-8e9f-0a1b2c3d4e5f";
/// Tenant id of `fabrikam.example` (user consent disabled; needs admin consent).
pub const FABRIKAM_TENANT_ID: &str = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f2a3b4c5d";
/// The default client id of the one registered app.
pub const DEFAULT_CLIENT_ID: &str = "3c1e5a7b-9d2f-4e6a-8b0c-1d3f5a7b9c2e";
/// The default client secret of the one registered app (dev only).
pub const DEFAULT_CLIENT_SECRET: &str = "sim~dev-client-secret.0123456789abcdef";
/// Display name of the registered app, shown on the consent page.
pub const APP_NAME: &str = "M365 Connector (simulated registration)";

/// Where a user's mailbox lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailboxKind {
    /// Exchange Online: mail and calendar calls work.
    Online,
    /// On premises (hybrid) or unlicensed: every mail/calendar call fails with
    /// `MailboxNotEnabledForRESTAPI`.
    NotEnabled,
}

#[derive(Debug, Clone)]
pub struct Tenant {
    pub id: &'static str,
    pub domain: &'static str,
    pub display_name: &'static str,
    /// When false, users cannot consent themselves (AADSTS90094) until an admin consents.
    pub user_consent_allowed: bool,
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: &'static str,
    pub tenant_id: &'static str,
    pub upn: &'static str,
    pub display_name: &'static str,
    pub given_name: &'static str,
    pub surname: &'static str,
    pub job_title: &'static str,
    pub mailbox: MailboxKind,
    pub is_admin: bool,
    /// IANA zone of the mailbox (working hours, calendar).
    pub time_zone: &'static str,
}

pub const TENANTS: &[Tenant] = &[
    Tenant {
        id: CONTOSO_TENANT_ID,
        domain: "contoso.example",
        display_name: "Contoso",
        user_consent_allowed: true,
    },
    Tenant {
        id: FABRIKAM_TENANT_ID,
        domain: "fabrikam.example",
        display_name: "Fabrikam",
        user_consent_allowed: false,
    },
];

pub const USERS: &[User] = &[
    User {
        id: "a11ce000-0000-4000-8000-00000000a11c",
        tenant_id: CONTOSO_TENANT_ID,
        upn: "alice@contoso.example",
        display_name: "Alice Archer",
        given_name: "Alice",
        surname: "Archer",
        job_title: "Recruiter",
        mailbox: MailboxKind::Online,
        is_admin: false,
        time_zone: "Europe/Berlin",
    },
    User {
        id: "b0b00000-0000-4000-8000-000000000b0b",
        tenant_id: CONTOSO_TENANT_ID,
        upn: "bob@contoso.example",
        display_name: "Bob Baker",
        given_name: "Bob",
        surname: "Baker",
        job_title: "Engineer",
        mailbox: MailboxKind::Online,
        is_admin: false,
        time_zone: "America/New_York",
    },
    User {
        id: "ca401000-0000-4000-8000-0000000ca401",
        tenant_id: CONTOSO_TENANT_ID,
        upn: "carol@contoso.example",
        display_name: "Carol Chen",
        given_name: "Carol",
        surname: "Chen",
        job_title: "Engineer",
        mailbox: MailboxKind::Online,
        is_admin: false,
        time_zone: "Asia/Kolkata",
    },
    User {
        id: "da4e0000-0000-4000-8000-00000000da4e",
        tenant_id: CONTOSO_TENANT_ID,
        upn: "dave@contoso.example",
        display_name: "Dave Doyle",
        given_name: "Dave",
        surname: "Doyle",
        job_title: "Engineer",
        mailbox: MailboxKind::NotEnabled,
        is_admin: false,
        time_zone: "Europe/London",
    },
    User {
        id: "ad000000-0000-4000-8000-0000000c0ad0",
        tenant_id: CONTOSO_TENANT_ID,
        upn: "admin@contoso.example",
        display_name: "Contoso Administrator",
        given_name: "Contoso",
        surname: "Administrator",
        job_title: "IT Administrator",
        mailbox: MailboxKind::Online,
        is_admin: true,
        time_zone: "Europe/Berlin",
    },
    User {
        id: "f4a0c000-0000-4000-8000-00000000f4a0",
        tenant_id: CONTOSO_TENANT_ID,
        upn: "frank@contoso.example",
        display_name: "Frank Foster",
        given_name: "Frank",
        surname: "Foster",
        job_title: "Recruiter",
        mailbox: MailboxKind::Online,
        is_admin: false,
        time_zone: "Europe/Berlin",
    },
    User {
        id: "94ace000-0000-4000-8000-0000000094ac",
        tenant_id: CONTOSO_TENANT_ID,
        upn: "grace@contoso.example",
        display_name: "Grace Garcia",
        given_name: "Grace",
        surname: "Garcia",
        job_title: "Engineer",
        mailbox: MailboxKind::Online,
        is_admin: false,
        time_zone: "America/Los_Angeles",
    },
    User {
        id: "e4100000-0000-4000-8000-000000000e41",
        tenant_id: FABRIKAM_TENANT_ID,
        upn: "erin@fabrikam.example",
        display_name: "Erin Evans",
        given_name: "Erin",
        surname: "Evans",
        job_title: "Recruiter",
        mailbox: MailboxKind::Online,
        is_admin: false,
        time_zone: "Europe/Berlin",
    },
    User {
        id: "ad000000-0000-4000-8000-0000000fad00",
        tenant_id: FABRIKAM_TENANT_ID,
        upn: "admin@fabrikam.example",
        display_name: "Fabrikam Administrator",
        given_name: "Fabrikam",
        surname: "Administrator",
        job_title: "IT Administrator",
        mailbox: MailboxKind::Online,
        is_admin: true,
        time_zone: "Europe/Berlin",
    },
];

/// A tenant by GUID or verified domain (case-insensitive).
pub fn tenant(key: &str) -> Option<&'static Tenant> {
    TENANTS
        .iter()
        .find(|t| t.id.eq_ignore_ascii_case(key) || t.domain.eq_ignore_ascii_case(key))
}

/// A user by object id or UPN/mail address (case-insensitive).
pub fn user(key: &str) -> Option<&'static User> {
    USERS
        .iter()
        .find(|u| u.id.eq_ignore_ascii_case(key) || u.upn.eq_ignore_ascii_case(key))
}

pub fn user_by_id(id: &str) -> Option<&'static User> {
    USERS.iter().find(|u| u.id == id)
}
